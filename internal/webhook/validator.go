package webhook

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
)

// nodeListTimeout bounds the Node list of one admission request, below the webhook's timeoutSeconds (5).
const nodeListTimeout = 3 * time.Second

// Validator is the admission.Validator of LLMDeployments: it lists the Nodes and runs Validate and PolicyErrors,
// then has the API server dry-run the children the spec renders to (DryRunChildren). It never reads Secrets or any
// other object.
type Validator struct {
	// Nodes reads the cluster's Nodes, normally the manager's cache-backed client.
	Nodes client.Reader
	// Children dry-runs the rendered Deployment and Service (the manager's client); nil skips the dry-run.
	Children client.Client
	// Images are the operator's engine images, to render the children as the reconciler would.
	Images engine.Images
	// Policy is the operator's admission policy.
	Policy config.AdmissionPolicy
	// Gateway is true when the operator can read the gateway (config gateway.service or metricsURLs), which
	// scale from zero needs.
	Gateway bool
	// ModelCache is the operator's model cache configuration (nil: none), which spec.model.cache must fit.
	ModelCache *config.ModelCacheConfig
}

var _ admission.Validator[*v1.LLMDeployment] = &Validator{}

// ValidateCreate checks a new LLMDeployment.
func (v *Validator) ValidateCreate(ctx context.Context, obj *v1.LLMDeployment) (admission.Warnings, error) {
	return v.validate(ctx, nil, obj)
}

// ValidateUpdate checks a changed LLMDeployment, including the fields that may not change.
func (v *Validator) ValidateUpdate(ctx context.Context, oldObj, newObj *v1.LLMDeployment) (admission.Warnings, error) {
	return v.validate(ctx, oldObj, newObj)
}

// ValidateDelete allows every deletion; the webhook configuration does not send deletions.
func (v *Validator) ValidateDelete(context.Context, *v1.LLMDeployment) (admission.Warnings, error) {
	return nil, nil
}

func (v *Validator) validate(ctx context.Context, oldObj, newObj *v1.LLMDeployment) (admission.Warnings, error) {
	ctx, cancel := context.WithTimeout(ctx, nodeListTimeout)
	defer cancel()
	nodes := &corev1.NodeList{}
	if err := v.Nodes.List(ctx, nodes); err != nil {
		return nil, fmt.Errorf("the privatellm admission webhook could not list the cluster's Nodes to check spec.gpu, try again (if it persists, check the operator's RBAC for nodes): %w", err)
	}
	warnings, errs := Validate(oldObj, newObj, nodes.Items)
	policyWarnings, policyErrs := PolicyErrors(oldObj, newObj, v.Policy)
	warnings, errs = append(warnings, policyWarnings...), append(errs, policyErrs...)
	errs = append(errs, ScaleFromZeroErrors(oldObj, newObj, v.Gateway)...)
	if _, err := cache.Want(newObj, v.ModelCache); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec", "model", "cache"), newObj.Spec.Model.Cache, err.Error()))
	}
	specChanged := oldObj == nil || !equality.Semantic.DeepEqual(oldObj.Spec, newObj.Spec)
	if len(errs) == 0 && v.Children != nil && specChanged && newObj.DeletionTimestamp.IsZero() {
		childErrs, err := DryRunChildren(ctx, v.Children, newObj, v.Images)
		if err != nil {
			warnings = append(warnings, "the Deployment and Service this spec renders to could not be checked by a dry run: "+err.Error())
		}
		errs = append(errs, childErrs...)
	}
	if len(errs) > 0 {
		return warnings, apierrors.NewInvalid(v1.GroupVersion.WithKind("LLMDeployment").GroupKind(), newObj.Name, errs)
	}
	return warnings, nil
}

// ScaleFromZeroErrors refuses autoscaling.minReplicas 0 when nothing could wake the model: without the gateway the
// autoscaler has no signal that a request waits. An object that already had it keeps it.
func ScaleFromZeroErrors(oldObj, newObj *v1.LLMDeployment, gateway bool) field.ErrorList {
	zero := func(l *v1.LLMDeployment) bool {
		if l == nil || l.Spec.Autoscaling == nil {
			return false
		}
		m := l.Spec.Autoscaling.MinReplicas
		return m != nil && *m == 0
	}
	if gateway || !zero(newObj) || (oldObj != nil && zero(oldObj)) {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "autoscaling", "minReplicas"), 0,
		"minReplicas 0 scales the model to zero, but the operator has no gateway configured (gateway.service or gateway.metricsURLs in its configuration) to see the requests that would wake it: set minReplicas to 1, or install the gateway")}
}

// NodeCacheTransform strips a Node down to what Validate reads (name, labels, allocatable), so that the Node
// informer the webhook needs costs little memory on large clusters (node status carries image lists and
// conditions). Use it for Nodes in the manager's cache options, e.g.
// ByObject: {&corev1.Node{}: {Transform: webhook.NodeCacheTransform}}, unless another part of the operator reads
// other fields of cached Nodes.
func NodeCacheTransform(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		TypeMeta: n.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion, Generation: n.Generation,
			CreationTimestamp: n.CreationTimestamp, DeletionTimestamp: n.DeletionTimestamp, Labels: n.Labels,
		},
		Status: corev1.NodeStatus{Allocatable: n.Status.Allocatable},
	}, nil
}
