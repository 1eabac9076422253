package enginesim

// tgiFlags is the command line of Hugging Face text-generation-inference's launcher, `text-generation-launcher
// [options]`, at release v3.3.6 (image ghcr.io/huggingface/text-generation-inference:3.3.6).
//
// Read from huggingface/text-generation-inference at tag v3.3.6, commit efb94e0d3db6aba9d464bc9a2f83191146203152:
//   - launcher/src/main.rs, `struct Args` (lines 580-914, clap derive): one Flag per field, in source order;
//   - the same file's ValueEnum enums Quantization (405-447), Dtype (489-494), KVCacheDtype (510-517),
//     RopeScaling (532-536) and UsageStatsLevel (552-560) for the possible values;
//   - Cargo.lock: clap/clap_builder/clap_derive 4.5.32, whose rules give the rest (clap-rs/clap tag v4.5.32):
//   - a field is `--kebab-case`; `short` alone is the field's first letter; `env` alone is the field in
//     SCREAMING_SNAKE_CASE (clap_derive/src/item.rs);
//   - bool is a switch (ArgAction::SetTrue), Option<T> and T are one value (ArgAction::Set), Vec<T> and
//     Option<Vec<T>> one value per occurrence (ArgAction::Append) (clap_derive/src/item.rs default_action);
//   - usize, f32 parse with Rust's FromStr; u16, u32 as i64 in range; u64 as u64; bool only "true" or "false"
//     (clap_builder/src/builder/value_parser.rs); no infer_long_args, so no abbreviations, and no underscore
//     spellings;
//   - `#[clap(version)]` adds --help/-h and --version/-V.
//
// Where clap's conversion is stricter than the parser here can say (unsigned and ranged integers, per-element
// checks of a comma list) the Type is the closest one that never refuses what clap accepts.
//
// To refresh: fetch the repository, `git show <tag>:launcher/src/main.rs`, walk `struct Args` and the ValueEnum
// enums again, check the clap version in Cargo.lock, and compare with docs/source/reference/launcher.md at the
// same tag (it is the launcher's `--help` output). Update Version and Source.
var tgiFlags = FlagTable{
	Engine:           "tgi",
	Version:          "v3.3.6",
	Source:           "huggingface/text-generation-inference@efb94e0d3db6aba9d464bc9a2f83191146203152 (tag v3.3.6): launcher/src/main.rs struct Args and its ValueEnum enums; Cargo.lock clap 4.5.32",
	Syntax:           Clap,
	AllowAbbrev:      false,
	UnderscoreAsDash: false,
	Flags: []Flag{
		{Names: []string{"--model-id"}, Arity: OneValue, Type: String, Env: "MODEL_ID"},
		{Names: []string{"--revision"}, Arity: OneValue, Type: String, Env: "REVISION"},
		{Names: []string{"--validation-workers"}, Arity: OneValue, Type: Int, Env: "VALIDATION_WORKERS"},
		// Option<bool>: clap's BoolValueParser takes exactly "true" or "false" and lists them when refusing.
		{Names: []string{"--sharded"}, Arity: OneValue, Type: Bool, Choices: []string{"true", "false"}, Env: "SHARDED"},
		{Names: []string{"--num-shard"}, Arity: OneValue, Type: Int, Env: "NUM_SHARD"},
		{Names: []string{"--quantize"}, Arity: OneValue, Type: String, Choices: []string{"awq", "compressed-tensors", "eetq", "exl2", "gptq", "marlin", "bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4", "fp8"}, Env: "QUANTIZE"},
		{Names: []string{"--speculate"}, Arity: OneValue, Type: Int, Env: "SPECULATE"},
		{Names: []string{"--dtype"}, Arity: OneValue, Type: String, Choices: []string{"float16", "bfloat16"}, Env: "DTYPE"},
		{Names: []string{"--kv-cache-dtype"}, Arity: OneValue, Type: String, Choices: []string{"fp8_e4m3fn", "fp8_e5m2"}, Env: "KV_CACHE_DTYPE"},
		{Names: []string{"--trust-remote-code"}, Arity: NoValue, Env: "TRUST_REMOTE_CODE"},
		{Names: []string{"--max-concurrent-requests"}, Arity: OneValue, Type: Int, Env: "MAX_CONCURRENT_REQUESTS"},
		{Names: []string{"--max-best-of"}, Arity: OneValue, Type: Int, Env: "MAX_BEST_OF"},
		{Names: []string{"--max-stop-sequences"}, Arity: OneValue, Type: Int, Env: "MAX_STOP_SEQUENCES"},
		{Names: []string{"--max-top-n-tokens"}, Arity: OneValue, Type: Int, Env: "MAX_TOP_N_TOKENS"},
		{Names: []string{"--max-input-tokens"}, Arity: OneValue, Type: Int, Env: "MAX_INPUT_TOKENS"},
		{Names: []string{"--max-input-length"}, Arity: OneValue, Type: Int, Env: "MAX_INPUT_LENGTH"},
		{Names: []string{"--max-total-tokens"}, Arity: OneValue, Type: Int, Env: "MAX_TOTAL_TOKENS"},
		{Names: []string{"--waiting-served-ratio"}, Arity: OneValue, Type: Float, Env: "WAITING_SERVED_RATIO"},
		{Names: []string{"--max-batch-prefill-tokens"}, Arity: OneValue, Type: Int, Env: "MAX_BATCH_PREFILL_TOKENS"},
		{Names: []string{"--max-batch-total-tokens"}, Arity: OneValue, Type: Int, Env: "MAX_BATCH_TOTAL_TOKENS"},
		{Names: []string{"--max-waiting-tokens"}, Arity: OneValue, Type: Int, Env: "MAX_WAITING_TOKENS"},
		{Names: []string{"--max-batch-size"}, Arity: OneValue, Type: Int, Env: "MAX_BATCH_SIZE"},
		// Option<Vec<usize>> with value_delimiter ',': one "1,2,4" value per occurrence, each element a usize, and
		// the option may be repeated (ArgAction::Append). String: the element check is not expressible here.
		{Names: []string{"--cuda-graphs"}, Arity: OneValue, Type: String, Env: "CUDA_GRAPHS"},
		{Names: []string{"--hostname"}, Arity: OneValue, Type: String, Env: "HOSTNAME"},
		{Names: []string{"--port", "-p"}, Arity: OneValue, Type: Int, Env: "PORT"},
		// prometheus_port also says `short`, so it is declared with -p too; release builds skip clap's debug
		// assertion on duplicate shorts and -p resolves to the first argument declared, --port
		// (clap_builder/src/mkeymap.rs MKeyMap::get). -p is therefore listed on --port only.
		{Names: []string{"--prometheus-port"}, Arity: OneValue, Type: Int, Env: "PROMETHEUS_PORT"},
		{Names: []string{"--shard-uds-path"}, Arity: OneValue, Type: String, Env: "SHARD_UDS_PATH"},
		{Names: []string{"--master-addr"}, Arity: OneValue, Type: String, Env: "MASTER_ADDR"},
		{Names: []string{"--master-port"}, Arity: OneValue, Type: Int, Env: "MASTER_PORT"},
		{Names: []string{"--huggingface-hub-cache"}, Arity: OneValue, Type: String, Env: "HUGGINGFACE_HUB_CACHE"},
		{Names: []string{"--weights-cache-override"}, Arity: OneValue, Type: String, Env: "WEIGHTS_CACHE_OVERRIDE"},
		{Names: []string{"--disable-custom-kernels"}, Arity: NoValue, Env: "DISABLE_CUSTOM_KERNELS"},
		{Names: []string{"--cuda-memory-fraction"}, Arity: OneValue, Type: Float, Env: "CUDA_MEMORY_FRACTION"},
		{Names: []string{"--rope-scaling"}, Arity: OneValue, Type: String, Choices: []string{"linear", "dynamic"}, Env: "ROPE_SCALING"},
		{Names: []string{"--rope-factor"}, Arity: OneValue, Type: Float, Env: "ROPE_FACTOR"},
		{Names: []string{"--json-output"}, Arity: NoValue, Env: "JSON_OUTPUT"},
		{Names: []string{"--otlp-endpoint"}, Arity: OneValue, Type: String, Env: "OTLP_ENDPOINT"},
		{Names: []string{"--otlp-service-name"}, Arity: OneValue, Type: String, Env: "OTLP_SERVICE_NAME"},
		// Vec<String>: ArgAction::Append, one value per occurrence, repeatable.
		{Names: []string{"--cors-allow-origin"}, Arity: OneValue, Type: String, Env: "CORS_ALLOW_ORIGIN"},
		{Names: []string{"--api-key"}, Arity: OneValue, Type: String, Env: "API_KEY"},
		{Names: []string{"--watermark-gamma"}, Arity: OneValue, Type: Float, Env: "WATERMARK_GAMMA"},
		{Names: []string{"--watermark-delta"}, Arity: OneValue, Type: Float, Env: "WATERMARK_DELTA"},
		{Names: []string{"--ngrok"}, Arity: NoValue, Env: "NGROK"},
		{Names: []string{"--ngrok-authtoken"}, Arity: OneValue, Type: String, Env: "NGROK_AUTHTOKEN"},
		{Names: []string{"--ngrok-edge"}, Arity: OneValue, Type: String, Env: "NGROK_EDGE"},
		{Names: []string{"--tokenizer-config-path"}, Arity: OneValue, Type: String, Env: "TOKENIZER_CONFIG_PATH"},
		{Names: []string{"--disable-grammar-support"}, Arity: NoValue, Env: "DISABLE_GRAMMAR_SUPPORT"},
		// `#[clap(long, short, action)] env: bool`: no `env` attribute, so no environment variable.
		{Names: []string{"--env", "-e"}, Arity: NoValue},
		{Names: []string{"--max-client-batch-size"}, Arity: OneValue, Type: Int, Env: "MAX_CLIENT_BATCH_SIZE"},
		// A comma list of adapter ids (id, id@revision, name=path) split by the launcher, not by clap.
		{Names: []string{"--lora-adapters"}, Arity: OneValue, Type: String, Env: "LORA_ADAPTERS"},
		{Names: []string{"--usage-stats"}, Arity: OneValue, Type: String, Choices: []string{"on", "off", "no-stack"}, Env: "USAGE_STATS"},
		{Names: []string{"--payload-limit"}, Arity: OneValue, Type: Int, Env: "PAYLOAD_LIMIT"},
		{Names: []string{"--enable-prefill-logprobs"}, Arity: NoValue, Env: "ENABLE_PREFILL_LOGPROBS"},
		{Names: []string{"--graceful-termination-timeout", "-g"}, Arity: OneValue, Type: Int, Env: "GRACEFUL_TERMINATION_TIMEOUT"},
		// Generated by clap (#[clap(author, version, about)]): they print and exit 0.
		{Names: []string{"--help", "-h"}, Arity: NoValue},
		{Names: []string{"--version", "-V"}, Arity: NoValue},
	},
}
