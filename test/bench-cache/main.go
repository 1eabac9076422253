//go:build linux

// Command bench-cache measures what the model cache saves at start: the time from `kubectl apply` of an
// LLMDeployment to Ready when its model must be downloaded first (cold) and when another LLMDeployment of the same
// model already filled the cache (cached), on the simulated GPU cluster with the real operator, the real loader in
// the download pods and the Hub simulator as HF_ENDPOINT. The model's load time inside the engine is the simulated
// cluster's fixed ready delay in both cases; the difference is the download. It prints the figures; it asserts
// nothing.
//
//	go run ./test/bench-cache [-size-mib 512] [-shards 4] [-runs 3] [-ready-delay 2s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/hubsim"
	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

func main() {
	sizeMiB := flag.Int64("size-mib", 512, "size of the model's weights, MiB")
	shards := flag.Int("shards", 4, "safetensors shards")
	runs := flag.Int("runs", 3, "cold and cached starts to measure, each with a model of its own")
	readyDelay := flag.Duration("ready-delay", 2*time.Second, "the simulated model load time of every engine pod")
	flag.Parse()
	if err := run(*sizeMiB, *shards, *runs, *readyDelay); err != nil {
		fmt.Fprintln(os.Stderr, "bench-cache:", err)
		os.Exit(1)
	}
}

func run(sizeMiB int64, shards, runs int, readyDelay time.Duration) error {
	ctx := context.Background()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "privatellm-bench-cache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bins, err := simcluster.FindBinaries(ctx, false)
	if err != nil {
		return fmt.Errorf("the simulated cluster's binaries (make k8s-bins): %w", err)
	}
	manager, err := testutil.BuildManager(ctx, root, work)
	if err != nil {
		return err
	}
	engineSim, err := simcluster.BuildEngineSim(ctx, work)
	if err != nil {
		return err
	}
	loaderBin, err := simcluster.BuildLoader(ctx, work)
	if err != nil {
		return err
	}
	hub, err := hubsim.Listen()
	if err != nil {
		return err
	}
	defer hub.Close()
	cluster, err := simcluster.Start(ctx, simcluster.Options{BinDir: bins, PodReadyDelay: readyDelay,
		Nodes: []simcluster.NodePool{{Name: "l4", Count: 2 * runs, CPU: "48", Memory: "192Gi",
			GPU: &simcluster.GPU{Product: "NVIDIA-L4", Count: 1, MemoryMiB: 23034}},
			// The download pods run on a CPU node, as the GPU nodes' taint keeps them off those.
			{Name: "cpu", Count: 1, CPU: "32", Memory: "128Gi"}},
		EngineSim: engineSim, Loader: loaderBin})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	kubectl := func(stdin string, args ...string) error {
		cmd := exec.Command(filepath.Join(cluster.BinDir(), "kubectl"), append([]string{"--kubeconfig", cluster.Kubeconfig()}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl %v: %w: %s", args, err, out)
		}
		return nil
	}
	if err := kubectl("", "apply", "--server-side", "-f", filepath.Join(root, "config", "crd", "bases")); err != nil {
		return err
	}
	if err := kubectl("", "wait", "--for=condition=Established", "crd/llmdeployments.serving.privatellm.dev", "crd/modelcaches.serving.privatellm.dev"); err != nil {
		return err
	}
	cfg := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(cfg, []byte("modelCache:\n  loaderImage: ghcr.io/privatellm/privatellm:bench\n  classes:\n    default: {size: 20Gi, hubEndpoint: "+hub.URL()+"}\n"), 0o644); err != nil {
		return err
	}
	op := &testutil.Operator{Bin: manager, Kubeconfig: cluster.Kubeconfig(), Log: filepath.Join(work, "operator.log"),
		Args: []string{"--config", cfg, "--health-probe-bind-address=0", "--metrics-bind-address=0"}}
	if err := op.Start(); err != nil {
		return err
	}
	defer op.Stop(10 * time.Second)
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	c, err := client.New(cluster.RESTConfig(), client.Options{Scheme: scheme})
	if err != nil {
		return err
	}

	sizes := make([]int64, shards)
	for i := range sizes {
		sizes[i] = sizeMiB << 20 / int64(shards)
	}
	fmt.Printf("%d runs, a %d MiB model in %d shards each, engine load time %s (simulated)\n", runs, sizeMiB, shards, readyDelay)
	fmt.Printf("%-4s %14s %14s %14s %10s\n", "run", "cold s", "cached s", "download s", "MB/s")
	var coldSum, cachedSum float64
	for i := range runs {
		ns := fmt.Sprintf("bench-%d", i)
		repo := fmt.Sprintf("bench/model-%d", i)
		hub.AddRepo(repo, hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, sizes...)})
		if err := kubectl("", "create", "namespace", ns); err != nil {
			return err
		}
		cold, err := applyAndWait(ctx, c, kubectl, ns, "cold", repo)
		if err != nil {
			return fmt.Errorf("%w\noperator log:\n%s", err, op.LogTail(3000))
		}
		cached, err := applyAndWait(ctx, c, kubectl, ns, "cached", repo)
		if err != nil {
			return err
		}
		caches := &v1.ModelCacheList{}
		if err := c.List(ctx, caches, client.InNamespace(ns)); err != nil || len(caches.Items) != 1 {
			return fmt.Errorf("want one ModelCache in %s: %d (%v)", ns, len(caches.Items), err)
		}
		// The loader's own figures (its report: bytes over its run's seconds), finer than the status's timestamps.
		st := caches.Items[0].Status
		dl, mbs := 0.0, 0.0
		if p := st.Progress; p != nil && p.BytesPerSecond > 0 {
			dl, mbs = float64(p.BytesTotal)/float64(p.BytesPerSecond), float64(p.BytesPerSecond)/1e6
		}
		fmt.Printf("%-4d %14.1f %14.1f %14.1f %10.0f\n", i+1, cold.Seconds(), cached.Seconds(), dl, mbs)
		coldSum, cachedSum = coldSum+cold.Seconds(), cachedSum+cached.Seconds()
	}
	fmt.Printf("mean: cold %.1f s, cached %.1f s (download and loader pod start-up saved: %.1f s per start)\n",
		coldSum/float64(runs), cachedSum/float64(runs), (coldSum-cachedSum)/float64(runs))
	fmt.Println("(download s and MB/s are the loader's: the snapshot's bytes over its run; the rest of a cold start is the")
	fmt.Println(" download pod's scheduling and start, and the operator noticing the Job's end)")
	return nil
}

// applyAndWait applies an LLMDeployment of repo with the cache on and returns the time until it is Ready.
func applyAndWait(ctx context.Context, c client.Client, kubectl func(string, ...string) error, ns, name, repo string) (time.Duration, error) {
	manifest := fmt.Sprintf("apiVersion: serving.privatellm.dev/v1alpha1\nkind: LLMDeployment\nmetadata: {name: %s, namespace: %s}\n"+
		"spec:\n  model: {uri: 'hf://%s', cache: {enabled: true}}\n  gpu: {count: 1, products: [NVIDIA-L4]}\n", name, ns, repo)
	start := time.Now()
	if err := kubectl(manifest, "apply", "-f", "-"); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		l := &v1.LLMDeployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, l); err == nil &&
			meta.IsStatusConditionTrue(l.Status.Conditions, v1.ConditionReady) && l.Status.ObservedGeneration == l.Generation {
			return time.Since(start), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s/%s not Ready within 10m", ns, name)
}
