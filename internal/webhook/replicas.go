package webhook

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// lastAppliedAnnotation is where client-side kubectl apply (and Argo CD's default sync) keeps the applied manifest.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

var replicasPath = field.NewPath("spec", "replicas")

// replicasOwnerError refuses an LLMDeployment with spec.autoscaling whose applied manifest also sets spec.replicas:
// every re-apply would reset the autoscaler's count. The CRD has to default replicas (the /scale subresource
// cannot read a missing field), so the schema cannot tell a manifest that sets it from one that does not; the
// appliers' own records can: the fields an Apply field manager owns (server-side apply) and the last-applied
// manifest (client-side apply). Scaling through /scale does not reach this webhook.
func replicasOwnerError(obj *v1.LLMDeployment) *field.Error {
	if obj.Spec.Autoscaling == nil {
		return nil
	}
	for _, mf := range obj.ManagedFields {
		if mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" && ownsReplicas(mf.FieldsV1) {
			return field.Forbidden(replicasPath, fmt.Sprintf(
				"the manifest applied by %q sets spec.replicas together with spec.autoscaling: remove replicas from the manifest; the autoscaler owns it through the /scale subresource and every re-apply would reset it", mf.Manager))
		}
	}
	if raw, ok := obj.Annotations[lastAppliedAnnotation]; ok {
		var applied struct {
			Spec struct {
				Replicas *int32 `json:"replicas"`
			} `json:"spec"`
		}
		if json.Unmarshal([]byte(raw), &applied) == nil && applied.Spec.Replicas != nil {
			return field.Forbidden(replicasPath,
				"the applied manifest (kubectl apply) sets spec.replicas together with spec.autoscaling: remove replicas from the manifest; the autoscaler owns it through the /scale subresource and every re-apply would reset it")
		}
	}
	return nil
}

// ownsReplicas reads a managedFields entry's field set (fieldsV1 JSON) for spec.replicas.
func ownsReplicas(f *metav1.FieldsV1) bool {
	if f == nil {
		return false
	}
	var set map[string]map[string]json.RawMessage
	if json.Unmarshal(f.Raw, &set) != nil {
		return false
	}
	_, ok := set["f:spec"]["f:replicas"]
	return ok
}
