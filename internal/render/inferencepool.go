package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

// InferencePoolGVK is the Gateway API Inference Extension's InferencePool, the version the operator publishes.
// The type is built as unstructured so that the operator does not depend on that project's Go module for one
// object; the fields used are those of its v1 schema (v1.0 to v1.6, where endpointPickerRef became optional).
var InferencePoolGVK = schema.GroupVersionKind{Group: "inference.networking.k8s.io", Version: "v1", Kind: "InferencePool"}

// EndpointPicker is the endpoint picker (EPP) Service a pool names: Service Name, ext-proc Port, and FailureMode
// (FailClose or FailOpen).
type EndpointPicker struct {
	Service     string
	Port        int32
	FailureMode string
}

// InferencePool renders the pool of a model's engine pods on the engine's port, so that a Gateway API
// implementation can route to them. It selects the pods with the same labels as the model's Service; with epp
// nil it names no endpoint picker.
func InferencePool(llm *servingv1alpha1.LLMDeployment, plan engine.Plan, epp *EndpointPicker) *unstructured.Unstructured {
	matchLabels := map[string]any{}
	for k, v := range SelectorLabels(llm) {
		matchLabels[k] = v
	}
	spec := map[string]any{
		"selector":    map[string]any{"matchLabels": matchLabels},
		"targetPorts": []any{map[string]any{"number": int64(plan.Port)}},
	}
	if epp != nil {
		spec["endpointPickerRef"] = map[string]any{
			"name":        epp.Service,
			"port":        map[string]any{"number": int64(epp.Port)},
			"failureMode": epp.FailureMode,
		}
	}
	labels := map[string]any{}
	for k, v := range Labels(llm) {
		labels[k] = v
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": llm.Name, "namespace": llm.Namespace, "labels": labels},
		"spec":     spec,
	}}
	u.SetGroupVersionKind(InferencePoolGVK)
	return u
}
