package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

// surgeProduct is offered only by the node TestRolloutWithoutDowntime adds, so other tests' pods cannot take its GPUs.
const surgeProduct = "NVIDIA-L40S"

// rolloutSampler polls a Deployment and an LLMDeployment while a rollout runs and records the fewest ready replicas,
// the most pods, and whether the Ready message ever said what it was asked to look for.
type rolloutSampler struct {
	mu         sync.Mutex
	minReady   int32
	maxPods    int32
	sawMessage bool
	stop       chan struct{}
	done       chan struct{}
}

func sampleRollout(t *testing.T, ns, name, message string) *rolloutSampler {
	s := &rolloutSampler{minReady: 1 << 30, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			d, l := &appsv1.Deployment{}, &v1.LLMDeployment{}
			key := client.ObjectKey{Namespace: ns, Name: name}
			if c.Get(context.Background(), key, d) == nil && c.Get(context.Background(), key, l) == nil {
				s.mu.Lock()
				s.minReady = min(s.minReady, d.Status.ReadyReplicas)
				s.maxPods = max(s.maxPods, d.Status.Replicas)
				if r := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady); r != nil && message != "" && strings.Contains(r.Message, message) {
					s.sawMessage = true
				}
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(s.finish)
	return s
}

// finish stops the sampler; it may be called more than once.
func (s *rolloutSampler) finish() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// TestRolloutWithoutDowntime: a one-replica model on a node of two GPUs. While one GPU is free, a spec change
// surges: a second pod runs the new spec before the old one stops, and the Deployment never has fewer than one ready
// replica. Once another pod holds the free GPU, the next change replaces the pod in place and the status says so.
func TestRolloutWithoutDowntime(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	pool := simcluster.NodePool{Name: "surge", Count: 1, GPU: &simcluster.GPU{Product: surgeProduct, Count: 2, MemoryMiB: 46068}}
	if err := cluster.AddNodes(ctx, pool); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "surge-0"}}); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
	l := &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "qwen-l40s"},
		Spec: v1.LLMDeploymentSpec{
			Model:       v1.ModelSpec{URI: "hf://Qwen/Qwen2.5-7B-Instruct"},
			MaxModelLen: ptr.To(int32(8192)),
			GPU:         v1.GPUSpec{Count: ptr.To(int32(1)), Products: []string{surgeProduct}},
		},
	}
	if err := c.Create(ctx, l); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ns, l.Name, testutil.ReadyWith(1))
	if p := pods(t, ns, l.Name); len(p) != 1 || p[0].Spec.NodeName != "surge-0" {
		t.Fatalf("want one pod on surge-0, got %d", len(p))
	}

	rollTo := func(generation int64, maxModelLen int32) {
		t.Helper()
		must(t)(kubectl("-n", ns, "patch", "llmdeployment/"+l.Name, "--type=merge", "-p", fmt.Sprintf(`{"spec":{"maxModelLen":%d}}`, maxModelLen)))
		waitFor(t, ns, l.Name, func(l *v1.LLMDeployment) error {
			if l.Status.ObservedGeneration != generation {
				return fmt.Errorf("observed generation %d, want %d", l.Status.ObservedGeneration, generation)
			}
			if err := testutil.ReadyWith(1)(l); err != nil {
				return err
			}
			if n := len(pods(t, ns, l.Name)); n != 1 {
				return fmt.Errorf("%d pods, want the old one gone", n)
			}
			return nil
		})
	}

	// A GPU is free: surge, no moment without a ready replica.
	s := sampleRollout(t, ns, l.Name, "")
	rollTo(2, 4096)
	s.finish()
	if s.minReady < 1 || s.maxPods < 2 {
		t.Errorf("surge rollout: fewest ready replicas %d (want 1), most pods %d (want 2: the new before the old stops)", s.minReady, s.maxPods)
	}
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: l.Name}, d); err != nil {
		t.Fatal(err)
	}
	if !render.Surges(d.Spec.Strategy) {
		t.Errorf("strategy %+v, want a surge", d.Spec.Strategy.RollingUpdate)
	}

	// Another workload takes the free GPU: in place, said in the status.
	gpus := resource.MustParse("1")
	blocker := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other-team"},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"nvidia.com/gpu.product": surgeProduct},
			Tolerations:  []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			Containers: []corev1.Container{{Name: "job", Image: "registry.example/batch:1", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"nvidia.com/gpu": gpus}, Limits: corev1.ResourceList{"nvidia.com/gpu": gpus}}}},
		},
	}
	if err := c.Create(ctx, blocker); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, timeout, func() error {
		p := &corev1.Pod{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(blocker), p); err != nil {
			return err
		}
		if p.Spec.NodeName != "surge-0" || p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("blocker on %q, %s", p.Spec.NodeName, p.Status.Phase)
		}
		return nil
	})
	s = sampleRollout(t, ns, l.Name, "no free "+surgeProduct+" for a surge replica; replacing in place")
	rollTo(3, 2048)
	s.finish()
	if s.maxPods > 1 || !s.sawMessage {
		t.Errorf("in-place rollout: most pods %d (want 1), status said replacing in place: %v", s.maxPods, s.sawMessage)
	}
}
