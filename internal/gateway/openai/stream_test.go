package openai

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// vllmEvents is a chat stream as vLLM writes it with stream_options.include_usage: a role chunk, content chunks, the
// finish chunk, the usage-only chunk and [DONE].
var vllmEvents = []string{
	`data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen","choices":[{"index":0,"delta":{"content":" wörld"},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":null}`,
	`data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen","choices":[],"usage":{"prompt_tokens":21,"total_tokens":24,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":16}}}`,
	`data: [DONE]`,
}

var vllmUsage = Usage{PromptTokens: 21, CompletionTokens: 3, TotalTokens: 24, CachedTokens: 16}

// sse joins events with the line ending eol, each ended by a blank line.
func sse(eol string, events ...string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(strings.ReplaceAll(e, "\n", eol) + eol + eol)
	}
	return b.String()
}

// without returns events without the one at index i.
func without(events []string, i int) []string {
	return append(append([]string(nil), events[:i]...), events[i+1:]...)
}

// meterRun writes the chunks into a new meter, closes it, and returns what reached the client.
func meterRun(t *testing.T, strip bool, chunks []string, opts ...StreamOption) (string, *StreamMeter) {
	t.Helper()
	var out bytes.Buffer
	m := NewStreamMeter(&out, nil, strip, opts...)
	for _, c := range chunks {
		if n, err := m.Write([]byte(c)); n != len(c) || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(c))
		}
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return out.String(), m
}

// splits returns the ways the stream is cut into writes: whole, at every byte boundary into two, and byte by byte.
func splits(s string) [][]string {
	ways := [][]string{{s}}
	for i := 1; i < len(s); i++ {
		ways = append(ways, []string{s[:i], s[i:]})
	}
	var bytewise []string
	for i := range len(s) {
		bytewise = append(bytewise, s[i:i+1])
	}
	return append(ways, bytewise)
}

func TestStreamMeterRecordedStream(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		in := sse(eol, vllmEvents...)
		for _, strip := range []bool{false, true} {
			want := in
			if strip {
				want = sse(eol, without(vllmEvents, 5)...)
			}
			for _, chunks := range splits(in) {
				out, m := meterRun(t, strip, chunks)
				name := fmt.Sprintf("eol %q strip %v, writes of %d", eol, strip, len(chunks[0]))
				if out != want {
					t.Fatalf("%s: the client got\n%q\nwant\n%q", name, out, want)
				}
				if u, ok := m.Usage(); !ok || u != vllmUsage {
					t.Fatalf("%s: Usage = %+v, %v; want %+v", name, u, ok, vllmUsage)
				}
				if m.ContentChunks() != 3 || m.FirstContentAt().IsZero() || !m.Done() {
					t.Fatalf("%s: ContentChunks %d, FirstContentAt %v, Done %v; want 3, set, true", name,
						m.ContentChunks(), m.FirstContentAt(), m.Done())
				}
				if wantStripped := map[bool]int{false: 0, true: 1}[strip]; m.Stripped() != wantStripped {
					t.Fatalf("%s: Stripped %d, want %d", name, m.Stripped(), wantStripped)
				}
			}
		}
	}
}

func TestStreamMeterFirstContentClock(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := base
	var out bytes.Buffer
	m := NewStreamMeter(&out, nil, false, WithClock(func() time.Time { return now }))
	for i, e := range vllmEvents {
		now = base.Add(time.Duration(i) * time.Second)
		if _, err := m.Write([]byte(e + "\n\n")); err != nil {
			t.Fatal(err)
		}
		if i == 0 && !m.FirstContentAt().IsZero() {
			t.Fatal("the role chunk, with empty content, is not generated content")
		}
	}
	if want := base.Add(time.Second); !m.FirstContentAt().Equal(want) {
		t.Errorf("FirstContentAt = %v, want %v (the time the first content chunk was written)", m.FirstContentAt(),
			want)
	}
}

func TestStreamMeterWritesEachEventAtOnce(t *testing.T) {
	var out bytes.Buffer
	flushes := 0
	m := NewStreamMeter(&out, func() { flushes++ }, true)
	first, second := vllmEvents[1]+"\n\n", vllmEvents[2]+"\n\n"
	if _, err := m.Write([]byte(first[:40])); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || flushes != 0 {
		t.Fatalf("a partial event was written (%q) or flushed (%d)", out.String(), flushes)
	}
	if _, err := m.Write([]byte(first[40:] + second[:10])); err != nil {
		t.Fatal(err)
	}
	if out.String() != first || flushes != 1 {
		t.Fatalf("after the event completed the client has %q (%d flushes), want the event, flushed once",
			out.String(), flushes)
	}
	usageOnly := vllmEvents[5] + "\n\n"
	if _, err := m.Write([]byte(second[10:] + usageOnly)); err != nil {
		t.Fatal(err)
	}
	if out.String() != first+second || flushes != 2 {
		t.Fatalf("client has %q (%d flushes), want both events without the usage chunk, 2 flushes",
			out.String(), flushes)
	}
	if _, err := m.Write([]byte(usageOnly)); err != nil { // only a dropped event: nothing to flush
		t.Fatal(err)
	}
	if flushes != 2 {
		t.Errorf("a Write that wrote nothing flushed")
	}
}

func TestStreamMeterEngines(t *testing.T) {
	for _, tc := range []struct {
		name     string
		events   []string
		strip    []int // indexes of the events dropped with strip on
		usage    Usage
		contents int
	}{{
		name: "TGI 3.3.6 chat: usage chunk with an empty id, keep-alive comments",
		events: []string{
			`data: {"object":"chat.completion.chunk","id":"","created":1767225600,"model":"tgi","system_fingerprint":"3.3.6-native","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}`,
			`:`,
			`data: {"object":"chat.completion.chunk","id":"","created":1767225600,"model":"tgi","system_fingerprint":"3.3.6-native","choices":[{"index":0,"delta":{"role":"assistant","content":"."},"logprobs":null,"finish_reason":"stop"}],"usage":null}`,
			`data: {"object":"chat.completion.chunk","id":"","created":1767225600,"model":"tgi","system_fingerprint":"3.3.6-native","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}`,
			`data: [DONE]`,
		},
		strip: []int{3}, usage: Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12}, contents: 2,
	}, {
		name: "TGI 3.3.6 completions with two prompts: usage on each prompt's last chunk, summed, never stripped",
		events: []string{
			`data: {"id":"","created":1767225600,"choices":[{"finish_reason":"","index":0,"logprobs":null,"text":"a"}],"model":"tgi","system_fingerprint":"3.3.6-native"}`,
			`data: {"id":"","created":1767225600,"model":"tgi","system_fingerprint":"3.3.6-native","choices":[{"finish_reason":"length","index":0,"logprobs":null,"text":"b"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
			`data: {"id":"","created":1767225600,"model":"tgi","system_fingerprint":"3.3.6-native","choices":[{"finish_reason":"length","index":1,"logprobs":null,"text":"c"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}`,
			`data: [DONE]`,
		},
		usage: Usage{PromptTokens: 7, CompletionTokens: 3, TotalTokens: 10}, contents: 3,
	}, {
		name: "SGLang v0.5.6.post2: usage chunk dumped with its null fields",
		events: []string{
			`data: {"id":"a1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}`,
			`data: {"id":"a1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":"Let me think","tool_calls":null},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}`,
			`data: {"id":"a1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[{"index":0,"delta":{"role":null,"content":"42","reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":"stop","matched_stop":151645}],"usage":null}`,
			`data: {"id":"a1","object":"chat.completion.chunk","created":1767225600,"model":"m","choices":[],"usage":{"prompt_tokens":9,"total_tokens":13,"completion_tokens":4,"prompt_tokens_details":null,"reasoning_tokens":0}}`,
			`data: [DONE]`,
		},
		strip: []int{3}, usage: Usage{PromptTokens: 9, CompletionTokens: 4, TotalTokens: 13}, contents: 2,
	}, {
		name: "llama.cpp: finish chunk, then the usage chunk carrying timings",
		events: []string{
			`data: {"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"id":"x1","type":"function","function":{"name":"f","arguments":"{"}}]}}],"created":1767225600,"id":"chatcmpl-x","model":"m","system_fingerprint":"b8914","object":"chat.completion.chunk"}`,
			`data: {"choices":[{"finish_reason":"tool_calls","index":0,"delta":{}}],"created":1767225600,"id":"chatcmpl-x","model":"m","system_fingerprint":"b8914","object":"chat.completion.chunk"}`,
			`data: {"choices":[],"created":1767225600,"id":"chatcmpl-x","model":"m","system_fingerprint":"b8914","object":"chat.completion.chunk","usage":{"completion_tokens":6,"prompt_tokens":30,"total_tokens":36,"prompt_tokens_details":{"cached_tokens":12}},"timings":{"prompt_n":18,"predicted_n":6}}`,
			`data: [DONE]`,
		},
		strip: []int{2}, usage: Usage{PromptTokens: 30, CompletionTokens: 6, TotalTokens: 36, CachedTokens: 12},
		contents: 1,
	}, {
		name: "vLLM continuous_usage_stats: usage on content chunks too; the final usage-only chunk wins",
		events: []string{
			`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"A"},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`,
			`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"B"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
			`data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
			`data: [DONE]`,
		},
		strip: []int{2}, usage: Usage{PromptTokens: 5, CompletionTokens: 2, TotalTokens: 7}, contents: 2,
	}, {
		name: "responses API: deltas are content, response.completed holds the usage, nothing is stripped",
		events: []string{
			"event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"usage\":null}}",
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\",\"sequence_number\":1}",
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"\",\"sequence_number\":2}",
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":3,\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":11,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":1,\"total_tokens\":12}}}",
		},
		usage: Usage{PromptTokens: 11, CompletionTokens: 1, TotalTokens: 12}, contents: 1,
	}, {
		name: "data split over several lines, an error event, and a usage chunk that is not valid JSON (kept)",
		events: []string{
			"data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"x\"}}],\ndata:\"usage\":null}",
			`data: {"error":{"message":"boom","type":"InternalServerError","code":500}}`,
			`data: {"choices":[],"usage":{"prompt_tokens":1,"total_tokens":1},"x":tru}`,
		},
		usage: Usage{PromptTokens: 1, TotalTokens: 1}, contents: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			in := sse("\n", tc.events...)
			for _, strip := range []bool{false, true} {
				want := in
				if strip {
					kept := tc.events
					for k := len(tc.strip) - 1; k >= 0; k-- {
						kept = without(kept, tc.strip[k])
					}
					want = sse("\n", kept...)
				}
				for _, chunks := range [][]string{{in}, splits(in)[len(splits(in))-1]} {
					out, m := meterRun(t, strip, chunks)
					if out != want {
						t.Fatalf("strip %v: the client got\n%s\nwant\n%s", strip, out, want)
					}
					if u, ok := m.Usage(); !ok || u != tc.usage {
						t.Errorf("strip %v: Usage = %+v, %v; want %+v", strip, u, ok, tc.usage)
					}
					if m.ContentChunks() != tc.contents {
						t.Errorf("strip %v: ContentChunks = %d, want %d", strip, m.ContentChunks(), tc.contents)
					}
				}
			}
		})
	}
}

func TestStreamMeterContentDetection(t *testing.T) {
	for _, tc := range []struct {
		chunk   string
		content bool
	}{
		{`{"choices":[{"delta":{"content":"a"}}]}`, true},
		{`{"choices":[{"delta":{"content":""}}]}`, false},
		{`{"choices":[{"delta":{"content":null,"role":"assistant"}}]}`, false},
		{`{"choices":[{"delta":{"reasoning_content":"hm"}}]}`, true},
		{`{"choices":[{"delta":{"reasoning":"hm"}}]}`, true},
		{`{"choices":[{"delta":{"refusal":"no"}}]}`, true},
		{`{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}`, true},
		{`{"choices":[{"delta":{"tool_calls":[ ]}}]}`, false},
		{`{"choices":[{"delta":{"function_call":{"name":"f"}}}]}`, true},
		{`{"choices":[{"delta":{}},{"delta":{"content":"b"}}]}`, true},
		{`{"choices":[{"text":"c","index":0}]}`, true},
		{`{"choices":[{"text":"","finish_reason":"stop"}]}`, false},
		{`{"type":"response.function_call_arguments.delta","delta":"{\""}`, true},
		{`{"type":"response.output_text.done","text":"all"}`, false},
		{`{"choices":[]}`, false},
	} {
		_, m := meterRun(t, false, []string{"data: " + tc.chunk + "\n\n"})
		if got := m.ContentChunks() == 1; got != tc.content {
			t.Errorf("%s: content %v, want %v", tc.chunk, got, tc.content)
		}
	}
}

func TestStreamMeterOversizedEvent(t *testing.T) {
	big := `data: {"choices":[{"index":0,"delta":{"content":"` + strings.Repeat("x", 1000) + `"}}],"usage":null}`
	events := []string{vllmEvents[0], big, vllmEvents[5], vllmEvents[6]}
	in := sse("\r\n", events...)
	const limit = 256 // above the other events' size
	for _, size := range []int{1, 7, 100, len(in)} {
		var chunks []string
		for i := 0; i < len(in); i += size {
			chunks = append(chunks, in[i:min(i+size, len(in))])
		}
		var out bytes.Buffer
		m := NewStreamMeter(&out, nil, true, WithMaxEventBytes(limit))
		for _, c := range chunks {
			if _, err := m.Write([]byte(c)); err != nil {
				t.Fatal(err)
			}
			if size < len(in) && cap(m.buf) > 2*limit+2*size {
				t.Fatalf("writes of %d: the meter buffers %d bytes with a limit of %d", size, cap(m.buf), limit)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if want := sse("\r\n", events[0], events[1], events[3]); out.String() != want {
			t.Fatalf("writes of %d: the client got\n%q\nwant\n%q", size, out.String(), want)
		}
		if u, ok := m.Usage(); !ok || u != vllmUsage {
			t.Errorf("writes of %d: after an oversized event Usage = %+v, %v; want %+v", size, u, ok, vllmUsage)
		}
		if size < len(in) && m.ContentChunks() != 1 {
			t.Errorf("writes of %d: ContentChunks = %d, want the oversized data event counted", size,
				m.ContentChunks())
		}
	}
}

func TestStreamMeterCloseHandlesATrailingEvent(t *testing.T) {
	in := sse("\n", vllmEvents[:5]...) + vllmEvents[5] // the usage chunk without its blank line
	out, m := meterRun(t, false, []string{in})
	if out != in {
		t.Errorf("the client got %q, want %q", out, in)
	}
	if u, ok := m.Usage(); !ok || u != vllmUsage || m.Done() {
		t.Errorf("Usage = %+v, %v, Done %v; want the trailing event's usage and a stream cut short", u, ok, m.Done())
	}
	out, _ = meterRun(t, true, []string{in})
	if want := sse("\n", vllmEvents[:5]...); out != want {
		t.Errorf("strip: the client got %q, want %q", out, want)
	}
	var buf bytes.Buffer
	m = NewStreamMeter(&buf, nil, false)
	_ = m.Close()
	if _, err := m.Write([]byte("data: x\n\n")); !errors.Is(err, ErrMeterClosed) {
		t.Errorf("Write after Close = %v, want ErrMeterClosed", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestStreamMeterWriteError(t *testing.T) {
	gone := errors.New("client gone")
	m := NewStreamMeter(failingWriter{gone}, nil, false)
	if _, err := m.Write([]byte("data: [DONE]\n\n")); !errors.Is(err, gone) {
		t.Fatalf("Write = %v, want the client's error", err)
	}
	if _, err := m.Write([]byte("data: [DONE]\n\n")); !errors.Is(err, gone) {
		t.Errorf("a Write after a failed one = %v, want the same error", err)
	}
	if err := m.Close(); !errors.Is(err, gone) {
		t.Errorf("Close = %v, want the same error", err)
	}
}

// FuzzStreamMeter checks, for any upstream bytes cut at any point, that without stripping the client gets exactly
// the upstream bytes, and with stripping at most those.
func FuzzStreamMeter(f *testing.F) {
	f.Add([]byte(sse("\n", vllmEvents...)), uint16(17))
	f.Add([]byte(sse("\r\n", vllmEvents...)), uint16(3))
	f.Add([]byte("data: a\r\n\r\r\n\n:\n\ndata"), uint16(1))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		for _, strip := range []bool{false, true} {
			var out bytes.Buffer
			m := NewStreamMeter(&out, nil, strip, WithMaxEventBytes(128))
			k := int(cut) % (len(in) + 1)
			if _, err := m.Write(in[:k]); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Write(in[k:]); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if !strip && !bytes.Equal(out.Bytes(), in) {
				t.Fatalf("the client got %q, want %q", out.Bytes(), in)
			}
			if strip && (out.Len() > len(in) || (m.Stripped() == 0 && !bytes.Equal(out.Bytes(), in))) {
				t.Fatalf("strip: the client got %q from %q", out.Bytes(), in)
			}
		}
	})
}
