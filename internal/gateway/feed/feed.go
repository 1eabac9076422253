// Package feed keeps the gateway's catalog in step with the cluster: it watches APIKeys, LLMDeployments and the
// EndpointSlices of the models' Services (those labelled app.kubernetes.io/managed-by=privatellm, a label the
// EndpointSlice controller copies from the Service) and applies every change to the catalog. It reads no Secret.
package feed

import (
	"context"
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gateway/catalog"
	"github.com/privatellm/privatellm/internal/render"
)

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=apikeys;llmdeployments,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=list;watch

// CacheOptions are the gateway's caches: EndpointSlices of the operator's Services only.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue})
	return cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{
		&discoveryv1.EndpointSlice{}: {Label: managed},
	}}
}

// Setup registers the watches that feed cat. The manager's cache must be built with CacheOptions.
func Setup(ctx context.Context, mgr manager.Manager, cat *catalog.Catalog) error {
	feeds := []struct {
		obj client.Object
		set func(any)
		del func(any)
	}{
		{&v1.APIKey{}, func(o any) { cat.SetAPIKey(o.(*v1.APIKey)) }, func(o any) {
			k := o.(*v1.APIKey)
			cat.DeleteAPIKey(k.Namespace, k.Name)
		}},
		{&v1.LLMDeployment{}, func(o any) { cat.SetModel(o.(*v1.LLMDeployment)) }, func(o any) {
			l := o.(*v1.LLMDeployment)
			cat.DeleteModel(l.Namespace, l.Name)
		}},
		{&discoveryv1.EndpointSlice{}, func(o any) { cat.SetEndpointSlice(o.(*discoveryv1.EndpointSlice)) }, func(o any) {
			s := o.(*discoveryv1.EndpointSlice)
			cat.DeleteEndpointSlice(s.Namespace, s.Name, s.Labels)
		}},
	}
	for _, f := range feeds {
		inf, err := mgr.GetCache().GetInformer(ctx, f.obj)
		if err != nil {
			return fmt.Errorf("watching %T: %w", f.obj, err)
		}
		set, del := f.set, f.del
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    set,
			UpdateFunc: func(_, o any) { set(o) },
			DeleteFunc: func(o any) {
				if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
					o = t.Obj
				}
				if _, ok := o.(client.Object); ok {
					del(o)
				}
			},
		}); err != nil {
			return fmt.Errorf("handling %T: %w", f.obj, err)
		}
	}
	return nil
}
