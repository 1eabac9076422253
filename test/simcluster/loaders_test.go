package simcluster_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/test/hubsim"
	"github.com/privatellm/privatellm/test/simcluster"
)

const (
	tokenMount = "/var/run/secrets/privatellm/hub"
	hubToken   = "hf_reader_0123456789abcdefghijklmnopqrstuv"
)

// TestModelCache plays the model cache's contract (docs/model-cache.md, "How the pieces meet") on a cluster with
// Options.Loader and Options.EngineSim: a claim of the default StorageClass gets a folder; a download Job as the
// operator renders it runs the real loader against the Hub simulator, with the token from a mounted Secret, and
// completes with the report as its pod's termination message; a repo the Hub does not have fails the Job at once
// through its podFailurePolicy on the loader's exit status, and a failure a retry may help (exit 3) is retried; a
// pod whose token Secret is missing waits in ContainerCreating until it appears; engine pods load the cached commit
// offline from the claim's hub/ (or refuse what is not cached); deleting a Job whose loader runs stops the loader;
// a deleted claim's volume and folder go.
func TestModelCache(t *testing.T) {
	binDir := simcluster.BinariesForTest(t)
	ctx := t.Context()
	bins := t.TempDir()
	loaderBin, err := simcluster.BuildLoader(ctx, bins)
	if err != nil {
		t.Fatal(err)
	}
	engineSim, err := simcluster.BuildEngineSim(ctx, bins)
	if err != nil {
		t.Fatal(err)
	}
	// The flags the contract names that this cmd/loader may not have yet: a flag it does not know exits 2.
	help, _ := exec.CommandContext(ctx, loaderBin, "-h").CombinedOutput()
	hasFlag := func(name string) bool {
		return strings.Contains(string(help), "-"+name+" ") || strings.Contains(string(help), "-"+name+"\n")
	}
	withProgress := hasFlag("progress-addr")
	if !withProgress {
		t.Logf("cmd/loader has no --progress-addr yet: the Jobs leave it out")
	}

	h := hubsim.NewTest(t, hubsim.Tokens(hubToken))
	tiny := h.AddRepo("acme/tiny", hubsim.RepoOptions{
		Files: hubsim.ModelFiles(hubsim.Config{Layers: 2, HiddenSize: 256}, 300_000), Private: true, Tokens: []string{hubToken},
	})
	h.AddRepo("acme/slow", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{Layers: 2}, 200_000, 200_000)})
	h.StallBody("model-00001-of-00002.safetensors", 10_000, 1) // only acme/slow has such a file

	// No ready delay: kwok would make a pod Ready, and a Job's pod Succeeded, at once; only the loader's exit may
	// end a download Job's pod.
	c := simcluster.StartForTest(t, simcluster.Options{BinDir: binDir, Loader: loaderBin, EngineSim: engineSim,
		PodReadyDelay: -1, Nodes: []simcluster.NodePool{{Name: "cpu", CPU: "32", Memory: "128Gi"}}})
	cl := c.Client()

	// The cache's claim: no class named, so the DefaultStorageClass admission gives it simcluster-hostpath.
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "tiny", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if err := cl.Create(ctx, claim); err != nil {
		t.Fatal(err)
	}
	var folder string
	eventually(t, time.Minute, "the claim bound to a folder", func() error {
		var err error
		folder, err = c.VolumePath("default", "tiny")
		return err
	})
	if fi, err := os.Stat(folder); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Fatalf("the claim's folder %s: %v %v, want a folder anyone may write", folder, fi, err)
	}
	if err := cl.Get(ctx, client.ObjectKeyFromObject(claim), claim); err != nil {
		t.Fatal(err)
	}
	var pv corev1.PersistentVolume
	if err := cl.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, &pv); err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(claim.Spec.StorageClassName, "") != simcluster.StorageClassName || !slices.Equal(pv.Spec.AccessModes, claim.Spec.AccessModes) ||
		pv.Spec.Capacity.Storage().Cmp(resource.MustParse("1Gi")) != 0 || pv.Annotations["pv.kubernetes.io/provisioned-by"] != simcluster.Provisioner {
		t.Fatalf("claim class %v; volume %+v", claim.Spec.StorageClassName, pv)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hf", Namespace: "default"},
		Data: map[string][]byte{"token": []byte(hubToken + "\n")}}
	if err := cl.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	downloadJob := func(name, repo, secretName string) *batchv1.Job {
		args := []string{"--repo=" + repo, "--revision=main", "--cache-dir=/cache/hub", "--token-file=" + tokenMount + "/token"}
		if withProgress {
			args = append(args, "--progress-addr=:8081")
		}
		if hasFlag("writable-dir") {
			args = append(args, "--writable-dir=/cache/compile")
		}
		labels := map[string]string{simcluster.LabelModelCache: "tiny", "app.kubernetes.io/component": "model-loader"}
		return &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
			Spec: batchv1.JobSpec{
				BackoffLimit: ptr.To(int32(3)),
				PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
					Action: batchv1.PodFailurePolicyActionFailJob,
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("loader"),
						Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{1, 2}},
				}}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{
							Name: "loader", Image: "ghcr.io/privatellm/operator:sim", Command: []string{"/loader"}, Args: args,
							Env: []corev1.EnvVar{{Name: "HF_ENDPOINT", Value: h.URL()}, {Name: "HF_HUB_DISABLE_TELEMETRY", Value: "1"}},
							VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"},
								{Name: "hub-token", MountPath: tokenMount, ReadOnly: true}},
							TerminationMessagePolicy: corev1.TerminationMessageReadFile,
						}},
						Volumes: []corev1.Volume{
							{Name: "cache", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "tiny"}}},
							{Name: "hub-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secretName,
								Items: []corev1.KeyToPath{{Key: "token", Path: "token"}}, DefaultMode: ptr.To(int32(0o400))}}},
						},
					},
				},
			},
		}
	}
	jobPods := func(job string) ([]corev1.Pod, error) {
		var pods corev1.PodList
		err := cl.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"batch.kubernetes.io/job-name": job})
		return pods.Items, err
	}
	// finished waits for a Job to end with the condition want (Complete or Failed) and returns it and its pods.
	finished := func(name string, want batchv1.JobConditionType) (*batchv1.Job, []corev1.Pod) {
		t.Helper()
		var job batchv1.Job
		eventually(t, 2*time.Minute, "Job "+name+" "+string(want), func() error {
			if err := cl.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, &job); err != nil {
				return err
			}
			for _, cond := range job.Status.Conditions {
				if cond.Status != corev1.ConditionTrue {
					continue
				}
				if cond.Type == want {
					return nil
				}
				if cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed {
					t.Fatalf("Job %s ended %s (%s: %s), want %s", name, cond.Type, cond.Reason, cond.Message, want)
				}
			}
			return fmt.Errorf("conditions %+v, %d active, %d failed", job.Status.Conditions, job.Status.Active, job.Status.Failed)
		})
		pods, err := jobPods(name)
		if err != nil {
			t.Fatal(err)
		}
		return &job, pods
	}
	// report is the loader's report from a pod's termination message.
	report := func(p *corev1.Pod) (loader.Report, *corev1.ContainerStateTerminated) {
		t.Helper()
		if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Terminated == nil {
			t.Fatalf("pod %s: container statuses %+v, want one terminated", p.Name, p.Status.ContainerStatuses)
		}
		term := p.Status.ContainerStatuses[0].State.Terminated
		r, err := loader.Decode([]byte(term.Message))
		if err != nil {
			t.Fatalf("pod %s: termination message %q: %v", p.Name, term.Message, err)
		}
		return r, term
	}

	t.Run("a download Job completes and its pod reports the commit", func(t *testing.T) {
		if err := cl.Create(ctx, downloadJob("tiny-download", "acme/tiny", "hf")); err != nil {
			t.Fatal(err)
		}
		_, pods := finished("tiny-download", batchv1.JobComplete)
		if len(pods) != 1 || pods[0].Status.Phase != corev1.PodSucceeded {
			t.Fatalf("%d pods, want one Succeeded: %+v", len(pods), pods)
		}
		r, term := report(&pods[0])
		if term.ExitCode != 0 || term.Reason != "Completed" || term.FinishedAt.Before(&term.StartedAt) || r.Commit != tiny.Commit ||
			r.Files == 0 || r.Reason != "" {
			t.Fatalf("terminated %+v, report %+v; want exit 0 with commit %s", term, r, tiny.Commit)
		}
		if cond := podCondition(&pods[0], corev1.PodReady); cond == nil || cond.Status != corev1.ConditionFalse || cond.Reason != "PodCompleted" {
			t.Errorf("Ready condition of the completed pod: %+v", cond)
		}
		repoDir := filepath.Join(folder, "hub", "models--acme--tiny")
		if ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main")); err != nil || string(ref) != tiny.Commit {
			t.Errorf("refs/main = %q, %v; want %s", ref, err, tiny.Commit)
		}
		config, err := os.ReadFile(filepath.Join(repoDir, "snapshots", tiny.Commit, "config.json"))
		if err != nil || string(config) != string(tiny.File("config.json").Content) {
			t.Errorf("the snapshot's config.json: %v", err)
		}
	})

	t.Run("a repo the Hub does not have fails the Job at once", func(t *testing.T) {
		if err := cl.Create(ctx, downloadJob("missing-download", "acme/missing", "hf")); err != nil {
			t.Fatal(err)
		}
		job, pods := finished("missing-download", batchv1.JobFailed)
		var reason string
		for _, cond := range job.Status.Conditions {
			if cond.Type == batchv1.JobFailed {
				reason = cond.Reason
			}
		}
		if reason != batchv1.JobReasonPodFailurePolicy || job.Status.Failed != 1 || len(pods) != 1 {
			t.Fatalf("Job failed with reason %q after %d failed pods (%d pods), want %s after one (no retry)",
				reason, job.Status.Failed, len(pods), batchv1.JobReasonPodFailurePolicy)
		}
		r, term := report(&pods[0])
		if pods[0].Status.Phase != corev1.PodFailed || term.ExitCode != 1 || term.Reason != "Error" || r.Reason != "RepoNotFound" {
			t.Fatalf("pod %s, terminated %+v, report %+v; want Failed, exit 1, RepoNotFound", pods[0].Status.Phase, term, r)
		}
	})

	t.Run("a failure a retry may help is retried by the Job", func(t *testing.T) {
		// Rate limited for an hour, once: the loader gives up at once with exit 3 and the second pod succeeds.
		h.AddRepo("acme/flaky", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{Layers: 2}, 50_000)})
		h.Fail("/api/models/acme/flaky", 1, http.StatusTooManyRequests, hubsim.RetryAfter(time.Hour))
		if err := cl.Create(ctx, downloadJob("flaky-download", "acme/flaky", "hf")); err != nil {
			t.Fatal(err)
		}
		job, pods := finished("flaky-download", batchv1.JobComplete)
		if job.Status.Failed != 1 || len(pods) != 2 {
			t.Fatalf("%d failed pods of %d, want the first failed and the second complete", job.Status.Failed, len(pods))
		}
		for _, p := range pods {
			if p.Status.Phase != corev1.PodFailed {
				continue
			}
			if r, term := report(&p); term.ExitCode != 3 || !r.Transient || r.Reason != "RateLimited" {
				t.Errorf("the failed pod: exit %d, report %+v; want exit 3, transient, RateLimited", term.ExitCode, r)
			}
		}
	})

	t.Run("a missing token Secret keeps the pod ContainerCreating until it exists", func(t *testing.T) {
		if err := cl.Create(ctx, downloadJob("later-download", "acme/tiny", "hf-later")); err != nil {
			t.Fatal(err)
		}
		var pod corev1.Pod
		eventually(t, time.Minute, "the pod waiting in ContainerCreating with a FailedMount event", func() error {
			pods, err := jobPods("later-download")
			if err != nil || len(pods) != 1 {
				return fmt.Errorf("%d pods (%v)", len(pods), err)
			}
			pod = pods[0]
			if pod.Status.Phase != corev1.PodPending || len(pod.Status.ContainerStatuses) != 1 ||
				pod.Status.ContainerStatuses[0].State.Waiting == nil || pod.Status.ContainerStatuses[0].State.Waiting.Reason != "ContainerCreating" {
				return fmt.Errorf("phase %s, container statuses %+v", pod.Status.Phase, pod.Status.ContainerStatuses)
			}
			var events corev1.EventList
			if err := cl.List(ctx, &events, client.InNamespace("default")); err != nil {
				return err
			}
			want := `MountVolume.SetUp failed for volume "hub-token" : secret "hf-later" not found`
			for _, e := range events.Items {
				if e.InvolvedObject.UID == pod.UID && e.Reason == "FailedMount" && e.Type == corev1.EventTypeWarning && e.Message == want {
					return nil
				}
			}
			return fmt.Errorf("no FailedMount event %q", want)
		})
		later := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hf-later", Namespace: "default"}, Data: secret.Data}
		if err := cl.Create(ctx, later); err != nil {
			t.Fatal(err)
		}
		_, pods := finished("later-download", batchv1.JobComplete)
		if r, _ := report(&pods[0]); r.Commit != tiny.Commit || r.Downloaded != 0 {
			t.Errorf("report %+v: want commit %s with nothing downloaded again", r, tiny.Commit)
		}
	})

	t.Run("engine pods load the cached commit offline", func(t *testing.T) {
		engine := func(name, repo string) *appsv1.Deployment {
			d := deployment(name, 1, nil)
			d.Spec.Template.Labels[simcluster.LabelLLMDeployment] = name
			pod := &d.Spec.Template.Spec
			pod.Volumes = []corev1.Volume{{Name: "model-cache", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "tiny"}}}}
			ctr := &pod.Containers[0]
			ctr.Name, ctr.Command = "vllm", []string{"vllm", "serve"}
			ctr.Args = []string{repo, "--revision=" + tiny.Commit, "--host=0.0.0.0", "--port=8000", "--served-model-name=" + name}
			ctr.Env = []corev1.EnvVar{{Name: "HF_HUB_CACHE", Value: "/mnt/model-cache"}, {Name: "HF_HUB_OFFLINE", Value: "1"}}
			ctr.VolumeMounts = []corev1.VolumeMount{{Name: "model-cache", MountPath: "/mnt/model-cache", SubPath: "hub", ReadOnly: true}}
			return d
		}
		for _, d := range []*appsv1.Deployment{engine("cached", "acme/tiny"), engine("uncached", "acme/absent")} {
			if err := cl.Create(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		hc := &http.Client{Timeout: 5 * time.Second}
		eventually(t, time.Minute, "the cached model served", func() error {
			pods, err := podsOf(ctx, cl, "cached")
			if err != nil || len(pods) != 1 || pods[0].Status.PodIP == "" {
				return fmt.Errorf("%d pods (%v)", len(pods), err)
			}
			body, err := get(ctx, hc, "http://"+net.JoinHostPort(pods[0].Status.PodIP, "8000")+"/v1/models", http.StatusOK)
			if err != nil {
				return err
			}
			if !strings.Contains(body, `"id":"cached"`) {
				return fmt.Errorf("models %s", body)
			}
			return nil
		})
		eventually(t, time.Minute, "the uncached model refused at start", func() error {
			pods, err := podsOf(ctx, cl, "uncached")
			if err != nil || len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
				return fmt.Errorf("%d pods (%v)", len(pods), err)
			}
			last := pods[0].Status.ContainerStatuses[0].LastTerminationState.Terminated
			if last == nil || last.ExitCode != 1 || !strings.Contains(last.Message, "Invalid repository ID or local directory specified: 'acme/absent'") {
				return fmt.Errorf("last termination %+v", last)
			}
			return nil
		})
	})

	t.Run("deleting a Job stops its running loader", func(t *testing.T) {
		job := downloadJob("slow-download", "acme/slow", "hf")
		if err := cl.Create(ctx, job); err != nil {
			t.Fatal(err)
		}
		var pod corev1.Pod
		eventually(t, time.Minute, "the loader running (its weights stalled)", func() error {
			pods, err := jobPods("slow-download")
			if err != nil || len(pods) != 1 {
				return fmt.Errorf("%d pods (%v)", len(pods), err)
			}
			pod = pods[0]
			if !slices.Contains(c.Loaders(), "default/"+pod.Name) {
				return fmt.Errorf("no loader process for %s (phase %s)", pod.Name, pod.Status.Phase)
			}
			if h.Count(hubsim.HubServer, "/acme/slow/resolve/") == 0 {
				return fmt.Errorf("the loader has not asked for a file yet")
			}
			return nil
		})
		if withProgress {
			// The contract's progress endpoint, on the pod's IP.
			body, err := get(ctx, &http.Client{Timeout: 5 * time.Second},
				"http://"+net.JoinHostPort(pod.Status.PodIP, "8081")+"/progress", http.StatusOK)
			if err != nil || !strings.Contains(body, "filesTotal") {
				t.Errorf("GET /progress on the pod's IP: %q, %v", body, err)
			}
		}
		if err := cl.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "the pod gone and its loader stopped", func() error {
			if pods, err := jobPods("slow-download"); err != nil || len(pods) > 0 {
				return fmt.Errorf("%d pods left (%v)", len(pods), err)
			}
			if got := c.Loaders(); len(got) > 0 {
				return fmt.Errorf("loaders still running: %v", got)
			}
			return nil
		})
	})

	t.Run("a deleted claim's volume and folder go", func(t *testing.T) {
		// Every scheduled pod that names the claim holds it, a completed one too (pvc-protection).
		var users []client.Object
		for _, d := range []string{"cached", "uncached"} {
			users = append(users, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: d, Namespace: "default"}})
		}
		for _, j := range []string{"tiny-download", "missing-download", "flaky-download", "later-download"} {
			users = append(users, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: j, Namespace: "default"}})
		}
		for _, u := range users {
			if err := cl.Delete(ctx, u, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.Delete(ctx, claim); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Minute, "the claim, its volume and its folder gone", func() error {
			if err := cl.Get(ctx, client.ObjectKeyFromObject(claim), &corev1.PersistentVolumeClaim{}); err == nil {
				return fmt.Errorf("the claim is still there (in use by a pod?)")
			}
			if err := cl.Get(ctx, client.ObjectKey{Name: pv.Name}, &corev1.PersistentVolume{}); err == nil {
				return fmt.Errorf("volume %s still there", pv.Name)
			} else if client.IgnoreNotFound(err) != nil {
				return err
			}
			if _, err := os.Stat(folder); !os.IsNotExist(err) {
				return fmt.Errorf("folder %s still there (%v)", folder, err)
			}
			return nil
		})
	})
}
