package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

const (
	samplesDir = "config/samples"
	l4Sample   = "config/samples/serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"
	h100Sample = "config/samples/serving_v1alpha1_llmdeployment_vllm_fp8_h100.yaml"
	tgiSample  = "config/samples/serving_v1alpha1_llmdeployment_tgi_a100.yaml"
	b200Sample = "config/samples/serving_v1alpha1_llmdeployment_unfit_b200.yaml"
	timeout    = 90 * time.Second
)

// namespace makes a namespace with the samples' token Secret; at the end of the test it is deleted and its pods
// waited for, so the next test finds every GPU free.
func namespace(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("e2e-%d", time.Now().UnixNano()%1_000_000_000)
	must(t)(kubectl("create", "namespace", ns))
	must(t)(kubectl("-n", ns, "create", "secret", "generic", "hf-token", "--from-literal=token=hf_e2e_placeholder"))
	t.Cleanup(func() {
		if _, err := kubectl("delete", "namespace", ns, "--wait=false"); err != nil {
			t.Error(err)
		}
		testutil.Eventually(t, 2*timeout, func() error {
			pods := &corev1.PodList{}
			if err := c.List(context.Background(), pods, client.InNamespace(ns)); err != nil {
				return err
			}
			if len(pods.Items) > 0 {
				return fmt.Errorf("%d pods of namespace %s left", len(pods.Items), ns)
			}
			return nil
		})
	})
	return ns
}

func must(t *testing.T) func(string, error) string {
	return func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func llm(t *testing.T, ns, name string) *v1.LLMDeployment {
	t.Helper()
	l := &v1.LLMDeployment{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, l); err != nil {
		t.Fatal(err)
	}
	return l
}

// waitFor polls the LLMDeployment until check accepts it.
func waitFor(t *testing.T, ns, name string, check func(*v1.LLMDeployment) error) *v1.LLMDeployment {
	t.Helper()
	return testutil.WaitForLLM(t, c, ns, name, timeout, check)
}

func stalled(reason string) func(*v1.LLMDeployment) error {
	return func(l *v1.LLMDeployment) error {
		s := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled)
		if s == nil || s.Status != metav1.ConditionTrue || s.Reason != reason {
			return fmt.Errorf("not Stalled/%s: %+v", reason, l.Status.Conditions)
		}
		return nil
	}
}

func pods(t *testing.T, ns, name string) []corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	if err := c.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{render.LabelLLMDeployment: name}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func node(t *testing.T, name string) *corev1.Node {
	t.Helper()
	n := &corev1.Node{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: name}, n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSamplesLandOnTheirGPUs applies every sample that fits, one per engine and more, at once, and checks that
// each becomes Ready with its pods on nodes of the requested product asking the right number of GPUs (the real
// scheduler's verdict; the CPU sample on a node without GPUs, asking none), and that the simulated engine, which
// parses the pod's own command line as the pinned engine would, serves the model under the promised name.
func TestSamplesLandOnTheirGPUs(t *testing.T) {
	ns := namespace(t)
	samples := []struct {
		file, name, served, product string
		gpus                        int64
	}{
		{l4Sample, "llama-8b-awq", "llama-3.1-8b-instruct", "NVIDIA-L4", 1},
		{h100Sample, "llama-70b-fp8", "llama-70b-fp8", "NVIDIA-H100-80GB-HBM3", 4},
		{tgiSample, "mistral-7b-tgi", "mistralai/Mistral-7B-Instruct-v0.3", "NVIDIA-A100-SXM4-40GB", 1},
		{samplesDir + "/serving_v1alpha1_llmdeployment_sglang_awq_h100.yaml", "qwen-72b-sglang", "qwen2.5-72b-instruct", "NVIDIA-H100-80GB-HBM3", 1},
		{samplesDir + "/serving_v1alpha1_llmdeployment_llamacpp_q4_l4.yaml", "llama-8b-gguf-l4", "llama-3.1-8b-gguf", "NVIDIA-L4", 1},
		{samplesDir + "/serving_v1alpha1_llmdeployment_llamacpp_q4_cpu.yaml", "llama-8b-cpu", "llama-8b-cpu", "", 0},
	}
	for _, s := range samples {
		must(t)(kubectl("-n", ns, "apply", "-f", s.file))
	}
	engines := map[v1.EngineName]bool{}
	for _, s := range samples {
		l := waitFor(t, ns, s.name, testutil.ReadyWith(1))
		engines[l.Spec.EffectiveEngine()] = true
		if got := testutil.KStatus(t, l); got != kstatus.CurrentStatus {
			t.Errorf("%s: kstatus %s, want Current", s.name, got)
		}
		if l.Status.Endpoint != fmt.Sprintf("http://%s.%s.svc:8000/v1", s.name, ns) {
			t.Errorf("%s: endpoint %q", s.name, l.Status.Endpoint)
		}
		ps := pods(t, ns, s.name)
		if len(ps) != 1 {
			t.Fatalf("%s: %d pods, want 1", s.name, len(ps))
		}
		p := ps[0]
		if got := node(t, p.Spec.NodeName).Labels[simcluster.LabelGPUProduct]; got != s.product {
			t.Errorf("%s: pod on node %s with product %q, want %q", s.name, p.Spec.NodeName, got, s.product)
		}
		q, hasGPU := p.Spec.Containers[0].Resources.Limits[corev1.ResourceName("nvidia.com/gpu")]
		if q.Value() != s.gpus || hasGPU != (s.gpus > 0) {
			t.Errorf("%s: GPU limit %s, want %d", s.name, q.String(), s.gpus)
		}
		testutil.Eventually(t, timeout, func() error { return servesModel(p, s.served) })
	}
	for _, e := range []v1.EngineName{"vllm", "tgi", "sglang", "llamacpp"} {
		if !engines[e] {
			t.Errorf("no sample of engine %s became Ready", e)
		}
	}
	out := must(t)(kubectl("-n", ns, "get", "llmdeployments"))
	for _, want := range []string{"llama-8b-awq", "Available", "mistral-7b-tgi", "tgi", "sglang", "llamacpp", "Q4_K_M"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get llmdeployments lacks %q:\n%s", want, out)
		}
	}
}

// servesModel asks the engine in a pod (engine-sim on the pod's IP) for its models and one chat completion.
func servesModel(p corev1.Pod, served string) error {
	base := "http://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(p.Spec.Containers[0].Ports[0].ContainerPort)))
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(base + "/v1/models")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf("%q", served)) {
		return fmt.Errorf("GET %s/v1/models: %s %s, want the model %q", base, resp.Status, body, served)
	}
	resp, err = hc.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(
		fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hello"}],"max_tokens":2}`, served)))
	if err != nil {
		return err
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "token token") {
		return fmt.Errorf("chat completion: %s %s", resp.Status, body)
	}
	return nil
}

// TestEngineRefusalsCrashLoop: what the pinned engine would refuse at start, the simulated engine refuses too, so
// the pod crash-loops and the LLMDeployment ends Stalled with reason CrashLoopBackOff and the engine's own error:
// an extra flag vLLM 0.18 does not know, and --quantization=fp8 on a checkpoint that already is FP8 (what the
// operator passes when spec.model.quantized says false) — which runs once quantized: true says what it is.
func TestEngineRefusalsCrashLoop(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	must(t)(kubectl("-n", ns, "patch", "llmdeployment/llama-8b-awq", "--type=merge", "-p",
		`{"spec":{"engine":{"args":["--enable-prefix-caching","--no-such-flag"]}}}`))
	l := waitFor(t, ns, "llama-8b-awq", stalled(v1.ReasonCrashLoopBackOff))
	msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message
	if !strings.Contains(msg, "last exit code 2: vllm serve: error: unrecognized arguments: --no-such-flag") {
		t.Errorf("message %q must carry the engine's own error", msg)
	}
	if got := testutil.KStatus(t, l); got != kstatus.FailedStatus {
		t.Errorf("kstatus %s, want Failed", got)
	}

	fp8 := `{"apiVersion":"serving.privatellm.dev/v1alpha1","kind":"LLMDeployment","metadata":{"name":"llama-8b-fp8"},
"spec":{"model":{"uri":"hf://RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8","quantized":false},"quantization":"fp8",
"maxModelLen":8192,"gpu":{"count":1,"products":["NVIDIA-L4"]}}}`
	must(t)(kubectlStdin(fp8, "-n", ns, "apply", "-f", "-"))
	l = waitFor(t, ns, "llama-8b-fp8", stalled(v1.ReasonCrashLoopBackOff))
	if msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message; !strings.Contains(msg,
		"Quantization method specified in the model config (compressed-tensors) does not match the quantization method specified in the `quantization` argument (fp8)") {
		t.Errorf("message %q must carry vLLM's refusal", msg)
	}
	must(t)(kubectl("-n", ns, "patch", "llmdeployment/llama-8b-fp8", "--type=merge", "-p", `{"spec":{"model":{"quantized":true}}}`))
	l = waitFor(t, ns, "llama-8b-fp8", testutil.ReadyWith(1))
	if q := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionQuantizationResolved); q == nil || q.Reason != v1.ReasonFromCheckpoint {
		t.Errorf("QuantizationResolved %+v, want FromCheckpoint", q)
	}
}

// TestScaleAndOverflow scales with kubectl: to 3 replicas (all Ready), then past the 4 L4 GPUs of the cluster,
// where the pending replica is reported, not hidden.
func TestScaleAndOverflow(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	waitFor(t, ns, "llama-8b-awq", testutil.ReadyWith(1))

	must(t)(kubectl("-n", ns, "scale", "llmdeployment/llama-8b-awq", "--replicas=3"))
	waitFor(t, ns, "llama-8b-awq", testutil.ReadyWith(3))
	if got := len(pods(t, ns, "llama-8b-awq")); got != 3 {
		t.Errorf("%d pods, want 3", got)
	}

	must(t)(kubectl("-n", ns, "scale", "llmdeployment/llama-8b-awq", "--replicas=5"))
	l := waitFor(t, ns, "llama-8b-awq", func(l *v1.LLMDeployment) error {
		r := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady)
		if r == nil || r.Reason != v1.ReasonUnschedulable || l.Status.ReadyReplicas != 4 {
			return fmt.Errorf("want 4 ready and Unschedulable, got ready %d, %+v", l.Status.ReadyReplicas, r)
		}
		return nil
	})
	msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady).Message
	if !strings.Contains(msg, "1 of 5 replicas cannot be scheduled: needs 1 × NVIDIA-L4 per replica") {
		t.Errorf("message %q must count the pending replica and say what it needs", msg)
	}
	waitFor(t, ns, "llama-8b-awq", stalled(v1.ReasonUnschedulable))
}

// TestMissingProductIsStalled: no node offers NVIDIA-B200, so the object is Stalled with a message that names the
// product, and kstatus (what Flux and kpt wait on) says Failed.
func TestMissingProductIsStalled(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", b200Sample))
	l := waitFor(t, ns, "llama-405b-fp8", stalled(v1.ReasonUnschedulable))
	msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message
	if !strings.Contains(msg, "needs 8 × NVIDIA-B200 per replica; no node offers that product") {
		t.Errorf("message %q must name the missing product", msg)
	}
	if got := testutil.KStatus(t, l); got != kstatus.FailedStatus {
		t.Errorf("kstatus %s, want Failed", got)
	}
}

// TestSpecChangeRollsOut changes the context length: the pods are replaced and the object comes back Ready at
// the new generation.
func TestSpecChangeRollsOut(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", tgiSample))
	waitFor(t, ns, "mistral-7b-tgi", testutil.ReadyWith(1))
	before := pods(t, ns, "mistral-7b-tgi")[0].Name

	must(t)(kubectl("-n", ns, "patch", "llmdeployment/mistral-7b-tgi", "--type=merge", "-p", `{"spec":{"maxModelLen":4096}}`))
	l := waitFor(t, ns, "mistral-7b-tgi", func(l *v1.LLMDeployment) error {
		if l.Generation != 2 {
			return fmt.Errorf("generation %d", l.Generation)
		}
		if err := testutil.ReadyWith(1)(l); err != nil {
			return err
		}
		ps := pods(t, ns, "mistral-7b-tgi")
		if len(ps) != 1 || ps[0].Name == before {
			return fmt.Errorf("pods not replaced yet (%d pods)", len(ps))
		}
		return nil
	})
	d := &appsv1.Deployment{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "mistral-7b-tgi"}, d); err != nil {
		t.Fatal(err)
	}
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(args, "--max-total-tokens=4096") {
		t.Errorf("deployment args %q lack the new context length", args)
	}
	if l.Status.ObservedGeneration != 2 {
		t.Errorf("observedGeneration %d, want 2", l.Status.ObservedGeneration)
	}
}

// TestCrashLoopIsStalled: the simulated engine crash-loops (kwok stage selected by a pod annotation).
func TestCrashLoopIsStalled(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	must(t)(kubectl("-n", ns, "patch", "llmdeployment/llama-8b-awq", "--type=merge", "-p",
		fmt.Sprintf(`{"spec":{"podAnnotations":{%q:"true"}}}`, simcluster.AnnotationCrash)))
	l := waitFor(t, ns, "llama-8b-awq", stalled(v1.ReasonCrashLoopBackOff))
	if got := testutil.KStatus(t, l); got != kstatus.FailedStatus {
		t.Errorf("kstatus %s, want Failed", got)
	}
}

// TestDeleteRemovesChildren: the real garbage collector removes the Deployment, Service and pods.
func TestDeleteRemovesChildren(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	waitFor(t, ns, "llama-8b-awq", testutil.ReadyWith(1))
	must(t)(kubectl("-n", ns, "delete", "llmdeployment/llama-8b-awq", "--wait=true", "--timeout=60s"))
	key := client.ObjectKey{Namespace: ns, Name: "llama-8b-awq"}
	testutil.Eventually(t, timeout, func() error {
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}} {
			if err := c.Get(context.Background(), key, obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T still there (err %v)", obj, err)
			}
		}
		if n := len(pods(t, ns, "llama-8b-awq")); n > 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}

// TestOperatorRestartMidRollout kills the operator during a rollout, changes the spec while it is down, restarts
// it, and checks it converges with exactly one Deployment and Service and no orphaned ReplicaSets or pods.
func TestOperatorRestartMidRollout(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "apply", "-f", h100Sample))
	testutil.Eventually(t, timeout, func() error {
		return c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "llama-70b-fp8"}, &appsv1.Deployment{})
	})
	op.Kill()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = op.Start()
		}
	})
	must(t)(kubectl("-n", ns, "patch", "llmdeployment/llama-70b-fp8", "--type=merge", "-p", `{"spec":{"replicas":2,"maxModelLen":8192}}`))
	if err := op.Start(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitFor(t, ns, "llama-70b-fp8", testutil.ReadyWith(2))

	deploys := &appsv1.DeploymentList{}
	if err := c.List(context.Background(), deploys, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	svcs := &corev1.ServiceList{}
	if err := c.List(context.Background(), svcs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(deploys.Items) != 1 || len(svcs.Items) != 1 {
		t.Fatalf("%d deployments and %d services, want 1 each", len(deploys.Items), len(svcs.Items))
	}
	if !strings.Contains(strings.Join(deploys.Items[0].Spec.Template.Spec.Containers[0].Args, " "), "--max-model-len=8192") {
		t.Error("the change made while the operator was down was not applied")
	}
	testutil.Eventually(t, timeout, func() error {
		rss := &appsv1.ReplicaSetList{}
		if err := c.List(context.Background(), rss, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, rs := range rss.Items {
			if ref := metav1.GetControllerOf(&rs); ref == nil || ref.UID != deploys.Items[0].UID {
				return fmt.Errorf("replicaset %s is not owned by the deployment", rs.Name)
			}
		}
		if n := len(pods(t, ns, "llama-70b-fp8")); n != 2 {
			return fmt.Errorf("%d pods, want 2", n)
		}
		return nil
	})
}

// TestPodCreationRefusalsAreStalled: when the API server refuses a replica's pod — a ResourceQuota on GPUs, the
// everyday failure of a shared GPU cluster, or a PriorityClass that does not exist — the LLMDeployment says so
// with the API server's reason (QuotaExceeded waits out the grace period, as another team may free GPUs; a missing
// PriorityClass needs someone to act), instead of "Progressing" forever.
func TestPodCreationRefusalsAreStalled(t *testing.T) {
	ns := namespace(t)
	quota := `{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"gpus"},"spec":{"hard":{"requests.nvidia.com/gpu":"2"}}}`
	must(t)(kubectlStdin(quota, "-n", ns, "apply", "-f", "-")) // the operator's engine pods request GPUs only as requests = limits
	testutil.Eventually(t, timeout, func() error {             // the quota controller computes the status admission needs
		q := &corev1.ResourceQuota{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "gpus"}, q); err != nil {
			return err
		}
		if _, ok := q.Status.Hard["requests.nvidia.com/gpu"]; !ok {
			return fmt.Errorf("quota status not computed yet")
		}
		return nil
	})
	must(t)(kubectl("-n", ns, "apply", "-f", h100Sample)) // 4 GPUs per replica, 2 allowed
	l := waitFor(t, ns, "llama-70b-fp8", stalled(v1.ReasonQuotaExceeded))
	msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message
	if !strings.Contains(msg, "exceeded quota: gpus") || !strings.Contains(msg, "raise the quota") || strings.Contains(msg, "llama-70b-fp8-") {
		t.Errorf("message %q must carry the quota's refusal, what to do, and no pod name", msg)
	}
	if got := testutil.KStatus(t, l); got != kstatus.FailedStatus {
		t.Errorf("kstatus %s, want Failed", got)
	}

	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	must(t)(kubectl("-n", ns, "patch", "llmdeployment/llama-8b-awq", "--type=merge", "-p", `{"spec":{"priorityClassName":"gpu-critical"}}`))
	l = waitFor(t, ns, "llama-8b-awq", stalled(v1.ReasonPriorityClassNotFound))
	if msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message; !strings.Contains(msg, "gpu-critical") {
		t.Errorf("message %q must name the missing PriorityClass", msg)
	}
}

// TestMissingSecretWaits: the simulated kubelet keeps a pod whose token Secret (or key) is missing in
// CreateContainerConfigError, as a real one does, so the LLMDeployment reports SecretNotFound, then Stalled after
// the grace period; once the Secret exists the pod starts and the model becomes Ready.
func TestMissingSecretWaits(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "delete", "secret", "hf-token"))
	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	l := waitFor(t, ns, "llama-8b-awq", stalled(v1.ReasonSecretNotFound))
	if msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message; !strings.Contains(msg, "Secret hf-token with key token") {
		t.Errorf("message %q must name the Secret and key", msg)
	}
	p := pods(t, ns, "llama-8b-awq")
	if len(p) != 1 || p[0].Status.Phase != corev1.PodPending || len(p[0].Status.ContainerStatuses) != 1 ||
		p[0].Status.ContainerStatuses[0].State.Waiting == nil || p[0].Status.ContainerStatuses[0].State.Waiting.Reason != "CreateContainerConfigError" {
		t.Fatalf("the pod must wait in CreateContainerConfigError: %+v", p)
	}

	// A Secret without the key is no better.
	must(t)(kubectl("-n", ns, "create", "secret", "generic", "hf-token", "--from-literal=other=x"))
	testutil.Eventually(t, timeout, func() error {
		p := pods(t, ns, "llama-8b-awq")
		if len(p) != 1 || len(p[0].Status.ContainerStatuses) != 1 || p[0].Status.ContainerStatuses[0].State.Waiting == nil ||
			!strings.Contains(p[0].Status.ContainerStatuses[0].State.Waiting.Message, "couldn't find key token in Secret") {
			return fmt.Errorf("pod %+v", p)
		}
		return nil
	})
	must(t)(kubectl("-n", ns, "delete", "secret", "hf-token"))
	must(t)(kubectl("-n", ns, "create", "secret", "generic", "hf-token", "--from-literal=token=hf_e2e_placeholder"))
	waitFor(t, ns, "llama-8b-awq", testutil.ReadyWith(1))
}
