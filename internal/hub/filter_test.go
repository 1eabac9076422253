package hub

import (
	"errors"
	"reflect"
	"testing"
)

// A Llama-style listing: sharded safetensors, configs, tokenizer, consolidated original/ weights, docs.
var llamaListing = []string{
	".gitattributes", "LICENSE", "README.md", "USE_POLICY.md", "config.json", "generation_config.json",
	"model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors",
	"model-00004-of-00004.safetensors", "model.safetensors.index.json", "original/consolidated.00.pth",
	"original/params.json", "original/tokenizer.model", "special_tokens_map.json", "tokenizer.json",
	"tokenizer_config.json",
}

// A GGUF repo with one file per quantization.
var ggufListing = []string{
	".gitattributes", "README.md", "Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
	"Meta-Llama-3.1-8B-Instruct-Q4_K_S.gguf", "Meta-Llama-3.1-8B-Instruct-Q8_0.gguf", "Meta-Llama-3.1-8B-Instruct-f32.gguf",
}

func TestSelectFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		listing []string
		filter  Filter
		want    []string
	}{
		{"no filter keeps all", []string{"a", "b/c"}, Filter{}, []string{"a", "b/c"}},
		{"safetensors and configs, not original/", llamaListing,
			Filter{Include: []string{"*.safetensors", "*.json", "tokenizer.model"}, Exclude: []string{"original/**"}},
			[]string{"config.json", "generation_config.json", "model-00001-of-00004.safetensors",
				"model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
				"model.safetensors.index.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"}},
		{"a trailing slash means the directory", llamaListing, Filter{Include: []string{"original/"}},
			[]string{"original/consolidated.00.pth", "original/params.json", "original/tokenizer.model"}},
		{"'*' crosses '/' as in fnmatch", []string{"a.json", "x/y/b.json", "c.txt"}, Filter{Include: []string{"*.json"}},
			[]string{"a.json", "x/y/b.json"}},
		{"one GGUF quantization", ggufListing, Filter{Include: []string{"*Q4_K_M*.gguf"}},
			[]string{"Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"}},
		{"case-sensitive", ggufListing, Filter{Include: []string{"*q4_k_m*.gguf"}}, nil},
		{"'?' and classes", []string{"model-1.bin", "model-2.bin", "model-x.bin", "model-10.bin"},
			Filter{Include: []string{"model-[0-9].bin"}}, []string{"model-1.bin", "model-2.bin"}},
		{"negated class", []string{"a1", "ab", "a-"}, Filter{Include: []string{"a[!0-9]"}}, []string{"ab", "a-"}},
		{"single-char wildcard", []string{"v1.bin", "v22.bin"}, Filter{Include: []string{"v?.bin"}}, []string{"v1.bin"}},
		{"regexp characters are literal", []string{"a+b.(1).json", "aab.x1y.json"}, Filter{Include: []string{"a+b.(1).json"}},
			[]string{"a+b.(1).json"}},
		{"unclosed bracket is literal", []string{"[abc", "a"}, Filter{Include: []string{"[abc"}}, []string{"[abc"}},
		{"exclude only", llamaListing[:5], Filter{Exclude: []string{"*.md", ".*"}}, []string{"LICENSE", "config.json"}},
		{"backslashes are separators", []string{"original/params.json", "params.json"},
			Filter{Include: []string{`original\*`}}, []string{"original/params.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var files []File
			for _, p := range tc.listing {
				files = append(files, File{Path: p})
			}
			got, err := SelectFiles(files, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, f := range got {
				paths = append(paths, f.Path)
			}
			if !reflect.DeepEqual(paths, tc.want) {
				t.Errorf("got %q, want %q", paths, tc.want)
			}
			for _, p := range tc.listing {
				want := false
				for _, w := range tc.want {
					want = want || w == p
				}
				if tc.filter.Match(p) != want {
					t.Errorf("Match(%q) = %v, want %v", p, !want, want)
				}
			}
		})
	}
}

func TestFilterInvalid(t *testing.T) {
	for _, f := range []Filter{{Include: []string{""}}, {Exclude: []string{"[z-a]"}}} {
		if err := f.Validate(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Validate(%+v) = %v, want InvalidArgument", f, err)
		}
		if f.Match("anything") {
			t.Errorf("an invalid filter kept a file")
		}
	}
}
