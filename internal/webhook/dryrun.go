package webhook

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apply"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
)

// DryRunChildren renders the LLMDeployment's Deployment and Service exactly as the reconciler does and has the API
// server check them with a server-side dry-run apply in the object's namespace: what the API server would refuse
// when the operator applies them (an invalid nodeSelector or toleration, resources, pod labels or annotations)
// comes back as field errors on the LLMDeployment paths the user wrote, at admission instead of as ApplyFailed
// later. Errors that are not the children's fault (the API server unreachable, RBAC) are returned as err and do
// not refuse the object.
func DryRunChildren(ctx context.Context, c client.Client, llm *v1.LLMDeployment, images engine.Images) (field.ErrorList, error) {
	plan, err := engine.For(llm, images)
	if err != nil {
		return nil, nil // refused by the schema and Validate already
	}
	for _, obj := range []client.Object{render.Service(llm, plan), render.Deployment(llm, plan)} {
		err := apply.DryRun(ctx, c, obj)
		if err == nil {
			continue
		}
		var status apierrors.APIStatus
		if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
			return nil, fmt.Errorf("dry-run of the rendered %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
		}
		var errs field.ErrorList
		for _, cause := range status.Status().Details.Causes {
			errs = append(errs, childError(llm, plan, obj.GetObjectKind().GroupVersionKind().Kind, cause))
		}
		return errs, nil
	}
	return nil, nil
}

// childFields map a field of the rendered children to the LLMDeployment field it comes from. Index is the
// position of the user's first entry in a rendered list the operator prepends its own entries to.
var childFields = []struct {
	child  *regexp.Regexp
	spec   string
	offset func(llm *v1.LLMDeployment, plan engine.Plan) int
}{
	{child: regexp.MustCompile(`^spec\.template\.spec\.nodeSelector(.*)$`), spec: "spec.nodeSelector"},
	{child: regexp.MustCompile(`^spec\.template\.spec\.tolerations\[(\d+)\](.*)$`), spec: "spec.tolerations",
		offset: func(llm *v1.LLMDeployment, _ engine.Plan) int {
			if llm.Spec.OnCPU() {
				return 0
			}
			return 1 // the GPU taint's toleration
		}},
	{child: regexp.MustCompile(`^spec\.template\.spec\.affinity(.*)$`), spec: "spec.affinity"},
	{child: regexp.MustCompile(`^spec\.template\.spec\.priorityClassName(.*)$`), spec: "spec.priorityClassName"},
	{child: regexp.MustCompile(`^spec\.template\.(?:metadata\.)?labels(.*)$`), spec: "spec.podLabels"},
	{child: regexp.MustCompile(`^spec\.template\.(?:metadata\.)?annotations(.*)$`), spec: "spec.podAnnotations"},
	{child: regexp.MustCompile(`^spec\.template\.spec\.containers\[0\]\.resources(.*)$`), spec: "spec.resources"},
	{child: regexp.MustCompile(`^spec\.template\.spec\.containers\[0\]\.image(.*)$`), spec: "spec.engine.image"},
	{child: regexp.MustCompile(`^spec\.template\.spec\.containers\[0\]\.env\[(\d+)\](.*)$`), spec: "spec.engine.env",
		offset: func(llm *v1.LLMDeployment, plan engine.Plan) int { return len(plan.Env) - len(llm.Spec.Engine.Env) }},
	{child: regexp.MustCompile(`^spec\.template\.spec\.volumes\[\d+\]\.emptyDir\.sizeLimit(.*)$`), spec: "spec.shmSize"},
}

// childError turns one cause of the API server's refusal of a child into a field error on the LLMDeployment.
func childError(llm *v1.LLMDeployment, plan engine.Plan, kind string, cause metav1.StatusCause) *field.Error {
	for _, m := range childFields {
		sub := m.child.FindStringSubmatch(cause.Field)
		if sub == nil {
			continue
		}
		path, rest := m.spec, sub[len(sub)-1]
		if m.offset != nil && len(sub) == 3 {
			if i, err := strconv.Atoi(sub[1]); err == nil {
				if i -= m.offset(llm, plan); i >= 0 {
					path += fmt.Sprintf("[%d]", i)
				}
			}
		}
		return &field.Error{Type: field.ErrorTypeInvalid, Field: path + rest, BadValue: field.OmitValueType{},
			Detail: fmt.Sprintf("the %s the operator renders from it would be refused: %s", kind, trimField(cause))}
	}
	return &field.Error{Type: field.ErrorTypeInvalid, Field: "spec", BadValue: field.OmitValueType{},
		Detail: fmt.Sprintf("the %s the operator renders from it would be refused at %s: %s", kind, cause.Field, trimField(cause))}
}

// trimField is a cause's message without the child's field path it may repeat.
func trimField(c metav1.StatusCause) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.Message, c.Field+": "), "Invalid value: ")
}
