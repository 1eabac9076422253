// Command engine-sim simulates an inference engine — vLLM, Hugging Face TGI, SGLang or llama.cpp — on a CPU: the
// stand-in for a GPU used by the tests and the demo (make demo). It takes the engine's own command line, after
// its own options and "--", and is as strict about it as the engine at its pinned release: an unknown flag or a
// value the engine refuses makes it exit with the engine's message and status, as the real container would. It
// then serves the engine's HTTP surface — /health, /v1/models, /v1/chat/completions and /v1/completions
// (streaming too), the engine's own routes, and /metrics under the engine's real metric names — and models a GPU
// server's token rate, batch, queue and KV cache. See docs/engine-sim.md and package test/enginesim.
//
//	engine-sim --bind 127.0.0.1 --load-delay 10s -- vllm serve org/model --host=0.0.0.0 --port=8000 --served-model-name=demo
//	engine-sim -- text-generation-launcher --model-id=org/model --hostname=127.0.0.1 --port=8080
//	engine-sim -- python3 -m sglang.launch_server --model-path=org/model --host=127.0.0.1 --port=30000 --enable-metrics
//	engine-sim -- llama-server -hf org/model-GGUF:Q4_K_M --host 127.0.0.1 --port 8080 --metrics
//
// With HF_HUB_OFFLINE=1 in its environment it downloads nothing, as the engines in the operator's model-cache pods:
// the model must be in the Hugging Face cache (HF_HUB_CACHE) at the revision, or it exits 1 with the engine's error.
//
// It runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/privatellm/privatellm/test/enginesim"
)

func main() {
	opts, err := enginesim.ParseArgs(os.Args[1:], os.Stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var refused *enginesim.UsageError
	if errors.As(err, &refused) {
		// The engine's own refusal: its message and exit status, as the real container would print and exit.
		fmt.Fprintln(os.Stderr, refused.Message)
		os.Exit(refused.Code)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "engine-sim:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := enginesim.Run(ctx, opts, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "engine-sim:", err)
		os.Exit(1)
	}
}
