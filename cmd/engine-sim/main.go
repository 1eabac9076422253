// Command engine-sim simulates an inference engine, vLLM or Hugging Face TGI, on a CPU: the stand-in for a GPU
// used by the tests and the demo (make demo). It serves the engine's HTTP surface — /health, /v1/models,
// /v1/chat/completions and /v1/completions (streaming too), TGI's /info, and /metrics under the engines' real
// metric names — and models a GPU server's token rate, batch, queue and KV cache. See docs/engine-sim.md and
// package internal/enginesim.
//
//	engine-sim --engine vllm --host 127.0.0.1 --port 8000 --served-model-name demo --token-rate 50 \
//	    --max-batch 8 --kv-capacity 65536 --load-delay 10s
//	engine-sim --engine tgi --port 8080 --metrics-port 9000
//
// The real engines' arguments are accepted as well (unknown flags and positional arguments are ignored;
// --hostname and --prometheus-port are understood), so the operator's rendered args can be passed unchanged:
//
//	engine-sim --engine vllm serve /mnt/models --host=0.0.0.0 --port=8000 --served-model-name=llama --max-model-len=8192
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

	"github.com/privatellm/privatellm/internal/enginesim"
)

func main() {
	opts, err := enginesim.ParseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
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
