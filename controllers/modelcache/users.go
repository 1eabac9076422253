package modelcache

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// UsersIndex indexes LLMDeployments by the ModelCache their status says they use.
const UsersIndex = "status.cache.name"

// IndexUsers registers UsersIndex.
func IndexUsers(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &v1.LLMDeployment{}, UsersIndex, func(o client.Object) []string {
		if name := usedCache(o); name != "" {
			return []string{name}
		}
		return nil
	})
}

// usedCache is the ModelCache an LLMDeployment uses, "" for none (or when it is being deleted).
func usedCache(o client.Object) string {
	llm, ok := o.(*v1.LLMDeployment)
	if !ok || llm.Status.Cache == nil || !llm.DeletionTimestamp.IsZero() {
		return ""
	}
	return llm.Status.Cache.Name
}

// users are the LLMDeployments that use the cache, sorted.
func (r *Reconciler) users(ctx context.Context, mc *v1.ModelCache) ([]string, error) {
	list := &v1.LLMDeploymentList{}
	if err := r.List(ctx, list, client.InNamespace(mc.Namespace), client.MatchingFields{UsersIndex: mc.Name}); err != nil {
		return nil, fmt.Errorf("listing the cache's users: %w", err)
	}
	var out []string
	for i := range list.Items {
		if usedCache(&list.Items[i]) == mc.Name {
			out = append(out, list.Items[i].Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// setUsers records the users, and since when there are none (the TTL counts from then).
func setUsers(mc *v1.ModelCache, users []string, now time.Time) {
	if len(users) > 256 {
		users = users[:256]
	}
	mc.Status.Users = users
	switch {
	case len(users) > 0:
		mc.Status.UnusedSince = nil
	case mc.Status.UnusedSince == nil:
		t := metav1.NewTime(now.Truncate(time.Second))
		mc.Status.UnusedSince = &t
	}
}
