package openai

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// chatBody8KiB is a chat request of about 8 KiB: a system prompt, a few turns with a tool call and its result, and
// a tool definition.
func chatBody8KiB() []byte {
	para := strings.Repeat("The gateway reserves tokens before it forwards a request, and settles them after. ", 12)
	var b strings.Builder
	b.WriteString(`{"model":"meta-llama/Llama-3.1-8B-Instruct","stream":true,"max_tokens":512,"temperature":0.7,`)
	b.WriteString(`"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather",`)
	b.WriteString(`"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],`)
	b.WriteString(`"messages":[{"role":"system","content":"` + para + `"}`)
	for i := 0; len(b.String()) < 7600; i++ {
		fmt.Fprintf(&b, `,{"role":"user","content":"Question %d: %s"}`, i, para[:300])
		fmt.Fprintf(&b, `,{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function",`+
			`"function":{"name":"get_weather","arguments":"{\"city\":\"Zürich\"}"}}]}`, i)
		fmt.Fprintf(&b, `,{"role":"tool","tool_call_id":"call_%d","content":"{\"temp\":21,\"unit\":\"°C\"}"}`, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkInspectChat8KiB(b *testing.B) {
	body := chatBody8KiB()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inspect("/v1/chat/completions", body); err != nil {
			b.Fatal(err)
		}
	}
}

// stream200 is a vLLM chat stream of 200 content chunks, the finish chunk, the usage chunk and [DONE].
func stream200() (body []byte, events int) {
	var b strings.Builder
	head := `data: {"id":"chatcmpl-b4d1","object":"chat.completion.chunk","created":1767225600,"model":"qwen",`
	b.WriteString(head + `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,` +
		`"finish_reason":null}],"usage":null}` + "\n\n")
	for i := range 200 {
		fmt.Fprintf(&b, head+`"choices":[{"index":0,"delta":{"content":" token%d"},"logprobs":null,`+
			`"finish_reason":null}],"usage":null}`+"\n\n", i)
	}
	b.WriteString(head + `"choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop",` +
		`"stop_reason":null}],"usage":null}` + "\n\n")
	b.WriteString(head + `"choices":[],"usage":{"prompt_tokens":21,"total_tokens":221,"completion_tokens":200}}` +
		"\n\n")
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String()), 204
}

// BenchmarkStreamMeter meters the 200-chunk stream, written one event per Write (as an engine flushes them) or in
// 32 KiB reads (as io.Copy reads a burst), and reports allocations per event.
func BenchmarkStreamMeter(b *testing.B) {
	body, events := stream200()
	var perEvent [][]byte
	for _, e := range strings.SplitAfter(string(body), "\n\n") {
		if e != "" {
			perEvent = append(perEvent, []byte(e))
		}
	}
	var reads [][]byte
	for i := 0; i < len(body); i += 32 << 10 {
		reads = append(reads, body[i:min(i+32<<10, len(body))])
	}
	for _, bc := range []struct {
		name   string
		writes [][]byte
		strip  bool
	}{
		{"event-per-write", perEvent, false},
		{"event-per-write-strip", perEvent, true},
		{"32KiB-writes", reads, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			for b.Loop() {
				m := NewStreamMeter(io.Discard, func() {}, bc.strip)
				for _, w := range bc.writes {
					if _, err := m.Write(w); err != nil {
						b.Fatal(err)
					}
				}
				_ = m.Close()
				if u, ok := m.Usage(); !ok || u.CompletionTokens != 200 {
					b.Fatalf("usage %+v, %v", u, ok)
				}
			}
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N)/float64(events), "allocs/event")
		})
	}
}
