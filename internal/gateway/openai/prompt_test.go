package openai_test

import (
	"strings"
	"testing"

	"github.com/privatellm/privatellm/internal/gateway/openai"
)

// parts is what a prompt bound is made of.
type parts struct {
	bytes                                   int64
	messages, toolCalls, tools, media, prms int
	tokenIDs                                int64
	serverState                             bool
}

func partsOf(r openai.Request) parts {
	return parts{r.PromptBytes, r.Messages, r.ToolCalls, r.Tools, r.MediaParts, r.Prompts, r.PromptTokenIDs,
		r.ServerState}
}

func TestPromptParts(t *testing.T) {
	image := `{"type":"image_url","image_url":{"url":"data:image/png;base64,` + strings.Repeat("QUJD", 4096) + `"}}`
	for _, tc := range []struct {
		name, path, body string
		want             parts
	}{{
		name: "text counts decoded bytes: multi-byte UTF-8, raw or escaped",
		path: "/v1/chat/completions",
		// "héllo 世界 🌍" is 1+2+3+1+6+1+4 = 18 bytes; the second message spells it with escapes.
		body: `{"model":"m","messages":[{"role":"user","content":"héllo 世界 🌍"},` +
			`{"role":"user","content":"h\u00e9llo \u4e16\u754c \ud83c\udf0d"}]}`,
		want: parts{bytes: 2 * (4 + 18), messages: 2, prms: 1},
	}, {
		name: "escapes count once: a newline, a quote, a backslash",
		path: "/v1/chat/completions",
		body: `{"model":"m","messages":[{"role":"system","content":"a\nb\"c\\d"}]}`,
		want: parts{bytes: 6 + 7, messages: 1, prms: 1},
	}, {
		name: "an image part is one media part, never its base64 bytes; text parts count their strings",
		path: "/v1/chat/completions",
		body: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},` + image + `]}]}`,
		want: parts{bytes: 4 + 4 + 11, messages: 1, media: 1, prms: 1},
	}, {
		name: "audio, video and file parts, and a part without a type",
		path: "/v1/chat/completions",
		body: `{"model":"m","messages":[{"role":"user","content":[` +
			`{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},` +
			`{"type":"video_url","video_url":{"url":"https://x/v.mp4"}},` +
			`{"type":"file","file":{"file_data":"JVBERi0="}},` +
			`{"image_url":{"url":"https://x/i.png"}}]}]}`,
		want: parts{bytes: 4, messages: 1, media: 4, prms: 1},
	}, {
		name: "tool calls: names and ids as text, arguments at the larger of text and re-rendered JSON",
		path: "/v1/chat/completions",
		// role 9, id 6, type 8, name 11, arguments {"city":"Paris"}: 16 bytes as text, 24 re-rendered.
		body: `{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_1",` +
			`"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}]}`,
		want: parts{bytes: 9 + 6 + 8 + 11 + 24, messages: 1, toolCalls: 1, prms: 1},
	}, {
		name: "a tool result counts as re-rendered JSON (quotes and escapes included)",
		path: "/v1/chat/completions",
		// role 4, tool_call_id 6, content "22°C" rendered as "22\u00b0C": 2 quotes + 2 + 6 + 1.
		body: `{"model":"m","messages":[{"role":"tool","tool_call_id":"call_1","content":"22°C"}]}`,
		want: parts{bytes: 4 + 6 + 11, messages: 1, prms: 1},
	}, {
		name: "tool definitions count at their rendered size, each",
		path: "/v1/chat/completions",
		// [{"type":"function"}]'s element renders within 2 + (6 + 2 + 10 + 6) + 1 = 27 bytes.
		body: `{"model":"m","messages":[],"tools":[{"type":"function"},{"type":"function"}]}`,
		want: parts{bytes: 2 * 27, tools: 2, prms: 1},
	}, {
		name: "vLLM documents for RAG templates",
		path: "/v1/chat/completions",
		body: `{"model":"m","messages":[],"documents":[{"t":"x"}]}`,
		// The array: 2 brackets + 6 (",\n    ") + the object + 1 (newline before "]"); the object at depth 1:
		// 2 braces + key 3 + ": " 2 + value 3 + 10 (",\n        ") + 5 (newline and indent before "}").
		want: parts{bytes: 2 + 6 + (2 + 3 + 2 + 3 + 10 + 5) + 1, prms: 1},
	}, {
		name: "responses items: message parts, a function call and its output; images are media",
		path: "/v1/responses",
		body: `{"model":"r","input":[` +
			`{"type":"message","role":"user","content":[{"type":"input_text","text":"Look"},` +
			`{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},` +
			`{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},` +
			`{"type":"function_call_output","call_id":"c1","output":"ok"}]}`,
		// message: "message" 7 + "user" 4 + "input_text" 10 + "Look" 4; call: 13 + 2 + 1 + 2 ({} renders as 2);
		// output: 20 + 2 + "ok" rendered 4.
		want: parts{bytes: 7 + 4 + 10 + 4 + 13 + 2 + 1 + 2 + 20 + 2 + 4, messages: 3, media: 1, prms: 1},
	}, {
		name: "an item reference makes the prompt server state",
		path: "/v1/responses",
		body: `{"model":"r","input":[{"type":"item_reference","id":"msg_1"}]}`,
		want: parts{messages: 1, prms: 1, serverState: true},
	}, {
		name: "embeddings token arrays count exactly",
		path: "/v1/embeddings",
		body: `{"model":"e","input":[[1,2,3],[4,5]]}`,
		want: parts{prms: 2, tokenIDs: 5},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := openai.Inspect(tc.path, []byte(tc.body))
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if got := partsOf(r); got != tc.want {
				t.Errorf("prompt parts = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPromptTokenBoundFormula(t *testing.T) {
	r := openai.Request{PromptBytes: 1000, PromptTokenIDs: 7, Messages: 3, Prompts: 2, ToolCalls: 2, Tools: 1,
		MediaParts: 1}
	p := openai.BoundParams{PerMessage: 10, PerPrompt: 100, PerToolCall: 1000, PerTool: 10000,
		ToolsPreamble: 100000, PerMedia: 1000000, Fixed: 10000000}
	want := int64(1000 + 7 + 3*10 + 2*100 + 2*1000 + 10000 + 100000 + 1000000 + 10000000)
	if got := r.PromptTokenBoundWith(p); got != want {
		t.Errorf("PromptTokenBoundWith = %d, want %d", got, want)
	}
	r.Tools = 0 // no tools, no preamble
	if got := r.PromptTokenBoundWith(p); got != want-10000-100000 {
		t.Errorf("PromptTokenBoundWith without tools = %d, want %d", got, want-110000)
	}
	d := openai.DefaultBoundParams
	if d.PerMessage != 16 || d.PerPrompt != 4 || d.PerToolCall != 32 || d.PerTool != 32 || d.ToolsPreamble != 512 ||
		d.PerMedia != 4096 || d.Fixed != 128 {
		t.Errorf("DefaultBoundParams = %+v, not the documented values", d)
	}
	if got, want := r.PromptTokenBound(), r.PromptTokenBoundWith(d); got != want {
		t.Errorf("PromptTokenBound = %d, want PromptTokenBoundWith(DefaultBoundParams) = %d", got, want)
	}
}

// TestPromptTokenBoundAboveTokenCounts checks the bound of one-message chats against token counts that cannot be
// exceeded: the text's byte length (which bounds every byte-level BPE and byte-fallback tokenizer), and, as a
// sanity check of the scale, the commonly cited cl100k_base counts of two samples ("hello world" 2 tokens, the
// pangram 10). The bound is the text's bytes + the role's + 16 per message + 4 per prompt + 128.
func TestPromptTokenBoundAboveTokenCounts(t *testing.T) {
	for _, tc := range []struct {
		text   string
		tokens int64 // a known count, or 0
	}{
		{"hello world", 2},
		{"The quick brown fox jumps over the lazy dog.", 10},
		{"東京は日本の首都です。", 0},
		{"Привет, мир! 🙂", 0},
		{strings.Repeat("a", 10000), 0},
		{strings.Repeat("\x01", 100), 0}, // control characters tokenize byte by byte
	} {
		body := `{"model":"m","messages":[{"role":"user","content":` + quote(tc.text) + `}]}`
		r, err := openai.Inspect("/v1/chat/completions", []byte(body))
		if err != nil {
			t.Fatalf("Inspect: %v", err)
		}
		bound := r.PromptTokenBound()
		textBytes := int64(len(tc.text))
		if want := textBytes + 4 + 16 + 4 + 128; bound != want {
			t.Errorf("%.20q: bound %d, want the documented %d", tc.text, bound, want)
		}
		if bound < textBytes || bound < tc.tokens {
			t.Errorf("%.20q: bound %d below %d bytes / %d tokens", tc.text, bound, textBytes, tc.tokens)
		}
	}
}

// quote writes s as a JSON string with every non-ASCII character escaped, so that the bound is seen to count
// decoded, not escaped, bytes.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r >= 0x80:
			if r >= 0x10000 {
				r -= 0x10000
				writeU(&b, 0xD800+(r>>10))
				writeU(&b, 0xDC00+(r&0x3FF))
			} else {
				writeU(&b, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(r>>shift)&0xF])
	}
}
