package enginesim

// vllmFlags is the command line of vLLM's OpenAI-compatible server, `vllm serve [model_tag] [options]`, at
// release v0.18.0 (image vllm/vllm-openai:v0.18.0, whose ENTRYPOINT is ["vllm", "serve"]; docker/Dockerfile).
//
// Read from vllm-project/vllm at tag v0.18.0, commit bcf2be96120005e9aea171927f85055a6a5c0cf6. The list is the
// parser's own: vllm/entrypoints/cli/serve.py subparser_init builds it with make_arg_parser
// (vllm/entrypoints/openai/cli_args.py: --headless, --api-server-count, --config, then FrontendArgs) and
// AsyncEngineArgs.add_cli_args (vllm/engine/arg_utils.py, which turns the vllm/config/*.py dataclass fields into
// options through get_kwargs/_compute_kwargs), then adds --grpc. That parser was built from the tagged tree with
// its third-party imports mocked (as the tree's docs/mkdocs/hooks/generate_argparse.py does) and every argparse
// action dumped; there is one Flag per action, in registration order, grouped by argument group.
//
// How an action became a Flag:
//   - option_strings give Names (long spellings first) and, for argparse.BooleanOptionalAction (every bool
//     field), the "--no-x" Negation; store_true and BooleanOptionalAction take no value;
//   - nargs None is OneValue, "?" OptionalValue, "+" OneOrMore; the append action (--middleware) is OneValue;
//   - type int is Int, float Float, json.loads and parse_type(json.loads) JSON, a dataclass parsed with pydantic
//     (parse_dataclass) JSON; optional_type(...) (which takes "" and "None" as None), human_readable_int,
//     human_readable_int_or_auto, union_dict_and_str and str are String;
//   - Choices only where argparse compares the string value itself with a fixed list (a Literal field,
//     literal_to_kwargs); a Literal that also admits str is a metavar, not choices, so any string parses;
//   - Env only where the option's default is read from an environment variable.
//
// FlexibleArgumentParser (vllm/utils/argparse_utils.py) is an ArgumentParser with the default allow_abbrev=True;
// its parse_args rewrites "_" to "-" in the option name (up to the first "."), which UnderscoreAsDash models.
//
// The positional model_tag (nargs "?") is the served model: drop "serve" and Parse with maxPositionals=1. It may
// be absent (then --model, a --config file or the default Qwen/Qwen3-0.6B names the model).
//
// To refresh: take the release tag's commit, build `vllm serve`'s parser from that tree (import
// vllm.entrypoints.openai.cli_args with missing modules mocked, patch DeviceConfig.__post_init__, call
// make_arg_parser on a FlexibleArgumentParser subparser and add --grpc as serve.py does), dump each action's
// option_strings, nargs, type and choices, apply the rules above, and check the result against
// docs/cli/serve.md at the same tag. Update Version and Source.
var vllmFlags = FlagTable{
	Engine:           "vllm",
	Version:          "v0.18.0",
	Source:           "vllm-project/vllm@bcf2be96120005e9aea171927f85055a6a5c0cf6 (tag v0.18.0): vllm/entrypoints/cli/serve.py, vllm/entrypoints/openai/cli_args.py, vllm/engine/arg_utils.py, vllm/config/*.py, vllm/utils/argparse_utils.py",
	Syntax:           Argparse,
	AllowAbbrev:      true,
	UnderscoreAsDash: true,
	Flags: []Flag{
		// vllm/entrypoints/openai/cli_args.py make_arg_parser (lines 317-353)
		// --help: vLLM rewrites --help=<keyword> to --help before argparse (argparse_utils.py parse_args), so a value is accepted.
		{Names: []string{"--help", "-h"}, Arity: OptionalValue, Type: String},
		{Names: []string{"--headless"}, Arity: NoValue, Type: String},
		{Names: []string{"--api-server-count", "-asc"}, Arity: OneValue, Type: Int},
		// --config: A YAML file whose keys are spliced in as options when the token "--config" appears (argparse_utils.py _pull_args_from_config); the file is not read here.
		{Names: []string{"--config"}, Arity: OneValue, Type: String},
		// vllm/entrypoints/openai/cli_args.py FrontendArgs/BaseFrontendArgs via get_kwargs (add_cli_args, lines 190-212)
		// --lora-modules: LoRAParserAction: name=path or JSON; a malformed item exits 2 from the action (cli_args.py LoRAParserAction), not modelled.
		{Names: []string{"--lora-modules"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--chat-template"}, Arity: OneValue, Type: String},
		{Names: []string{"--chat-template-content-format"}, Arity: OneValue, Type: String, Choices: []string{"auto", "openai", "string"}},
		{Names: []string{"--trust-request-chat-template"}, Negation: "--no-trust-request-chat-template", Arity: NoValue, Type: String},
		{Names: []string{"--default-chat-template-kwargs"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--response-role"}, Arity: OneValue, Type: String},
		{Names: []string{"--return-tokens-as-token-ids"}, Negation: "--no-return-tokens-as-token-ids", Arity: NoValue, Type: String},
		{Names: []string{"--disable-frontend-multiprocessing"}, Negation: "--no-disable-frontend-multiprocessing", Arity: NoValue, Type: String},
		{Names: []string{"--enable-auto-tool-choice"}, Negation: "--no-enable-auto-tool-choice", Arity: NoValue, Type: String},
		{Names: []string{"--exclude-tools-when-tool-choice-none"}, Negation: "--no-exclude-tools-when-tool-choice-none", Arity: NoValue, Type: String},
		{Names: []string{"--tool-call-parser"}, Arity: OneValue, Type: String},
		{Names: []string{"--tool-parser-plugin"}, Arity: OneValue, Type: String},
		{Names: []string{"--tool-server"}, Arity: OneValue, Type: String},
		// --log-config-file: Env: the default is envs.VLLM_LOGGING_CONFIG_PATH (cli_args.py line 133).
		{Names: []string{"--log-config-file"}, Arity: OneValue, Type: String, Env: "VLLM_LOGGING_CONFIG_PATH"},
		{Names: []string{"--max-log-len"}, Arity: OneValue, Type: String},
		{Names: []string{"--enable-prompt-tokens-details"}, Negation: "--no-enable-prompt-tokens-details", Arity: NoValue, Type: String},
		{Names: []string{"--enable-server-load-tracking"}, Negation: "--no-enable-server-load-tracking", Arity: NoValue, Type: String},
		{Names: []string{"--enable-force-include-usage"}, Negation: "--no-enable-force-include-usage", Arity: NoValue, Type: String},
		{Names: []string{"--enable-tokenizer-info-endpoint"}, Negation: "--no-enable-tokenizer-info-endpoint", Arity: NoValue, Type: String},
		{Names: []string{"--enable-log-outputs"}, Negation: "--no-enable-log-outputs", Arity: NoValue, Type: String},
		{Names: []string{"--enable-log-deltas"}, Negation: "--no-enable-log-deltas", Arity: NoValue, Type: String},
		// --log-error-stack: Env: the default is envs.VLLM_SERVER_DEV_MODE (cli_args.py line 155).
		{Names: []string{"--log-error-stack"}, Negation: "--no-log-error-stack", Arity: NoValue, Type: String, Env: "VLLM_SERVER_DEV_MODE"},
		{Names: []string{"--tokens-only"}, Negation: "--no-tokens-only", Arity: NoValue, Type: String},
		{Names: []string{"--host"}, Arity: OneValue, Type: String},
		{Names: []string{"--port"}, Arity: OneValue, Type: Int},
		{Names: []string{"--uds"}, Arity: OneValue, Type: String},
		{Names: []string{"--uvicorn-log-level"}, Arity: OneValue, Type: String, Choices: []string{"critical", "debug", "error", "info", "trace", "warning"}},
		{Names: []string{"--disable-uvicorn-access-log"}, Negation: "--no-disable-uvicorn-access-log", Arity: NoValue, Type: String},
		{Names: []string{"--disable-access-log-for-endpoints"}, Arity: OneValue, Type: String},
		{Names: []string{"--allow-credentials"}, Negation: "--no-allow-credentials", Arity: NoValue, Type: String},
		{Names: []string{"--allowed-origins"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--allowed-methods"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--allowed-headers"}, Arity: OneValue, Type: JSON},
		// --api-key: Env: api_server.py build_app uses VLLM_API_KEY when --api-key is absent (line 272).
		{Names: []string{"--api-key"}, Arity: OneOrMore, Type: String, Env: "VLLM_API_KEY"},
		{Names: []string{"--ssl-keyfile"}, Arity: OneValue, Type: String},
		{Names: []string{"--ssl-certfile"}, Arity: OneValue, Type: String},
		{Names: []string{"--ssl-ca-certs"}, Arity: OneValue, Type: String},
		{Names: []string{"--enable-ssl-refresh"}, Negation: "--no-enable-ssl-refresh", Arity: NoValue, Type: String},
		{Names: []string{"--ssl-cert-reqs"}, Arity: OneValue, Type: Int},
		{Names: []string{"--ssl-ciphers"}, Arity: OneValue, Type: String},
		{Names: []string{"--root-path"}, Arity: OneValue, Type: String},
		{Names: []string{"--middleware"}, Arity: OneValue, Type: String},
		{Names: []string{"--enable-request-id-headers"}, Negation: "--no-enable-request-id-headers", Arity: NoValue, Type: String},
		{Names: []string{"--disable-fastapi-docs"}, Negation: "--no-disable-fastapi-docs", Arity: NoValue, Type: String},
		{Names: []string{"--h11-max-incomplete-event-size"}, Arity: OneValue, Type: Int},
		{Names: []string{"--h11-max-header-count"}, Arity: OneValue, Type: Int},
		{Names: []string{"--enable-offline-docs"}, Negation: "--no-enable-offline-docs", Arity: NoValue, Type: String},
		// ModelConfig (vllm/config/model.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 667
		{Names: []string{"--model"}, Arity: OneValue, Type: String},
		{Names: []string{"--runner"}, Arity: OneValue, Type: String, Choices: []string{"auto", "draft", "generate", "pooling"}},
		{Names: []string{"--convert"}, Arity: OneValue, Type: String, Choices: []string{"auto", "classify", "embed", "none"}},
		{Names: []string{"--tokenizer"}, Arity: OneValue, Type: String},
		{Names: []string{"--tokenizer-mode"}, Arity: OneValue, Type: String},
		{Names: []string{"--trust-remote-code"}, Negation: "--no-trust-remote-code", Arity: NoValue, Type: String},
		{Names: []string{"--dtype"}, Arity: OneValue, Type: String, Choices: []string{"auto", "bfloat16", "float", "float16", "float32", "half"}},
		{Names: []string{"--seed"}, Arity: OneValue, Type: Int},
		{Names: []string{"--hf-config-path"}, Arity: OneValue, Type: String},
		{Names: []string{"--allowed-local-media-path"}, Arity: OneValue, Type: String},
		{Names: []string{"--allowed-media-domains"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--revision"}, Arity: OneValue, Type: String},
		{Names: []string{"--code-revision"}, Arity: OneValue, Type: String},
		{Names: []string{"--tokenizer-revision"}, Arity: OneValue, Type: String},
		// --max-model-len: human_readable_int_or_auto ("8k", "1M", "auto", "-1"): String.
		{Names: []string{"--max-model-len"}, Arity: OneValue, Type: String},
		// --quantization: optional_type(str): no choices at parse time; unknown methods fail later in ModelConfig.
		{Names: []string{"--quantization", "-q"}, Arity: OneValue, Type: String},
		{Names: []string{"--allow-deprecated-quantization"}, Negation: "--no-allow-deprecated-quantization", Arity: NoValue, Type: String},
		{Names: []string{"--enforce-eager"}, Negation: "--no-enforce-eager", Arity: NoValue, Type: String},
		{Names: []string{"--enable-return-routed-experts"}, Negation: "--no-enable-return-routed-experts", Arity: NoValue, Type: String},
		{Names: []string{"--max-logprobs"}, Arity: OneValue, Type: Int},
		{Names: []string{"--logprobs-mode"}, Arity: OneValue, Type: String, Choices: []string{"processed_logits", "processed_logprobs", "raw_logits", "raw_logprobs"}},
		{Names: []string{"--disable-sliding-window"}, Negation: "--no-disable-sliding-window", Arity: NoValue, Type: String},
		{Names: []string{"--disable-cascade-attn"}, Negation: "--no-disable-cascade-attn", Arity: NoValue, Type: String},
		{Names: []string{"--skip-tokenizer-init"}, Negation: "--no-skip-tokenizer-init", Arity: NoValue, Type: String},
		{Names: []string{"--enable-prompt-embeds"}, Negation: "--no-enable-prompt-embeds", Arity: NoValue, Type: String},
		{Names: []string{"--served-model-name"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--config-format"}, Arity: OneValue, Type: String},
		// --hf-token: Env: huggingface_hub reads HF_TOKEN when no token is passed.
		{Names: []string{"--hf-token"}, Arity: OptionalValue, Type: String, Env: "HF_TOKEN"},
		{Names: []string{"--hf-overrides"}, Arity: OneValue, Type: String},
		{Names: []string{"--pooler-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--generation-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--override-generation-config"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--enable-sleep-mode"}, Negation: "--no-enable-sleep-mode", Arity: NoValue, Type: String},
		{Names: []string{"--model-impl"}, Arity: OneValue, Type: String},
		{Names: []string{"--override-attention-dtype"}, Arity: OneValue, Type: String},
		{Names: []string{"--logits-processors"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--io-processor-plugin"}, Arity: OneValue, Type: String},
		// LoadConfig (vllm/config/load.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 757
		// --load-format: str | LoadFormats: metavar, not choices, so any string parses.
		{Names: []string{"--load-format"}, Arity: OneValue, Type: String},
		{Names: []string{"--download-dir"}, Arity: OneValue, Type: String},
		{Names: []string{"--safetensors-load-strategy"}, Arity: OneValue, Type: String},
		{Names: []string{"--model-loader-extra-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--ignore-patterns"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--use-tqdm-on-load"}, Negation: "--no-use-tqdm-on-load", Arity: NoValue, Type: String},
		{Names: []string{"--pt-load-map-location"}, Arity: OneValue, Type: String},
		// AttentionConfig (vllm/config/attention.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 777
		{Names: []string{"--attention-backend"}, Arity: OneValue, Type: String},
		// StructuredOutputsConfig (vllm/config/structured_outputs.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 787
		{Names: []string{"--reasoning-parser"}, Arity: OneValue, Type: String},
		{Names: []string{"--reasoning-parser-plugin"}, Arity: OneValue, Type: String},
		// ParallelConfig (vllm/config/parallel.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 803
		{Names: []string{"--distributed-executor-backend"}, Arity: OneValue, Type: String},
		{Names: []string{"--pipeline-parallel-size", "-pp"}, Arity: OneValue, Type: Int},
		{Names: []string{"--master-addr"}, Arity: OneValue, Type: String},
		{Names: []string{"--master-port"}, Arity: OneValue, Type: Int},
		{Names: []string{"--nnodes", "-n"}, Arity: OneValue, Type: Int},
		{Names: []string{"--node-rank", "-r"}, Arity: OneValue, Type: Int},
		{Names: []string{"--distributed-timeout-seconds"}, Arity: OneValue, Type: String},
		{Names: []string{"--tensor-parallel-size", "-tp"}, Arity: OneValue, Type: Int},
		{Names: []string{"--decode-context-parallel-size", "-dcp"}, Arity: OneValue, Type: Int},
		{Names: []string{"--dcp-comm-backend"}, Arity: OneValue, Type: String, Choices: []string{"a2a", "ag_rs"}},
		{Names: []string{"--dcp-kv-cache-interleave-size"}, Arity: OneValue, Type: Int},
		{Names: []string{"--cp-kv-cache-interleave-size"}, Arity: OneValue, Type: Int},
		{Names: []string{"--prefill-context-parallel-size", "-pcp"}, Arity: OneValue, Type: Int},
		{Names: []string{"--data-parallel-size", "-dp"}, Arity: OneValue, Type: Int},
		{Names: []string{"--data-parallel-rank", "-dpn"}, Arity: OneValue, Type: Int},
		{Names: []string{"--data-parallel-start-rank", "-dpr"}, Arity: OneValue, Type: Int},
		{Names: []string{"--data-parallel-size-local", "-dpl"}, Arity: OneValue, Type: Int},
		{Names: []string{"--data-parallel-address", "-dpa"}, Arity: OneValue, Type: String},
		{Names: []string{"--data-parallel-rpc-port", "-dpp"}, Arity: OneValue, Type: Int},
		{Names: []string{"--data-parallel-backend", "-dpb"}, Arity: OneValue, Type: String},
		{Names: []string{"--data-parallel-hybrid-lb", "-dph"}, Negation: "--no-data-parallel-hybrid-lb", Arity: NoValue, Type: String},
		{Names: []string{"--data-parallel-external-lb", "-dpe"}, Negation: "--no-data-parallel-external-lb", Arity: NoValue, Type: String},
		{Names: []string{"--enable-expert-parallel", "-ep"}, Negation: "--no-enable-expert-parallel", Arity: NoValue, Type: String},
		{Names: []string{"--enable-ep-weight-filter"}, Negation: "--no-enable-ep-weight-filter", Arity: NoValue, Type: String},
		{Names: []string{"--all2all-backend"}, Arity: OneValue, Type: String, Choices: []string{"allgather_reducescatter", "deepep_high_throughput", "deepep_low_latency", "flashinfer_all2allv", "flashinfer_nvlink_one_sided", "flashinfer_nvlink_two_sided", "mori", "naive", "nixl_ep", "pplx"}},
		{Names: []string{"--enable-dbo"}, Negation: "--no-enable-dbo", Arity: NoValue, Type: String},
		{Names: []string{"--ubatch-size"}, Arity: OneValue, Type: Int},
		{Names: []string{"--enable-elastic-ep"}, Negation: "--no-enable-elastic-ep", Arity: NoValue, Type: String},
		{Names: []string{"--dbo-decode-token-threshold"}, Arity: OneValue, Type: Int},
		{Names: []string{"--dbo-prefill-token-threshold"}, Arity: OneValue, Type: Int},
		{Names: []string{"--disable-nccl-for-dp-synchronization"}, Negation: "--no-disable-nccl-for-dp-synchronization", Arity: NoValue, Type: String},
		{Names: []string{"--enable-eplb"}, Negation: "--no-enable-eplb", Arity: NoValue, Type: String},
		{Names: []string{"--eplb-config"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--expert-placement-strategy"}, Arity: OneValue, Type: String, Choices: []string{"linear", "round_robin"}},
		{Names: []string{"--max-parallel-loading-workers"}, Arity: OneValue, Type: String},
		{Names: []string{"--ray-workers-use-nsight"}, Negation: "--no-ray-workers-use-nsight", Arity: NoValue, Type: String},
		{Names: []string{"--disable-custom-all-reduce"}, Negation: "--no-disable-custom-all-reduce", Arity: NoValue, Type: String},
		{Names: []string{"--worker-cls"}, Arity: OneValue, Type: String},
		{Names: []string{"--worker-extension-cls"}, Arity: OneValue, Type: String},
		// CacheConfig (vllm/config/cache.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 957
		{Names: []string{"--block-size"}, Arity: OneValue, Type: Int},
		{Names: []string{"--gpu-memory-utilization"}, Arity: OneValue, Type: Float},
		{Names: []string{"--kv-cache-memory-bytes"}, Arity: OneValue, Type: String},
		{Names: []string{"--kv-cache-dtype"}, Arity: OneValue, Type: String, Choices: []string{"auto", "bfloat16", "float16", "fp8", "fp8_ds_mla", "fp8_e4m3", "fp8_e5m2", "fp8_inc"}},
		{Names: []string{"--num-gpu-blocks-override"}, Arity: OneValue, Type: String},
		{Names: []string{"--enable-prefix-caching"}, Negation: "--no-enable-prefix-caching", Arity: NoValue, Type: String},
		{Names: []string{"--prefix-caching-hash-algo"}, Arity: OneValue, Type: String, Choices: []string{"sha256", "sha256_cbor", "xxhash", "xxhash_cbor"}},
		{Names: []string{"--calculate-kv-scales"}, Negation: "--no-calculate-kv-scales", Arity: NoValue, Type: String},
		{Names: []string{"--kv-sharing-fast-prefill"}, Negation: "--no-kv-sharing-fast-prefill", Arity: NoValue, Type: String},
		{Names: []string{"--mamba-cache-dtype"}, Arity: OneValue, Type: String, Choices: []string{"auto", "float16", "float32"}},
		{Names: []string{"--mamba-ssm-cache-dtype"}, Arity: OneValue, Type: String, Choices: []string{"auto", "float16", "float32"}},
		{Names: []string{"--mamba-block-size"}, Arity: OneValue, Type: String},
		{Names: []string{"--mamba-cache-mode"}, Arity: OneValue, Type: String, Choices: []string{"align", "all", "none"}},
		{Names: []string{"--kv-offloading-size"}, Arity: OneValue, Type: String},
		{Names: []string{"--kv-offloading-backend"}, Arity: OneValue, Type: String, Choices: []string{"lmcache", "native"}},
		// OffloadConfig (vllm/config/offload.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1011
		{Names: []string{"--offload-backend"}, Arity: OneValue, Type: String, Choices: []string{"auto", "prefetch", "uva"}},
		{Names: []string{"--cpu-offload-gb"}, Arity: OneValue, Type: Float},
		{Names: []string{"--cpu-offload-params"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--offload-group-size"}, Arity: OneValue, Type: Int},
		{Names: []string{"--offload-num-in-group"}, Arity: OneValue, Type: Int},
		{Names: []string{"--offload-prefetch-step"}, Arity: OneValue, Type: Int},
		{Names: []string{"--offload-params"}, Arity: OneOrMore, Type: String},
		// MultiModalConfig (vllm/config/multimodal.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1040
		{Names: []string{"--language-model-only"}, Negation: "--no-language-model-only", Arity: NoValue, Type: String},
		{Names: []string{"--limit-mm-per-prompt"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--enable-mm-embeds"}, Negation: "--no-enable-mm-embeds", Arity: NoValue, Type: String},
		{Names: []string{"--media-io-kwargs"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--mm-processor-kwargs"}, Arity: OneValue, Type: String},
		{Names: []string{"--mm-processor-cache-gb"}, Arity: OneValue, Type: Float},
		{Names: []string{"--mm-processor-cache-type"}, Arity: OneValue, Type: String, Choices: []string{"lru", "shm"}},
		{Names: []string{"--mm-shm-cache-max-object-size-mb"}, Arity: OneValue, Type: Int},
		{Names: []string{"--mm-encoder-only"}, Negation: "--no-mm-encoder-only", Arity: NoValue, Type: String},
		{Names: []string{"--mm-encoder-tp-mode"}, Arity: OneValue, Type: String, Choices: []string{"data", "weights"}},
		{Names: []string{"--mm-encoder-attn-backend"}, Arity: OneValue, Type: String},
		{Names: []string{"--interleave-mm-strings"}, Negation: "--no-interleave-mm-strings", Arity: NoValue, Type: String},
		{Names: []string{"--skip-mm-profiling"}, Negation: "--no-skip-mm-profiling", Arity: NoValue, Type: String},
		{Names: []string{"--video-pruning-rate"}, Arity: OneValue, Type: String},
		// LoRAConfig (vllm/config/lora.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1092
		{Names: []string{"--enable-lora"}, Negation: "--no-enable-lora", Arity: NoValue, Type: String},
		{Names: []string{"--max-loras"}, Arity: OneValue, Type: Int},
		// --max-lora-rank: int with choices 1,8,16,32,64,128,256,320,512 checked after int() (so "08" passes): Int without Choices never refuses what argparse accepts.
		{Names: []string{"--max-lora-rank"}, Arity: OneValue, Type: Int},
		{Names: []string{"--lora-dtype"}, Arity: OneValue, Type: String},
		{Names: []string{"--enable-tower-connector-lora"}, Negation: "--no-enable-tower-connector-lora", Arity: NoValue, Type: String},
		{Names: []string{"--max-cpu-loras"}, Arity: OneValue, Type: String},
		{Names: []string{"--fully-sharded-loras"}, Negation: "--no-fully-sharded-loras", Arity: NoValue, Type: String},
		{Names: []string{"--default-mm-loras"}, Arity: OneValue, Type: String},
		{Names: []string{"--specialize-active-lora"}, Negation: "--no-specialize-active-lora", Arity: NoValue, Type: String},
		// ObservabilityConfig (vllm/config/observability.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1122
		{Names: []string{"--show-hidden-metrics-for-version"}, Arity: OneValue, Type: String},
		{Names: []string{"--otlp-traces-endpoint"}, Arity: OneValue, Type: String},
		// --collect-detailed-traces: optional_type(str) maps "" and "None" to None, which is not in the choices, so "None" is refused despite being listed.
		{Names: []string{"--collect-detailed-traces"}, Arity: OneOrMore, Type: String, Choices: []string{"all", "model", "worker", "model,worker", "model,all", "worker,model", "worker,all", "all,model", "all,worker"}},
		{Names: []string{"--kv-cache-metrics"}, Negation: "--no-kv-cache-metrics", Arity: NoValue, Type: String},
		{Names: []string{"--kv-cache-metrics-sample"}, Arity: OneValue, Type: Float},
		{Names: []string{"--cudagraph-metrics"}, Negation: "--no-cudagraph-metrics", Arity: NoValue, Type: String},
		{Names: []string{"--enable-layerwise-nvtx-tracing"}, Negation: "--no-enable-layerwise-nvtx-tracing", Arity: NoValue, Type: String},
		{Names: []string{"--enable-mfu-metrics"}, Negation: "--no-enable-mfu-metrics", Arity: NoValue, Type: String},
		{Names: []string{"--enable-logging-iteration-details"}, Negation: "--no-enable-logging-iteration-details", Arity: NoValue, Type: String},
		// SchedulerConfig (vllm/config/scheduler.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1170
		{Names: []string{"--max-num-batched-tokens"}, Arity: OneValue, Type: String},
		{Names: []string{"--max-num-seqs"}, Arity: OneValue, Type: Int},
		{Names: []string{"--max-num-partial-prefills"}, Arity: OneValue, Type: Int},
		{Names: []string{"--max-long-partial-prefills"}, Arity: OneValue, Type: Int},
		{Names: []string{"--long-prefill-token-threshold"}, Arity: OneValue, Type: Int},
		{Names: []string{"--scheduling-policy"}, Arity: OneValue, Type: String, Choices: []string{"fcfs", "priority"}},
		{Names: []string{"--enable-chunked-prefill"}, Negation: "--no-enable-chunked-prefill", Arity: NoValue, Type: String},
		{Names: []string{"--disable-chunked-mm-input"}, Negation: "--no-disable-chunked-mm-input", Arity: NoValue, Type: String},
		{Names: []string{"--scheduler-cls"}, Arity: OneValue, Type: String},
		{Names: []string{"--disable-hybrid-kv-cache-manager"}, Negation: "--no-disable-hybrid-kv-cache-manager", Arity: NoValue, Type: String},
		{Names: []string{"--async-scheduling"}, Negation: "--no-async-scheduling", Arity: NoValue, Type: String},
		{Names: []string{"--stream-interval"}, Arity: OneValue, Type: Int},
		// CompilationConfig (vllm/config/compilation.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1230
		{Names: []string{"--cudagraph-capture-sizes"}, Arity: OneOrMore, Type: String},
		{Names: []string{"--max-cudagraph-capture-size"}, Arity: OneValue, Type: Int},
		// KernelConfig (vllm/config/kernel.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1244
		{Names: []string{"--enable-flashinfer-autotune"}, Negation: "--no-enable-flashinfer-autotune", Arity: NoValue, Type: String},
		// --moe-backend: choices checked after s.lower().replace("-", "_") (arg_utils.py 1253): String without Choices.
		{Names: []string{"--moe-backend"}, Arity: OneValue, Type: String},
		// VllmConfig (vllm/config/vllm.py): vllm/engine/arg_utils.py EngineArgs.add_cli_args, group at line 1258
		{Names: []string{"--speculative-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--kv-transfer-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--kv-events-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--ec-transfer-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--compilation-config", "-cc"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--attention-config", "-ac"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--kernel-config"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--additional-config"}, Arity: OneValue, Type: String},
		{Names: []string{"--structured-outputs-config"}, Arity: OneValue, Type: JSON},
		{Names: []string{"--profiler-config"}, Arity: OneValue, Type: JSON},
		// --optimization-level: -O is not an argparse option: vLLM rewrites "-O<v>", "-O=<v>" and "-O <0-3>" to --optimization-level (argparse_utils.py 258-271).
		{Names: []string{"--optimization-level", "-O"}, Arity: OneValue, Type: String},
		// -O0..-O3 as one word: the same rewrite for the documented levels (each its own spelling, no value).
		{Names: []string{"-O0"}, Arity: NoValue, Type: String},
		{Names: []string{"-O1"}, Arity: NoValue, Type: String},
		{Names: []string{"-O2"}, Arity: NoValue, Type: String},
		{Names: []string{"-O3"}, Arity: NoValue, Type: String},
		{Names: []string{"--performance-mode"}, Arity: OneValue, Type: String, Choices: []string{"balanced", "interactivity", "throughput"}},
		{Names: []string{"--weight-transfer-config"}, Arity: OneValue, Type: String},
		// vllm/engine/arg_utils.py EngineArgs.add_cli_args ungrouped (lines 1298-1335), AsyncEngineArgs.add_cli_args (2211-2230), vllm/entrypoints/cli/serve.py subparser_init (--grpc, 135-141)
		{Names: []string{"--disable-log-stats"}, Arity: NoValue, Type: String},
		{Names: []string{"--aggregate-engine-logging"}, Arity: NoValue, Type: String},
		{Names: []string{"--fail-on-environ-validation"}, Negation: "--no-fail-on-environ-validation", Arity: NoValue, Type: String},
		{Names: []string{"--shutdown-timeout"}, Arity: OneValue, Type: Int},
		{Names: []string{"--gdn-prefill-backend"}, Arity: OneValue, Type: String, Choices: []string{"flashinfer", "triton"}},
		{Names: []string{"--enable-log-requests"}, Negation: "--no-enable-log-requests", Arity: NoValue, Type: String},
		{Names: []string{"--grpc"}, Arity: NoValue, Type: String},
	},
}
