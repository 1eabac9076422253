package render_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
)

// TestInferencePool: the pool selects exactly the pods the model's Service selects, on the engine's port, and
// names the model's own endpoint picker only when one is given.
func TestInferencePool(t *testing.T) {
	llm := loadSample(t, filepath.Join(samplesDir, "serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"))
	llm.Namespace = "team-a"
	plan, err := engine.For(llm, config.Default().EngineImages())
	if err != nil {
		t.Fatal(err)
	}
	svc := render.Service(llm, plan)

	pool := render.InferencePool(llm, plan, nil)
	if pool.GroupVersionKind() != render.InferencePoolGVK || pool.GetName() != llm.Name || pool.GetNamespace() != "team-a" {
		t.Fatalf("pool is %s %s/%s", pool.GroupVersionKind(), pool.GetNamespace(), pool.GetName())
	}
	sel, _, _ := unstructured.NestedStringMap(pool.Object, "spec", "selector", "matchLabels")
	if !reflect.DeepEqual(sel, svc.Spec.Selector) {
		t.Errorf("pool selects %v, the Service %v", sel, svc.Spec.Selector)
	}
	ports, _, _ := unstructured.NestedSlice(pool.Object, "spec", "targetPorts")
	if len(ports) != 1 || ports[0].(map[string]any)["number"] != int64(plan.Port) {
		t.Errorf("targetPorts %v, want the engine's port %d", ports, plan.Port)
	}
	if _, found, _ := unstructured.NestedMap(pool.Object, "spec", "endpointPickerRef"); found {
		t.Error("no endpoint picker given, but the pool names one")
	}

	pool = render.InferencePool(llm, plan, &render.EndpointPicker{Service: llm.Name + "-epp", Port: 9002, FailureMode: "FailOpen"})
	ref, _, _ := unstructured.NestedMap(pool.Object, "spec", "endpointPickerRef")
	want := map[string]any{"name": llm.Name + "-epp", "port": map[string]any{"number": int64(9002)}, "failureMode": "FailOpen"}
	if !reflect.DeepEqual(ref, want) {
		t.Errorf("endpointPickerRef %v, want %v", ref, want)
	}
}
