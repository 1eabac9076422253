// Package checkpoint reads what a model checkpoint says about itself — its config.json (the transformers
// configuration every engine loads) and its file list — so that the operator can size and configure the engine
// from the real model instead of a built-in catalogue (issue #13, item 5). Pure: it takes bytes and file sizes.
package checkpoint

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/privatellm/privatellm/internal/gpu"
)

// Facts are what a checkpoint says of the model. Zero values are unknown.
type Facts struct {
	// Architecture is the first of config.json's architectures, e.g. LlamaForCausalLM; ModelType its model_type.
	Architecture string `json:"architecture,omitempty"`
	ModelType    string `json:"modelType,omitempty"`
	// Layers, HiddenSize, AttentionHeads, KVHeads (num_key_value_heads, else the attention heads) and HeadDim
	// (head_dim, else hidden size / heads) are the transformer's shape, which the KV cache's size follows.
	Layers         int64 `json:"layers,omitempty"`
	HiddenSize     int64 `json:"hiddenSize,omitempty"`
	AttentionHeads int64 `json:"attentionHeads,omitempty"`
	KVHeads        int64 `json:"kvHeads,omitempty"`
	HeadDim        int64 `json:"headDim,omitempty"`
	// ContextLength is max_position_embeddings.
	ContextLength int64 `json:"contextLength,omitempty"`
	// TorchDtype is torch_dtype (or dtype), e.g. bfloat16.
	TorchDtype string `json:"torchDtype,omitempty"`
	// Quantization is config.json's quantization_config; nil for an unquantized checkpoint.
	Quantization *Quantization `json:"quantization,omitempty"`
	// Format is the weights' format: safetensors, gguf or pytorch; WeightBytes their total size.
	Format      string `json:"format,omitempty"`
	WeightBytes int64  `json:"weightBytes,omitempty"`
	// Parameters is estimated from WeightBytes and the bits per weight (the quantization's, else the dtype's).
	Parameters int64 `json:"parameters,omitempty"`
}

// Quantization is a pre-quantized checkpoint's method and bits per weight.
type Quantization struct {
	// Method is quant_method, e.g. awq, gptq, fp8, fbgemm_fp8, compressed-tensors, bitsandbytes.
	Method string `json:"method"`
	// Bits per weight, 0 when the config does not say.
	Bits int64 `json:"bits,omitempty"`
}

// config is the part of config.json the facts come from; multimodal models nest the language model's in
// text_config.
type config struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	NumHiddenLayers       int64           `json:"num_hidden_layers"`
	HiddenSize            int64           `json:"hidden_size"`
	NumAttentionHeads     int64           `json:"num_attention_heads"`
	NumKeyValueHeads      int64           `json:"num_key_value_heads"`
	HeadDim               int64           `json:"head_dim"`
	MaxPositionEmbeddings int64           `json:"max_position_embeddings"`
	TorchDtype            string          `json:"torch_dtype"`
	Dtype                 string          `json:"dtype"`
	QuantizationConfig    json.RawMessage `json:"quantization_config"`
	TextConfig            *config         `json:"text_config"`
}

// FromConfig reads the facts of a config.json.
func FromConfig(raw []byte) (Facts, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return Facts{}, fmt.Errorf("config.json: %w", err)
	}
	f := Facts{ModelType: c.ModelType}
	if len(c.Architectures) > 0 {
		f.Architecture = c.Architectures[0]
	}
	shape := &c
	if c.NumHiddenLayers == 0 && c.TextConfig != nil {
		shape = c.TextConfig
	}
	f.Layers, f.HiddenSize, f.AttentionHeads = shape.NumHiddenLayers, shape.HiddenSize, shape.NumAttentionHeads
	f.KVHeads, f.HeadDim, f.ContextLength = shape.NumKeyValueHeads, shape.HeadDim, shape.MaxPositionEmbeddings
	if f.KVHeads == 0 {
		f.KVHeads = f.AttentionHeads
	}
	if f.HeadDim == 0 && f.AttentionHeads > 0 {
		f.HeadDim = f.HiddenSize / f.AttentionHeads
	}
	f.TorchDtype = firstNonEmpty(c.TorchDtype, c.Dtype, shape.TorchDtype, shape.Dtype)
	q, err := quantization(c.QuantizationConfig)
	if err != nil {
		return Facts{}, err
	}
	f.Quantization = q
	return f, nil
}

// quantization reads quantization_config: quant_method, and the bits from bits, weight_bits, the
// compressed-tensors config groups' weights.num_bits, 8 for the FP8 methods, or bitsandbytes' load_in_4bit/8bit.
func quantization(raw json.RawMessage) (*Quantization, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var q struct {
		QuantMethod  string `json:"quant_method"`
		Bits         int64  `json:"bits"`
		WeightBits   int64  `json:"weight_bits"`
		LoadIn4Bit   bool   `json:"load_in_4bit"`
		LoadIn8Bit   bool   `json:"load_in_8bit"`
		ConfigGroups map[string]struct {
			Weights struct {
				NumBits int64 `json:"num_bits"`
			} `json:"weights"`
		} `json:"config_groups"`
	}
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, fmt.Errorf("config.json quantization_config: %w", err)
	}
	out := &Quantization{Method: strings.ToLower(q.QuantMethod), Bits: max(q.Bits, q.WeightBits)}
	for _, g := range q.ConfigGroups {
		out.Bits = max(out.Bits, g.Weights.NumBits)
	}
	switch {
	case out.Bits > 0:
	case strings.Contains(out.Method, "fp8"):
		out.Bits = 8
	case q.LoadIn4Bit:
		out.Bits = 4
	case q.LoadIn8Bit:
		out.Bits = 8
	}
	return out, nil
}

// File is one file of the checkpoint and its size.
type File struct {
	Path string
	Size int64
}

// WithFiles adds what the file list says: the weights' format and total size, and the parameter count that
// size implies at the bits per weight. Safetensors win over PyTorch .bin files when a repo has both (engines
// load the safetensors); consolidated copies under original/ are not counted.
func WithFiles(f Facts, files []File) Facts {
	sizes := map[string]int64{}
	for _, file := range files {
		if strings.HasPrefix(file.Path, "original/") {
			continue
		}
		switch ext := path.Ext(file.Path); ext {
		case ".safetensors":
			sizes["safetensors"] += file.Size
		case ".gguf":
			sizes["gguf"] += file.Size
		case ".bin", ".pt", ".pth":
			if strings.Contains(path.Base(file.Path), "model") {
				sizes["pytorch"] += file.Size
			}
		}
	}
	for _, format := range []string{"safetensors", "gguf", "pytorch"} {
		if sizes[format] > 0 {
			f.Format, f.WeightBytes = format, sizes[format]
			break
		}
	}
	if bits := f.bitsPerWeight(); bits > 0 && f.WeightBytes > 0 {
		f.Parameters = f.WeightBytes * 8 / bits
	}
	return f
}

// bitsPerWeight is the quantization's bits, else the dtype's; 0 when unknown (a GGUF file's are its own).
func (f Facts) bitsPerWeight() int64 {
	if f.Quantization != nil && f.Quantization.Bits > 0 {
		return f.Quantization.Bits
	}
	switch f.TorchDtype {
	case "float32":
		return 32
	case "bfloat16", "float16":
		return 16
	}
	return 0
}

// KVCacheBytesPerToken is the KV cache one token takes at bytesPerValue (2 for a 16-bit cache): keys and
// values of every layer's KV heads; 0 when the shape is unknown.
func (f Facts) KVCacheBytesPerToken(bytesPerValue int64) int64 {
	return 2 * f.Layers * f.KVHeads * f.HeadDim * bytesPerValue
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// FitArchitecture is what the fit estimate (internal/gpu) needs, from the checkpoint instead of the catalogue:
// false when the parameter count or the attention shape is unknown. name labels it, e.g. the repo id.
func (f Facts) FitArchitecture(name string) (gpu.Architecture, bool) {
	if f.Parameters <= 0 || f.Layers <= 0 || f.KVHeads <= 0 || f.HeadDim <= 0 {
		return gpu.Architecture{}, false
	}
	return gpu.Architecture{
		Family: name, Parameters: float64(f.Parameters) / 1e9,
		Layers: f.Layers, KVHeads: f.KVHeads, HeadDim: f.HeadDim, AttentionHeads: f.AttentionHeads,
		MaxContext: f.ContextLength,
	}, true
}
