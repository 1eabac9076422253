package enginesim_test

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/enginesim"
)

func TestParseArgs(t *testing.T) {
	llm := &v1.LLMDeployment{}
	llm.Name, llm.Namespace = "llama", "ns"
	llm.Spec.Model.URI = "hf://org/model"
	llm.Spec.Model.ServedName = "llama-3.1-8b"
	llm.Spec.Engine.Args = []string{"--gpu-memory-utilization=0.92", "--enable-prefix-caching"}
	defaults := engine.Defaults{VLLMImage: "vllm", TGIImage: "tgi"}
	src, err := engine.ParseModelURI(llm.Spec.Model.URI)
	if err != nil {
		t.Fatal(err)
	}
	vllmPlan := engine.VLLM(llm, src, defaults.VLLMImage)
	tgiPlan := engine.TGI(llm, src, defaults.TGIImage)

	cases := []struct {
		name string
		args []string
		want enginesim.Options
	}{
		{
			name: "the operator's vLLM args",
			args: append([]string{"--engine=vllm"}, vllmPlan.Args...),
			want: enginesim.Options{Config: enginesim.Config{Engine: enginesim.VLLM, ServedModelName: "llama-3.1-8b"},
				Host: "0.0.0.0", Port: int(vllmPlan.Port)},
		},
		{
			name: "the operator's TGI args: --hostname and --prometheus-port",
			args: append([]string{"--engine", "tgi"}, tgiPlan.Args...),
			want: enginesim.Options{Config: enginesim.Config{Engine: enginesim.TGI, ServedModelName: "model"},
				Host: "0.0.0.0", Port: int(tgiPlan.Port), MetricsPort: int(tgiPlan.MetricsPort)},
		},
		{
			name: "engine-sim's own flags, separate values",
			args: []string{"--engine", "tgi", "--host", "127.1.2.3", "--port", "18080", "--metrics-port", "19000",
				"--served-model-name", "a,b", "--token-rate", "5", "--max-batch", "2", "--max-queue", "3",
				"--kv-capacity", "100", "--load-delay", "2s", "--fail-metrics", "--cache-metric", "kv",
				"--default-max-tokens", "7"},
			want: enginesim.Options{Config: enginesim.Config{Engine: enginesim.TGI, ServedModelName: "a", TokenRate: 5,
				MaxBatch: 2, MaxQueue: 3, KVCapacity: 100, LoadDelay: 2 * time.Second, FailMetrics: true,
				CacheMetric: enginesim.CacheMetricKV, DefaultMaxTokens: 7},
				Host: "127.1.2.3", Port: 18080, MetricsPort: 19000},
		},
		{
			name: "defaults: vllm on 8000, no separate metrics port",
			args: nil,
			want: enginesim.Options{Config: enginesim.Config{Engine: enginesim.VLLM, ServedModelName: "model"},
				Host: "0.0.0.0", Port: 8000},
		},
		{
			name: "tgi without a separate exporter",
			args: []string{"--engine=tgi", "--metrics-port=-1"},
			want: enginesim.Options{Config: enginesim.Config{Engine: enginesim.TGI, ServedModelName: "model"},
				Host: "0.0.0.0", Port: 8080},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := enginesim.ParseArgs(tc.args, io.Discard)
			if err != nil {
				t.Fatalf("ParseArgs(%q): %v", tc.args, err)
			}
			want := tc.want
			// Fields the case leaves zero take the defaults.
			if want.TokenRate == 0 {
				want.TokenRate = enginesim.DefaultTokenRate
			}
			if want.MaxBatch == 0 {
				want.MaxBatch = enginesim.DefaultMaxBatch
			}
			if want.KVCapacity == 0 {
				want.KVCapacity = enginesim.DefaultKVCapacity
			}
			if want.DefaultMaxTokens == 0 {
				want.DefaultMaxTokens = enginesim.DefaultMaxTokens
			}
			if want.CacheMetric == "" {
				want.CacheMetric = enginesim.CacheMetricBoth
			}
			if got != want {
				t.Fatalf("ParseArgs(%q)\n got %+v\nwant %+v", tc.args, got, want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--engine=sglang"},
		{"--token-rate=fast"},
		{"--port=70000"},
		{"--cache-metric=none"},
		{"--load-delay=-1s"},
	} {
		if _, err := enginesim.ParseArgs(args, io.Discard); err == nil {
			t.Errorf("ParseArgs(%q) accepted", args)
		}
	}
	if _, err := enginesim.ParseArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("ParseArgs(-h) = %v, want flag.ErrHelp", err)
	}
}
