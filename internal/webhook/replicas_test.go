package webhook

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

func TestReplicasOwnerError(t *testing.T) {
	autoscaled := func(mut func(*v1.LLMDeployment)) *v1.LLMDeployment {
		l := &v1.LLMDeployment{}
		l.Spec.Autoscaling = &v1.AutoscalingSpec{MaxReplicas: 4, Target: 5}
		mut(l)
		return l
	}
	ssa := func(fields string) []metav1.ManagedFieldsEntry {
		return []metav1.ManagedFieldsEntry{{Manager: "argocd-controller", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}}
	}
	for name, tc := range map[string]struct {
		obj  *v1.LLMDeployment
		want string
	}{
		"server-side apply owning replicas": {autoscaled(func(l *v1.LLMDeployment) {
			l.ManagedFields = ssa(`{"f:spec":{"f:replicas":{},"f:autoscaling":{}}}`)
		}), `applied by "argocd-controller" sets spec.replicas`},
		"client-side apply with replicas": {autoscaled(func(l *v1.LLMDeployment) {
			l.Annotations = map[string]string{lastAppliedAnnotation: `{"spec":{"replicas":2,"autoscaling":{"maxReplicas":4}}}`}
		}), "(kubectl apply) sets spec.replicas"},
		"server-side apply without replicas": {autoscaled(func(l *v1.LLMDeployment) {
			l.ManagedFields = ssa(`{"f:spec":{"f:autoscaling":{}}}`)
		}), ""},
		"scaled through /scale": {autoscaled(func(l *v1.LLMDeployment) {
			l.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "privatellm", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}}}
		}), ""},
		"client-side apply without replicas": {autoscaled(func(l *v1.LLMDeployment) {
			l.Annotations = map[string]string{lastAppliedAnnotation: `{"spec":{"autoscaling":{"maxReplicas":4}}}`}
		}), ""},
		"no autoscaling": {&v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{ManagedFields: ssa(`{"f:spec":{"f:replicas":{}}}`)}}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			err := replicasOwnerError(tc.obj)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
