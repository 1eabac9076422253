package hubsim

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
)

// File is one file of a repo at a commit.
type File struct {
	// Path is relative to the repo root, '/'-separated. It is listed and served as given, even an unsafe one
	// such as "../x", so that a client's own checks can be tested.
	Path string
	// Content is the file's bytes (for an LFS file, the real content, not the pointer).
	Content []byte
	// LFS stores the file with Git LFS (or Xet): the tree lists its sha256, size and pointer size, and /resolve
	// answers with a 302 to the CDN instead of the bytes.
	LFS bool
}

// GitFile returns a file stored in git itself.
func GitFile(path string, content []byte) File { return File{Path: path, Content: content} }

// Text returns a file stored in git itself with a text content.
func Text(path, content string) File { return File{Path: path, Content: []byte(content)} }

// LFSFile returns a file stored with Git LFS.
func LFSFile(path string, content []byte) File { return File{Path: path, Content: content, LFS: true} }

// Size is the length of the content.
func (f File) Size() int64 { return int64(len(f.Content)) }

// GitOID is the git blob id of the content: sha1("blob <size>\x00" + content).
func (f File) GitOID() string { return GitBlobSHA1(f.Content) }

// SHA256 is the hex sha256 of the content (the LFS oid).
func (f File) SHA256() string {
	s := sha256.Sum256(f.Content)
	return hex.EncodeToString(s[:])
}

// Pointer is the Git LFS pointer file git stores for an LFS file.
func (f File) Pointer() string {
	return fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", f.SHA256(), len(f.Content))
}

// TreeOID is the "oid" the tree listing gives: the git blob id of what git stores, the pointer for an LFS file.
func (f File) TreeOID() string {
	if f.LFS {
		return GitBlobSHA1([]byte(f.Pointer()))
	}
	return f.GitOID()
}

// ETag is the file's etag as /resolve reports it (X-Linked-Etag for LFS, ETag otherwise), which is also the
// name of its blob in the Hugging Face cache: the sha256 for an LFS file, the git blob id otherwise.
func (f File) ETag() string {
	if f.LFS {
		return f.SHA256()
	}
	return f.GitOID()
}

// XetHash is the "xetHash" the tree lists for an LFS file: 64 hex digits derived from the content (the Hub's is
// a Merkle hash of Xet chunks; clients only pass it on).
func (f File) XetHash() string {
	s := sha256.Sum256([]byte("xet\x00" + f.SHA256()))
	return hex.EncodeToString(s[:])
}

// GitBlobSHA1 is git's blob id of b: sha1("blob <len>\x00" + b).
func GitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// Filler returns size deterministic bytes that depend on seed, so that files of the same size differ.
func Filler(seed string, size int64) []byte {
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	x := h.Sum64() | 1
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		x ^= x << 13 // xorshift64
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(b[i:], x)
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// Safetensors returns an LFS file of exactly size bytes. When size leaves room for the header (about 100 bytes
// or more) it is a valid safetensors file: an 8-byte little-endian header length, a JSON header with
// "__metadata__" {"format": "pt"} and one U8 tensor "filler", padded with spaces to a multiple of 8, then that
// tensor's bytes (Filler, seeded with path). Smaller sizes get filler only.
func Safetensors(path string, size int64) File {
	return LFSFile(path, safetensorsContent(path, size))
}

func safetensorsContent(seed string, size int64) []byte {
	header := func(n int64) []byte {
		return []byte(`{"__metadata__":{"format":"pt"},"filler":{"dtype":"U8","shape":[` +
			strconv.FormatInt(n, 10) + `],"data_offsets":[0,` + strconv.FormatInt(n, 10) + `]}}`)
	}
	// The header names the data's length; one computed for the whole size is at least as long, so padding to
	// that (8-aligned) leaves room for the real one.
	padded := (int64(len(header(size))) + 7) &^ 7
	n := size - 8 - padded
	if n < 0 {
		return Filler(seed, size)
	}
	h := header(n)
	out := make([]byte, 0, size)
	out = binary.LittleEndian.AppendUint64(out, uint64(padded))
	out = append(out, h...)
	for int64(len(out)) < 8+padded {
		out = append(out, ' ')
	}
	return append(out, Filler(seed, n)...)
}

// Config describes a model's config.json. Zero fields take the values of Llama 3.1 8B.
type Config struct {
	// Architecture is the single entry of "architectures" (default "LlamaForCausalLM").
	Architecture string
	// ModelType is "model_type" (default: derived from Architecture, "llama" for Llama).
	ModelType string
	// Layers is "num_hidden_layers" (default 32).
	Layers int
	// HiddenSize is "hidden_size" (default 4096).
	HiddenSize int
	// IntermediateSize is "intermediate_size" (default 14336).
	IntermediateSize int
	// Heads is "num_attention_heads" (default 32).
	Heads int
	// KVHeads is "num_key_value_heads" (default 8).
	KVHeads int
	// MaxPositionEmbeddings is "max_position_embeddings" (default 131072).
	MaxPositionEmbeddings int
	// VocabSize is "vocab_size" (default 128256).
	VocabSize int
	// TorchDtype is "torch_dtype" (default "bfloat16").
	TorchDtype string
	// Quantization is "quantization_config"; nil leaves it out. See AWQ, GPTQ and FP8.
	Quantization map[string]any
}

// ModelConfig returns a config.json body as transformers writes it (keys sorted, two-space indent, a final
// newline).
func ModelConfig(c Config) []byte {
	or := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	if c.Architecture == "" {
		c.Architecture = "LlamaForCausalLM"
	}
	if c.ModelType == "" {
		c.ModelType = modelTypeOf(c.Architecture)
	}
	if c.TorchDtype == "" {
		c.TorchDtype = "bfloat16"
	}
	m := map[string]any{
		"architectures":           []string{c.Architecture},
		"model_type":              c.ModelType,
		"num_hidden_layers":       or(c.Layers, 32),
		"hidden_size":             or(c.HiddenSize, 4096),
		"intermediate_size":       or(c.IntermediateSize, 14336),
		"num_attention_heads":     or(c.Heads, 32),
		"num_key_value_heads":     or(c.KVHeads, 8),
		"max_position_embeddings": or(c.MaxPositionEmbeddings, 131072),
		"vocab_size":              or(c.VocabSize, 128256),
		"torch_dtype":             c.TorchDtype,
		"hidden_act":              "silu",
		"rms_norm_eps":            1e-05,
		"rope_theta":              500000.0,
		"tie_word_embeddings":     false,
		"bos_token_id":            128000,
		"eos_token_id":            128001,
		"use_cache":               true,
		"transformers_version":    "4.43.0",
	}
	if c.Quantization != nil {
		m["quantization_config"] = c.Quantization
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // only plain values above
	}
	return append(b, '\n')
}

// modelTypeOf maps an architecture to its transformers model_type: "MistralForCausalLM" → "mistral".
func modelTypeOf(arch string) string {
	for _, suffix := range []string{"ForCausalLM", "ForConditionalGeneration", "Model"} {
		if len(arch) > len(suffix) && arch[len(arch)-len(suffix):] == suffix {
			arch = arch[:len(arch)-len(suffix)]
			break
		}
	}
	out := make([]byte, 0, len(arch))
	for i := 0; i < len(arch); i++ {
		c := arch[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// AWQ is the quantization_config of an AutoAWQ 4-bit checkpoint (as hugging-quants/Meta-Llama-3.1-8B-Instruct-
// AWQ-INT4 has it).
func AWQ() map[string]any {
	return map[string]any{"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true,
		"version": "gemm", "modules_to_not_convert": nil}
}

// GPTQ is the quantization_config of an AutoGPTQ 4-bit checkpoint.
func GPTQ() map[string]any {
	return map[string]any{"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": true, "sym": true,
		"damp_percent": 0.1, "true_sequential": true}
}

// FP8 is the quantization_config of an FBGEMM FP8 checkpoint (as meta-llama/Llama-3.1-405B-Instruct-FP8 has
// it, its module list shortened).
func FP8() map[string]any {
	return map[string]any{"quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0,
		"modules_to_not_convert": []string{"lm_head"}}
}

// ModelFiles returns the files of a transformers model repo: .gitattributes, README.md, config.json (from
// cfg), generation_config.json, tokenizer.json, tokenizer_config.json and the safetensors weights, one shard of
// each given size: "model.safetensors" for one, "model-0000i-of-0000n.safetensors" and
// "model.safetensors.index.json" for more. The weights are LFS files.
func ModelFiles(cfg Config, shardSizes ...int64) []File {
	files := []File{
		Text(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n"+
			"tokenizer.json filter=lfs diff=lfs merge=lfs -text\n"),
		Text("README.md", "---\nlibrary_name: transformers\npipeline_tag: text-generation\n---\n# Model\n"),
		GitFile("config.json", ModelConfig(cfg)),
		Text("generation_config.json", "{\n  \"bos_token_id\": 128000,\n  \"eos_token_id\": 128001,\n  \"do_sample\": true,\n"+
			"  \"temperature\": 0.6,\n  \"top_p\": 0.9,\n  \"transformers_version\": \"4.43.0\"\n}\n"),
		Text("tokenizer.json", `{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"model":{"type":"BPE","vocab":{},"merges":[]}}`+"\n"),
		Text("tokenizer_config.json", "{\n  \"bos_token\": \"<|begin_of_text|>\",\n  \"eos_token\": \"<|end_of_text|>\",\n"+
			"  \"model_max_length\": 131072,\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\"\n}\n"),
	}
	switch n := len(shardSizes); n {
	case 0:
	case 1:
		files = append(files, Safetensors("model.safetensors", shardSizes[0]))
	default:
		weightMap := map[string]string{}
		var total int64
		for i, size := range shardSizes {
			name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, n)
			files = append(files, Safetensors(name, size))
			weightMap[fmt.Sprintf("model.layers.%d.weight", i)] = name
			total += size
		}
		index, _ := json.MarshalIndent(map[string]any{"metadata": map[string]any{"total_size": total},
			"weight_map": weightMap}, "", "  ")
		files = append(files, GitFile("model.safetensors.index.json", append(index, '\n')))
	}
	return files
}
