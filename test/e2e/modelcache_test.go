package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/test/hubsim"
	"github.com/privatellm/privatellm/test/s3sim"
	"github.com/privatellm/privatellm/test/testutil"
)

// cachedModel is an LLMDeployment of an hf:// model served from the model cache.
func cachedModel(name, repo string, token bool) string {
	ref := ""
	if token {
		ref = "\n    tokenSecretRef: {name: hf-token}"
	}
	return fmt.Sprintf(`apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: %s
spec:
  model:
    uri: hf://%s%s
    cache: {enabled: true}
  gpu:
    count: 1
    products: [NVIDIA-L4]
`, name, repo, ref)
}

// TestModelCacheSharedOfflineServing is the weights path end to end: two LLMDeployments of one gated model, not
// in the operator's catalogue, share one ModelCache; the real loader downloads it once, with the token, from the
// Hub mirror into the claim's folder (the engine-only files left out); both engines start offline from it at the
// resolved commit, with no token; the fit is computed from the downloaded config.json, and the first model's
// startup timeline includes the download.
func TestModelCacheSharedOfflineServing(t *testing.T) {
	ns := namespace(t)
	const token = "hf_e2e_placeholder" // namespace() puts it in the Secret hf-token
	repoID := "acme/tiny-chat-" + ns
	files := append(hubsim.ModelFiles(hubsim.Config{Architecture: "TinyChatForCausalLM", Layers: 16, HiddenSize: 2048, Heads: 32,
		KVHeads: 8, MaxPositionEmbeddings: 8192, VocabSize: 32000}, 3<<20, 3<<20),
		hubsim.LFSFile("original/consolidated.00.pth", hubsim.Filler("original", 1<<20)))
	repo := hub.AddRepo(repoID, hubsim.RepoOptions{Files: files, Gated: "manual", Tokens: []string{token}})

	must(t)(kubectlStdin(cachedModel("chat-a", repoID, true), "-n", ns, "apply", "-f", "-"))
	must(t)(kubectlStdin(cachedModel("chat-b", repoID, true), "-n", ns, "apply", "-f", "-"))
	a := waitFor(t, ns, "chat-a", testutil.ReadyWith(1))
	b := waitFor(t, ns, "chat-b", testutil.ReadyWith(1))

	ctx := context.Background()
	caches := &v1.ModelCacheList{}
	if err := c.List(ctx, caches, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(caches.Items) != 1 {
		t.Fatalf("%d ModelCaches for one model, want 1", len(caches.Items))
	}
	mc := caches.Items[0]
	if a.Status.Cache == nil || b.Status.Cache == nil || a.Status.Cache.Name != mc.Name || b.Status.Cache.Name != mc.Name {
		t.Fatalf("status.cache %+v and %+v, want both %s", a.Status.Cache, b.Status.Cache, mc.Name)
	}
	if mc.Status.Commit != repo.Commit || !meta.IsStatusConditionTrue(mc.Status.Conditions, v1.ConditionReady) {
		t.Errorf("cache commit %s (want %s), conditions %+v", mc.Status.Commit, repo.Commit, mc.Status.Conditions)
	}
	if ck := mc.Status.Checkpoint; ck == nil || ck.Architecture != "TinyChatForCausalLM" || ck.Layers != 16 || ck.KVHeads != 8 {
		t.Errorf("the cache's checkpoint %+v is not the downloaded config.json's", ck)
	}
	testutil.Eventually(t, timeout, func() error {
		live := &v1.ModelCache{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(&mc), live); err != nil {
			return err
		}
		if !slices.Equal(live.Status.Users, []string{"chat-a", "chat-b"}) {
			return fmt.Errorf("users %v", live.Status.Users)
		}
		return nil
	})

	// One download: one Job, each weight file fetched once from the CDN, the original/ weights never.
	jobs := &batchv1.JobList{}
	if err := c.List(ctx, jobs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 || jobs.Items[0].Status.Succeeded != 1 {
		t.Fatalf("jobs %d, want one that succeeded", len(jobs.Items))
	}
	for _, f := range files {
		n := cdnGets(f.SHA256())
		switch {
		case strings.HasPrefix(f.Path, "original/") && n != 0:
			t.Errorf("%s was downloaded %d times: the engines' filter leaves it out", f.Path, n)
		case strings.HasSuffix(f.Path, ".safetensors") && n != 1:
			t.Errorf("%s was downloaded %d times, want once for both LLMDeployments", f.Path, n)
		}
	}
	dir, err := cluster.VolumePath(ns, mc.Status.ClaimName)
	if err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "hub", "models--"+strings.ReplaceAll(repoID, "/", "--"), "snapshots", repo.Commit)
	if _, err := os.Stat(filepath.Join(snap, "config.json")); err != nil {
		t.Errorf("the claim's folder has no snapshot config.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(snap, "original")); !os.IsNotExist(err) {
		t.Errorf("original/ is in the snapshot (err %v)", err)
	}

	// The engines: offline, at the commit, the cache read-only, no token; only the loader mounted it.
	for _, name := range []string{"chat-a", "chat-b"} {
		for _, p := range pods(t, ns, name) {
			ctr := p.Spec.Containers[0]
			if !slices.Contains(ctr.Args, "--revision="+repo.Commit) {
				t.Errorf("%s: args %v lack --revision=<commit>", p.Name, ctr.Args)
			}
			for _, e := range ctr.Env {
				if e.Name == "HF_TOKEN" || e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					t.Errorf("%s: the engine gets a Secret: %+v", p.Name, e)
				}
			}
			for _, vol := range p.Spec.Volumes {
				if vol.Secret != nil {
					t.Errorf("%s: the engine pod mounts the Secret %s", p.Name, vol.Secret.SecretName)
				}
			}
		}
	}
	loaders := &corev1.PodList{}
	if err := c.List(ctx, loaders, client.InNamespace(ns), client.MatchingLabels{cache.LabelModelCache: mc.Name}); err != nil {
		t.Fatal(err)
	}
	if len(loaders.Items) != 1 || !slices.ContainsFunc(loaders.Items[0].Spec.Volumes, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == "hf-token" }) {
		t.Errorf("want one download pod, mounting the token: %d pods", len(loaders.Items))
	}

	// Decided from the checkpoint: the fit of a model the catalogue does not know, and a timeline with the download.
	a = llm(t, ns, "chat-a")
	if a.Status.Fit == nil || !strings.Contains(a.Status.Fit.Model, "TinyChatForCausalLM") {
		t.Errorf("status.fit %+v is not computed from the checkpoint", a.Status.Fit)
	}
	if c := meta.FindStatusCondition(a.Status.Conditions, v1.ConditionModelFits); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("ModelFits %+v, want True", c)
	}
	steps := []string{}
	if a.Status.Startup != nil {
		for _, s := range a.Status.Startup.Steps {
			steps = append(steps, s.Name)
		}
	}
	for _, want := range []string{"DownloadStarted", "DownloadFinished", "PodCreated", "Scheduled", "ContainerStarted", "ModelServed"} {
		if !slices.Contains(steps, want) {
			t.Errorf("status.startup steps %v lack %s", steps, want)
		}
	}
	t.Logf("chat-a startup: %+v", a.Status.Startup)
}

// cdnGets counts the CDN's GETs of the LFS object with that sha256 (its URL path names it).
func cdnGets(sha256 string) int {
	n := 0
	for _, r := range hub.Requests(hubsim.CDNServer, sha256) {
		if r.Method == "GET" {
			n++
		}
	}
	return n
}

// TestModelCacheGatedWithoutToken: a gated model and no token is a download that cannot succeed. The Job fails at
// once (its podFailurePolicy on the loader's exit code), and the LLMDeployment says why, with what to do.
func TestModelCacheGatedWithoutToken(t *testing.T) {
	ns := namespace(t)
	repoID := "acme/gated-" + ns
	hub.AddRepo(repoID, hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, 1<<20), Gated: "manual", Tokens: []string{"hf_someone_else"}})
	must(t)(kubectlStdin(cachedModel("gated", repoID, false), "-n", ns, "apply", "-f", "-"))
	l := waitFor(t, ns, "gated", stalled(v1.ReasonCacheNotReady))
	msg := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionStalled).Message
	if !strings.Contains(msg, "GatedRepo") || !strings.Contains(msg, "delete the Job") {
		t.Errorf("Stalled message %q must give the loader's reason and how to retry", msg)
	}
	jobs := &batchv1.JobList{}
	if err := c.List(context.Background(), jobs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 || jobs.Items[0].Status.Failed != 1 {
		t.Errorf("want one Job failed after one attempt: %+v", jobs.Items)
	}
	if len(pods(t, ns, "gated")) != 0 {
		t.Error("engine pods started without the cache")
	}
}

// The S3 endpoint's access keys (the Secret s3-credentials of a namespace that uses it).
const s3AccessKey, s3SecretKey = "e2e-access", "e2e-secret-key"

// TestModelCacheFromS3: an s3:// folder (MinIO's role played by the S3 simulator, which checks every signature)
// is downloaded once with the class's credentials, which only the download pod mounts, and vLLM loads it from the
// cache's folder, offline.
func TestModelCacheFromS3(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectl("-n", ns, "create", "secret", "generic", "s3-credentials",
		"--from-literal=AWS_ACCESS_KEY_ID="+s3AccessKey, "--from-literal=AWS_SECRET_ACCESS_KEY="+s3SecretKey))
	bucket := "models-" + ns
	s3.AddBucket(bucket, s3sim.BucketOptions{Readers: []string{s3AccessKey}})
	for _, f := range hubsim.ModelFiles(hubsim.Config{Architecture: "TinyChatForCausalLM", Layers: 8, KVHeads: 4}, 2<<20) {
		s3.PutObject(bucket, "tiny-chat/"+f.Path, f.Content, s3sim.ObjectOptions{ChecksumSHA256: true})
	}
	s3.PutObject(bucket, "tiny-chat-other/config.json", []byte("{}"), s3sim.ObjectOptions{}) // beside the folder, not in it
	must(t)(kubectlStdin(strings.Replace(cachedModel("s3-chat", "x", false), "hf://x", "s3://"+bucket+"/tiny-chat", 1), "-n", ns, "apply", "-f", "-"))
	l := waitFor(t, ns, "s3-chat", testutil.ReadyWith(1))
	if l.Status.Cache == nil {
		t.Fatal("status.cache is not set")
	}
	mc := &v1.ModelCache{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: l.Status.Cache.Name}, mc); err != nil {
		t.Fatal(err)
	}
	if mc.Status.Path != "s3/"+bucket+"/tiny-chat" || mc.Status.Checkpoint == nil || mc.Status.Checkpoint.Architecture != "TinyChatForCausalLM" {
		t.Errorf("cache path %q, checkpoint %+v", mc.Status.Path, mc.Status.Checkpoint)
	}
	dir, err := cluster.VolumePath(ns, mc.Status.ClaimName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s3", bucket, "tiny-chat", "model.safetensors")); err != nil {
		t.Errorf("the weights are not in the cache's folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s3", bucket, "tiny-chat-other")); !os.IsNotExist(err) {
		t.Errorf("a folder beside the model's was downloaded (err %v)", err)
	}
	for _, p := range pods(t, ns, "s3-chat") {
		if got := p.Spec.Containers[0].Args[1]; got != "/mnt/model-cache/"+bucket+"/tiny-chat" {
			t.Errorf("vLLM is given %q, want the cached folder", got)
		}
		for _, vol := range p.Spec.Volumes {
			if vol.Secret != nil {
				t.Errorf("the engine pod mounts the Secret %s", vol.Secret.SecretName)
			}
		}
	}
	if n := s3.Count("GET", "tiny-chat/model.safetensors"); n != 1 {
		t.Errorf("the weights were fetched %d times, want 1", n)
	}
}

// TestModelCacheGGUF: for llama.cpp, the cache downloads only the GGUF file of spec.quantization's type, and the
// engine is given that file's path in the verified snapshot (-m), offline.
func TestModelCacheGGUF(t *testing.T) {
	ns := namespace(t)
	repoID := "acme/tiny-chat-GGUF-" + ns
	q4 := hubsim.LFSFile("tiny-chat.Q4_K_M.gguf", hubsim.Filler("q4", 2<<20))
	q8 := hubsim.LFSFile("tiny-chat.Q8_0.gguf", hubsim.Filler("q8", 3<<20))
	repo := hub.AddRepo(repoID, hubsim.RepoOptions{Files: []hubsim.File{hubsim.Text("README.md", "# GGUF\n"), q4, q8}})
	must(t)(kubectlStdin(fmt.Sprintf(`apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: gguf
spec:
  model:
    uri: hf://%s
    cache: {enabled: true}
  engine: {name: llamacpp}
  quantization: Q4_K_M
  gpu: {count: 0}
  resources: {requests: {cpu: "2", memory: 4Gi}}
`, repoID), "-n", ns, "apply", "-f", "-"))
	l := waitFor(t, ns, "gguf", testutil.ReadyWith(1))
	want := "/mnt/model-cache/models--" + strings.ReplaceAll(repoID, "/", "--") + "/snapshots/" + repo.Commit + "/tiny-chat.Q4_K_M.gguf"
	for _, p := range pods(t, ns, "gguf") {
		args := p.Spec.Containers[0].Args
		if i := slices.Index(args, "-m"); i < 0 || i+1 >= len(args) || args[i+1] != want {
			t.Errorf("llama.cpp args %v, want -m %s", args, want)
		}
		if slices.Contains(args, "-hf") {
			t.Errorf("llama.cpp is still told to download: %v", args)
		}
	}
	if n := cdnGets(q4.SHA256()); n != 1 {
		t.Errorf("the Q4_K_M file was downloaded %d times, want 1", n)
	}
	if n := cdnGets(q8.SHA256()); n != 0 {
		t.Errorf("the Q8_0 file was downloaded %d times: only spec.quantization's type is needed", n)
	}
	mc := &v1.ModelCache{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: l.Status.Cache.Name}, mc); err != nil {
		t.Fatal(err)
	}
	if mc.Status.Checkpoint == nil || mc.Status.Checkpoint.ModelFile != "tiny-chat.Q4_K_M.gguf" || mc.Status.Checkpoint.Format != "gguf" {
		t.Errorf("checkpoint %+v", mc.Status.Checkpoint)
	}
}

// TestModelCacheChecksAPreloadedVolume: a pvc:// model with spec.model.cache is not copied: the loader checks the
// user's claim read-only for config.json and weights and reads the checkpoint, so the fit is the model's own; a
// folder without them stalls before any engine pod starts.
func TestModelCacheChecksAPreloadedVolume(t *testing.T) {
	ns := namespace(t)
	must(t)(kubectlStdin(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: weights}
spec:
  accessModes: [ReadWriteMany]
  resources: {requests: {storage: 1Gi}}
`, "-n", ns, "apply", "-f", "-"))
	var dir string
	testutil.Eventually(t, timeout, func() error {
		var err error
		dir, err = cluster.VolumePath(ns, "weights")
		return err
	})
	for _, f := range hubsim.ModelFiles(hubsim.Config{Architecture: "TinyChatForCausalLM", Layers: 12, KVHeads: 4}, 1<<20) {
		p := filepath.Join(dir, "tiny-chat", f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"preloaded": "tiny-chat", "missing": "empty"} {
		must(t)(kubectlStdin(strings.Replace(cachedModel(name, "x", false), "hf://x", "pvc://weights/"+path, 1), "-n", ns, "apply", "-f", "-"))
	}
	l := waitFor(t, ns, "preloaded", testutil.ReadyWith(1))
	if l.Status.Fit == nil || !strings.Contains(l.Status.Fit.Model, "TinyChatForCausalLM") {
		t.Errorf("status.fit %+v is not the checkpoint's", l.Status.Fit)
	}
	for _, p := range pods(t, ns, "preloaded") {
		if got := p.Spec.Containers[0].Args[1]; got != "/mnt/models/tiny-chat" {
			t.Errorf("vLLM is given %q, want the claim's folder", got)
		}
	}
	m := waitFor(t, ns, "missing", stalled(v1.ReasonCacheNotReady))
	if msg := meta.FindStatusCondition(m.Status.Conditions, v1.ConditionStalled).Message; !strings.Contains(msg, "ModelFilesMissing") {
		t.Errorf("Stalled message %q must give the loader's reason", msg)
	}
	if len(pods(t, ns, "missing")) != 0 {
		t.Error("an engine pod started for a folder without a model")
	}
}
