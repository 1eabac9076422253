package checkpoint

import (
	"reflect"
	"testing"

	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gpu"
)

// The configs are cut down to the fields read, with the values of the models' published config.json files.
const (
	llama31_8B = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","num_hidden_layers":32,"hidden_size":4096,
		"num_attention_heads":32,"num_key_value_heads":8,"max_position_embeddings":131072,"torch_dtype":"bfloat16","vocab_size":128256}`
	llamaAWQ = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","num_hidden_layers":32,"hidden_size":4096,
		"num_attention_heads":32,"num_key_value_heads":8,"max_position_embeddings":131072,"torch_dtype":"float16",
		"quantization_config":{"quant_method":"awq","bits":4,"group_size":128,"version":"gemm","zero_point":true}}`
	llamaFP8 = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","num_hidden_layers":126,"hidden_size":16384,
		"num_attention_heads":128,"num_key_value_heads":8,"max_position_embeddings":131072,"torch_dtype":"bfloat16",
		"quantization_config":{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":8,"type":"float"}}}}}`
	fbgemm = `{"architectures":["LlamaForCausalLM"],"num_hidden_layers":126,"hidden_size":16384,"num_attention_heads":128,
		"quantization_config":{"quant_method":"fbgemm_fp8","activation_scale_ub":1200.0}}`
	gemma2 = `{"architectures":["Gemma2ForCausalLM"],"model_type":"gemma2","num_hidden_layers":42,"hidden_size":3584,
		"num_attention_heads":16,"num_key_value_heads":8,"head_dim":256,"max_position_embeddings":8192,"torch_dtype":"bfloat16"}`
	multimodal = `{"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3","torch_dtype":"bfloat16",
		"text_config":{"num_hidden_layers":62,"hidden_size":5376,"num_attention_heads":32,"num_key_value_heads":16,"head_dim":128,"max_position_embeddings":131072}}`
)

func TestFromConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		raw  string
		want Facts
	}{
		"llama 3.1 8B": {llama31_8B, Facts{Architecture: "LlamaForCausalLM", ModelType: "llama", Layers: 32, HiddenSize: 4096,
			AttentionHeads: 32, KVHeads: 8, HeadDim: 128, ContextLength: 131072, TorchDtype: "bfloat16"}},
		"AWQ": {llamaAWQ, Facts{Architecture: "LlamaForCausalLM", ModelType: "llama", Layers: 32, HiddenSize: 4096,
			AttentionHeads: 32, KVHeads: 8, HeadDim: 128, ContextLength: 131072, TorchDtype: "float16",
			Quantization: &Quantization{Method: "awq", Bits: 4}}},
		"compressed-tensors FP8": {llamaFP8, Facts{Architecture: "LlamaForCausalLM", ModelType: "llama", Layers: 126,
			HiddenSize: 16384, AttentionHeads: 128, KVHeads: 8, HeadDim: 128, ContextLength: 131072, TorchDtype: "bfloat16",
			Quantization: &Quantization{Method: "compressed-tensors", Bits: 8}}},
		"fbgemm FP8, no KV heads": {fbgemm, Facts{Architecture: "LlamaForCausalLM", Layers: 126, HiddenSize: 16384,
			AttentionHeads: 128, KVHeads: 128, HeadDim: 128, Quantization: &Quantization{Method: "fbgemm_fp8", Bits: 8}}},
		"explicit head_dim": {gemma2, Facts{Architecture: "Gemma2ForCausalLM", ModelType: "gemma2", Layers: 42, HiddenSize: 3584,
			AttentionHeads: 16, KVHeads: 8, HeadDim: 256, ContextLength: 8192, TorchDtype: "bfloat16"}},
		"text_config": {multimodal, Facts{Architecture: "Gemma3ForConditionalGeneration", ModelType: "gemma3", Layers: 62,
			HiddenSize: 5376, AttentionHeads: 32, KVHeads: 16, HeadDim: 128, ContextLength: 131072, TorchDtype: "bfloat16"}},
	} {
		got, err := FromConfig([]byte(tc.raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v %+v\nwant %+v %+v", name, got, got.Quantization, tc.want, tc.want.Quantization)
		}
	}
	if _, err := FromConfig([]byte(`{"num_hidden_layers": "many"}`)); err == nil {
		t.Error("a malformed config.json must be an error")
	}
}

// TestWithFiles: the weights' format and size, and the parameters they imply; the original/ copy and the
// PyTorch duplicates of safetensors do not count.
func TestWithFiles(t *testing.T) {
	base, _ := FromConfig([]byte(llama31_8B))
	// Llama 3.1 8B in bf16: four shards, 16,060,522,496 bytes in all (8.03B parameters × 2 bytes).
	files := []File{
		{"config.json", 826}, {"model-00001-of-00004.safetensors", 4976698672}, {"model-00002-of-00004.safetensors", 4999802720},
		{"model-00003-of-00004.safetensors", 4915916176}, {"model-00004-of-00004.safetensors", 1168138808},
		{"original/consolidated.00.pth", 16060617592}, {"pytorch_model.bin", 16060617592},
	}
	f := WithFiles(base, files)
	if f.Format != "safetensors" || f.WeightBytes != 16060556376 || f.Parameters != 8030278188 {
		t.Errorf("facts %+v", f)
	}
	awq, _ := FromConfig([]byte(llamaAWQ))
	if f := WithFiles(awq, []File{{"model.safetensors", 5_700_000_000}}); f.Parameters != 11_400_000_000 {
		t.Errorf("4-bit weights of 5.7 GB imply %d parameters, want 11.4B (packing overhead included)", f.Parameters)
	}
	if f := WithFiles(Facts{}, []File{{"Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 4_920_000_000}}); f.Format != "gguf" || f.Parameters != 0 {
		t.Errorf("a GGUF file: %+v (its bits are its own: no estimate)", f)
	}
	if kv := base.KVCacheBytesPerToken(2); kv != 131072 {
		t.Errorf("Llama 3.1 8B KV cache per token %d bytes, want 2 × 32 layers × 8 heads × 128 × 2 = 131072", kv)
	}
}

// TestFitOfAModelOutsideTheCatalogue: a model the built-in catalogue does not know is sized from its own
// config.json and file list, with the same estimator the webhook uses.
func TestFitOfAModelOutsideTheCatalogue(t *testing.T) {
	const uri = "hf://acme/orca-13b-chat"
	if _, ok := gpu.Lookup(uri); ok {
		t.Fatal("the test needs a model the catalogue does not know")
	}
	// A 13B Llama-shaped model in bf16: 40 layers, 40 heads of 128, no GQA, 4096 context, 26 GB of weights.
	facts, err := FromConfig([]byte(`{"architectures":["LlamaForCausalLM"],"num_hidden_layers":40,"hidden_size":5120,
		"num_attention_heads":40,"max_position_embeddings":4096,"torch_dtype":"bfloat16"}`))
	if err != nil {
		t.Fatal(err)
	}
	facts = WithFiles(facts, []File{{"model-00001-of-00003.safetensors", 9_950_000_000}, {"model-00002-of-00003.safetensors", 9_900_000_000}, {"model-00003-of-00003.safetensors", 6_180_000_000}})
	arch, ok := facts.FitArchitecture("acme/orca-13b-chat")
	if !ok || arch.Parameters != 13.015 || arch.KVHeads != 40 || arch.HeadDim != 128 {
		t.Fatalf("architecture %+v, %v", arch, ok)
	}
	spec := &v1.LLMDeploymentSpec{GPU: v1.GPUSpec{Count: ptr.To(int32(1))}}
	spec.Model.URI = uri
	l4, _ := gpu.ProductMemoryMiB("NVIDIA-L4")
	fit, err := gpu.Estimate(spec, arch, l4)
	if err != nil {
		t.Fatal(err)
	}
	// Weights 13.015e9 × 2 B = 24.2 GiB; KV cache 2 × 40 × 40 × 128 × 2 B × 4096 tokens = 3.1 GiB: no fit on an L4.
	if fit.Fits || fit.WeightsGiB < 24.2 || fit.WeightsGiB > 24.3 || fit.KVCacheGiB < 3.1 || fit.KVCacheGiB > 3.2 {
		t.Errorf("fit %s (fits %v)", fit, fit.Fits)
	}
	t.Logf("%s", fit)
}
