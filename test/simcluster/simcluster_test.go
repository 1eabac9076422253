package simcluster_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/privatellm/privatellm/test/simcluster"
)

const a100 = "NVIDIA-A100-SXM4-40GB"

// TestSimCluster starts two clusters at once (free ports, no collision), then checks on the first one the
// node inventory, GPU scheduling by the real scheduler, the ready delay, the crash-loop opt-in and garbage
// collection by the real controller manager.
func TestSimCluster(t *testing.T) {
	binDir := simcluster.BinariesForTest(t)

	var (
		wg             sync.WaitGroup
		c, other       *simcluster.Cluster
		errC, errOther error
	)
	otherCtx, cancelOther := context.WithCancel(context.Background())
	defer cancelOther()
	begin := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		c, errC = simcluster.Start(context.Background(), simcluster.Options{
			BinDir: binDir, PodReadyDelay: 2 * time.Second, CrashRestartInterval: time.Second})
	}()
	go func() {
		defer wg.Done()
		other, errOther = simcluster.Start(otherCtx, simcluster.Options{BinDir: binDir,
			Nodes: []simcluster.NodePool{{Name: "solo", GPU: &simcluster.GPU{Product: "NVIDIA-L4", Count: 1, MemoryMiB: 23034}}}})
	}()
	wg.Wait()
	for _, sc := range []*simcluster.Cluster{c, other} {
		if sc != nil {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("logs of %s:\n%s", sc.Dir(), sc.LogTails(40))
				}
				if err := sc.Stop(); err != nil {
					t.Errorf("stop: %v", err)
				}
			})
		}
	}
	if errC != nil || errOther != nil {
		t.Fatalf("start two clusters: %v / %v", errC, errOther)
	}
	t.Logf("two clusters started at once in %s", time.Since(begin).Round(100*time.Millisecond))

	ctx := t.Context()
	cl := c.Client()

	t.Run("second cluster is separate and stops with its context", func(t *testing.T) {
		if c.RESTConfig().Host == other.RESTConfig().Host || c.Kubeconfig() == other.Kubeconfig() {
			t.Fatalf("clusters share an endpoint or kubeconfig: %s %s", c.RESTConfig().Host, other.Kubeconfig())
		}
		var nodes corev1.NodeList
		if err := other.Client().List(ctx, &nodes); err != nil {
			t.Fatal(err)
		}
		if len(nodes.Items) != 1 || nodes.Items[0].Name != "solo-0" {
			t.Fatalf("second cluster nodes = %v, want [solo-0]", nodeNames(nodes.Items))
		}
		cancelOther()
		select {
		case <-other.Stopped():
		case <-time.After(30 * time.Second):
			t.Fatal("cluster not stopped 30s after its context was canceled")
		}
		if err := other.Stop(); err != nil { // idempotent
			t.Fatalf("stop after the context stopped it: %v", err)
		}
		u, _ := url.Parse(other.RESTConfig().Host)
		if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
			conn.Close()
			t.Fatalf("API server of the stopped cluster still answers on %s", u.Host)
		}
		if _, err := os.Stat(other.Dir()); !os.IsNotExist(err) {
			t.Fatalf("state folder %s not removed: %v", other.Dir(), err)
		}
	})

	t.Run("nodes", func(t *testing.T) {
		var nodes corev1.NodeList
		if err := cl.List(ctx, &nodes); err != nil {
			t.Fatal(err)
		}
		wantGPUs := map[string]int64{"h100-0": 8, "h100-1": 8, "a100-0": 4, "a100-1": 4,
			"l4-0": 1, "l4-1": 1, "l4-2": 1, "l4-3": 1, "cpu-0": 0}
		if len(nodes.Items) != len(wantGPUs) {
			t.Fatalf("nodes = %v, want %d", nodeNames(nodes.Items), len(wantGPUs))
		}
		for _, n := range nodes.Items {
			want, ok := wantGPUs[n.Name]
			if !ok {
				t.Errorf("unexpected node %s", n.Name)
				continue
			}
			if !isNodeReady(&n) {
				t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
			}
			got := n.Status.Allocatable[simcluster.GPUResource]
			if got.Value() != want {
				t.Errorf("node %s allocatable nvidia.com/gpu = %s, want %d", n.Name, got.String(), want)
			}
			if want > 0 && (n.Labels[simcluster.LabelGPUPresent] != "true" || len(n.Spec.Taints) == 0 ||
				n.Labels[simcluster.LabelGPUCount] != fmt.Sprint(want)) {
				t.Errorf("GPU node %s lacks GFD labels or its taint: %v %v", n.Name, n.Labels, n.Spec.Taints)
			}
		}
	})

	_, podNet, err := net.ParseCIDR(c.PodCIDR())
	if err != nil {
		t.Fatalf("pod CIDR %q: %v", c.PodCIDR(), err)
	}

	t.Run("GPU capacity decides placement", func(t *testing.T) {
		dep := deployment("a100-x3", 3, nil)
		pod := &dep.Spec.Template.Spec
		pod.Containers[0].Resources.Limits = corev1.ResourceList{simcluster.GPUResource: resource.MustParse("4")}
		pod.Tolerations = []corev1.Toleration{{Key: string(simcluster.GPUResource), Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoSchedule}}
		pod.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: simcluster.LabelGPUProduct, Operator: corev1.NodeSelectorOpIn, Values: []string{a100}}},
			}}}}}
		if err := cl.Create(ctx, dep); err != nil {
			t.Fatal(err)
		}
		var pods []corev1.Pod
		eventually(t, time.Minute, "2 pods Ready on the A100 nodes and 1 Unschedulable", func() error {
			var err error
			if pods, err = podsOf(ctx, cl, "a100-x3"); err != nil {
				return err
			}
			var ready, unschedulable int
			nodes := map[string]bool{}
			for _, p := range pods {
				switch {
				case p.Status.Phase == corev1.PodRunning && isPodReady(&p):
					ready++
					nodes[p.Spec.NodeName] = true
				case p.Status.Phase == corev1.PodPending && p.Spec.NodeName == "":
					if cond := podCondition(&p, corev1.PodScheduled); cond != nil && cond.Status == corev1.ConditionFalse &&
						cond.Reason == corev1.PodReasonUnschedulable {
						unschedulable++
					}
				}
			}
			if len(pods) != 3 || ready != 2 || unschedulable != 1 || !nodes["a100-0"] || !nodes["a100-1"] {
				return fmt.Errorf("%d pods, %d ready on %v, %d unschedulable", len(pods), ready, nodes, unschedulable)
			}
			return nil
		})
		for _, p := range pods {
			if p.Spec.NodeName == "" {
				continue
			}
			if ip := net.ParseIP(p.Status.PodIP); ip == nil || !podNet.Contains(ip) {
				t.Errorf("pod %s IP %q not in the pod CIDR %s", p.Name, p.Status.PodIP, c.PodCIDR())
			}
			// The ready delay (2s) separates the start from Ready; timestamps have second precision.
			ready := podCondition(&p, corev1.PodReady)
			if ready.LastTransitionTime.Sub(p.Status.StartTime.Time) < time.Second {
				t.Errorf("pod %s: started %s, Ready %s: the ready delay was not applied", p.Name,
					p.Status.StartTime, ready.LastTransitionTime)
			}
		}
	})

	t.Run("crash loop opt-in", func(t *testing.T) {
		dep := deployment("crasher", 1, map[string]string{simcluster.AnnotationCrash: "true"})
		if err := cl.Create(ctx, dep); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "a crash-looping pod", func() error {
			pods, err := podsOf(ctx, cl, "crasher")
			if err != nil {
				return err
			}
			if len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
				return fmt.Errorf("%d pods, no container status yet", len(pods))
			}
			p := pods[0]
			cs := p.Status.ContainerStatuses[0]
			if isPodReady(&p) {
				return fmt.Errorf("crash-looping pod %s is Ready", p.Name)
			}
			// restartCount grows every CrashRestartInterval (1s): wait for the second restart.
			if p.Status.Phase != corev1.PodRunning || cs.State.Waiting == nil ||
				cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.RestartCount < 2 || cs.LastTerminationState.Terminated == nil {
				return fmt.Errorf("pod %s phase %s, container state %+v, restarts %d", p.Name, p.Status.Phase, cs.State,
					cs.RestartCount)
			}
			return nil
		})
	})

	t.Run("ready-delay annotation keeps a pod loading", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "slow-loader", Namespace: "default", Labels: map[string]string{"app": "slow"},
				Annotations: map[string]string{simcluster.AnnotationReadyDelay: "1h"}},
			Spec: deployment("x", 1, nil).Spec.Template.Spec,
		}
		if err := cl.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "the pod Running", func() error {
			if err := cl.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
				return err
			}
			if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
				return fmt.Errorf("phase %s", pod.Status.Phase)
			}
			return nil
		})
		if isPodReady(pod) || len(pod.Status.ContainerStatuses) != 1 || pod.Status.ContainerStatuses[0].Ready {
			t.Fatalf("pod with a 1h ready delay is ready: %+v", pod.Status)
		}
		if err := cl.Delete(ctx, pod); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "the deleted pod gone", func() error {
			if err := cl.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}); err == nil {
				return fmt.Errorf("pod still there")
			} else if client.IgnoreNotFound(err) != nil {
				return err
			}
			return nil
		})
	})

	t.Run("deleting a Deployment deletes its pods", func(t *testing.T) {
		for _, name := range []string{"a100-x3", "crasher"} {
			dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
			if err := cl.Delete(ctx, dep, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, time.Minute, "the garbage collector to remove ReplicaSets and pods", func() error {
			var rs appsv1.ReplicaSetList
			var pods corev1.PodList
			if err := cl.List(ctx, &rs, client.InNamespace("default")); err != nil {
				return err
			}
			if err := cl.List(ctx, &pods, client.InNamespace("default")); err != nil {
				return err
			}
			if len(rs.Items) > 0 || len(pods.Items) > 0 {
				return fmt.Errorf("%d ReplicaSets, %d pods left", len(rs.Items), len(pods.Items))
			}
			return nil
		})
	})
}

// deployment returns a Deployment of an engine-like container, labelled app=<name>.
func deployment(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "engine",
					Image: "vllm/vllm-openai:sim",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}},
				}}},
			},
		},
	}
}

func podsOf(ctx context.Context, cl client.Client, app string) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := cl.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": app})
	return pods.Items, err
}

// eventually polls check until it returns nil, failing t with check's last error after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: %v", timeout, what, err)
		}
		time.Sleep(200 * time.Millisecond) // poll interval, not a condition
	}
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func isPodReady(p *corev1.Pod) bool {
	cond := podCondition(p, corev1.PodReady)
	return cond != nil && cond.Status == corev1.ConditionTrue
}

func isNodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeNames(nodes []corev1.Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names
}
