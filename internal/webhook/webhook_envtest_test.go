package webhook

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// warningRecorder collects the API server's warning headers (admission warnings arrive as those).
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// warningClient is a client whose warnings the test reads.
func warningClient(t *testing.T) (client.Client, *warningRecorder) {
	t.Helper()
	rec := &warningRecorder{}
	cfg := rest.CopyConfig(restCfg)
	cfg.WarningHandler = rec
	c, err := client.New(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// webhookRequests is how many admission requests the validator has served so far.
func webhookRequests(t *testing.T) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == ValidatePath {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// createNodes creates GPU nodes for one test (Nodes are cluster-scoped: each test uses its own products) and
// removes them afterwards. The webhook reads them through the manager's cache, so the test waits until the
// webhook sees them.
func createNodes(t *testing.T, nodes ...corev1.Node) {
	t.Helper()
	ctx := context.Background()
	for i := range nodes {
		n := nodes[i].DeepCopy()
		if err := k8sClient.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := k8sClient.Delete(context.Background(), n); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		})
	}
}

func newLLM(ns, name string, l *v1.LLMDeployment) *v1.LLMDeployment {
	l = l.DeepCopy()
	l.Namespace, l.Name = ns, name
	return l
}

// eventually polls cond every 100ms until it returns nil or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		<-tick.C
	}
}

func TestWebhookAgainstAPIServer(t *testing.T) {
	requireEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t)
	c, warnings := warningClient(t)
	// Products unique to this test, so the other tests' nodes do not interfere.
	const small, big = "TEST-L4-24GB", "TEST-H100-80GB"
	createNodes(t, nvidiaNode("wh-small-a", small, l4MiB, 4), nvidiaNode("wh-big-a", big, h100MiB, 8))

	t.Run("a spec that cannot fit is rejected with what would fit", func(t *testing.T) {
		bad := newLLM(ns, "llama-70b", llm(llama70, products(small), maxLen(8192)))
		// The webhook's cache may not have seen the new nodes yet: until it has, it warns "no node offers" and
		// accepts (nothing to check against). Poll with dry-run until the rejection comes.
		var err error
		eventually(t, 10*time.Second, func() error {
			err = c.Create(ctx, bad.DeepCopy(), client.DryRunAll)
			if err == nil {
				return errString("admitted")
			}
			return nil
		})
		if !apierrors.IsInvalid(err) {
			t.Fatalf("want an Invalid error, got %v", err)
		}
		for _, want := range []string{`LLMDeployment.serving.privatellm.dev "llama-70b" is invalid`, "spec.gpu.count",
			"needs ≈ 136 GiB per replica", "1 × 22 GiB given (smallest matching TEST-L4-24GB node",
			"try quantization fp8 with 4 GPUs, or awq with 2"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q\n does not contain %q", err.Error(), want)
			}
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(bad), &v1.LLMDeployment{}); !apierrors.IsNotFound(err) {
			t.Errorf("the rejected object must not exist: %v", err)
		}
	})

	t.Run("a model cache the operator has no configuration for is refused", func(t *testing.T) {
		cached := newLLM(ns, "cached", llm(llama8q, products(small), quant(v1.QuantizationAWQ), maxLen(8192)))
		cached.Spec.Model.Cache = &v1.ModelCacheOptions{Enabled: ptr.To(true)}
		err := c.Create(ctx, cached, client.DryRunAll)
		if !apierrors.IsInvalid(err) {
			t.Fatalf("want an Invalid error, got %v", err)
		}
		for _, want := range []string{"spec.model.cache", "has no modelCache section", "ask the platform team"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q\n does not contain %q", err.Error(), want)
			}
		}
	})

	t.Run("a spec that fits is accepted without warnings", func(t *testing.T) {
		warnings.take()
		good := newLLM(ns, "llama-8b", llm(llama8q, products(small), quant(v1.QuantizationAWQ), maxLen(8192)))
		if err := c.Create(ctx, good); err != nil {
			t.Fatalf("rejected: %v", err)
		}
		if w := warnings.take(); len(w) != 0 {
			t.Errorf("want no warnings, got %q", w)
		}
	})

	t.Run("cluster facts come back as warnings", func(t *testing.T) {
		warnings.take()
		missing := newLLM(ns, "on-b200", llm(llama70, products("TEST-B200-NONE"), quant(v1.QuantizationFP8), count(4), maxLen(16384)))
		if err := c.Create(ctx, missing); err != nil {
			t.Fatalf("rejected: %v", err)
		}
		w := warnings.take()
		if len(w) != 1 || !strings.Contains(w[0], "no node currently offers nvidia.com/gpu of product TEST-B200-NONE") {
			t.Errorf("want the missing-product warning, got %q", w)
		}

		tooMany := newLLM(ns, "eight-small", llm(llama8q, products(small), quant(v1.QuantizationAWQ), count(8), maxLen(8192)))
		if err := c.Create(ctx, tooMany); err != nil {
			t.Fatalf("rejected: %v", err)
		}
		w = warnings.take()
		if len(w) != 1 || !strings.Contains(w[0], "spec.gpu.count is 8 but the largest matching node offers 4 allocatable TEST-L4-24GB nvidia.com/gpu") {
			t.Errorf("want the too-few-GPUs warning, got %q", w)
		}
	})

	t.Run("the tensor parallel size must divide the attention heads", func(t *testing.T) {
		qwen := newLLM(ns, "qwen", llm(qwen7, products(big), count(8), tp(8), maxLen(8192)))
		err := c.Create(ctx, qwen)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.tensorParallelSize") ||
			!strings.Contains(err.Error(), "28 attention heads") {
			t.Fatalf("want the tensor parallel rejection, got %v", err)
		}
	})

	t.Run("immutable fields cannot change", func(t *testing.T) {
		cur := &v1.LLMDeployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "llama-8b"}, cur); err != nil {
			t.Fatal(err)
		}
		changed := cur.DeepCopy()
		changed.Spec.Engine.Name = v1.EngineName("tgi")
		err := c.Update(ctx, changed)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.engine.name") ||
			!strings.Contains(err.Error(), "create a new LLMDeployment") {
			t.Fatalf("want the immutable-engine rejection, got %v", err)
		}
		changed = cur.DeepCopy()
		changed.Spec.GPU.ResourceName = v1.GPUResourceAMD
		err = c.Update(ctx, changed)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.gpu.resourceName") {
			t.Fatalf("want the immutable-resource rejection, got %v", err)
		}
		// A change of a mutable field goes through.
		changed = cur.DeepCopy()
		changed.Spec.Replicas = ptr.To(int32(2))
		if err := c.Update(ctx, changed); err != nil {
			t.Fatalf("a replicas change was rejected: %v", err)
		}
	})

	t.Run("other objects never reach the webhook", func(t *testing.T) {
		before := webhookRequests(t)
		if before == 0 {
			t.Fatal("the webhook has served no request so far: the request counter is not the validator's")
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrelated"}, Data: map[string]string{"a": "b"}}
		if err := c.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		cm.Data["a"] = "c"
		if err := c.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
		// Status writes and deletions of LLMDeployments are not sent either.
		cur := &v1.LLMDeployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "llama-8b"}, cur); err != nil {
			t.Fatal(err)
		}
		cur.Status.Endpoint = "http://llama-8b." + ns + ".svc:8000/v1"
		if err := c.Status().Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if after := webhookRequests(t); after != before {
			t.Errorf("the webhook served %v requests for other objects, status writes or deletions", after-before)
		}
		// And an LLMDeployment create does reach it.
		if err := c.Create(ctx, newLLM(ns, "again", llm(llama8q, products(small), quant(v1.QuantizationAWQ), maxLen(8192))), client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		if after := webhookRequests(t); after != before+1 {
			t.Errorf("want one more webhook request for an LLMDeployment create, got %v", after-before)
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// TestRenderedChildrenAndPolicy: what the API server would refuse when the operator applies the Deployment it
// renders comes back at admission on the LLMDeployment's own field (a server-side dry run of the children), and the
// operator's admission policy refuses flags, variables and PriorityClasses that widen what a tenant's model may do.
func TestRenderedChildrenAndPolicy(t *testing.T) {
	requireEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t)
	base := func(mut func(*v1.LLMDeploymentSpec)) *v1.LLMDeployment {
		return newLLM(ns, "child", llm(llama8q, products("TEST-CHILD-NONE"), quant(v1.QuantizationAWQ), maxLen(8192), mut))
	}
	cases := []struct {
		name string
		obj  *v1.LLMDeployment
		want []string
	}{
		{"a toleration the API server refuses", base(func(s *v1.LLMDeploymentSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "pool", Operator: corev1.TolerationOpExists, Value: "gpu"}}
		}), []string{"spec.tolerations[0].operator", "the Deployment the operator renders from it would be refused", "value must be empty when `operator` is 'Exists'"}},
		{"requests above limits", base(func(s *v1.LLMDeploymentSpec) {
			s.Resources.Requests = corev1.ResourceList{"memory": resource.MustParse("64Gi")}
			s.Resources.Limits = corev1.ResourceList{"memory": resource.MustParse("32Gi")}
		}), []string{"spec.resources.requests", "must be less than or equal to memory limit"}},
		{"a pod annotation key the API server refuses", base(func(s *v1.LLMDeploymentSpec) {
			s.PodAnnotations = map[string]string{"bad key": "x"}
		}), []string{"spec.podAnnotations", "name part must consist of alphanumeric characters"}},
		{"an affinity the API server refuses", base(func(s *v1.LLMDeploymentSpec) {
			s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: ""}}}}
		}), []string{"spec.affinity.podAntiAffinity", "topologyKey"}},
		{"a flag that reads local files for requests", base(func(s *v1.LLMDeploymentSpec) {
			s.Engine.Args = []string{"--allowed-local-media-path=/"}
		}), []string{"spec.engine.args[0]", "--allowed-local-media-path widens what vLLM may read", "admission.refusedArgs"}},
		{"an abbreviation argparse would expand to it", base(func(s *v1.LLMDeploymentSpec) {
			s.Engine.Args = []string{"--enable-prefix-caching", "--allowed-local=/"}
		}), []string{"spec.engine.args[1]", "--allowed-local-media-path"}},
		{"a loader variable", base(func(s *v1.LLMDeploymentSpec) {
			s.Engine.Env = []v1.EnvVar{{Name: "LD_PRELOAD", Value: "/tmp/x.so"}}
		}), []string{"spec.engine.env[0].name", "LD_PRELOAD changes what code the engine loads"}},
		{"a system PriorityClass", base(func(s *v1.LLMDeploymentSpec) { s.PriorityClassName = "system-node-critical" }),
			[]string{"spec.priorityClassName", "system PriorityClasses let a model preempt other tenants' pods"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := k8sClient.Create(ctx, tc.obj, client.DryRunAll)
			if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
				t.Fatalf("want a refusal, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q\n does not contain %q", err.Error(), w)
				}
			}
		})
	}
	t.Run("a spec whose children are valid is admitted, and nothing is created by the dry run", func(t *testing.T) {
		ok := base(func(s *v1.LLMDeploymentSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "pool", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
			s.PodAnnotations = map[string]string{"team": "search"}
		})
		if err := k8sClient.Create(ctx, ok); err != nil {
			t.Fatalf("rejected: %v", err)
		}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "child"}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
			t.Errorf("the dry run must not create the Deployment: %v", err)
		}
	})
}
