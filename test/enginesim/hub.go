package enginesim

import (
	"path"
	"strings"
)

// checkpoint is what the simulated Hugging Face Hub knows of a model. engine-sim has no weights: a repository's
// (or a local path's) name stands for its config.json, following how quantized checkpoints are named on the Hub —
// "…-AWQ", "…-GPTQ", "…-FP8", "…-bnb-4bit", "…-GGUF". That is enough to play the engines' refusals that depend
// on the checkpoint (a --quantization that does not match quantization_config, a dtype with a quantized model).
type checkpoint struct {
	// QuantMethod is quantization_config.quant_method ("" for an unquantized checkpoint).
	QuantMethod string
	// GGUF says the repository holds GGUF files (llama.cpp's -hf).
	GGUF bool
}

// checkpointOf returns what the simulated Hub says of a model id or path.
func checkpointOf(model string) checkpoint {
	org, _, _ := strings.Cut(strings.ToLower(model), "/")
	name := strings.ToLower(path.Base(model))
	c := checkpoint{GGUF: strings.Contains(name, "gguf")}
	switch {
	case c.GGUF:
	case strings.Contains(name, "-awq"):
		c.QuantMethod = "awq"
	case strings.Contains(name, "-gptq"):
		c.QuantMethod = "gptq"
	case strings.Contains(name, "-exl2"):
		c.QuantMethod = "exl2"
	case strings.Contains(name, "bnb-4bit"), strings.Contains(name, "-bnb"):
		c.QuantMethod = "bitsandbytes"
	case strings.Contains(name, "-fp8") && org == "meta-llama":
		c.QuantMethod = "fbgemm_fp8" // meta-llama/Llama-3.1-405B-Instruct-FP8
	case strings.Contains(name, "-fp8"), strings.Contains(name, "-w8a8"), strings.Contains(name, "-w4a16"):
		c.QuantMethod = "compressed-tensors" // llm-compressor checkpoints
	}
	return c
}
