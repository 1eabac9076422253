package llmdeployment

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
	"github.com/privatellm/privatellm/internal/render"
)

// Rollouts without downtime when the GPUs allow it. When the pod template changes, the operator counts the free
// GPUs on the nodes the new pods could run on (allocatable minus what the pods bound there request) and picks:
//
//   - surge: some node has a replica's GPUs free, so one new replica starts before an old one stops — the
//     serving capacity never drops (maxSurge 1, maxUnavailable 0);
//   - in place: no node has them free, but one would once an old replica on it stops, so an old replica stops
//     first and its replacement takes its GPUs (maxSurge 0, maxUnavailable 1) — a one-replica model is offline
//     while the new replica loads, and the status says so;
//   - blocked: neither — the new pods could not run even on the GPUs an old replica frees (more GPUs per replica
//     than any node has free, another product), so nothing old is stopped (the surge strategy): the previous
//     spec keeps serving and status reports RolloutBlocked until GPUs free up or the spec changes.
//
// The choice is made once per rollout (the template hash annotation tells a new rollout from a pass in the middle
// of one) and again only while a new replica cannot be scheduled: if another workload took the GPUs a surge was
// counting on, the rollout goes on in place. The choice is recorded on the Deployment (render.AnnotationRollout)
// while the rollout is in progress, and shown in the Reconciling message; the strategy stays until the next one. Node taints and pod affinities are not evaluated; the scheduler has the
// last word, and a replica it cannot place is reported as such.

// rollout is the choice for one rollout.
type rollout struct {
	surge bool
	// note says what was chosen and why, for the Deployment's annotation and the status message.
	note string
}

// nodeRoom is what one candidate node can give a new replica.
type nodeRoom struct {
	// free GPUs on the node now.
	free int64
	// reclaimable is the most GPUs one of the object's own pods on the node holds: what replacing it in place frees.
	reclaimable int64
}

// chooseRollout picks how to replace the pods of a spec whose replicas need `need` GPUs each, given the candidate
// nodes' room. Pure.
func chooseRollout(need int64, rooms []nodeRoom, product string, replicas int32) rollout {
	inPlace := false
	for _, r := range rooms {
		if r.free >= need {
			return rollout{surge: true, note: fmt.Sprintf("surge: a new replica starts on free %s GPUs before an old one stops", product)}
		}
		if r.reclaimable > 0 && r.free+r.reclaimable >= need {
			inPlace = true
		}
	}
	if inPlace {
		note := fmt.Sprintf("no free %s for a surge replica; replacing in place", product)
		if replicas == 1 {
			note += " (the model is offline until the new replica has loaded)"
		}
		return rollout{note: note}
	}
	return rollout{surge: true, note: fmt.Sprintf(
		"no %s node has %d free GPUs for a new replica, even once an old one stops; the previous spec keeps serving until GPUs free up",
		product, need)}
}

// rolloutPhase sets the desired Deployment's strategy: the live one's while a rollout goes its way or none is
// due, a new choice when a rollout starts or its new replica cannot be scheduled.
func (r *Reconciler) rolloutPhase(ctx context.Context, s *scope) outcome {
	live := s.live
	if live == nil {
		// The first pods replace nothing.
		return done()
	}
	starting := live.Annotations[render.AnnotationTemplateHash] != s.deployment.Annotations[render.AnnotationTemplateHash]
	w := deploymentWorkload(live)
	stuck := w.RolloutNote != "" && !w.settled() && anyUnschedulable(s.pods)
	if !starting && !stuck {
		s.deployment.Spec.Strategy = render.Strategy(w.Surge)
		// The note stays while the rollout is in progress, and goes (one write per rollout) once it is done.
		if w.RolloutNote != "" && !w.settled() {
			s.deployment.Annotations[render.AnnotationRollout] = w.RolloutNote
		}
		return done()
	}
	choice, err := r.chooseFromCluster(ctx, s.llm)
	if err != nil {
		return failed(fmt.Errorf("counting free GPUs for the rollout: %w", err))
	}
	s.deployment.Spec.Strategy = render.Strategy(choice.surge)
	s.deployment.Annotations[render.AnnotationRollout] = choice.note
	return done()
}

// chooseFromCluster gathers the candidate nodes' room — nodes from the cache, the pods bound to each read from
// the API server, as the operator caches only its own pods — and chooses. It stops reading at the first node with
// room for a surge.
func (r *Reconciler) chooseFromCluster(ctx context.Context, llm *servingv1alpha1.LLMDeployment) (rollout, error) {
	spec := &llm.Spec
	need := int64(spec.GPUCount())
	replicas := spec.EffectiveReplicas()
	if need == 0 {
		return rollout{surge: true, note: "surge: a new replica starts before an old one stops"}, nil
	}
	nodes := &corev1.NodeList{}
	if err := r.List(ctx, nodes); err != nil {
		return rollout{}, fmt.Errorf("listing nodes: %w", err)
	}
	inv := gpu.InventoryFor(spec, nodes.Items)
	product := inventoryProduct(spec, inv)
	sort.SliceStable(inv.Matching, func(i, j int) bool { return inv.Matching[i].GPUs > inv.Matching[j].GPUs })
	res := corev1.ResourceName(spec.EffectiveGPUResourceName())
	var rooms []nodeRoom
	for _, n := range inv.Matching {
		if n.GPUs < need {
			break
		}
		pods := &corev1.PodList{}
		if err := r.APIReader.List(ctx, pods, client.MatchingFields{"spec.nodeName": n.Name}); err != nil {
			return rollout{}, fmt.Errorf("listing the pods of node %s: %w", n.Name, err)
		}
		room := nodeRoom{free: gpu.FreeGPUs(n, pods.Items, res)}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Namespace == llm.Namespace && p.Labels[render.LabelLLMDeployment] == llm.Name && gpu.Holds(p) {
				room.reclaimable = max(room.reclaimable, gpu.PodGPUs(p, res))
			}
		}
		rooms = append(rooms, room)
		if room.free >= need {
			break
		}
	}
	return chooseRollout(need, rooms, product, replicas), nil
}

// inventoryProduct names the GPUs the spec's pods can use: the products of the matching nodes, else what the spec
// asks for.
func inventoryProduct(spec *servingv1alpha1.LLMDeploymentSpec, inv gpu.Inventory) string {
	var products []string
	for _, n := range inv.Matching {
		if n.Product != "" && !slices.Contains(products, n.Product) {
			products = append(products, n.Product)
		}
	}
	if len(products) == 0 {
		return productText(spec)
	}
	sort.Strings(products)
	return strings.Join(products, " or ")
}

// anyUnschedulable says whether the scheduler found no node for one of the pods.
func anyUnschedulable(pods []corev1.Pod) bool {
	for i := range pods {
		if c := podCondition(&pods[i], corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}
