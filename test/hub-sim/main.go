// Command hub-sim serves the Hugging Face Hub simulator (test/hubsim) on fixed addresses, with one small model,
// for the demo (make demo): the model cache's loader downloads it as it would from the Hub or a mirror
// (HF_ENDPOINT), at a bandwidth slow enough to watch the progress. The model is not in the operator's catalogue of
// families: its fit is computed from its config.json. It also has Meta-style original/ weights, which the
// engines' file filter leaves out.
//
//	hub-sim --addr 127.0.0.1:18080 --cdn-addr 127.0.0.1:18081 [--repo acme/tiny-chat-1b] [--size-mib 256]
//	        [--shards 2] [--bandwidth-mib 8] [--token hf_demo]
//
// With --token, the repo is gated: only that token may download it. It runs until SIGINT or SIGTERM, logging each
// request.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/privatellm/privatellm/test/hubsim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "address of the Hub (HF_ENDPOINT)")
	cdnAddr := flag.String("cdn-addr", "127.0.0.1:18081", "address of its CDN")
	repo := flag.String("repo", "acme/tiny-chat-1b", "the model's repo id")
	sizeMiB := flag.Int64("size-mib", 256, "size of the safetensors weights, MiB")
	shards := flag.Int("shards", 2, "safetensors shards")
	bandwidthMiB := flag.Int64("bandwidth-mib", 8, "MiB per second per transfer (0: unlimited)")
	token := flag.String("token", "", "gate the repo: only this token may download it")
	quiet := flag.Bool("quiet", false, "do not log requests")
	flag.Parse()

	opts := []hubsim.Option{hubsim.Addrs(*addr, *cdnAddr), hubsim.Bandwidth(*bandwidthMiB << 20)}
	if !*quiet {
		opts = append(opts, hubsim.Logf(log.Printf))
	}
	h, err := hubsim.Listen(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hub-sim:", err)
		os.Exit(1)
	}
	defer h.Close()
	sizes := make([]int64, max(*shards, 1))
	for i := range sizes {
		sizes[i] = *sizeMiB << 20 / int64(len(sizes))
	}
	files := hubsim.ModelFiles(hubsim.Config{Architecture: "TinyChatForCausalLM", Layers: 16, HiddenSize: 2048, Heads: 32,
		KVHeads: 8, MaxPositionEmbeddings: 8192, VocabSize: 32000}, sizes...)
	// What Meta's repos add for their own code: the same weights again, never loaded by the engines.
	files = append(files, hubsim.LFSFile("original/consolidated.00.pth", hubsim.Filler("original", 4<<20)))
	ro := hubsim.RepoOptions{Files: files}
	if *token != "" {
		ro.Gated, ro.Tokens = "manual", []string{*token}
	}
	r := h.AddRepo(*repo, ro)
	fmt.Printf("hub-sim: %s at commit %s on HF_ENDPOINT=%s (CDN %s)\n", *repo, r.Commit, h.URL(), h.CDNURL())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
}
