package llmdeployment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apply"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/testutil"
)

const waitFor = 20 * time.Second

func sampleLLM(ns, name string) *v1.LLMDeployment {
	return &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.LLMDeploymentSpec{
			Model: v1.ModelSpec{
				URI:            "hf://meta-llama/Llama-3.3-70B-Instruct",
				TokenSecretRef: &v1.SecretKeyRef{Name: "hf-token"},
			},
			Engine:             v1.EngineSpec{Name: v1.DefaultEngine},
			Quantization:       v1.QuantizationFP8,
			MaxModelLen:        ptr.To(int32(16384)),
			GPU:                v1.GPUSpec{Count: ptr.To(int32(4)), Products: []string{"NVIDIA-H100-80GB-HBM3"}},
			TensorParallelSize: ptr.To(int32(4)),
		},
	}
}

func get[T client.Object](t *testing.T, obj T, ns, name string) T {
	t.Helper()
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// waitForCondition polls the LLMDeployment until check accepts it, and returns it.
func waitForLLM(t *testing.T, ns, name string, check func(*v1.LLMDeployment) error) *v1.LLMDeployment {
	t.Helper()
	llm := &v1.LLMDeployment{}
	testutil.Eventually(t, waitFor, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, llm); err != nil {
			return err
		}
		return check(llm)
	})
	return llm
}

func readyIs(status metav1.ConditionStatus, reason string) func(*v1.LLMDeployment) error {
	return func(l *v1.LLMDeployment) error {
		c := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady)
		if l.Status.ObservedGeneration != l.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", l.Status.ObservedGeneration, l.Generation)
		}
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("Ready = %+v, want %s/%s", c, status, reason)
		}
		return nil
	}
}

func TestFreshObjectIsInProgress(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "fresh")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	// The create response is the stored object before any reconcile: the CRD default makes it "not observed".
	if llm.Status.ObservedGeneration != -1 {
		t.Fatalf("status.observedGeneration of a fresh object = %d, want -1 (CRD default)", llm.Status.ObservedGeneration)
	}
	if got := testutil.KStatus(t, llm); got != kstatus.InProgressStatus {
		t.Fatalf("kstatus of a fresh object = %s, want InProgress", got)
	}
	// Replica counters exist from the start, so kubectl's READY column shows 0 rather than nothing.
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1.GroupVersion.WithKind("LLMDeployment"))
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(llm), u); err != nil {
		t.Fatal(err)
	}
	if n, found, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas"); !found || n != 0 {
		t.Errorf("status.readyReplicas = %d (present %v), want a defaulted 0", n, found)
	}
	// Defaults of the schema are applied.
	if llm.Spec.Dtype != v1.DtypeAuto || *llm.Spec.Replicas != 1 || llm.Spec.GPU.ResourceName != v1.GPUResourceNVIDIA ||
		llm.Spec.StartupTimeout.Duration != 30*time.Minute || llm.Spec.Model.TokenSecretRef.Key != "token" {
		t.Errorf("CRD defaults not applied: %+v", llm.Spec)
	}
}

func TestCreateRendersOwnedChildren(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "llama")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	got := waitForLLM(t, ns, "llama", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))
	if c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling must be True while rolling out: %+v", got.Status.Conditions)
	}
	if s := testutil.KStatus(t, got); s != kstatus.InProgressStatus {
		t.Errorf("kstatus = %s, want InProgress", s)
	}
	if fits := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionModelFits); fits == nil || fits.Status != metav1.ConditionTrue || got.Status.Fit == nil || got.Status.Fit.Model != "Llama 3.x 70B" {
		t.Errorf("70B fp8 on 4 × H100 must be reported as fitting: %+v, fit %+v", fits, got.Status.Fit)
	}
	if got.Status.Endpoint != "http://llama."+ns+".svc:8000/v1" || got.Status.Selector != render.LabelLLMDeployment+"=llama" {
		t.Errorf("status endpoint/selector: %q %q", got.Status.Endpoint, got.Status.Selector)
	}

	var d appsv1.Deployment
	testutil.Eventually(t, waitFor, func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "llama"}, &d)
	})
	var svc corev1.Service
	testutil.Eventually(t, waitFor, func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "llama"}, &svc)
	})
	for _, obj := range []client.Object{&d, &svc} {
		refs := obj.GetOwnerReferences()
		if len(refs) != 1 || refs[0].UID != got.UID || !ptr.Deref(refs[0].Controller, false) || !ptr.Deref(refs[0].BlockOwnerDeletion, false) {
			t.Errorf("%T owner references = %+v, want the LLMDeployment as controller", obj, refs)
		}
		if !slices.ContainsFunc(obj.GetManagedFields(), func(f metav1.ManagedFieldsEntry) bool {
			return f.Manager == apply.FieldManager && f.Operation == metav1.ManagedFieldsOperationApply
		}) {
			t.Errorf("%T is not server-side applied by %s", obj, apply.FieldManager)
		}
	}
	c := d.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"serve", "meta-llama/Llama-3.3-70B-Instruct", "--tensor-parallel-size=4", "--quantization=fp8", "--max-model-len=16384"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %q lack %q", c.Args, want)
		}
	}
	if q := c.Resources.Limits["nvidia.com/gpu"]; q.Value() != 4 {
		t.Errorf("GPU limit %s, want 4", q.String())
	}
	if svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].Port != 8000 {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}
}

func TestSpecChangeUpdatesDeployment(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "change")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "change", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))

	patch := client.MergeFrom(llm.DeepCopy())
	llm.Spec.MaxModelLen = ptr.To(int32(32768))
	llm.Spec.Replicas = ptr.To(int32(2))
	if err := k8sClient.Patch(context.Background(), llm, patch); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "change"}, d); err != nil {
			return err
		}
		if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--max-model-len=32768") || *d.Spec.Replicas != 2 {
			return fmt.Errorf("deployment not updated: replicas %d args %q", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Args)
		}
		return nil
	})
	waitForLLM(t, ns, "change", func(l *v1.LLMDeployment) error {
		if l.Generation != 2 || l.Status.ObservedGeneration != 2 {
			return fmt.Errorf("generation %d observed %d", l.Generation, l.Status.ObservedGeneration)
		}
		return nil
	})
}

// setDeploymentStatus plays the Deployment controller: it reports the rollout counters of the current generation.
func setDeploymentStatus(t *testing.T, ns, name string, replicas, ready, updated int32, conds ...appsv1.DeploymentCondition) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return err
		}
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: replicas, ReadyReplicas: ready, UpdatedReplicas: updated,
			AvailableReplicas: ready, Conditions: conds,
		}
		return k8sClient.Status().Update(context.Background(), d)
	})
}

// createPod plays the ReplicaSet controller and the kubelet: a pod of the LLMDeployment in the given state.
func createPod(t *testing.T, ns, owner, name string, status corev1.PodStatus) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
			render.LabelLLMDeployment: owner, render.LabelManagedBy: render.ManagedByValue,
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "vllm", Image: "vllm/vllm-openai:v0.18.0"}}},
	}
	if err := k8sClient.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = status
	if err := k8sClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

func deletePods(t *testing.T, ns string) {
	t.Helper()
	if err := k8sClient.DeleteAllOf(context.Background(), &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() error {
		l := &corev1.PodList{}
		if err := k8sClient.List(context.Background(), l, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(l.Items) > 0 {
			return fmt.Errorf("%d pods left", len(l.Items))
		}
		return nil
	})
}

func waiting(reason, msg string) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "vllm", Image: "vllm/vllm-openai:v0.18.0", RestartCount: 3,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}},
	}}}
}

// TestStatusFollowsTheCluster walks one LLMDeployment through the states of DESIGN.md's status table, with the
// test writing what the Deployment controller, scheduler and kubelet would, and checks conditions and kstatus.
func TestStatusFollowsTheCluster(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "states")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))

	t.Run("model loading", func(t *testing.T) {
		setDeploymentStatus(t, ns, "states", 1, 0, 1)
		createPod(t, ns, "states", "states-loading", corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionFalse},
		}})
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonModelLoading))
		if s := testutil.KStatus(t, got); s != kstatus.InProgressStatus {
			t.Errorf("kstatus = %s, want InProgress", s)
		}
		deletePods(t, ns)
	})

	t.Run("serving", func(t *testing.T) {
		setDeploymentStatus(t, ns, "states", 1, 1, 1)
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionTrue, v1.ReasonAvailable))
		if s := testutil.KStatus(t, got); s != kstatus.CurrentStatus {
			t.Errorf("kstatus = %s, want Current; conditions %+v", s, got.Status.Conditions)
		}
		if got.Status.ReadyReplicas != 1 || got.Status.Replicas != 1 || got.Status.UpdatedReplicas != 1 {
			t.Errorf("replica status %+v", got.Status)
		}
		if meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReconciling) != nil || meta.FindStatusCondition(got.Status.Conditions, v1.ConditionStalled) != nil {
			t.Errorf("a serving object has no Reconciling/Stalled: %+v", got.Status.Conditions)
		}
	})

	t.Run("crash loop", func(t *testing.T) {
		setDeploymentStatus(t, ns, "states", 1, 0, 1)
		createPod(t, ns, "states", "states-crash", waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container"))
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonCrashLoopBackOff))
		stalled := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionStalled)
		if stalled == nil || stalled.Status != metav1.ConditionTrue || !strings.Contains(stalled.Message, "OOMKilled") {
			t.Errorf("Stalled = %+v, want True naming the OOMKilled exit", stalled)
		}
		if s := testutil.KStatus(t, got); s != kstatus.FailedStatus {
			t.Errorf("kstatus = %s, want Failed", s)
		}
		deletePods(t, ns)
	})

	t.Run("image pull", func(t *testing.T) {
		createPod(t, ns, "states", "states-pull", waiting("ImagePullBackOff", "Back-off pulling image"))
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonImagePullBackOff))
		if s := testutil.KStatus(t, got); s != kstatus.FailedStatus {
			t.Errorf("kstatus = %s, want Failed", s)
		}
		deletePods(t, ns)
	})

	t.Run("missing token secret, after the grace period", func(t *testing.T) {
		createPod(t, ns, "states", "states-secret", waiting("CreateContainerConfigError", `secret "hf-token" not found`))
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonSecretNotFound))
		if testutil.KStatus(t, got) == kstatus.FailedStatus && time.Since(got.CreationTimestamp.Time) < testConfig.StallGracePeriod.Duration {
			t.Errorf("stalled before the grace period")
		}
		got = waitForLLM(t, ns, "states", func(l *v1.LLMDeployment) error {
			if s := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled); s == nil || s.Reason != v1.ReasonSecretNotFound {
				return fmt.Errorf("not stalled yet: %+v", l.Status.Conditions)
			}
			return nil
		})
		msg := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionStalled).Message
		if !strings.Contains(msg, "Secret hf-token with key token") {
			t.Errorf("message %q must name the Secret and key to create", msg)
		}
		deletePods(t, ns)
	})

	t.Run("unschedulable: no node offers the product", func(t *testing.T) {
		createPod(t, ns, "states", "states-pending", corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			LastTransitionTime: metav1.Now(),
			Message:            "0/8 nodes are available: 8 node(s) didn't match Pod's node affinity/selector. preemption: 0/8 nodes are available: 8 Preemption is not helpful for scheduling.",
		}}})
		first := waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonUnschedulable))
		if meta.IsStatusConditionTrue(first.Status.Conditions, v1.ConditionStalled) {
			t.Errorf("unschedulable must stay in progress during the grace period (an autoscaler may add nodes)")
		}
		got := waitForLLM(t, ns, "states", func(l *v1.LLMDeployment) error {
			if !meta.IsStatusConditionTrue(l.Status.Conditions, v1.ConditionStalled) {
				return fmt.Errorf("not stalled yet: %+v", l.Status.Conditions)
			}
			return nil
		})
		msg := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady).Message
		if !strings.Contains(msg, "needs 4 × NVIDIA-H100-80GB-HBM3 per replica; no node offers that product") {
			t.Errorf("message %q must say what is needed and that no node offers it", msg)
		}
		if s := testutil.KStatus(t, got); s != kstatus.FailedStatus {
			t.Errorf("kstatus = %s, want Failed", s)
		}
		deletePods(t, ns)
	})

	t.Run("progress deadline exceeded", func(t *testing.T) {
		setDeploymentStatus(t, ns, "states", 1, 0, 1, appsv1.DeploymentCondition{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
		})
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionFalse, v1.ReasonProgressDeadlineExceeded))
		if s := testutil.KStatus(t, got); s != kstatus.FailedStatus {
			t.Errorf("kstatus = %s, want Failed", s)
		}
	})

	t.Run("recovers", func(t *testing.T) {
		setDeploymentStatus(t, ns, "states", 1, 1, 1)
		got := waitForLLM(t, ns, "states", readyIs(metav1.ConditionTrue, v1.ReasonAvailable))
		if s := testutil.KStatus(t, got); s != kstatus.CurrentStatus {
			t.Errorf("kstatus = %s, want Current", s)
		}
	})
}

// TestIdleReconcileWritesNothing runs the reconciler by hand on a settled object: the second pass — and the first
// pass of a fresh reconciler, as after a restart — leaves every resourceVersion untouched; a warm pass sends no
// write request at all.
func TestIdleReconcileWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "idle")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "idle", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))
	setDeploymentStatus(t, ns, "idle", 1, 1, 1)
	waitForLLM(t, ns, "idle", readyIs(metav1.ConditionTrue, v1.ReasonAvailable))

	versions := func() [3]string {
		return [3]string{
			get(t, &v1.LLMDeployment{}, ns, "idle").ResourceVersion,
			get(t, &appsv1.Deployment{}, ns, "idle").ResourceVersion,
			get(t, &corev1.Service{}, ns, "idle").ResourceVersion,
		}
	}
	before := versions()

	var writes atomic.Int32
	counting := interceptor.NewClient(noWatch{reconciler.Client}, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			writes.Add(1)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			writes.Add(1)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			writes.Add(1)
			return c.Patch(ctx, obj, p, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			writes.Add(1)
			return c.Apply(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			writes.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	})
	fresh := &Reconciler{Client: counting, Scheme: testScheme, Config: testConfig, applier: apply.New(counting)}
	req := ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "idle"}}
	for pass := 1; pass <= 3; pass++ {
		writes.Store(0)
		if _, err := fresh.Reconcile(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if after := versions(); after != before {
			t.Fatalf("pass %d changed resourceVersions %v -> %v", pass, before, after)
		}
		if pass > 1 && writes.Load() != 0 {
			t.Errorf("pass %d of an unchanged object sent %d write requests, want 0", pass, writes.Load())
		}
	}
}

// TestInvalidChildrenAreStalled: a spec the schema admits (no webhook here) but whose rendered Deployment the API
// server refuses ends Stalled with the API server's reason at once, and is not retried: a pass returns no error and
// no requeue, so the rate limiter does not spin on it.
func TestInvalidChildrenAreStalled(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "bad-toleration")
	llm.Spec.Tolerations = []corev1.Toleration{{Key: "pool", Operator: corev1.TolerationOpExists, Value: "gpu"}}
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	got := waitForLLM(t, ns, "bad-toleration", func(l *v1.LLMDeployment) error {
		s := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled)
		if s == nil || s.Status != metav1.ConditionTrue || s.Reason != v1.ReasonApplyFailed {
			return fmt.Errorf("not Stalled/ApplyFailed: %+v", l.Status.Conditions)
		}
		return nil
	})
	msg := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionStalled).Message
	if !strings.Contains(msg, "spec.template.spec.tolerations[1].operator") || !strings.Contains(msg, "change the spec fields it names") {
		t.Errorf("message %q must carry the API server's reason and what to do", msg)
	}
	fresh := &Reconciler{Client: reconciler.Client, Scheme: testScheme, Config: testConfig, applier: apply.New(reconciler.Client)}
	res, err := fresh.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "bad-toleration"}})
	if err != nil || res.RequeueAfter != 0 {
		t.Errorf("a pass over an invalid spec = %+v, %v; want no requeue and no error", res, err)
	}
}

func TestScaleSubresource(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "scaled")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "scaled", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))
	scale := &autoscalingv1.Scale{}
	if err := k8sClient.SubResource("scale").Get(context.Background(), llm, scale); err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 3
	if err := k8sClient.SubResource("scale").Update(context.Background(), llm, client.WithSubResourceBody(scale)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() error {
		d := get(t, &appsv1.Deployment{}, ns, "scaled")
		if *d.Spec.Replicas != 3 {
			return fmt.Errorf("deployment replicas %d, want 3", *d.Spec.Replicas)
		}
		return nil
	})
	if got := get(t, &v1.LLMDeployment{}, ns, "scaled"); got.Status.Selector == "" {
		t.Error("status.selector must be set for the /scale subresource")
	}
}

// noWatch lets the manager's cached client be wrapped by the interceptor, which wants a client.WithWatch.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("watch is not used by the reconciler")
}

// TestNetworkPolicyAdmitsOnlyThePeers: with gateway.networkPolicy in the operator config, each LLMDeployment gets a
// NetworkPolicy, owned by it, that admits only the configured pods, on the engine's port alone.
func TestNetworkPolicyAdmitsOnlyThePeers(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	llm := sampleLLM(ns, "fenced")
	if err := k8sClient.Create(ctx, llm); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig
	cfg.Gateway.NetworkPolicy = &config.NetworkPolicyConfig{AllowFrom: []config.PodPeer{
		{Namespace: "privatellm-system", Labels: map[string]string{"app.kubernetes.io/name": "privatellm-gateway"}},
		{Namespace: "privatellm-system", Labels: map[string]string{"app.kubernetes.io/name": "privatellm"}},
	}}
	fenced := &Reconciler{Client: reconciler.Client, Scheme: testScheme, Config: cfg, applier: apply.New(reconciler.Client), APIReader: k8sClient}
	// The reconciler reads through the manager's cache, which sees the new object a moment after the API server
	// does: reconcile until the policy exists.
	np := &networkingv1.NetworkPolicy{}
	testutil.Eventually(t, waitFor, func() error {
		if _, err := fenced.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "fenced"}}); err != nil {
			return err
		}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fenced"}, np); err != nil {
			return fmt.Errorf("no NetworkPolicy: %w", err)
		}
		return nil
	})
	l := get(t, &v1.LLMDeployment{}, ns, "fenced")
	if ref := metav1.GetControllerOf(np); ref == nil || ref.UID != l.UID {
		t.Errorf("NetworkPolicy not owned by the LLMDeployment: %+v", np.OwnerReferences)
	}
	if np.Spec.PodSelector.MatchLabels[render.LabelLLMDeployment] != "fenced" || len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("policy selects %v, types %v", np.Spec.PodSelector.MatchLabels, np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 2 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.IntValue() != 8000 {
		t.Fatalf("ingress %+v, want the two peers on the engine's port 8000", np.Spec.Ingress)
	}
	for _, from := range np.Spec.Ingress[0].From {
		if from.NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "privatellm-system" || from.PodSelector == nil || len(from.PodSelector.MatchLabels) != 1 {
			t.Errorf("peer %+v must name the namespace and the pods", from)
		}
	}
}

// TestInferencePoolIsPublished: with inferencePool in the operator config and the CRD installed, each
// LLMDeployment gets an InferencePool, owned by it and accepted by the CRD's schema, that selects its engine pods on
// the engine's port and names the model's own endpoint picker.
func TestInferencePoolIsPublished(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	if err := k8sClient.Create(ctx, sampleLLM(ns, "pooled")); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig
	cfg.InferencePool = &config.InferencePoolConfig{EndpointPicker: &config.EndpointPickerConfig{ServiceSuffix: "-epp", Port: 9002, FailureMode: "FailClose"}}
	var applies atomic.Int32
	counting := interceptor.NewClient(noWatch{reconciler.Client}, interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			applies.Add(1)
			return c.Apply(ctx, obj, opts...)
		},
	})
	pooled := &Reconciler{Client: counting, Scheme: testScheme, Config: cfg, applier: apply.New(counting), APIReader: k8sClient, inferencePools: true}
	pool := &unstructured.Unstructured{}
	pool.SetGroupVersionKind(render.InferencePoolGVK)
	testutil.Eventually(t, waitFor, func() error {
		if _, err := pooled.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "pooled"}}); err != nil {
			return err
		}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "pooled"}, pool); err != nil {
			return fmt.Errorf("no InferencePool: %w", err)
		}
		return nil
	})
	l := get(t, &v1.LLMDeployment{}, ns, "pooled")
	if ref := metav1.GetControllerOf(pool); ref == nil || ref.UID != l.UID {
		t.Errorf("InferencePool not owned by the LLMDeployment: %+v", pool.GetOwnerReferences())
	}
	svc := get(t, &corev1.Service{}, ns, "pooled")
	sel, _, _ := unstructured.NestedStringMap(pool.Object, "spec", "selector", "matchLabels")
	if !equality.Semantic.DeepEqual(sel, svc.Spec.Selector) {
		t.Errorf("pool selects %v, the Service %v", sel, svc.Spec.Selector)
	}
	ports, _, _ := unstructured.NestedSlice(pool.Object, "spec", "targetPorts")
	if len(ports) != 1 || ports[0].(map[string]any)["number"] != int64(8000) {
		t.Errorf("targetPorts %v, want the engine's port 8000", ports)
	}
	// The API server defaulted the reference's kind: what it holds is a valid v1 pool.
	kind, _, _ := unstructured.NestedString(pool.Object, "spec", "endpointPickerRef", "kind")
	name, _, _ := unstructured.NestedString(pool.Object, "spec", "endpointPickerRef", "name")
	if kind != "Service" || name != "pooled-epp" {
		t.Errorf("endpointPickerRef names %s %q, want Service pooled-epp", kind, name)
	}
	if got := get(t, &v1.LLMDeployment{}, ns, "pooled"); meta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionStalled) {
		t.Errorf("publishing the pool stalled the model: %+v", got.Status.Conditions)
	}
	// Once the cache holds what was applied, a pass over the unchanged object applies nothing, the pool included.
	testutil.Eventually(t, waitFor, func() error {
		applies.Store(0)
		if _, err := pooled.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "pooled"}}); err != nil {
			return err
		}
		if n := applies.Load(); n != 0 {
			return fmt.Errorf("a pass over an unchanged object sent %d applies", n)
		}
		return nil
	})
}
