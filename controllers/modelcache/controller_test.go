package modelcache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/checkpoint"
	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/test/testutil"
)

const waitFor = 20 * time.Second

const commit = "0123456789abcdef0123456789abcdef01234567"

func cachedLLM(ns, name, uri string) *v1.LLMDeployment {
	return &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.LLMDeploymentSpec{
			Model: v1.ModelSpec{URI: uri, TokenSecretRef: &v1.SecretKeyRef{Name: "hf-token"},
				Cache: &v1.ModelCacheOptions{Enabled: ptr.To(true)}},
			Engine: v1.EngineSpec{Name: v1.DefaultEngine},
			GPU:    v1.GPUSpec{Count: ptr.To(int32(1)), Products: []string{"NVIDIA-L4"}},
		},
	}
}

// cacheOf is the ModelCache the object's status names, once it does.
func cacheOf(t *testing.T, ns, name string) *v1.ModelCache {
	t.Helper()
	var mc *v1.ModelCache
	testutil.Eventually(t, waitFor, func() error {
		llm := &v1.LLMDeployment{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, llm); err != nil {
			return err
		}
		if llm.Status.Cache == nil {
			return errors.New("status.cache is not set")
		}
		mc = &v1.ModelCache{}
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: llm.Status.Cache.Name}, mc)
	})
	return mc
}

// downloadPod plays the Job controller: it creates the Job's pod as the template says.
func downloadPod(t *testing.T, job *batchv1.Job, suffix string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-" + suffix, Namespace: job.Namespace, Labels: job.Spec.Template.Labels},
		Spec: *job.Spec.Template.Spec.DeepCopy()}
	pod.Spec.NodeName = "node-1"
	if err := k8sClient.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// setPod plays the kubelet: the pod's phase and its loader container's state.
func setPod(t *testing.T, pod *corev1.Pod, phase corev1.PodPhase, state corev1.ContainerState) {
	t.Helper()
	now := metav1.Now()
	pod.Status = corev1.PodStatus{Phase: phase, PodIP: "10.1.2.3", StartTime: &now,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "loader", Image: "x", ImageID: "x", State: state}}}
	if err := k8sClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

func terminated(code int32, rep loader.Report) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Completed",
		Message: string(rep.Encode()), StartedAt: metav1.Now(), FinishedAt: metav1.Now()}}
}

// finishJob plays the Job controller's last word.
func finishJob(t *testing.T, job *batchv1.Job, t1 batchv1.JobConditionType, reason string) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() error {
		live := &batchv1.Job{}
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(job), live); err != nil {
			return err
		}
		now := metav1.Now()
		live.Status.StartTime = &now
		conds := []batchv1.JobCondition{{Type: t1, Status: corev1.ConditionTrue, Reason: reason, Message: reason, LastTransitionTime: now, LastProbeTime: now}}
		if t1 == batchv1.JobComplete {
			live.Status.Succeeded, live.Status.CompletionTime = 1, &now
			conds = append([]batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: now, LastProbeTime: now}}, conds...)
		} else {
			live.Status.Failed = 1
			conds = append([]batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: now, LastProbeTime: now}}, conds...)
		}
		live.Status.Conditions = conds
		return k8sClient.Status().Update(context.Background(), live)
	})
}

func condition(conds []metav1.Condition, t string) *metav1.Condition {
	return meta.FindStatusCondition(conds, t)
}

// TestSharedDownloadThenOfflineEngine is the cache's life: two LLMDeployments of one model share one cache, one
// claim and one Job; they wait (no Deployment) with the download's percentage; once the report says complete,
// their engines mount the cache read-only, offline, at the commit; the cache cannot go while in use and goes
// when its users do.
func TestSharedDownloadThenOfflineEngine(t *testing.T) {
	ctx := context.Background()
	ns := testutil.NewNamespace(t, k8sClient)
	uri := "hf://acme/Tiny-Chat-1B"
	for _, name := range []string{"a", "b"} {
		if err := k8sClient.Create(ctx, cachedLLM(ns, name, uri)); err != nil {
			t.Fatal(err)
		}
	}
	mc := cacheOf(t, ns, "a")
	if other := cacheOf(t, ns, "b"); other.Name != mc.Name {
		t.Fatalf("the two LLMDeployments of one model use two caches: %s and %s", mc.Name, other.Name)
	}
	list := &v1.ModelCacheList{}
	if err := k8sClient.List(ctx, list, client.InNamespace(ns)); err != nil || len(list.Items) != 1 {
		t.Fatalf("want 1 ModelCache in the namespace, got %d (%v)", len(list.Items), err)
	}

	job := &batchv1.Job{}
	testutil.Eventually(t, waitFor, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: mc.Name + "-download"}, job); err != nil {
			return err
		}
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: mc.Name}, &corev1.PersistentVolumeClaim{})
	})
	if got := job.Spec.Template.Spec.Containers[0].Env; !slices.ContainsFunc(got, func(e corev1.EnvVar) bool {
		return e.Name == "HF_ENDPOINT" && e.Value == "https://hub.mirror.example"
	}) {
		t.Errorf("the loader's env %v lacks the class's HF_ENDPOINT", got)
	}
	if !slices.ContainsFunc(job.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == "hf-token" }) {
		t.Errorf("the download Job does not mount the token's Secret")
	}
	testutil.Eventually(t, waitFor, func() error {
		live := &v1.ModelCache{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), live); err != nil {
			return err
		}
		if !slices.Equal(live.Status.Users, []string{"a", "b"}) {
			return fmt.Errorf("users %v, want [a b]", live.Status.Users)
		}
		if !slices.Contains(live.Finalizers, cache.Finalizer) {
			return errors.New("no in-use finalizer")
		}
		return nil
	})

	// The download runs: its progress reaches the cache and the LLMDeployments, which start no engine.
	progress.Store(`{"state":"downloading","commit":"` + commit + `","filesDone":3,"filesTotal":7,"bytesDone":420000000,"bytesTotal":1000000000,"bytesPerSecond":100000000}`)
	pod := downloadPod(t, job, "1")
	setPod(t, pod, corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}})
	testutil.Eventually(t, waitFor, func() error {
		llm := &v1.LLMDeployment{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a"}, llm); err != nil {
			return err
		}
		c := condition(llm.Status.Conditions, v1.ConditionReconciling)
		if c == nil || c.Reason != v1.ReasonDownloading || !strings.Contains(c.Message, "42% of 1.0 GB, 3 of 7 files, 100.0 MB/s, 6s left") {
			return fmt.Errorf("Reconciling is %+v, want Downloading with the progress", c)
		}
		if llm.Status.Cache == nil || llm.Status.Cache.Percent != 42 {
			return fmt.Errorf("status.cache %+v, want 42%%", llm.Status.Cache)
		}
		return nil
	})
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a"}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Deployment exists before the cache is Ready (err %v)", err)
	}

	// The loader finishes and reports; the Job completes.
	facts := checkpoint.Facts{Architecture: "AcmeForCausalLM", Layers: 16, HiddenSize: 2048, AttentionHeads: 32, KVHeads: 8,
		HeadDim: 64, ContextLength: 8192, TorchDtype: "bfloat16", Format: "safetensors", WeightBytes: 2_000_000_000, Parameters: 1_000_000_000}
	setPod(t, pod, corev1.PodSucceeded, terminated(0, loader.Report{Repo: "acme/Tiny-Chat-1B", Revision: "main", Commit: commit,
		Files: 7, Bytes: 2_000_100_000, Downloaded: 2_000_100_000, Seconds: 20, Checkpoint: &facts}))
	finishJob(t, job, batchv1.JobComplete, "CompletionsReached")
	testutil.Eventually(t, waitFor, func() error {
		live := &v1.ModelCache{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), live); err != nil {
			return err
		}
		c := condition(live.Status.Conditions, v1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1.ReasonCached || live.Status.Commit != commit {
			return fmt.Errorf("Ready %+v, commit %q", c, live.Status.Commit)
		}
		if live.Status.Checkpoint == nil || live.Status.Checkpoint.Architecture != "AcmeForCausalLM" || live.Status.Checkpoint.Files != 7 {
			return fmt.Errorf("checkpoint %+v", live.Status.Checkpoint)
		}
		return nil
	})
	for _, name := range []string{"a", "b"} {
		dep := &appsv1.Deployment{}
		testutil.Eventually(t, waitFor, func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, dep)
		})
		ctr := dep.Spec.Template.Spec.Containers[0]
		if !slices.Contains(ctr.Args, "--revision="+commit) {
			t.Errorf("%s: engine args %v lack --revision=<commit>", name, ctr.Args)
		}
		for _, e := range ctr.Env {
			if e.Name == "HF_TOKEN" {
				t.Errorf("%s: the engine container gets the token (%+v); only the loader may", name, e)
			}
		}
		if !slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == "HF_HUB_OFFLINE" && e.Value == "1" }) {
			t.Errorf("%s: the engine is not offline: %v", name, ctr.Env)
		}
		if !slices.ContainsFunc(ctr.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.MountPath == "/mnt/model-cache" && m.ReadOnly && m.SubPath == "hub"
		}) {
			t.Errorf("%s: the cache is not mounted read-only: %+v", name, ctr.VolumeMounts)
		}
		testutil.Eventually(t, waitFor, func() error {
			llm := &v1.LLMDeployment{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, llm); err != nil {
				return err
			}
			if llm.Status.Fit == nil || !strings.Contains(llm.Status.Fit.Model, "AcmeForCausalLM") {
				c := condition(llm.Status.Conditions, v1.ConditionModelFits)
				return fmt.Errorf("%s: status.fit %+v is not computed from the checkpoint (ModelFits %+v)", name, llm.Status.Fit, c)
			}
			return nil
		})
	}

	// In use, the cache stays; with its users gone, it goes.
	if err := k8sClient.Delete(ctx, mc); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() error {
		live := &v1.ModelCache{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), live); err != nil {
			return err
		}
		if live.DeletionTimestamp == nil {
			return errors.New("not deleting yet")
		}
		return nil
	})
	for _, name := range []string{"a", "b"} {
		if err := k8sClient.Delete(ctx, &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, waitFor, func() error {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), &v1.ModelCache{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("the unused, deleted cache is still there (%v)", err)
	})
}

// TestGatedRepoStallsBoth is a download that cannot succeed: the loader's typed reason reaches the cache and the
// LLMDeployment, each Stalled with a message that says what to do.
func TestGatedRepoStallsBoth(t *testing.T) {
	ctx := context.Background()
	ns := testutil.NewNamespace(t, k8sClient)
	if err := k8sClient.Create(ctx, cachedLLM(ns, "gated", "hf://acme/Gated-7B")); err != nil {
		t.Fatal(err)
	}
	mc := cacheOf(t, ns, "gated")
	job := &batchv1.Job{}
	testutil.Eventually(t, waitFor, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: mc.Name + "-download"}, job)
	})
	pod := downloadPod(t, job, "1")
	setPod(t, pod, corev1.PodFailed, terminated(1, loader.Report{Repo: "acme/Gated-7B", Reason: "GatedRepo",
		Message: "acme/Gated-7B is gated: accept its license on the Hub with the account of the token"}))
	finishJob(t, job, batchv1.JobFailed, "PodFailurePolicy")
	testutil.Eventually(t, waitFor, func() error {
		llm := &v1.LLMDeployment{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gated"}, llm); err != nil {
			return err
		}
		c := condition(llm.Status.Conditions, v1.ConditionStalled)
		if c == nil || c.Reason != v1.ReasonCacheNotReady || !strings.Contains(c.Message, "GatedRepo: acme/Gated-7B is gated") ||
			!strings.Contains(c.Message, "delete the Job") {
			return fmt.Errorf("Stalled is %+v", c)
		}
		return nil
	})
	live := &v1.ModelCache{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), live); err != nil {
		t.Fatal(err)
	}
	if c := condition(live.Status.Conditions, v1.ConditionStalled); c == nil || c.Reason != "GatedRepo" {
		t.Errorf("the cache's Stalled is %+v, want reason GatedRepo", c)
	}
}

// TestQuantizationMismatch: spec.quantization awq against a checkpoint that is not quantized stalls with a
// message that says which to change, instead of a crash-looping engine.
func TestQuantizationMismatch(t *testing.T) {
	ctx := context.Background()
	ns := testutil.NewNamespace(t, k8sClient)
	llm := cachedLLM(ns, "awq", "hf://acme/Plain-8B")
	llm.Spec.Quantization = v1.QuantizationAWQ
	if err := k8sClient.Create(ctx, llm); err != nil {
		t.Fatal(err)
	}
	mc := cacheOf(t, ns, "awq")
	job := &batchv1.Job{}
	testutil.Eventually(t, waitFor, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: mc.Name + "-download"}, job)
	})
	facts := checkpoint.Facts{Architecture: "LlamaForCausalLM", Layers: 32, KVHeads: 8, HeadDim: 128, AttentionHeads: 32,
		TorchDtype: "bfloat16", Format: "safetensors", WeightBytes: 16e9, Parameters: 8e9}
	pod := downloadPod(t, job, "1")
	setPod(t, pod, corev1.PodSucceeded, terminated(0, loader.Report{Repo: "acme/Plain-8B", Commit: commit, Files: 4, Bytes: 16e9, Checkpoint: &facts}))
	finishJob(t, job, batchv1.JobComplete, "CompletionsReached")
	testutil.Eventually(t, waitFor, func() error {
		got := &v1.LLMDeployment{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(llm), got); err != nil {
			return err
		}
		c := condition(got.Status.Conditions, v1.ConditionStalled)
		if c == nil || c.Reason != v1.ReasonQuantizationMismatch || !strings.Contains(c.Message, "is not quantized") {
			return fmt.Errorf("Stalled is %+v", c)
		}
		return nil
	})
}
