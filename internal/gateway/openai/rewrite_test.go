package openai_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/privatellm/privatellm/internal/gateway/openai"
)

func TestEnsureStreamUsage(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string // want "" means unchanged
	}{{
		name: "stream_options absent: appended as the last member",
		in:   `{"model":"m","messages":[],"stream":true}`,
		want: `{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`,
	}, {
		name: "whitespace and newlines around members are kept",
		in:   "{\n  \"model\": \"m\",\n  \"stream\": true\n}\n",
		want: "{\n  \"model\": \"m\",\n  \"stream\": true,\"stream_options\":{\"include_usage\":true}\n}\n",
	}, {
		name: "unicode escapes, number spellings and unknown members are kept byte for byte",
		in:   `{"model":"caf\u00e9","temperature":1.0e0,"top_p":0.90,"x-custom":{"a":[1,2]},"stream":true,"s":"\ud83c\udf0d"}`,
		want: `{"model":"caf\u00e9","temperature":1.0e0,"top_p":0.90,"x-custom":{"a":[1,2]},"stream":true,"s":"\ud83c\udf0d","stream_options":{"include_usage":true}}`,
	}, {
		name: "stream_options with other keys: include_usage added last inside it",
		in:   `{"stream_options":{"continuous_usage_stats":true},"stream":true,"model":"m"}`,
		want: `{"stream_options":{"continuous_usage_stats":true,"include_usage":true},"stream":true,"model":"m"}`,
	}, {
		name: "include_usage false becomes true in place",
		in:   `{"model":"m","stream":true,"stream_options":{ "include_usage" : false , "x":1}}`,
		want: `{"model":"m","stream":true,"stream_options":{ "include_usage" : true , "x":1}}`,
	}, {
		name: "include_usage null becomes true",
		in:   `{"model":"m","stream":true,"stream_options":{"include_usage":null}}`,
		want: `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
	}, {
		name: "stream_options null becomes the object",
		in:   `{"model":"m","stream_options":null,"stream":true}`,
		want: `{"model":"m","stream_options":{"include_usage":true},"stream":true}`,
	}, {
		name: "stream_options empty",
		in:   `{"model":"m","stream":true,"stream_options":{ }}`,
		want: `{"model":"m","stream":true,"stream_options":{"include_usage":true }}`,
	}, {
		name: "a repeated stream_options: the last, which the engines read, is edited",
		in:   `{"stream_options":{"include_usage":true},"stream":true,"stream_options":{}}`,
		want: `{"stream_options":{"include_usage":true},"stream":true,"stream_options":{"include_usage":true}}`,
	}, {
		name: "an escaped key is the same key",
		in:   `{"model":"m","str\u0065am":true,"stream_options":{"include_\u0075sage":false}}`,
		want: `{"model":"m","str\u0065am":true,"stream_options":{"include_\u0075sage":true}}`,
	}, {
		name: "include_usage already true: unchanged",
		in:   `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
	}, {
		name: "stream false: unchanged",
		in:   `{"model":"m","stream":false}`,
	}, {
		name: "stream absent: unchanged",
		in:   `{"model":"m","stream_options":{"include_usage":false}}`,
	}, {
		name: "stream null: unchanged",
		in:   `{"model":"m","stream":null}`,
	}, {
		name: "the last stream wins: false, unchanged",
		in:   `{"model":"m","stream":true,"stream":false}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			out, changed, err := openai.EnsureStreamUsage(in)
			if err != nil {
				t.Fatalf("EnsureStreamUsage: %v", err)
			}
			if tc.want == "" {
				if changed || string(out) != tc.in || &out[0] != &in[0] {
					t.Errorf("EnsureStreamUsage = %q, %v; want the body itself, unchanged", out, changed)
				}
				return
			}
			if !changed || string(out) != tc.want {
				t.Errorf("EnsureStreamUsage =\n %s (changed %v)\nwant\n %s", out, changed, tc.want)
			}
			if tc.in != string(in) {
				t.Errorf("EnsureStreamUsage modified its input")
			}
			assertOnlyUsageAdded(t, in, out)
		})
	}
}

// assertOnlyUsageAdded checks that out decodes to in with stream_options.include_usage true, and that Inspect sees
// it so.
func assertOnlyUsageAdded(t *testing.T, in, out []byte) {
	t.Helper()
	var before, after map[string]any
	if err := json.Unmarshal(in, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatalf("the rewritten body is not JSON: %v\n%s", err, out)
	}
	opts, _ := before["stream_options"].(map[string]any)
	if opts == nil {
		opts = map[string]any{}
	}
	opts["include_usage"] = true
	before["stream_options"] = opts
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the rewritten body decodes to\n %v\nwant\n %v", after, before)
	}
	if r, err := openai.Inspect("/v1/chat/completions", out); err == nil && (!r.IncludeUsage || r.NeedsStreamUsage()) {
		t.Errorf("Inspect of the rewritten body: IncludeUsage %v, NeedsStreamUsage %v", r.IncludeUsage,
			r.NeedsStreamUsage())
	}
}

func TestEnsureStreamUsageErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, param string }{
		{"not JSON", `{"stream":true`, ""},
		{"not an object", `[{"stream":true}]`, ""},
		{"stream a string", `{"stream":"true"}`, "stream"},
		{"stream_options an array", `{"stream":true,"stream_options":[]}`, "stream_options"},
		{"include_usage a string", `{"stream":true,"stream_options":{"include_usage":"yes"}}`,
			"stream_options.include_usage"},
	} {
		out, changed, err := openai.EnsureStreamUsage([]byte(tc.in))
		var re *openai.RequestError
		if !errors.As(err, &re) || re.Param != tc.param {
			t.Errorf("%s: EnsureStreamUsage error = %v, want a *RequestError about %q", tc.name, err, tc.param)
		}
		if changed || string(out) != tc.in {
			t.Errorf("%s: EnsureStreamUsage = %q, %v on error; want the body, unchanged", tc.name, out, changed)
		}
	}
}

// FuzzEnsureStreamUsage checks on any body that a rewrite only ever adds include_usage: true. (Decoding into maps,
// encoding/json keeps a repeated key's last value and matches keys exactly, as the engines do.)
func FuzzEnsureStreamUsage(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","stream":true}`,
		`{"stream":true,"stream_options":{"include_usage":false,"x":[1,{"y":null}]}}`,
		`{"stream":true,"stream_options":{}} `,
		` { "a" : "\"}" , "stream" : true } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		in = append([]byte(nil), in...)
		out, changed, err := openai.EnsureStreamUsage(in)
		if err != nil || !changed {
			return
		}
		assertOnlyUsageAdded(t, in, out)
	})
}
