package llmdeployment

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// The steps of a replica's start, in the order they happen.
const (
	StepDownloadStarted  = "DownloadStarted"
	StepDownloadFinished = "DownloadFinished"
	StepPodCreated       = "PodCreated"
	StepScheduled        = "Scheduled"
	StepImagePulled      = "ImagePulled"
	StepContainerStarted = "ContainerStarted"
	StepModelServed      = "ModelServed"
)

// coldStartSeconds is the time from a replica's pod being created to its model served, observed once per pod.
var coldStartSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name: "privatellm_cold_start_seconds",
	Help: "Time from a model server pod's creation to its model served (Ready), per LLMDeployment; observed once per pod. With the model cache, the download is not in it (status.startup shows it).",
	// From a small model on a warm node to a 400B model pulled and loaded from cold storage.
	Buckets: []float64{10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
}, modelLabels)

// startupTimeline is the timeline of the slowest of the current pods at now (pulled, when given, is when the
// kubelet reported the engine's image pulled): the one that took longest to serve
// its model, or has waited longest without serving it yet. The model cache's download is in it when it finished
// after the LLMDeployment was created (the pods waited for it). Nil without pods.
func startupTimeline(llm *servingv1alpha1.LLMDeployment, pods []corev1.Pod, mc *servingv1alpha1.ModelCache, now time.Time,
	pulled func(*corev1.Pod) (time.Time, bool)) *servingv1alpha1.StartupTimeline {
	var slowest *corev1.Pod
	var slowestTook time.Duration
	for i := range pods {
		p := &pods[i]
		end, ok := servedAt(p)
		if !ok {
			end = now
		}
		if took := end.Sub(p.CreationTimestamp.Time); slowest == nil || took > slowestTook {
			slowest, slowestTook = p, took
		}
	}
	if slowest == nil {
		return nil
	}
	type step struct {
		name string
		at   time.Time
	}
	var steps []step
	if mc != nil && mc.Status.DownloadStarted != nil && mc.Status.DownloadFinished != nil &&
		!mc.Status.DownloadFinished.Time.Before(llm.CreationTimestamp.Time) {
		steps = append(steps, step{StepDownloadStarted, mc.Status.DownloadStarted.Time}, step{StepDownloadFinished, mc.Status.DownloadFinished.Time})
	}
	p := slowest
	steps = append(steps, step{StepPodCreated, p.CreationTimestamp.Time})
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
			steps = append(steps, step{StepScheduled, c.LastTransitionTime.Time})
		}
	}
	if pulled != nil {
		if t, ok := pulled(p); ok {
			steps = append(steps, step{StepImagePulled, t})
		}
	}
	if t, ok := containerStarted(p); ok {
		steps = append(steps, step{StepContainerStarted, t})
	}
	if t, ok := servedAt(p); ok {
		steps = append(steps, step{StepModelServed, t})
	}
	// A time the cluster left out (a condition without lastTransitionTime) is not a step.
	steps = slices.DeleteFunc(steps, func(s step) bool { return s.at.IsZero() })
	if len(steps) == 0 {
		return nil
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.at.Compare(b.at) })
	out := &servingv1alpha1.StartupTimeline{Pod: p.Name}
	for i, s := range steps {
		st := servingv1alpha1.StartupStep{Name: s.name, Time: metav1.NewTime(s.at)}
		if i > 0 {
			st.Duration = &metav1.Duration{Duration: s.at.Sub(steps[i-1].at)}
		}
		out.Steps = append(out.Steps, st)
	}
	if len(steps) > 1 {
		out.Total = &metav1.Duration{Duration: steps[len(steps)-1].at.Sub(steps[0].at)}
	}
	return out
}

// servedAt is when the pod turned Ready.
func servedAt(p *corev1.Pod) (time.Time, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// containerStarted is when the engine container (the first) started running, its current run or the first one
// the kubelet still reports.
func containerStarted(p *corev1.Pod) (time.Time, bool) {
	if len(p.Status.ContainerStatuses) == 0 {
		return time.Time{}, false
	}
	cs := p.Status.ContainerStatuses[0]
	if t := cs.LastTerminationState.Terminated; t != nil && !t.StartedAt.IsZero() {
		return t.StartedAt.Time, true
	}
	if r := cs.State.Running; r != nil && !r.StartedAt.IsZero() {
		return r.StartedAt.Time, true
	}
	return time.Time{}, false
}

// coldStarts observes each pod's cold start once. Pods that were already serving when the operator started are
// not observed: their start was before this process could see it, and a restart must not count them again. It
// remembers the current pods of each LLMDeployment only.
type coldStarts struct {
	mu       sync.Mutex
	since    time.Time
	observed map[types.NamespacedName]map[types.UID]bool
}

func newColdStarts(now time.Time) *coldStarts {
	return &coldStarts{since: now, observed: map[types.NamespacedName]map[types.UID]bool{}}
}

// observe records the LLMDeployment's pods that turned Ready since the last call.
func (c *coldStarts) observe(llm *servingv1alpha1.LLMDeployment, pods []corev1.Pod) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := types.NamespacedName{Namespace: llm.Namespace, Name: llm.Name}
	before := c.observed[key]
	now := make(map[types.UID]bool, len(pods))
	for i := range pods {
		p := &pods[i]
		served, ok := servedAt(p)
		if !ok {
			continue
		}
		now[p.UID] = true
		if before[p.UID] || served.Before(c.since) {
			continue
		}
		coldStartSeconds.WithLabelValues(llm.Namespace, llm.Name).Observe(served.Sub(p.CreationTimestamp.Time).Seconds())
	}
	if len(now) == 0 {
		delete(c.observed, key)
		return
	}
	c.observed[key] = now
}

// forget drops a deleted LLMDeployment's pods and its series.
func (c *coldStarts) forget(key types.NamespacedName) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.observed, key)
	coldStartSeconds.DeleteLabelValues(key.Namespace, key.Name)
}

// imagePulls remembers when each serving pod's image was pulled, from the kubelet's Pulled event, read once per
// pod (when it first serves; a pod that is still loading is looked at again once it serves) through reader, the
// API server: the manager caches no Events. A pod without one (the image was already on the node, or the event
// expired) is remembered as none.
type imagePulls struct {
	mu     sync.Mutex
	reader client.Reader
	byLLM  map[types.NamespacedName]map[types.UID]time.Time
}

func newImagePulls(reader client.Reader) *imagePulls {
	return &imagePulls{reader: reader, byLLM: map[types.NamespacedName]map[types.UID]time.Time{}}
}

// lookup returns the lookup function of one pass over an LLMDeployment's current pods, and forgets pods that are
// gone.
func (ip *imagePulls) lookup(ctx context.Context, llm *servingv1alpha1.LLMDeployment, pods []corev1.Pod) func(*corev1.Pod) (time.Time, bool) {
	if ip == nil || ip.reader == nil {
		return nil
	}
	key := types.NamespacedName{Namespace: llm.Namespace, Name: llm.Name}
	ip.mu.Lock()
	known := ip.byLLM[key]
	kept := make(map[types.UID]time.Time, len(pods))
	for i := range pods {
		if t, ok := known[pods[i].UID]; ok {
			kept[pods[i].UID] = t
		}
	}
	ip.byLLM[key] = kept
	ip.mu.Unlock()
	return func(p *corev1.Pod) (time.Time, bool) {
		ip.mu.Lock()
		t, ok := ip.byLLM[key][p.UID]
		ip.mu.Unlock()
		if ok {
			return t, !t.IsZero()
		}
		if _, serving := servedAt(p); !serving {
			return time.Time{}, false
		}
		t = ip.read(ctx, p)
		ip.mu.Lock()
		if m := ip.byLLM[key]; m != nil {
			m[p.UID] = t
		}
		ip.mu.Unlock()
		return t, !t.IsZero()
	}
}

// read finds the pod's last Pulled event.
func (ip *imagePulls) read(ctx context.Context, p *corev1.Pod) time.Time {
	list := &corev1.EventList{}
	if err := ip.reader.List(ctx, list, client.InNamespace(p.Namespace), client.MatchingFields{
		"involvedObject.uid": string(p.UID), "reason": "Pulled",
	}); err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("Reading the pod's Pulled event failed", "pod", p.Name, "error", err.Error())
		return time.Time{}
	}
	var last time.Time
	for _, e := range list.Items {
		t := e.LastTimestamp.Time
		if t.IsZero() {
			t = e.EventTime.Time
		}
		if t.IsZero() {
			t = e.FirstTimestamp.Time
		}
		if t.After(last) {
			last = t
		}
	}
	return last
}

// forget drops a deleted LLMDeployment's pods.
func (ip *imagePulls) forget(key types.NamespacedName) {
	if ip == nil {
		return
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	delete(ip.byLLM, key)
}
