package engine

import (
	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Hugging Face text-generation-inference, `text-generation-launcher` (maintenance mode since Dec 2025). Facts from
// huggingface/text-generation-inference v3.3.6 (launcher/src/main.rs, server/text_generation_server/cli.py,
// Dockerfile, backends/v3/src/queue.rs); the simulator's flag table is test/enginesim/flags_tgi.go.
type tgi struct{}

func init() { register(tgi{}) }

// The image defaults to PORT=80 and HF_HOME=/data: privatellm runs it on 8080 with its own cache. --prometheus-port
// is set so the port the router binds at start is known: at 3.3.6 the router discards that exporter at once
// (router/src/server.rs), and /metrics is served on the main port only.
const (
	tgiPort           = 8080
	tgiPrometheusPort = 9000
	tgiDrainSeconds   = 60
)

var tgiFacts = Facts{
	Name:       "tgi",
	Title:      "TGI",
	Version:    "3.3.6",
	Image:      "ghcr.io/huggingface/text-generation-inference:3.3.6",
	Revisions:  true,
	CacheFiles: &safetensorsFiles,
	Schemes:    []Scheme{SchemeHF, SchemePVC},
	// The launcher takes the method of a quantized checkpoint from its config.json (quantization_config.quant_method
	// of any of these names, launcher/src/main.rs: get_config and args.quantize.or(...)), so those get no
	// --quantize; quantizing on load must be named.
	Quantizations: []Quantization{
		{Name: v1.QuantizationNone},
		{Name: v1.QuantizationAWQ, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationGPTQ, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationCompressedTensors, FromCheckpoint: true, BitsPerWeight: 4.2},
		{Name: v1.QuantizationFP8, FromCheckpoint: true, OnLoadFlag: "fp8", BitsPerWeight: 8},
		{Name: v1.QuantizationBitsAndBytes, FromCheckpoint: true, OnLoadFlag: "bitsandbytes", BitsPerWeight: 8},
		{Name: "bitsandbytes-nf4", FromCheckpoint: true, OnLoadFlag: "bitsandbytes-nf4", BitsPerWeight: 4.2},
		{Name: "bitsandbytes-fp4", FromCheckpoint: true, OnLoadFlag: "bitsandbytes-fp4", BitsPerWeight: 4.2},
		{Name: "eetq", FromCheckpoint: true, OnLoadFlag: "eetq", BitsPerWeight: 8},
		// exllamav2 kernels do not shard (launcher/src/main.rs refuses --quantize exl2 with more than one shard).
		{Name: "exl2", FromCheckpoint: true, BitsPerWeight: 4.2, MaxGPUs: 1},
		{Name: "marlin", FromCheckpoint: true, BitsPerWeight: 4.2},
	},
	QuantizationOption: "--quantize",
	Dtypes:             []v1.Dtype{v1.DtypeAuto, v1.DtypeFloat16, v1.DtypeBFloat16},
	// The server refuses --dtype together with a quantization (server/text_generation_server/cli.py:110-118),
	// the one the launcher merged from the checkpoint's config.json included.
	DtypeWithQuantization: false,
	Parallelism:           TensorOnly,
	ManagedFlags: []string{"--model-id", "--hostname", "--port", "-p", "--prometheus-port", "--num-shard",
		"--sharded", "--quantize", "--dtype", "--max-total-tokens", "--max-input-tokens", "--max-input-length",
		"--revision", "--huggingface-hub-cache", "--graceful-termination-timeout", "-g"},
	ManagedEnv: []string{"USAGE_STATS"},
	Metrics: Metrics{
		// TGI has no KV-cache gauge; the batch size stands in for running requests. Counters carry no _total, and
		// tokens are counted only as the _sum of histograms (tgi_request_input_length is recorded at validation, so it
		// includes requests that fail later).
		RequestsRunning:   []string{"tgi_batch_current_size"},
		RequestsWaiting:   []string{"tgi_queue_size"},
		PromptTokens:      []string{"tgi_request_input_length_sum"},
		GenerationTokens:  []string{"tgi_request_generated_tokens_sum"},
		RequestLatency:    []string{"tgi_request_duration"},
		CreatedOnFirstUse: []string{"tgi_batch_current_size", "tgi_queue_size"},
	},
	Source: "huggingface/text-generation-inference v3.3.6: launcher/src/main.rs, server/text_generation_server/cli.py, Dockerfile, backends/v3/src/queue.rs",
}

func (tgi) Facts() Facts { return tgiFacts }

// Plan is text-generation-launcher with every value from the spec as one `--flag=value` token. The user's args
// come first; clap refuses a repeated option, which is why managed flags are refused at admission.
func (tgi) Plan(in Input) Plan {
	llm, src, spec := in.LLM, in.Model, &in.LLM.Spec
	args := append([]string{}, spec.Engine.Args...)
	args = append(args,
		"--model-id="+src.Location(),
		"--hostname=0.0.0.0",
		"--port="+itoa(tgiPort),
		"--prometheus-port="+itoa(tgiPrometheusPort),
		"--huggingface-hub-cache="+HFHome+"/hub",
		"--graceful-termination-timeout="+itoa(tgiDrainSeconds),
	)
	if shards := spec.EffectiveTensorParallelSize(); shards > 1 {
		args = append(args, "--num-shard="+itoa(shards))
	}
	if rev := in.revision(); src.Scheme == SchemeHF && rev != "" {
		args = append(args, "--revision="+rev)
	}
	if q := in.Quantization.Flag; q != "" {
		args = append(args, "--quantize="+q)
	}
	if d := spec.EffectiveDtype(); d != v1.DtypeAuto {
		args = append(args, "--dtype="+string(d))
	}
	if spec.MaxModelLen != nil {
		args = append(args,
			"--max-total-tokens="+itoa(*spec.MaxModelLen),
			"--max-input-tokens="+itoa(*spec.MaxModelLen-1),
		)
	}
	if spec.Model.TrustRemoteCode {
		args = append(args, "--trust-remote-code")
	}

	e := withCache(in, commonEnv(llm, true))
	e = append(e,
		env("PORT", itoa(tgiPort)),
		env("USAGE_STATS", "off"),
	)
	e = append(e, userEnv(llm)...)

	return Plan{
		Model:         src,
		Cache:         in.Cache,
		ContainerName: "tgi",
		Image:         in.Image,
		Command:       []string{"text-generation-launcher"},
		Args:          args,
		Env:           e,
		Port:          tgiPort,
		// /health is cheap while healthy; it runs a test generation only after a failure.
		StartupPath:   "/health",
		LivenessPath:  "/health",
		ReadinessPath: "/health",
		// The launcher writes next to its binaries at start, and the image keeps its Python under /root
		// (Dockerfile: uv under /root/.local/share/uv): as any other uid it cannot load libpython and every pod
		// crash-loops (upstream issue #3082). It runs as root with every capability dropped.
		ReadOnlyRootFilesystem: false,
		RunAsRoot:              true,
		DrainSeconds:           tgiDrainSeconds,
	}
}
