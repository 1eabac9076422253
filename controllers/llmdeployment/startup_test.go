package llmdeployment

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func at(s int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(s) * time.Second)) }

// startedPod is a pod created at created, scheduled, started and (when served > 0) Ready at those seconds.
func startedPod(name string, created, scheduled, started, served int) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name), CreationTimestamp: at(created)}}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at(scheduled)}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "vllm", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(started)}}}}
	if served > 0 {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: at(served)})
	}
	return p
}

func TestStartupTimeline(t *testing.T) {
	llm := &servingv1alpha1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: "ns", CreationTimestamp: at(0)}}
	mc := &servingv1alpha1.ModelCache{}
	mc.Status.DownloadStarted, mc.Status.DownloadFinished = ptrTime(at(2)), ptrTime(at(62))
	pods := []corev1.Pod{startedPod("fast", 63, 64, 70, 100), startedPod("slow", 63, 65, 130, 400)}
	got := startupTimeline(llm, pods, mc, t0.Add(time.Hour), pulledAt(map[string]int{"slow": 100}))
	if got == nil || got.Pod != "slow" {
		t.Fatalf("timeline %+v, want the slow pod's", got)
	}
	want := []struct {
		name string
		dur  time.Duration
	}{{StepDownloadStarted, 0}, {StepDownloadFinished, 60 * time.Second}, {StepPodCreated, time.Second}, {StepScheduled, 2 * time.Second},
		{StepImagePulled, 35 * time.Second}, {StepContainerStarted, 30 * time.Second}, {StepModelServed, 270 * time.Second}}
	if len(got.Steps) != len(want) {
		t.Fatalf("steps %+v, want %d", got.Steps, len(want))
	}
	for i, w := range want {
		s := got.Steps[i]
		var d time.Duration
		if s.Duration != nil {
			d = s.Duration.Duration
		}
		if s.Name != w.name || d != w.dur {
			t.Errorf("step %d is %s after %s, want %s after %s", i, s.Name, d, w.name, w.dur)
		}
	}
	if got.Total == nil || got.Total.Duration != 398*time.Second {
		t.Errorf("total %v, want 6m38s", got.Total)
	}

	// A pod still loading after an hour is the slowest; a download finished before the object existed (a cache
	// another LLMDeployment filled) is not part of its start.
	llm.CreationTimestamp = at(1000)
	loading := startedPod("loading", 1001, 1002, 1003, 0)
	got = startupTimeline(llm, append(pods, loading), mc, t0.Add(2*time.Hour), nil)
	if got.Pod != "loading" || got.Steps[0].Name != StepPodCreated || got.Steps[len(got.Steps)-1].Name != StepContainerStarted {
		t.Errorf("timeline %+v, want the loading pod's, from its creation to its container's start", got)
	}
	// Conditions without times (the API server does not require them) are left out, never written as null.
	bare := startedPod("bare", 1001, 1002, 1003, 0)
	bare.Status.Conditions[0].LastTransitionTime = metav1.Time{}
	for _, s := range startupTimeline(llm, []corev1.Pod{bare}, nil, t0.Add(2*time.Hour), nil).Steps {
		if s.Time.IsZero() || s.Name == StepScheduled {
			t.Errorf("step %+v of a condition without a time", s)
		}
	}
	if startupTimeline(llm, nil, mc, t0, nil) != nil {
		t.Error("a timeline without pods")
	}
}

func TestColdStartsObservedOnce(t *testing.T) {
	llm := &servingv1alpha1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Name: "cold", Namespace: "ns-cold"}}
	c := newColdStarts(t0.Add(50 * time.Second))
	old := startedPod("old", 0, 1, 2, 40) // Ready before the operator started: not a start it saw
	loading := startedPod("new", 60, 61, 62, 0)
	c.observe(llm, []corev1.Pod{old, loading})
	c.observe(llm, []corev1.Pod{old, loading})
	served := startedPod("new", 60, 61, 62, 180)
	c.observe(llm, []corev1.Pod{old, served})
	c.observe(llm, []corev1.Pod{old, served})
	m := &dto.Metric{}
	if err := coldStartSeconds.WithLabelValues("ns-cold", "cold").(prometheus.Histogram).Write(m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("observed %d cold starts, want 1 (the new pod, once)", got)
	}
	if got := m.GetHistogram().GetSampleSum(); got != 120 {
		t.Errorf("cold start %vs, want 120s", got)
	}
	c.forget(types.NamespacedName{Namespace: "ns-cold", Name: "cold"})
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }

// pulledAt is a lookup of image pull times by pod name, in seconds after t0.
func pulledAt(secs map[string]int) func(*corev1.Pod) (time.Time, bool) {
	return func(p *corev1.Pod) (time.Time, bool) {
		s, ok := secs[p.Name]
		return t0.Add(time.Duration(s) * time.Second), ok
	}
}

// TestStartupTimelineFromTheCluster: the reconciler writes the serving pod's timeline, with the image pull time
// from the kubelet's Pulled event read from the API server (field selectors on the pod's uid and the reason).
func TestStartupTimelineFromTheCluster(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	if err := k8sClient.Create(ctx, sampleLLM(ns, "timeline")); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "timeline", readyIs(metav1.ConditionFalse, servingv1alpha1.ReasonProgressing))
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	at := func(s int) metav1.Time { return metav1.NewTime(now.Add(time.Duration(s) * time.Second)) }
	createPod(t, ns, "timeline", "timeline-0", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at(1)}}})
	pod := &corev1.Pod{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "timeline-0"}, pod); err != nil {
		t.Fatal(err)
	}
	for _, e := range []corev1.Event{
		{ObjectMeta: metav1.ObjectMeta{Name: "pulling", Namespace: ns}, Reason: "Pulling", LastTimestamp: at(2),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod.Name, UID: pod.UID}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pulled", Namespace: ns}, Reason: "Pulled", LastTimestamp: at(40),
			Message:        "Successfully pulled image \"vllm/vllm-openai:v0.18.0\" in 38s",
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod.Name, UID: pod.UID}},
	} {
		if err := k8sClient.Create(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at(1)},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: at(100)}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "vllm", Image: "x", ImageID: "x", Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(41)}}}}}
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	setDeploymentStatus(t, ns, "timeline", 1, 1, 1)
	got := waitForLLM(t, ns, "timeline", func(l *servingv1alpha1.LLMDeployment) error {
		if l.Status.Startup == nil {
			return fmt.Errorf("no status.startup")
		}
		var names []string
		for _, s := range l.Status.Startup.Steps {
			names = append(names, s.Name)
		}
		if want := []string{StepPodCreated, StepScheduled, StepImagePulled, StepContainerStarted, StepModelServed}; !slices.Equal(names, want) {
			return fmt.Errorf("steps %v, want %v", names, want)
		}
		return nil
	})
	for _, s := range got.Status.Startup.Steps {
		if s.Name == StepImagePulled && !s.Time.Equal(&[]metav1.Time{at(40)}[0]) {
			t.Errorf("ImagePulled at %s, want the Pulled event's %s", s.Time, at(40))
		}
	}
}
