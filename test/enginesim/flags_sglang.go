// Code in this file was written by hand from SGLang's argument definitions; it copies no SGLang code.
//
// Source: github.com/sgl-project/sglang, python/sglang/srt/server_args.py, ServerArgs.add_cli_args and
// prepare_server_args, as stored at commit 974ccf95f1e9cd1450617c7d32d56c4c96f77e00 (the head of PR #14994
// "Introduce session cache", opened 2025-12-12, one day after the v0.5.6.post2 tag
// 5c8bd8b51b53b9b39eb1edec582ee43b21002106 of 2025-12-11). The search index holds no copy of server_args.py at
// the tag itself, so this is the closest copy that could be read; the one option that PR adds
// (--enable-session-cache) is left out. v0.5.6.post2 is the last release whose python/sglang/version.py carries
// a literal version ("0.5.6.post2", release PR head fd1216caabc40f32b4d2b2ca348120a43e8509d0); later releases
// take their version from git tags (setuptools-scm).
//
// To refresh: read ServerArgs.add_cli_args of the new release at its tag (python/sglang/srt/server_args.py; on
// later main the options are declared as dataclass fields under python/sglang/srt/arg_groups/), keep one Flag
// per parser.add_argument in source order with every alias, copy each literal choices= list, and use String
// with no Choices wherever the value goes through a custom converter (nullable_str, json_list_type) or the
// choices come from another module (reasoning and tool-call parsers, LoRA target modules). Options with
// type=int and an int choices= list are Int without Choices (argparse compares the converted int, "02" is 2).
// prepare_server_args builds a plain argparse.ArgumentParser() (allow_abbrev left True) and calls parse_args,
// so an unknown option exits 2 and a unique prefix of a long option is accepted.

package enginesim

// sglangFlags is `python3 -m sglang.launch_server` at v0.5.6.post2.
var sglangFlags = func() FlagTable {
	loadFormatChoices := []string{"auto", "pt", "safetensors", "npcache", "dummy", "sharded_state", "gguf",
		"bitsandbytes", "layered", "flash_rl", "remote", "remote_instance", "fastsafetensors", "private"}
	quantizationChoices := []string{"awq", "fp8", "gptq", "marlin", "gptq_marlin", "awq_marlin", "bitsandbytes",
		"gguf", "modelopt", "modelopt_fp8", "modelopt_fp4", "petit_nvfp4", "w8a8_int8", "w8a8_fp8", "moe_wna16",
		"qoq", "w4afp8", "mxfp4", "auto-round", "compressed-tensors", "modelslim"}
	speculativeDraftQuantizationChoices := append(append([]string(nil), quantizationChoices...), "unquant")
	attentionBackendChoices := []string{"triton", "torch_native", "flex_attention", "nsa", "cutlass_mla", "fa3",
		"fa4", "flashinfer", "flashmla", "trtllm_mla", "trtllm_mha", "dual_chunk_flash_attn", "aiter", "wave",
		"intel_amx", "ascend", "intel_xpu"}
	nsaChoices := []string{"flashmla_sparse", "flashmla_kv", "flashmla_auto", "fa3", "tilelang", "aiter"}
	moeRunnerBackendChoices := []string{"auto", "deep_gemm", "triton", "triton_kernel", "flashinfer_trtllm",
		"flashinfer_cutlass", "flashinfer_mxfp4", "flashinfer_cutedsl", "cutlass"}
	moeA2ABackendChoices := []string{"none", "deepep", "mooncake", "ascend_fuseep"}

	return FlagTable{
		Engine:      "sglang",
		Version:     "v0.5.6.post2",
		Source:      "github.com/sgl-project/sglang python/sglang/srt/server_args.py @ 974ccf95f1e9cd1450617c7d32d56c4c96f77e00 (PR #14994 head, a day after tag v0.5.6.post2 = 5c8bd8b51b53b9b39eb1edec582ee43b21002106; --enable-session-cache of that PR left out)",
		Syntax:      Argparse,
		AllowAbbrev: true,
		Flags: []Flag{
			// argparse's own -h/--help (prints usage and exits 0).
			{Names: []string{"--help", "-h"}},
			// Model and tokenizer
			{Names: []string{"--model-path", "--model"}, Arity: OneValue},
			{Names: []string{"--tokenizer-path"}, Arity: OneValue},
			{Names: []string{"--tokenizer-mode"}, Arity: OneValue, Choices: []string{"auto", "slow"}},
			{Names: []string{"--tokenizer-worker-num"}, Arity: OneValue, Type: Int},
			{Names: []string{"--skip-tokenizer-init"}},
			{Names: []string{"--load-format"}, Arity: OneValue, Choices: loadFormatChoices},
			{Names: []string{"--model-loader-extra-config"}, Arity: OneValue},
			{Names: []string{"--trust-remote-code"}},
			{Names: []string{"--context-length"}, Arity: OneValue, Type: Int},
			{Names: []string{"--is-embedding"}},
			{Names: []string{"--enable-multimodal"}},
			{Names: []string{"--revision"}, Arity: OneValue},
			{Names: []string{"--model-impl"}, Arity: OneValue},
			// HTTP server
			{Names: []string{"--host"}, Arity: OneValue},
			{Names: []string{"--port"}, Arity: OneValue, Type: Int},
			{Names: []string{"--fastapi-root-path"}, Arity: OneValue},
			{Names: []string{"--grpc-mode"}},
			{Names: []string{"--skip-server-warmup"}},
			{Names: []string{"--warmups"}, Arity: OneValue},
			{Names: []string{"--nccl-port"}, Arity: OneValue, Type: Int},
			{Names: []string{"--checkpoint-engine-wait-weights-before-ready"}},
			// Quantization and data type
			{Names: []string{"--dtype"}, Arity: OneValue, Choices: []string{"auto", "half", "float16", "bfloat16", "float", "float32"}},
			{Names: []string{"--quantization"}, Arity: OneValue, Choices: quantizationChoices},
			{Names: []string{"--quantization-param-path"}, Arity: OneValue},
			{Names: []string{"--kv-cache-dtype"}, Arity: OneValue, Choices: []string{"auto", "fp8_e5m2", "fp8_e4m3", "bf16", "bfloat16", "fp4_e2m1"}},
			{Names: []string{"--enable-fp32-lm-head"}},
			{Names: []string{"--modelopt-quant"}, Arity: OneValue},
			{Names: []string{"--modelopt-checkpoint-restore-path"}, Arity: OneValue},
			{Names: []string{"--modelopt-checkpoint-save-path"}, Arity: OneValue},
			{Names: []string{"--modelopt-export-path"}, Arity: OneValue},
			{Names: []string{"--quantize-and-serve"}},
			{Names: []string{"--rl-quant-profile"}, Arity: OneValue},
			// Memory and scheduling
			{Names: []string{"--mem-fraction-static"}, Arity: OneValue, Type: Float},
			{Names: []string{"--max-running-requests"}, Arity: OneValue, Type: Int},
			{Names: []string{"--max-queued-requests"}, Arity: OneValue, Type: Int},
			{Names: []string{"--max-total-tokens"}, Arity: OneValue, Type: Int},
			{Names: []string{"--chunked-prefill-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--prefill-max-requests"}, Arity: OneValue, Type: Int},
			{Names: []string{"--enable-dynamic-chunking"}},
			{Names: []string{"--max-prefill-tokens"}, Arity: OneValue, Type: Int},
			{Names: []string{"--schedule-policy"}, Arity: OneValue, Choices: []string{"lpm", "random", "fcfs", "dfs-weight", "lof", "priority"}},
			{Names: []string{"--enable-priority-scheduling"}},
			{Names: []string{"--abort-on-priority-when-disabled"}},
			{Names: []string{"--schedule-low-priority-values-first"}},
			{Names: []string{"--priority-scheduling-preemption-threshold"}, Arity: OneValue, Type: Int},
			{Names: []string{"--schedule-conservativeness"}, Arity: OneValue, Type: Float},
			{Names: []string{"--page-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--hybrid-kvcache-ratio"}, Arity: OptionalValue, Type: Float},
			{Names: []string{"--swa-full-tokens-ratio"}, Arity: OneValue, Type: Float},
			{Names: []string{"--disable-hybrid-swa-memory"}},
			{Names: []string{"--radix-eviction-policy"}, Arity: OneValue, Choices: []string{"lru", "lfu"}},
			// Runtime options
			{Names: []string{"--device"}, Arity: OneValue},
			{Names: []string{"--tensor-parallel-size", "--tp-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--pipeline-parallel-size", "--pp-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--pp-max-micro-batch-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--pp-async-batch-depth"}, Arity: OneValue, Type: Int},
			{Names: []string{"--stream-interval"}, Arity: OneValue, Type: Int},
			{Names: []string{"--stream-output"}},
			{Names: []string{"--random-seed"}, Arity: OneValue, Type: Int},
			{Names: []string{"--constrained-json-whitespace-pattern"}, Arity: OneValue},
			{Names: []string{"--constrained-json-disable-any-whitespace"}},
			{Names: []string{"--watchdog-timeout"}, Arity: OneValue, Type: Float},
			{Names: []string{"--soft-watchdog-timeout"}, Arity: OneValue, Type: Float},
			{Names: []string{"--dist-timeout"}, Arity: OneValue, Type: Int},
			{Names: []string{"--download-dir"}, Arity: OneValue},
			{Names: []string{"--base-gpu-id"}, Arity: OneValue, Type: Int},
			{Names: []string{"--gpu-id-step"}, Arity: OneValue, Type: Int},
			{Names: []string{"--sleep-on-idle"}},
			{Names: []string{"--custom-sigquit-handler"}, Arity: OneValue},
			// Logging
			{Names: []string{"--log-level"}, Arity: OneValue},
			{Names: []string{"--log-level-http"}, Arity: OneValue},
			{Names: []string{"--log-requests"}},
			{Names: []string{"--log-requests-level"}, Arity: OneValue, Type: Int}, // type=int, choices=[0,1,2,3]: see gap note
			{Names: []string{"--log-requests-format"}, Arity: OneValue, Choices: []string{"text", "json"}},
			{Names: []string{"--log-requests-target"}, Arity: OneOrMore},
			{Names: []string{"--crash-dump-folder"}, Arity: OneValue},
			{Names: []string{"--show-time-cost"}},
			{Names: []string{"--enable-metrics"}},
			{Names: []string{"--enable-metrics-for-all-schedulers"}},
			{Names: []string{"--tokenizer-metrics-custom-labels-header"}, Arity: OneValue},
			{Names: []string{"--tokenizer-metrics-allowed-custom-labels"}, Arity: OneOrMore},
			{Names: []string{"--bucket-time-to-first-token"}, Arity: OneOrMore, Type: Float},
			{Names: []string{"--bucket-inter-token-latency"}, Arity: OneOrMore, Type: Float},
			{Names: []string{"--bucket-e2e-request-latency"}, Arity: OneOrMore, Type: Float},
			{Names: []string{"--collect-tokens-histogram"}},
			{Names: []string{"--prompt-tokens-buckets"}, Arity: OneOrMore},
			{Names: []string{"--generation-tokens-buckets"}, Arity: OneOrMore},
			{Names: []string{"--gc-warning-threshold-secs"}, Arity: OneValue, Type: Float},
			{Names: []string{"--decode-log-interval"}, Arity: OneValue, Type: Int},
			{Names: []string{"--enable-request-time-stats-logging"}},
			{Names: []string{"--kv-events-config"}, Arity: OneValue},
			{Names: []string{"--enable-trace"}},
			{Names: []string{"--otlp-traces-endpoint"}, Arity: OneValue},
			// RequestMetricsExporter configuration
			{Names: []string{"--export-metrics-to-file"}},
			{Names: []string{"--export-metrics-to-file-dir"}, Arity: OneValue},
			// API related
			{Names: []string{"--api-key"}, Arity: OneValue},
			{Names: []string{"--served-model-name"}, Arity: OneValue},
			{Names: []string{"--weight-version"}, Arity: OneValue},
			{Names: []string{"--chat-template"}, Arity: OneValue},
			{Names: []string{"--completion-template"}, Arity: OneValue},
			{Names: []string{"--file-storage-path"}, Arity: OneValue},
			{Names: []string{"--enable-cache-report"}},
			{Names: []string{"--reasoning-parser"}, Arity: OneValue}, // choices from ReasoningParser.DetectorMap (another file): not checked
			{Names: []string{"--tool-call-parser"}, Arity: OneValue}, // choices from FunctionCallParser.ToolCallParserEnum (another file): not checked
			{Names: []string{"--tool-server"}, Arity: OneValue},
			{Names: []string{"--sampling-defaults"}, Arity: OneValue, Choices: []string{"openai", "model"}},
			// Data parallelism
			{Names: []string{"--data-parallel-size", "--dp-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--load-balance-method"}, Arity: OneValue, Choices: []string{"auto", "round_robin", "follow_bootstrap_room", "shortest_queue", "minimum_tokens"}},
			{Names: []string{"--prefill-round-robin-balance"}}, // DeprecatedAction
			// Multi-node distributed serving
			{Names: []string{"--dist-init-addr", "--nccl-init-addr"}, Arity: OneValue},
			{Names: []string{"--nnodes"}, Arity: OneValue, Type: Int},
			{Names: []string{"--node-rank"}, Arity: OneValue, Type: Int},
			// Model override args
			{Names: []string{"--json-model-override-args"}, Arity: OneValue},
			{Names: []string{"--preferred-sampling-params"}, Arity: OneValue, Type: JSON},
			// LoRA
			{Names: []string{"--enable-lora"}},
			{Names: []string{"--max-lora-rank"}, Arity: OneValue, Type: Int},
			{Names: []string{"--lora-target-modules"}, Arity: ZeroOrMore}, // choices from utils/common.py SUPPORTED_LORA_TARGET_MODULES + "all": not checked
			{Names: []string{"--lora-paths"}, Arity: ZeroOrMore},
			{Names: []string{"--max-loras-per-batch"}, Arity: OneValue, Type: Int},
			{Names: []string{"--max-loaded-loras"}, Arity: OneValue, Type: Int},
			{Names: []string{"--lora-eviction-policy"}, Arity: OneValue, Choices: []string{"lru", "fifo"}},
			{Names: []string{"--lora-backend"}, Arity: OneValue, Choices: []string{"triton", "csgmv", "ascend", "torch_native"}},
			{Names: []string{"--max-lora-chunk-size"}, Arity: OneValue, Type: Int}, // type=int, choices=[16,32,64,128]: see gap note
			// Kernel backend
			{Names: []string{"--attention-backend"}, Arity: OneValue, Choices: attentionBackendChoices},
			{Names: []string{"--prefill-attention-backend"}, Arity: OneValue, Choices: attentionBackendChoices},
			{Names: []string{"--decode-attention-backend"}, Arity: OneValue, Choices: attentionBackendChoices},
			{Names: []string{"--sampling-backend"}, Arity: OneValue, Choices: []string{"flashinfer", "pytorch", "ascend"}},
			{Names: []string{"--grammar-backend"}, Arity: OneValue, Choices: []string{"xgrammar", "outlines", "llguidance", "none"}},
			{Names: []string{"--mm-attention-backend"}, Arity: OneValue, Choices: []string{"sdpa", "fa3", "triton_attn", "ascend_attn", "aiter_attn"}},
			{Names: []string{"--nsa-prefill-backend"}, Arity: OneValue, Choices: nsaChoices},
			{Names: []string{"--nsa-decode-backend"}, Arity: OneValue, Choices: nsaChoices},
			{Names: []string{"--fp8-gemm-backend"}, Arity: OneValue, Choices: []string{"auto", "deep_gemm", "flashinfer_trtllm", "cutlass", "triton", "aiter"}},
			{Names: []string{"--disable-flashinfer-autotune"}},
			// Speculative decoding
			{Names: []string{"--speculative-algorithm"}, Arity: OneValue, Choices: []string{"EAGLE", "EAGLE3", "NEXTN", "STANDALONE", "NGRAM"}},
			{Names: []string{"--speculative-draft-model-path", "--speculative-draft-model"}, Arity: OneValue},
			{Names: []string{"--speculative-draft-model-revision"}, Arity: OneValue},
			{Names: []string{"--speculative-draft-load-format"}, Arity: OneValue, Choices: loadFormatChoices},
			{Names: []string{"--speculative-num-steps"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-eagle-topk"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-num-draft-tokens"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-accept-threshold-single"}, Arity: OneValue, Type: Float},
			{Names: []string{"--speculative-accept-threshold-acc"}, Arity: OneValue, Type: Float},
			{Names: []string{"--speculative-token-map"}, Arity: OneValue},
			{Names: []string{"--speculative-attention-mode"}, Arity: OneValue, Choices: []string{"prefill", "decode"}},
			{Names: []string{"--speculative-draft-attention-backend"}, Arity: OneValue},
			{Names: []string{"--speculative-moe-runner-backend"}, Arity: OneValue, Choices: moeRunnerBackendChoices},
			{Names: []string{"--speculative-moe-a2a-backend"}, Arity: OneValue, Choices: moeA2ABackendChoices},
			{Names: []string{"--speculative-draft-model-quantization"}, Arity: OneValue, Choices: speculativeDraftQuantizationChoices},
			// Speculative decoding (ngram)
			{Names: []string{"--speculative-ngram-min-match-window-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-ngram-max-match-window-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-ngram-min-bfs-breadth"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-ngram-max-bfs-breadth"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-ngram-match-type"}, Arity: OneValue, Choices: []string{"BFS", "PROB"}},
			{Names: []string{"--speculative-ngram-branch-length"}, Arity: OneValue, Type: Int},
			{Names: []string{"--speculative-ngram-capacity"}, Arity: OneValue, Type: Int},
			{Names: []string{"--enable-multi-layer-eagle"}},
			// Expert parallelism
			{Names: []string{"--expert-parallel-size", "--ep-size", "--ep"}, Arity: OneValue, Type: Int},
			{Names: []string{"--moe-a2a-backend"}, Arity: OneValue, Choices: moeA2ABackendChoices},
			{Names: []string{"--moe-runner-backend"}, Arity: OneValue, Choices: moeRunnerBackendChoices},
			{Names: []string{"--flashinfer-mxfp4-moe-precision"}, Arity: OneValue, Choices: []string{"default", "bf16"}},
			{Names: []string{"--enable-flashinfer-allreduce-fusion"}},
			{Names: []string{"--deepep-mode"}, Arity: OneValue, Choices: []string{"normal", "low_latency", "auto"}},
			{Names: []string{"--ep-num-redundant-experts"}, Arity: OneValue, Type: Int},
			{Names: []string{"--ep-dispatch-algorithm"}, Arity: OneValue},
			{Names: []string{"--init-expert-location"}, Arity: OneValue},
			{Names: []string{"--enable-eplb"}},
			{Names: []string{"--eplb-algorithm"}, Arity: OneValue},
			{Names: []string{"--eplb-rebalance-num-iterations"}, Arity: OneValue, Type: Int},
			{Names: []string{"--eplb-rebalance-layers-per-chunk"}, Arity: OneValue, Type: Int},
			{Names: []string{"--eplb-min-rebalancing-utilization-threshold"}, Arity: OneValue, Type: Float},
			{Names: []string{"--expert-distribution-recorder-mode"}, Arity: OneValue},
			{Names: []string{"--expert-distribution-recorder-buffer-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--enable-expert-distribution-metrics"}},
			{Names: []string{"--deepep-config"}, Arity: OneValue},
			{Names: []string{"--moe-dense-tp-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--elastic-ep-backend"}, Arity: OneValue, Choices: []string{"none", "mooncake"}},
			{Names: []string{"--mooncake-ib-device"}, Arity: OneValue},
			// Mamba cache
			{Names: []string{"--max-mamba-cache-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--mamba-ssm-dtype"}, Arity: OneValue, Choices: []string{"float32", "bfloat16"}},
			{Names: []string{"--mamba-full-memory-ratio"}, Arity: OneValue, Type: Float},
			{Names: []string{"--mamba-scheduler-strategy"}, Arity: OneValue, Choices: []string{"auto", "no_buffer", "extra_buffer"}},
			{Names: []string{"--mamba-track-interval"}, Arity: OneValue, Type: Int},
			// Hierarchical cache
			{Names: []string{"--enable-hierarchical-cache"}},
			{Names: []string{"--hicache-ratio"}, Arity: OneValue, Type: Float},
			{Names: []string{"--hicache-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--hicache-write-policy"}, Arity: OneValue, Choices: []string{"write_back", "write_through", "write_through_selective"}},
			{Names: []string{"--hicache-io-backend"}, Arity: OneValue, Choices: []string{"direct", "kernel", "kernel_ascend"}},
			{Names: []string{"--hicache-mem-layout"}, Arity: OneValue, Choices: []string{"layer_first", "page_first", "page_first_direct", "page_first_kv_split", "page_head"}},
			{Names: []string{"--hicache-storage-backend"}, Arity: OneValue, Choices: []string{"file", "mooncake", "hf3fs", "nixl", "aibrix", "dynamic", "eic"}},
			{Names: []string{"--hicache-storage-prefetch-policy"}, Arity: OneValue, Choices: []string{"best_effort", "wait_complete", "timeout"}},
			{Names: []string{"--hicache-storage-backend-extra-config"}, Arity: OneValue},
			{Names: []string{"--enable-lmcache"}},
			// Ktransformers
			{Names: []string{"--kt-weight-path"}, Arity: OneValue},
			{Names: []string{"--kt-method"}, Arity: OneValue},
			{Names: []string{"--kt-cpuinfer"}, Arity: OneValue, Type: Int},
			{Names: []string{"--kt-threadpool-count"}, Arity: OneValue, Type: Int},
			{Names: []string{"--kt-num-gpu-experts"}, Arity: OneValue, Type: Int},
			{Names: []string{"--kt-max-deferred-experts-per-token"}, Arity: OneValue, Type: Int},
			// Diffusion LLM
			{Names: []string{"--dllm-algorithm"}, Arity: OneValue},
			{Names: []string{"--dllm-algorithm-config"}, Arity: OneValue},
			// Double sparsity
			{Names: []string{"--enable-double-sparsity"}},
			{Names: []string{"--ds-channel-config-path"}, Arity: OneValue},
			{Names: []string{"--ds-heavy-channel-num"}, Arity: OneValue, Type: Int},
			{Names: []string{"--ds-heavy-token-num"}, Arity: OneValue, Type: Int},
			{Names: []string{"--ds-heavy-channel-type"}, Arity: OneValue},
			{Names: []string{"--ds-sparse-decode-threshold"}, Arity: OneValue, Type: Int},
			// Offloading
			{Names: []string{"--cpu-offload-gb"}, Arity: OneValue, Type: Int},
			{Names: []string{"--offload-group-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--offload-num-in-group"}, Arity: OneValue, Type: Int},
			{Names: []string{"--offload-prefetch-step"}, Arity: OneValue, Type: Int},
			{Names: []string{"--offload-mode"}, Arity: OneValue},
			// Multi-item scoring
			{Names: []string{"--multi-item-scoring-delimiter"}, Arity: OneValue, Type: Int},
			// Optimization/debug options
			{Names: []string{"--disable-radix-cache"}},
			{Names: []string{"--cuda-graph-max-bs"}, Arity: OneValue, Type: Int},
			{Names: []string{"--cuda-graph-bs"}, Arity: OneOrMore, Type: Int},
			{Names: []string{"--disable-cuda-graph"}},
			{Names: []string{"--disable-cuda-graph-padding"}},
			{Names: []string{"--enable-profile-cuda-graph"}},
			{Names: []string{"--enable-cudagraph-gc"}},
			{Names: []string{"--enable-layerwise-nvtx-marker"}},
			{Names: []string{"--enable-nccl-nvls"}},
			{Names: []string{"--enable-symm-mem"}},
			{Names: []string{"--disable-flashinfer-cutlass-moe-fp4-allgather"}},
			{Names: []string{"--enable-tokenizer-batch-encode"}},
			{Names: []string{"--disable-tokenizer-batch-decode"}},
			{Names: []string{"--disable-outlines-disk-cache"}},
			{Names: []string{"--disable-custom-all-reduce"}},
			{Names: []string{"--enable-mscclpp"}},
			{Names: []string{"--enable-torch-symm-mem"}},
			{Names: []string{"--disable-overlap-schedule"}},
			{Names: []string{"--enable-mixed-chunk"}},
			{Names: []string{"--enable-dp-attention"}},
			{Names: []string{"--enable-dp-lm-head"}},
			{Names: []string{"--enable-two-batch-overlap"}},
			{Names: []string{"--enable-single-batch-overlap"}},
			{Names: []string{"--tbo-token-distribution-threshold"}, Arity: OneValue, Type: Float},
			{Names: []string{"--enable-torch-compile"}},
			{Names: []string{"--enable-torch-compile-debug-mode"}},
			{Names: []string{"--enable-piecewise-cuda-graph"}},
			{Names: []string{"--piecewise-cuda-graph-tokens"}, Arity: OneValue}, // json_list_type
			{Names: []string{"--piecewise-cuda-graph-compiler"}, Arity: OneValue, Choices: []string{"eager", "inductor"}},
			{Names: []string{"--torch-compile-max-bs"}, Arity: OneValue, Type: Int},
			{Names: []string{"--piecewise-cuda-graph-max-tokens"}, Arity: OneValue, Type: Int},
			{Names: []string{"--torchao-config"}, Arity: OneValue},
			{Names: []string{"--enable-nan-detection"}},
			{Names: []string{"--enable-p2p-check"}},
			{Names: []string{"--triton-attention-reduce-in-fp32"}},
			{Names: []string{"--triton-attention-num-kv-splits"}, Arity: OneValue, Type: Int},
			{Names: []string{"--triton-attention-split-tile-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--num-continuous-decode-steps"}, Arity: OneValue, Type: Int},
			{Names: []string{"--delete-ckpt-after-loading"}},
			{Names: []string{"--enable-memory-saver"}},
			{Names: []string{"--enable-weights-cpu-backup"}},
			{Names: []string{"--enable-draft-weights-cpu-backup"}},
			{Names: []string{"--allow-auto-truncate"}},
			{Names: []string{"--enable-custom-logit-processor"}},
			{Names: []string{"--flashinfer-mla-disable-ragged"}},
			{Names: []string{"--disable-shared-experts-fusion"}},
			{Names: []string{"--disable-chunked-prefix-cache"}},
			{Names: []string{"--disable-fast-image-processor"}},
			{Names: []string{"--keep-mm-feature-on-device"}},
			{Names: []string{"--enable-return-hidden-states"}},
			{Names: []string{"--enable-return-routed-experts"}},
			{Names: []string{"--scheduler-recv-interval"}, Arity: OneValue, Type: Int},
			{Names: []string{"--numa-node"}, Arity: OneOrMore, Type: Int},
			{Names: []string{"--enable-deterministic-inference"}},
			{Names: []string{"--rl-on-policy-target"}, Arity: OneValue, Choices: []string{"fsdp"}},
			{Names: []string{"--enable-attn-tp-input-scattered"}},
			{Names: []string{"--enable-nsa-prefill-context-parallel"}},
			{Names: []string{"--nsa-prefill-cp-mode"}, Arity: OneValue, Choices: []string{"in-seq-split", "round-robin-split"}},
			{Names: []string{"--enable-fused-qk-norm-rope"}},
			{Names: []string{"--enable-precise-embedding-interpolation"}},
			// Dynamic batch tokenizer
			{Names: []string{"--enable-dynamic-batch-tokenizer"}},
			{Names: []string{"--dynamic-batch-tokenizer-batch-size"}, Arity: OneValue, Type: Int},
			{Names: []string{"--dynamic-batch-tokenizer-batch-timeout"}, Arity: OneValue, Type: Float},
			// Debug tensor dumps
			{Names: []string{"--debug-tensor-dump-output-folder"}, Arity: OneValue},
			{Names: []string{"--debug-tensor-dump-layers"}, Arity: OneOrMore, Type: Int},
			{Names: []string{"--debug-tensor-dump-input-file"}, Arity: OneValue},
			{Names: []string{"--debug-tensor-dump-inject"}, Arity: OneValue},
			// PD disaggregation
			{Names: []string{"--disaggregation-mode"}, Arity: OneValue, Choices: []string{"null", "prefill", "decode"}},
			{Names: []string{"--disaggregation-transfer-backend"}, Arity: OneValue, Choices: []string{"mooncake", "nixl", "ascend", "fake"}},
			{Names: []string{"--disaggregation-bootstrap-port"}, Arity: OneValue, Type: Int},
			{Names: []string{"--disaggregation-decode-tp"}, Arity: OneValue, Type: Int},
			{Names: []string{"--disaggregation-decode-dp"}, Arity: OneValue, Type: Int},
			{Names: []string{"--disaggregation-prefill-pp"}, Arity: OneValue, Type: Int},
			{Names: []string{"--disaggregation-ib-device"}, Arity: OneValue},
			{Names: []string{"--disaggregation-decode-enable-offload-kvcache"}},
			{Names: []string{"--disaggregation-decode-enable-fake-auto"}},
			{Names: []string{"--num-reserved-decode-tokens"}, Arity: OneValue, Type: Int},
			{Names: []string{"--disaggregation-decode-polling-interval"}, Arity: OneValue, Type: Int},
			// Encode prefill disaggregation
			{Names: []string{"--encoder-only"}},
			{Names: []string{"--language-only"}},
			{Names: []string{"--encoder-transfer-backend"}, Arity: OneValue, Choices: []string{"zmq_to_scheduler", "zmq_to_tokenizer", "mooncake"}},
			{Names: []string{"--encoder-urls"}, Arity: OneOrMore},
			// Custom weight loader
			{Names: []string{"--custom-weight-loader"}, Arity: ZeroOrMore},
			{Names: []string{"--weight-loader-disable-mmap"}},
			{Names: []string{"--remote-instance-weight-loader-seed-instance-ip"}, Arity: OneValue},
			{Names: []string{"--remote-instance-weight-loader-seed-instance-service-port"}, Arity: OneValue, Type: Int},
			{Names: []string{"--remote-instance-weight-loader-send-weights-group-ports"}, Arity: OneValue}, // json_list_type
			{Names: []string{"--remote-instance-weight-loader-backend"}, Arity: OneValue, Choices: []string{"transfer_engine", "nccl"}},
			{Names: []string{"--remote-instance-weight-loader-start-seed-via-transfer-engine"}},
			// PD-Multiplexing
			{Names: []string{"--enable-pdmux"}},
			{Names: []string{"--pdmux-config-path"}, Arity: OneValue},
			{Names: []string{"--sm-group-num"}, Arity: OneValue, Type: Int},
			// Configuration file
			{Names: []string{"--config"}, Arity: OneValue},
			// Multi-modal
			{Names: []string{"--mm-max-concurrent-calls"}, Arity: OneValue, Type: Int},
			{Names: []string{"--mm-per-request-timeout"}, Arity: OneValue, Type: Int},
			{Names: []string{"--enable-broadcast-mm-inputs-process"}},
			{Names: []string{"--mm-process-config"}, Arity: OneValue, Type: JSON},
			{Names: []string{"--mm-enable-dp-encoder"}},
			{Names: []string{"--limit-mm-data-per-request"}, Arity: OneValue, Type: JSON},
			// Checkpoint decryption
			{Names: []string{"--decrypted-config-file"}, Arity: OneValue},
			{Names: []string{"--decrypted-draft-config-file"}, Arity: OneValue},
			{Names: []string{"--enable-prefix-mm-cache"}},
			// Forward hooks
			{Names: []string{"--forward-hooks"}, Arity: OneValue}, // json_list_type
		},
	}
}()
