package engine_test

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/engines.md")

const repoRoot = "../.."

var pinnedImage = regexp.MustCompile(`^[a-z0-9.-]+(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// TestRegistryIsComplete: every engine states every fact the rest of the operator reads, so that adding one is
// its own file and nothing else.
func TestRegistryIsComplete(t *testing.T) {
	names := engine.Names()
	if names[0] != v1.DefaultEngine || len(names) < 4 {
		t.Fatalf("Names() = %v: the default engine first, then every engine", names)
	}
	for _, f := range engine.All() {
		t.Run(string(f.Name), func(t *testing.T) {
			if f.Title == "" || f.Version == "" || f.Source == "" || !strings.Contains(f.Source, f.Version) {
				t.Errorf("title %q, version %q, source %q: say what the facts are from", f.Title, f.Version, f.Source)
			}
			for _, img := range []string{f.Image, f.CPUImage} {
				if img != "" && (!pinnedImage.MatchString(img) || strings.HasSuffix(img, ":latest") || !strings.Contains(img, strings.TrimPrefix(f.Version, "v"))) {
					t.Errorf("image %q must be pinned to a tag of release %s", img, f.Version)
				}
			}
			if f.Image == "" || len(f.Schemes) == 0 || len(f.Quantizations) == 0 || len(f.Dtypes) == 0 || f.Dtypes[0] != v1.DtypeAuto {
				t.Errorf("image, schemes, quantizations and dtypes (auto first) are required: %+v", f)
			}
			if f.Parallelism == "" || len(f.ManagedFlags) == 0 {
				t.Errorf("parallelism and managed flags are required")
			}
			if len(f.Metrics.RequestsRunning) == 0 || len(f.Metrics.RequestsWaiting) == 0 {
				t.Errorf("the autoscaler needs the running and waiting metrics: %+v", f.Metrics)
			}
			for _, n := range f.Metrics.CreatedOnFirstUse {
				if !slices.Contains(f.Metrics.RequestsRunning, n) && !slices.Contains(f.Metrics.RequestsWaiting, n) && !slices.Contains(f.Metrics.KVCacheUsage, n) {
					t.Errorf("created-on-first-use %s is not a gauge the operator reads", n)
				}
			}
			for _, q := range f.Quantizations {
				if q.Name == v1.QuantizationNone {
					if q.FromCheckpoint || q.OnLoadFlag != "" {
						t.Errorf("none is neither a checkpoint method nor an on-load one")
					}
					continue
				}
				if !q.FromCheckpoint && q.OnLoadFlag == "" || q.BitsPerWeight <= 0 {
					t.Errorf("%s: a method is read from the checkpoint, applied on load or both, and has its bits per weight", q.Name)
				}
				if q.OnLoadFlag != "" && f.QuantizationOption == "" {
					t.Errorf("%s: an on-load method needs the engine's quantization option", q.Name)
				}
			}
			if f.ServesOnCPU() != (f.CPUImage != "") {
				t.Error("CPU serving is having a CPU image")
			}
		})
	}
}

// TestEngineNamesStayInTheirOwnFiles proves that adding an engine needs no edit outside its own file (and its
// simulator profile): no other Go file that ships names an engine other than the default one, so nothing
// switches on engine names. Tests, the generated CRD, samples and docs may.
func TestEngineNamesStayInTheirOwnFiles(t *testing.T) {
	literal := map[string]v1.EngineName{}
	for _, n := range engine.Names() {
		literal[strconv.Quote(string(n))] = n
	}
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "bin", ".git", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(repoRoot, path)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			name, isEngine := literal[lit.Value]
			if !isEngine || allowedToName(rel, name) {
				return true
			}
			t.Errorf("%s names engine %s: engine facts belong in internal/engine/%s.go (or its simulator profile)", rel, lit.Value, name)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func allowedToName(rel string, name v1.EngineName) bool {
	base := filepath.Base(rel)
	switch {
	case filepath.Dir(rel) == filepath.Join("internal", "engine") && base == string(name)+".go":
		return true
	case filepath.Dir(rel) == filepath.Join("test", "enginesim") && strings.Contains(base, "_"+string(name)):
		return true // flags_<name>.go, profile_<name>.go
	case name == v1.DefaultEngine && rel == filepath.Join("api", "v1alpha1", "llmdeployment_types.go"):
		return true // DefaultEngine
	}
	return false
}

// TestDocs: the engine tables of docs/engines.md are the registry's (go test ./internal/engine -update).
func TestDocs(t *testing.T) {
	const begin, end = "<!-- BEGIN GENERATED by internal/engine.Docs: go test ./internal/engine -update -->\n", "<!-- END GENERATED -->"
	path := filepath.Join(repoRoot, "docs", "engines.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated section (%q … %q)", path, begin, end)
	}
	want := doc[:i+len(begin)] + "\n" + engine.Docs() + "\n" + doc[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is out of date with the engine registry: run go test ./internal/engine -update", path)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*v1.LLMDeployment)
		want string // "" for valid; else a substring of the error
	}{
		{"vllm defaults", func(*v1.LLMDeployment) {}, ""},
		{"unknown engine", func(l *v1.LLMDeployment) { l.Spec.Engine.Name = "triton" }, "Unsupported value"},
		{"vllm refuses exl2", func(l *v1.LLMDeployment) { l.Spec.Quantization = "exl2" }, "quantization exl2 is not available with engine vllm"},
		{"tgi refuses dtype half", on("tgi", func(l *v1.LLMDeployment) { l.Spec.Dtype = v1.DtypeHalf }), "dtype half is not available with engine tgi"},
		{"tgi refuses dtype with a quantization", on("tgi", func(l *v1.LLMDeployment) {
			l.Spec.Dtype, l.Spec.Quantization = v1.DtypeBFloat16, v1.QuantizationAWQ
		}), "does not accept a dtype together with a quantization"},
		{"tgi refuses s3", on("tgi", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "s3://b/m" }), "loads models from hf:// or pvc:// only"},
		{"tgi tensor parallel must equal the GPUs", on("tgi", func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(4)), ptr.To(int32(2))
		}), "set tensorParallelSize equal to gpu.count"},
		{"tgi exl2 on one GPU only", on("tgi", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.GPU.Count = "exl2", ptr.To(int32(2))
		}), "at most 1 GPU"},
		{"llamacpp needs a GGUF type", on("llamacpp", func(l *v1.LLMDeployment) { l.Spec.Quantization = v1.QuantizationNone }), "quantization none is not available with engine llamacpp"},
		{"llamacpp pvc names a .gguf file", on("llamacpp", func(l *v1.LLMDeployment) { l.Spec.Model.URI = "pvc://models/llama" }), "must name it"},
		{"llamacpp has no tensor parallelism", on("llamacpp", func(l *v1.LLMDeployment) {
			l.Spec.GPU.Count, l.Spec.TensorParallelSize = ptr.To(int32(2)), ptr.To(int32(2))
		}), "leave tensorParallelSize out"},
		{"only llamacpp serves on CPU", func(l *v1.LLMDeployment) { l.Spec.GPU.Count = ptr.To(int32(0)) }, "only engine llamacpp can"},
		{"llamacpp on CPU", on("llamacpp", func(l *v1.LLMDeployment) { l.Spec.GPU.Count = ptr.To(int32(0)) }), ""},
		{"quantized true with an on-load-only method", on("tgi", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.Model.Quantized = "bitsandbytes", ptr.To(true)
		}), ""},
		{"quantized false with a checkpoint-only method", func(l *v1.LLMDeployment) {
			l.Spec.Quantization, l.Spec.Model.Quantized = v1.QuantizationAWQ, ptr.To(false)
		}, "only fp8, bitsandbytes can quantize"},
		{"no KV-cache metric on tgi", on("tgi", func(l *v1.LLMDeployment) {
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MaxReplicas: 2, Target: 50, Metric: v1.MetricKVCacheUtilization}
		}), "KVCacheUtilization needs an engine that exports KV-cache use (vllm or sglang)"},
		{"sglang scales on the KV cache", on("sglang", func(l *v1.LLMDeployment) {
			l.Spec.Autoscaling = &v1.AutoscalingSpec{MaxReplicas: 2, Target: 50, Metric: v1.MetricKVCacheUtilization}
		}), ""},
		{"managed flag, underscores", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--max_model_len=9"} }, "--max-model-len is managed by the operator"},
		{"managed short flag", on("tgi", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"-g", "30"} }), "-g is managed"},
		{"llamacpp managed flag as its own argument", on("llamacpp", func(l *v1.LLMDeployment) { l.Spec.Engine.Args = []string{"--port", "1"} }), "--port is managed"},
		{"an operator variable", func(l *v1.LLMDeployment) { l.Spec.Engine.Env = []v1.EnvVar{{Name: "DO_NOT_TRACK", Value: "0"}} }, "engine.env may not set"},
		{"an engine's own variable", on("sglang", func(l *v1.LLMDeployment) {
			l.Spec.Engine.Env = []v1.EnvVar{{Name: "SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION", Value: "true"}}
		}), "engine.env may not set"},
		{"vllm dev mode", func(l *v1.LLMDeployment) { l.Spec.Engine.Env = []v1.EnvVar{{Name: "VLLM_SERVER_DEV_MODE", Value: "1"}} }, "VLLM_SERVER_DEV_MODE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := engine.Validate(&llm(tc.mut).Spec)
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tc.want != "" && !strings.Contains(errs.ToAggregate().Error(), tc.want):
				t.Errorf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
}
