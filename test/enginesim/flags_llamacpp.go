package enginesim

// llamacppFlags is the command line of llama.cpp's HTTP server, `llama-server [options]`, at build b8914
// (images ghcr.io/ggml-org/llama.cpp:server-b8914 and :server-cuda-b8914: images are built by the daily run of
// .github/workflows/docker.yml, 04:12 UTC, and b8914 was master's head from 01:39 to 06:28 UTC on 2026-04-24).
//
// Read from ggml-org/llama.cpp at tag b8914, commit 8bc492ebb407dfc8a61b8d92eced1b094ac1c823 (the build number is
// `git rev-list --count`, .github/actions/get-tag-name/action.yml; common/arg.cpp is unchanged from b8914 to
// b8920):
//   - common/arg.cpp, common_params_parser_init: one Flag per add_opt(common_arg(...)) that add_opt keeps for
//     LLAMA_EXAMPLE_SERVER, i.e. whose examples hold LLAMA_EXAMPLE_SERVER or LLAMA_EXAMPLE_COMMON and whose
//     excludes do not hold LLAMA_EXAMPLE_SERVER (mmproj_examples holds SERVER); the `if (ex == LLAMA_EXAMPLE_SERVER)`
//     branch gives the server's own -np. In source order. Options of other tools (--prompt, --file,
//     --interactive, --image, the perplexity, imatrix, bench, tts, diffusion and finetune options) are not here: the
//     server refuses them as invalid arguments.
//   - common/arg.h, struct common_arg: the handler decides the arity, not the value hint. handler_void is a switch;
//     handler_bool is a switch whose args_neg spellings set false (Negation); handler_int and handler_string take
//     one argument; handler_str_str takes two.
//   - common/arg.cpp, common_params_parse_ex: every argument must be an option spelling (no positionals, no
//     "--x=v": "--port=8080" is looked up whole and is "error: invalid argument: --port=8080"); in an argument that
//     starts with "--" every '_' becomes '-' before the lookup, values are taken as they are, whatever they start
//     with; a missing value, a failed conversion or a handler's throw prints "error while handling argument ..."
//     and, like an unknown argument, makes llama-server exit 1 (tools/server/server.cpp main, common_params_parse).
//
// Types: llama.cpp converts with std::stoi, std::stof and std::stoul, which read the longest numeric prefix and
// ignore the rest ("-c 8k" is 8, "--temp 0.7x" is 0.7) and throw only when there is no number at all or it is out
// of range, and with nlohmann::json::parse, which also skips a UTF-8 byte order mark. The parser here has no type
// that accepts exactly that (Int and Float refuse "8k"), so those options use String through the constants below,
// which name the engine's conversion: switch a constant when flags.go gains a matching type. Choices are given
// where the handler compares the value with a fixed list and throws otherwise.
//
// To refresh: take the new tag's common/arg.cpp and common/arg.h (and the server's `-h`, which prints exactly the
// options kept here), walk common_params_parser_init again with the rules above, and check the helpers the
// choices come from (is_truthy/is_falsey/is_autoy and kv_cache_types in common/arg.cpp,
// common_reasoning_format_from_name in common/chat.cpp). Update Version and Source.

// How llama.cpp converts an option's value, and the ValueType that stands for it here (see above).
const (
	llamaStoi  = String // std::stoi
	llamaStoul = String // std::stoul
	llamaStof  = String // std::stof
	llamaJSON  = String // nlohmann::json::parse
)

// Fixed lists the handlers compare values with (common/arg.cpp).
var (
	// is_truthy, is_falsey and is_autoy.
	llamaTriState = []string{"on", "enabled", "true", "1", "off", "disabled", "false", "0", "auto", "-1"}
	// is_truthy and is_falsey.
	llamaOnOff = []string{"on", "enabled", "true", "1", "off", "disabled", "false", "0"}
	// kv_cache_types, by ggml_type_name.
	llamaKVCacheTypes = []string{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"}
)

var llamacppFlags = FlagTable{
	Engine:           "llamacpp",
	Version:          "b8914",
	Source:           "ggml-org/llama.cpp@8bc492ebb407dfc8a61b8d92eced1b094ac1c823 (tag b8914): common/arg.cpp common_params_parser_init and common_params_parse_ex, common/arg.h struct common_arg",
	Syntax:           LlamaCpp,
	AllowAbbrev:      false,
	UnderscoreAsDash: true,
	Flags: []Flag{
		{Names: []string{"--help", "-h", "--usage"}, Arity: NoValue},
		{Names: []string{"--version"}, Arity: NoValue},
		{Names: []string{"--license"}, Arity: NoValue},
		{Names: []string{"--cache-list", "-cl"}, Arity: NoValue},
		{Names: []string{"--completion-bash"}, Arity: NoValue},
		{Names: []string{"--threads", "-t"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_THREADS"},
		{Names: []string{"--threads-batch", "-tb"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--cpu-mask", "-C"}, Arity: OneValue, Type: String},
		{Names: []string{"--cpu-range", "-Cr"}, Arity: OneValue, Type: String},
		{Names: []string{"--cpu-strict"}, Arity: OneValue, Type: llamaStoul},
		{Names: []string{"--prio"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--poll"}, Arity: OneValue, Type: llamaStoul},
		{Names: []string{"--cpu-mask-batch", "-Cb"}, Arity: OneValue, Type: String},
		{Names: []string{"--cpu-range-batch", "-Crb"}, Arity: OneValue, Type: String},
		{Names: []string{"--cpu-strict-batch"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--prio-batch"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--poll-batch"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--lookup-cache-static", "-lcs"}, Arity: OneValue, Type: String},
		{Names: []string{"--lookup-cache-dynamic", "-lcd"}, Arity: OneValue, Type: String},
		{Names: []string{"--ctx-size", "-c"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_CTX_SIZE"},
		{Names: []string{"--predict", "-n", "--n-predict"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_N_PREDICT"},
		{Names: []string{"--batch-size", "-b"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_BATCH"},
		{Names: []string{"--ubatch-size", "-ub"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_UBATCH"},
		{Names: []string{"--keep"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--swa-full"}, Arity: NoValue, Env: "LLAMA_ARG_SWA_FULL"},
		{Names: []string{"--ctx-checkpoints", "-ctxcp", "--swa-checkpoints"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_CTX_CHECKPOINTS"},
		{Names: []string{"--checkpoint-every-n-tokens", "-cpent"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_CHECKPOINT_EVERY_NT"},
		{Names: []string{"--cache-ram", "-cram"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_CACHE_RAM"},
		{Names: []string{"--kv-unified", "-kvu"}, Negation: "--no-kv-unified", Arity: NoValue, Env: "LLAMA_ARG_KV_UNIFIED"},
		// -no-kvu: a second negative spelling of --kv-unified (flags.go holds one Negation per Flag).
		{Names: []string{"-no-kvu"}, Arity: NoValue},
		{Names: []string{"--cache-idle-slots"}, Negation: "--no-cache-idle-slots", Arity: NoValue, Env: "LLAMA_ARG_CACHE_IDLE_SLOTS"},
		{Names: []string{"--context-shift"}, Negation: "--no-context-shift", Arity: NoValue, Env: "LLAMA_ARG_CONTEXT_SHIFT"},
		{Names: []string{"--flash-attn", "-fa"}, Arity: OneValue, Type: String, Choices: llamaTriState, Env: "LLAMA_ARG_FLASH_ATTN"},
		{Names: []string{"--perf"}, Negation: "--no-perf", Arity: NoValue, Env: "LLAMA_ARG_PERF"},
		{Names: []string{"--escape", "-e"}, Negation: "--no-escape", Arity: NoValue},
		{Names: []string{"--reverse-prompt", "-r"}, Arity: OneValue, Type: String},
		{Names: []string{"--special", "-sp"}, Arity: NoValue},
		{Names: []string{"--warmup"}, Negation: "--no-warmup", Arity: NoValue},
		{Names: []string{"--spm-infill"}, Arity: NoValue},
		{Names: []string{"--samplers"}, Arity: OneValue, Type: String},
		{Names: []string{"--seed", "-s"}, Arity: OneValue, Type: llamaStoul},
		{Names: []string{"--sampler-seq", "--sampling-seq"}, Arity: OneValue, Type: String},
		{Names: []string{"--ignore-eos"}, Arity: NoValue},
		{Names: []string{"--temp", "--temperature"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--top-k"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_TOP_K"},
		{Names: []string{"--top-p"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--min-p"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--top-nsigma", "--top-n-sigma"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--xtc-probability"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--xtc-threshold"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--typical", "--typical-p"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--repeat-last-n"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--repeat-penalty"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--presence-penalty"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--frequency-penalty"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--dry-multiplier"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--dry-base"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--dry-allowed-length"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--dry-penalty-last-n"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--dry-sequence-breaker"}, Arity: OneValue, Type: String},
		{Names: []string{"--adaptive-target"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--adaptive-decay"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--dynatemp-range"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--dynatemp-exp"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--mirostat"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--mirostat-lr"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--mirostat-ent"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--logit-bias", "-l"}, Arity: OneValue, Type: String},
		{Names: []string{"--grammar"}, Arity: OneValue, Type: String},
		{Names: []string{"--grammar-file"}, Arity: OneValue, Type: String},
		{Names: []string{"--json-schema", "-j"}, Arity: OneValue, Type: llamaJSON},
		{Names: []string{"--json-schema-file", "-jf"}, Arity: OneValue, Type: String},
		{Names: []string{"--backend-sampling", "-bs"}, Arity: NoValue, Env: "LLAMA_ARG_BACKEND_SAMPLING"},
		{Names: []string{"--pooling"}, Arity: OneValue, Type: String, Choices: []string{"none", "mean", "cls", "last", "rank"}, Env: "LLAMA_ARG_POOLING"},
		{Names: []string{"--rope-scaling"}, Arity: OneValue, Type: String, Choices: []string{"none", "linear", "yarn"}, Env: "LLAMA_ARG_ROPE_SCALING_TYPE"},
		{Names: []string{"--rope-scale"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_ROPE_SCALE"},
		{Names: []string{"--rope-freq-base"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_ROPE_FREQ_BASE"},
		{Names: []string{"--rope-freq-scale"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_ROPE_FREQ_SCALE"},
		{Names: []string{"--yarn-orig-ctx"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_YARN_ORIG_CTX"},
		{Names: []string{"--yarn-ext-factor"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_YARN_EXT_FACTOR"},
		{Names: []string{"--yarn-attn-factor"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_YARN_ATTN_FACTOR"},
		{Names: []string{"--yarn-beta-slow"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_YARN_BETA_SLOW"},
		{Names: []string{"--yarn-beta-fast"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_YARN_BETA_FAST"},
		{Names: []string{"--kv-offload", "-kvo"}, Negation: "--no-kv-offload", Arity: NoValue, Env: "LLAMA_ARG_KV_OFFLOAD"},
		// -nkvo: a second negative spelling of --kv-offload (flags.go holds one Negation per Flag).
		{Names: []string{"-nkvo"}, Arity: NoValue},
		{Names: []string{"--repack"}, Negation: "--no-repack", Arity: NoValue, Env: "LLAMA_ARG_REPACK"},
		// -nr: a second negative spelling of --repack (flags.go holds one Negation per Flag).
		{Names: []string{"-nr"}, Arity: NoValue},
		{Names: []string{"--no-host"}, Arity: NoValue, Env: "LLAMA_ARG_NO_HOST"},
		{Names: []string{"--cache-type-k", "-ctk"}, Arity: OneValue, Type: String, Choices: llamaKVCacheTypes, Env: "LLAMA_ARG_CACHE_TYPE_K"},
		{Names: []string{"--cache-type-v", "-ctv"}, Arity: OneValue, Type: String, Choices: llamaKVCacheTypes, Env: "LLAMA_ARG_CACHE_TYPE_V"},
		{Names: []string{"--defrag-thold", "-dt"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_DEFRAG_THOLD"},
		// The server's own -np (arg.cpp:2114-2125): 0 throws; -1, the server's default, is 4 slots sharing one KV cache
		// (tools/server/server.cpp:95-100).
		{Names: []string{"--parallel", "-np"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_N_PARALLEL"},
		{Names: []string{"--cont-batching", "-cb"}, Negation: "--no-cont-batching", Arity: NoValue, Env: "LLAMA_ARG_CONT_BATCHING"},
		// -nocb: a second negative spelling of --cont-batching (flags.go holds one Negation per Flag).
		{Names: []string{"-nocb"}, Arity: NoValue},
		{Names: []string{"--mmproj", "-mm"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MMPROJ"},
		{Names: []string{"--mmproj-url", "-mmu"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MMPROJ_URL"},
		{Names: []string{"--mmproj-auto"}, Negation: "--no-mmproj-auto", Arity: NoValue, Env: "LLAMA_ARG_MMPROJ_AUTO"},
		// --no-mmproj: a second negative spelling of --mmproj-auto (flags.go holds one Negation per Flag).
		{Names: []string{"--no-mmproj"}, Arity: NoValue},
		{Names: []string{"--mmproj-offload"}, Negation: "--no-mmproj-offload", Arity: NoValue, Env: "LLAMA_ARG_MMPROJ_OFFLOAD"},
		{Names: []string{"--image-min-tokens"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_IMAGE_MIN_TOKENS"},
		{Names: []string{"--image-max-tokens"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_IMAGE_MAX_TOKENS"},
		// Only where an RPC backend is loaded (llama_supports_rpc, arg.cpp:2204). The ghcr.io images are built
		// without GGML_RPC (.devops/*.Dockerfile), so there it is "error: invalid argument: --rpc". Kept: the
		// table must not refuse what a build with RPC accepts.
		{Names: []string{"--rpc"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_RPC"},
		{Names: []string{"--mlock"}, Arity: NoValue, Env: "LLAMA_ARG_MLOCK"},
		{Names: []string{"--mmap"}, Negation: "--no-mmap", Arity: NoValue, Env: "LLAMA_ARG_MMAP"},
		{Names: []string{"--direct-io", "-dio"}, Negation: "--no-direct-io", Arity: NoValue, Env: "LLAMA_ARG_DIO"},
		// -ndio: a second negative spelling of --direct-io (flags.go holds one Negation per Flag).
		{Names: []string{"-ndio"}, Arity: NoValue},
		// "" (an empty argument) is accepted as distribute.
		{Names: []string{"--numa"}, Arity: OneValue, Type: String, Choices: []string{"distribute", "", "isolate", "numactl"}, Env: "LLAMA_ARG_NUMA"},
		{Names: []string{"--device", "-dev"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_DEVICE"},
		{Names: []string{"--list-devices"}, Arity: NoValue},
		{Names: []string{"--override-tensor", "-ot"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_OVERRIDE_TENSOR"},
		{Names: []string{"--override-tensor-draft", "-otd"}, Arity: OneValue, Type: String},
		{Names: []string{"--cpu-moe", "-cmoe"}, Arity: NoValue, Env: "LLAMA_ARG_CPU_MOE"},
		{Names: []string{"--n-cpu-moe", "-ncmoe"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_N_CPU_MOE"},
		{Names: []string{"--cpu-moe-draft", "-cmoed"}, Arity: NoValue, Env: "LLAMA_ARG_CPU_MOE_DRAFT"},
		{Names: []string{"--n-cpu-moe-draft", "-ncmoed"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_N_CPU_MOE_DRAFT"},
		// "auto", "all" or a std::stoi number.
		{Names: []string{"--gpu-layers", "-ngl", "--n-gpu-layers"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_N_GPU_LAYERS"},
		{Names: []string{"--split-mode", "-sm"}, Arity: OneValue, Type: String, Choices: []string{"none", "layer", "row", "tensor"}, Env: "LLAMA_ARG_SPLIT_MODE"},
		{Names: []string{"--tensor-split", "-ts"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_TENSOR_SPLIT"},
		{Names: []string{"--main-gpu", "-mg"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_MAIN_GPU"},
		{Names: []string{"--fit", "-fit"}, Arity: OneValue, Type: String, Choices: llamaOnOff, Env: "LLAMA_ARG_FIT"},
		{Names: []string{"--fit-target", "-fitt"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_FIT_TARGET"},
		{Names: []string{"--fit-ctx", "-fitc"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_FIT_CTX"},
		{Names: []string{"--check-tensors"}, Arity: NoValue},
		{Names: []string{"--override-kv"}, Arity: OneValue, Type: String},
		{Names: []string{"--op-offload"}, Negation: "--no-op-offload", Arity: NoValue},
		{Names: []string{"--lora"}, Arity: OneValue, Type: String},
		{Names: []string{"--lora-scaled"}, Arity: OneValue, Type: String},
		{Names: []string{"--control-vector"}, Arity: OneValue, Type: String},
		{Names: []string{"--control-vector-scaled"}, Arity: OneValue, Type: String},
		// Two values: START END, each std::stoi.
		{Names: []string{"--control-vector-layer-range"}, Arity: TwoValues, Type: String},
		{Names: []string{"--alias", "-a"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_ALIAS"},
		{Names: []string{"--tags"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_TAGS"},
		{Names: []string{"--model", "-m"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MODEL"},
		{Names: []string{"--model-url", "-mu"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MODEL_URL"},
		{Names: []string{"--docker-repo", "-dr"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_DOCKER_REPO"},
		{Names: []string{"--hf-repo", "-hf", "-hfr"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_HF_REPO"},
		{Names: []string{"--hf-repo-draft", "-hfd", "-hfrd"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_HFD_REPO"},
		{Names: []string{"--hf-file", "-hff"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_HF_FILE"},
		{Names: []string{"--hf-repo-v", "-hfv", "-hfrv"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_HF_REPO_V"},
		{Names: []string{"--hf-file-v", "-hffv"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_HF_FILE_V"},
		{Names: []string{"--hf-token", "-hft"}, Arity: OneValue, Type: String, Env: "HF_TOKEN"},
		{Names: []string{"--host"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_HOST"},
		{Names: []string{"--port"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_PORT"},
		{Names: []string{"--reuse-port"}, Arity: NoValue, Env: "LLAMA_ARG_REUSE_PORT"},
		{Names: []string{"--path"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_STATIC_PATH"},
		{Names: []string{"--api-prefix"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_API_PREFIX"},
		{Names: []string{"--webui-config"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_WEBUI_CONFIG"},
		{Names: []string{"--webui-config-file"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_WEBUI_CONFIG_FILE"},
		{Names: []string{"--webui-mcp-proxy"}, Negation: "--no-webui-mcp-proxy", Arity: NoValue, Env: "LLAMA_ARG_WEBUI_MCP_PROXY"},
		{Names: []string{"--tools"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_TOOLS"},
		{Names: []string{"--webui"}, Negation: "--no-webui", Arity: NoValue, Env: "LLAMA_ARG_WEBUI"},
		{Names: []string{"--embedding", "--embeddings"}, Arity: NoValue, Env: "LLAMA_ARG_EMBEDDINGS"},
		{Names: []string{"--rerank", "--reranking"}, Arity: NoValue, Env: "LLAMA_ARG_RERANKING"},
		{Names: []string{"--api-key"}, Arity: OneValue, Type: String, Env: "LLAMA_API_KEY"},
		{Names: []string{"--api-key-file"}, Arity: OneValue, Type: String},
		{Names: []string{"--ssl-key-file"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_SSL_KEY_FILE"},
		{Names: []string{"--ssl-cert-file"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_SSL_CERT_FILE"},
		{Names: []string{"--chat-template-kwargs"}, Arity: OneValue, Type: llamaJSON, Env: "LLAMA_CHAT_TEMPLATE_KWARGS"},
		{Names: []string{"--timeout", "-to"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_TIMEOUT"},
		{Names: []string{"--threads-http"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_THREADS_HTTP"},
		{Names: []string{"--cache-prompt"}, Negation: "--no-cache-prompt", Arity: NoValue, Env: "LLAMA_ARG_CACHE_PROMPT"},
		{Names: []string{"--cache-reuse"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_CACHE_REUSE"},
		{Names: []string{"--metrics"}, Arity: NoValue, Env: "LLAMA_ARG_ENDPOINT_METRICS"},
		{Names: []string{"--props"}, Arity: NoValue, Env: "LLAMA_ARG_ENDPOINT_PROPS"},
		{Names: []string{"--slots"}, Negation: "--no-slots", Arity: NoValue, Env: "LLAMA_ARG_ENDPOINT_SLOTS"},
		{Names: []string{"--slot-save-path"}, Arity: OneValue, Type: String},
		{Names: []string{"--media-path"}, Arity: OneValue, Type: String},
		{Names: []string{"--models-dir"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MODELS_DIR"},
		{Names: []string{"--models-preset"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MODELS_PRESET"},
		{Names: []string{"--models-max"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_MODELS_MAX"},
		{Names: []string{"--models-autoload"}, Negation: "--no-models-autoload", Arity: NoValue, Env: "LLAMA_ARG_MODELS_AUTOLOAD"},
		{Names: []string{"--jinja"}, Negation: "--no-jinja", Arity: NoValue, Env: "LLAMA_ARG_JINJA"},
		{Names: []string{"--reasoning-format"}, Arity: OneValue, Type: String, Choices: []string{"none", "auto", "deepseek", "deepseek-legacy"}, Env: "LLAMA_ARG_THINK"},
		{Names: []string{"--reasoning", "-rea"}, Arity: OneValue, Type: String, Choices: llamaTriState, Env: "LLAMA_ARG_REASONING"},
		{Names: []string{"--reasoning-budget"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_THINK_BUDGET"},
		{Names: []string{"--reasoning-budget-message"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_THINK_BUDGET_MESSAGE"},
		{Names: []string{"--chat-template"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_CHAT_TEMPLATE"},
		{Names: []string{"--chat-template-file"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_CHAT_TEMPLATE_FILE"},
		{Names: []string{"--skip-chat-parsing"}, Negation: "--no-skip-chat-parsing", Arity: NoValue, Env: "LLAMA_ARG_SKIP_CHAT_PARSING"},
		{Names: []string{"--prefill-assistant"}, Negation: "--no-prefill-assistant", Arity: NoValue, Env: "LLAMA_ARG_PREFILL_ASSISTANT"},
		{Names: []string{"--slot-prompt-similarity", "-sps"}, Arity: OneValue, Type: llamaStof},
		{Names: []string{"--lora-init-without-apply"}, Arity: NoValue},
		{Names: []string{"--sleep-idle-seconds"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--log-disable"}, Arity: NoValue},
		{Names: []string{"--log-file"}, Arity: OneValue, Type: String, Env: "LLAMA_LOG_FILE"},
		{Names: []string{"--log-colors"}, Arity: OneValue, Type: String, Choices: llamaTriState, Env: "LLAMA_LOG_COLORS"},
		{Names: []string{"--verbose", "-v", "--log-verbose"}, Arity: NoValue},
		{Names: []string{"--offline"}, Arity: NoValue, Env: "LLAMA_OFFLINE"},
		{Names: []string{"--verbosity", "-lv", "--log-verbosity"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_LOG_VERBOSITY"},
		{Names: []string{"--log-prefix"}, Arity: NoValue, Env: "LLAMA_LOG_PREFIX"},
		{Names: []string{"--log-timestamps"}, Arity: NoValue, Env: "LLAMA_LOG_TIMESTAMPS"},
		{Names: []string{"--threads-draft", "-td"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--threads-batch-draft", "-tbd"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--draft", "--draft-n", "--draft-max"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_DRAFT_MAX"},
		{Names: []string{"--draft-min", "--draft-n-min"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_DRAFT_MIN"},
		{Names: []string{"--draft-p-min"}, Arity: OneValue, Type: llamaStof, Env: "LLAMA_ARG_DRAFT_P_MIN"},
		{Names: []string{"--ctx-size-draft", "-cd"}, Arity: OneValue, Type: llamaStoi, Env: "LLAMA_ARG_CTX_SIZE_DRAFT"},
		{Names: []string{"--device-draft", "-devd"}, Arity: OneValue, Type: String},
		// "auto", "all" or a std::stoi number.
		{Names: []string{"--gpu-layers-draft", "-ngld", "--n-gpu-layers-draft"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_N_GPU_LAYERS_DRAFT"},
		{Names: []string{"--model-draft", "-md"}, Arity: OneValue, Type: String, Env: "LLAMA_ARG_MODEL_DRAFT"},
		// Two values: TARGET DRAFT.
		{Names: []string{"--spec-replace"}, Arity: TwoValues, Type: String},
		{Names: []string{"--spec-type"}, Arity: OneValue, Type: String, Choices: []string{"none", "ngram-cache", "ngram-simple", "ngram-map-k", "ngram-map-k4v", "ngram-mod"}, Env: "LLAMA_ARG_SPEC_TYPE"},
		{Names: []string{"--spec-ngram-size-n"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--spec-ngram-size-m"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--spec-ngram-min-hits"}, Arity: OneValue, Type: llamaStoi},
		{Names: []string{"--cache-type-k-draft", "-ctkd"}, Arity: OneValue, Type: String, Choices: llamaKVCacheTypes, Env: "LLAMA_ARG_CACHE_TYPE_K_DRAFT"},
		{Names: []string{"--cache-type-v-draft", "-ctvd"}, Arity: OneValue, Type: String, Choices: llamaKVCacheTypes, Env: "LLAMA_ARG_CACHE_TYPE_V_DRAFT"},
		{Names: []string{"--model-vocoder", "-mv"}, Arity: OneValue, Type: String},
		{Names: []string{"--tts-use-guide-tokens"}, Arity: NoValue},
		{Names: []string{"--embd-gemma-default"}, Arity: NoValue},
		{Names: []string{"--fim-qwen-1.5b-default"}, Arity: NoValue},
		{Names: []string{"--fim-qwen-3b-default"}, Arity: NoValue},
		{Names: []string{"--fim-qwen-7b-default"}, Arity: NoValue},
		{Names: []string{"--fim-qwen-7b-spec"}, Arity: NoValue},
		{Names: []string{"--fim-qwen-14b-spec"}, Arity: NoValue},
		{Names: []string{"--fim-qwen-30b-default"}, Arity: NoValue},
		{Names: []string{"--gpt-oss-20b-default"}, Arity: NoValue},
		{Names: []string{"--gpt-oss-120b-default"}, Arity: NoValue},
		{Names: []string{"--vision-gemma-4b-default"}, Arity: NoValue},
		{Names: []string{"--vision-gemma-12b-default"}, Arity: NoValue},
		{Names: []string{"--spec-default"}, Arity: NoValue},
	},
}
