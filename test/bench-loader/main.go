// Command bench-loader measures the model loader (cmd/loader) against the local Hub simulator (test/hubsim):
// download throughput on loopback and the loader's CPU-seconds per GB (sha256, copy, TLS-free HTTP), for a cold
// download and for a second run over the finished cache (which finds the snapshot complete and downloads nothing).
// It prints the figures; it asserts nothing.
//
//	go run ./test/bench-loader [-size-mib 1024] [-shards 4]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/test/hubsim"
)

func main() {
	sizeMiB := flag.Int64("size-mib", 1024, "total size of the model's weights, MiB")
	shards := flag.Int("shards", 4, "safetensors shards the weights are split into")
	flag.Parse()
	if err := run(*sizeMiB, *shards); err != nil {
		fmt.Fprintln(os.Stderr, "bench-loader:", err)
		os.Exit(1)
	}
}

func run(sizeMiB int64, shards int) error {
	work, err := os.MkdirTemp("", "privatellm-bench-loader-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "loader")
	build := exec.Command("go", "build", "-o", bin, "./cmd/loader")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the loader: %w", err)
	}

	h, err := hubsim.Listen()
	if err != nil {
		return err
	}
	defer h.Close()
	sizes := make([]int64, shards)
	for i := range sizes {
		sizes[i] = sizeMiB << 20 / int64(shards)
	}
	fmt.Printf("preparing a %d MiB model in %d shards in the Hub simulator\n", sizeMiB, shards)
	repo := h.AddRepo("bench/model", hubsim.RepoOptions{Files: hubsim.ModelFiles(hubsim.Config{}, sizes...)})
	cache := filepath.Join(work, "cache")

	fmt.Printf("%-8s %10s %10s %10s %14s %10s %10s %12s\n", "run", "seconds", "MiB", "MB/s", "CPU-s per GB", "user-s", "system-s", "downloaded")
	for _, name := range []string{"cold", "cached"} {
		r, wall, user, sys, err := load(bin, h.URL(), repo.ID, cache)
		if err != nil {
			return err
		}
		gb := float64(r.Bytes) / 1e9
		mbps := 0.0
		if wall > 0 {
			mbps = float64(r.Downloaded) / 1e6 / wall.Seconds()
		}
		fmt.Printf("%-8s %10.2f %10.0f %10.0f %14.2f %10.2f %10.2f %12d\n", name, wall.Seconds(), float64(r.Bytes)/(1<<20), mbps,
			(user+sys).Seconds()/gb, user.Seconds(), sys.Seconds(), r.Downloaded)
	}
	fmt.Println("MB/s: bytes downloaded per wall second; CPU-s per GB: the loader process's user+system time per GB of the snapshot.")
	return nil
}

// load runs the loader binary once and returns its report, wall time and user and system CPU time.
func load(bin, endpoint, repo, cache string) (r loader.Report, wall, user, sys time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	termLog := filepath.Join(filepath.Dir(cache), "report.json")
	cmd := exec.CommandContext(ctx, bin, "--repo", repo, "--cache-dir", cache, "--termination-log", termLog, "--progress-interval", "1h")
	cmd.Env = append(os.Environ(), "HF_ENDPOINT="+endpoint)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err = cmd.Run(); err != nil {
		return r, 0, 0, 0, fmt.Errorf("the loader failed: %w\n%s", err, out.String())
	}
	wall = time.Since(start)
	raw, err := os.ReadFile(termLog)
	if err != nil {
		return r, 0, 0, 0, err
	}
	if r, err = loader.Decode(raw); err != nil {
		return r, 0, 0, 0, err
	}
	return r, wall, cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime(), nil
}
