package feed

import (
	"context"
	"fmt"
	"sync/atomic"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Peers counts the gateway's replicas from the EndpointSlices of its own Service, so that each replica enforces
// its share of every limit however many there are (an HPA may change them): the pods the slices list that are
// not terminating, ready or not yet. A replica that is starting is counted before it gets traffic, and one that
// is stopping no longer counts once it gets none, so the shares never add up to more than a limit for longer
// than a watch event takes to arrive.
type Peers struct {
	n      atomic.Int64
	synced func() bool
}

// WatchPeers watches the EndpointSlices of the Service namespace/name, with a cache of its own (the manager's
// caches hold only the models' slices). Count returns fallback until that cache has synced.
func WatchPeers(ctx context.Context, mgr manager.Manager, namespace, name string) (*Peers, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultTransform:  cache.TransformStripManagedFields(),
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
		ByObject: map[client.Object]cache.ByObject{
			&discoveryv1.EndpointSlice{}: {Label: labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("the cache of the gateway's own EndpointSlices: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	inf, err := c.GetInformer(ctx, &discoveryv1.EndpointSlice{})
	if err != nil {
		return nil, fmt.Errorf("watching the gateway's own EndpointSlices: %w", err)
	}
	p := &Peers{synced: inf.HasSynced}
	recount := func() {
		list := &discoveryv1.EndpointSliceList{}
		if err := c.List(ctx, list); err == nil {
			p.n.Store(int64(CountPeers(list.Items)))
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { recount() },
		UpdateFunc: func(_, _ any) { recount() },
		DeleteFunc: func(any) { recount() },
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// Count is the number of gateway replicas, at least 1; fallback while the slices are not known yet.
func (p *Peers) Count(fallback int) int {
	if !p.synced() {
		return fallback
	}
	return max(int(p.n.Load()), 1)
}

// CountPeers counts the distinct pods (by address) the slices list that are not terminating. A pod may appear in
// two slices (one per address family, or while the EndpointSlice controller moves it): it counts once.
func CountPeers(slices []discoveryv1.EndpointSlice) int {
	seen := map[string]bool{}
	for _, s := range slices {
		for _, e := range s.Endpoints {
			if e.Conditions.Terminating != nil && *e.Conditions.Terminating {
				continue
			}
			id := ""
			if e.TargetRef != nil {
				id = string(e.TargetRef.UID) + e.TargetRef.Name
			} else if len(e.Addresses) > 0 {
				id = e.Addresses[0]
			}
			if id != "" {
				seen[id] = true
			}
		}
	}
	return len(seen)
}
