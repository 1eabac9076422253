package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// How the engines place usage in a stream, read from their source at the versions the operator pins:
//
//   - vLLM v0.18.0 (vllm-project/vllm, vllm/entrypoints/openai/chat_completion/serving.py and
//     completion/serving.py; vllm/entrypoints/utils.py should_include_usage): with stream_options.include_usage
//     true every chunk carries "usage": null and, after the last choice finished, a separate chunk with
//     "choices": [] carries the usage (dumped with exclude_none, so with prompt_tokens_details.cached_tokens only
//     when --enable-prompt-tokens-details is set), then data: [DONE]. stream_options.continuous_usage_stats puts a
//     running usage on every content chunk as well; the final choices: [] chunk still follows. The server flag
//     --enable-force-include-usage (cli_args.py: "If set to True, including usage on every request.") makes
//     include_usage true whatever the request says; in the code of the v0.18 line it leaves continuous usage to the
//     request, and PR 37923 (opened 2026-03-23, after v0.18.0's release on 2026-03-20) changed it to force continuous
//     usage too, so on later versions every chunk carries usage. The source was read at the stored snapshots of
//     those files, not at the v0.18.0 tag itself: that the tag has the pre-37923 behaviour is inferred from the dates.
//     vLLM's request validation rejects stream_options when stream is not true, and its StreamOptions.include_usage
//     defaults to true, so a stream_options object without include_usage asks vLLM, unlike the other engines and
//     OpenAI, for usage (see Request.IncludeUsageOmitted).
//   - TGI 3.3.6 (huggingface/text-generation-inference at tag v3.3.6, efb94e0d; router/src/chat.rs ChatState::push,
//     router/src/server.rs chat_completions and completions, router/src/lib.rs StreamOptions): chat honours
//     stream_options.include_usage: after the chunk of the last token it emits a separate chunk with
//     "choices": [] and usage {prompt_tokens, completion_tokens, total_tokens} (no cached tokens, and an empty "id"),
//     other chunks carry "usage": null. Its /v1/completions has no stream_options: the last chunk of each prompt
//     carries the usage together with its text and finish_reason, always. The stream ends with data: [DONE] and
//     axum sends ":" keep-alive comments while idle.
//   - SGLang v0.5.6.post2 (sgl-project/sglang, python/sglang/srt/entrypoints/openai/serving_chat.py
//     _generate_chat_stream; released by 2026-01-07, before PR 16711 added --stream-response-default-include-usage on
//     2026-01-08): with stream_options.include_usage true, a separate usage chunk with "choices": [] (comment: "Empty
//     choices array as per OpenAI spec") and usage (cached tokens with --enable-cache-report) before data: [DONE];
//     continuous_usage_stats (PR 12241, 2025-10) adds usage to content chunks. Read at the stored snapshot of the
//     file, not at the tag.
//   - llama.cpp server b8914 (ggml-org/llama.cpp, tools/server/server-task.cpp params_from_json_cmpl and
//     server_task_result_cmpl_final::to_json_oaicompat_chat_stream): include_usage is read from stream_options; the
//     chat stream's final chunk carries finish_reason with an empty delta, and with include_usage a further chunk
//     with "choices": [] and usage (with prompt_tokens_details.cached_tokens), then [DONE]. llama.cpp also appends
//     its "timings" object to the last chunk, which is that usage chunk when include_usage is set. Its
//     /v1/completions stream puts usage in the final chunk (with the last text and finish_reason) whether asked or
//     not. Read at the stored snapshot of the file, not at the b8914 tag; the build number could not be tied to a
//     commit here.
//
// So StreamMeter drops only an event whose data is a JSON object with a non-null "usage" and a present, empty
// "choices" array and nothing else generated: the usage-only chunk every engine appends when asked. A usage that
// rides on a chunk with choices (TGI's and llama.cpp's completions, continuous usage stats, a forcing vLLM) is left
// alone, because the client would have received it without the gateway's rewrite too. Two residual differences:
// llama.cpp's timings move to the dropped chunk when include_usage is forced, so a client that reads llama.cpp's
// non-standard timings loses them; and with vLLM's --enable-force-include-usage the client would have received the
// usage chunk anyway, so the gateway should not strip for engines started with that flag.

// DefaultMaxEventBytes bounds the event a StreamMeter buffers: an event longer than this (a single data line of
// more than 1 MiB) is passed through unparsed as it arrives instead.
const DefaultMaxEventBytes = 1 << 20

// StreamMeter copies a text/event-stream response to the client event by event and meters it. The proxy io.Copy's
// the upstream body into it (it is an io.Writer) and calls Close when the upstream body ends:
//
//	m := openai.NewStreamMeter(w, flusher.Flush, req.NeedsStreamUsage())
//	_, err := io.Copy(m, upstream.Body)
//	m.Close()
//	usage, ok := m.Usage()
//
// Events are split on blank lines (lines end in "\n" or "\r\n"; a bare "\r" line ending, which no engine sends, is
// not recognised). Each complete event is written to dst as soon as the Write that completes it returns, and flush is
// called once per Write that wrote anything, so no event waits for more upstream bytes. Passed events are written
// byte for byte. A StreamMeter is not safe for concurrent use.
type StreamMeter struct {
	dst      io.Writer
	flush    func()
	strip    bool
	now      func() time.Time
	maxEvent int

	buf       []byte // unprocessed bytes: the start of the next event(s)
	scanned   int    // bytes of buf's first event already scanned for its end
	state     lineState
	oversized bool   // passing an oversized event through until its end
	scratch   []byte // joined data lines of a multi-line event
	closed    bool
	err       error

	final         Usage // the last usage of a chunk without choices (the usage-only chunk) or of a response
	hasFinal      bool
	perChoice     []choiceUsage // the last usage riding on a chunk with choices, by choice index
	firstContent  time.Time
	contentChunks int
	stripped      int
	done          bool
}

// A StreamOption configures a StreamMeter.
type StreamOption func(*StreamMeter)

// WithClock sets the clock FirstContentAt reads (time.Now by default).
func WithClock(now func() time.Time) StreamOption { return func(m *StreamMeter) { m.now = now } }

// WithMaxEventBytes sets the largest event the meter buffers and parses (DefaultMaxEventBytes by default).
func WithMaxEventBytes(n int) StreamOption { return func(m *StreamMeter) { m.maxEvent = max(n, 1) } }

// NewStreamMeter returns a meter writing to dst (the client's response writer), calling flush (may be nil) after
// writing, and dropping the usage-only chunk when stripUsage is true: set it when the gateway forced
// stream_options.include_usage (Request.NeedsStreamUsage), so the client sees the stream it asked for.
func NewStreamMeter(dst io.Writer, flush func(), stripUsage bool, opts ...StreamOption) *StreamMeter {
	m := &StreamMeter{dst: dst, flush: flush, strip: stripUsage, now: time.Now, maxEvent: DefaultMaxEventBytes,
		state: lineStart}
	for _, o := range opts {
		o(m)
	}
	return m
}

// ErrMeterClosed is returned by Write after Close.
var ErrMeterClosed = errors.New("openai: write to a closed StreamMeter")

// Write consumes upstream bytes, writing every event they complete to dst. It returns len(p) unless writing to dst
// failed, in which case it returns that error (and keeps returning it).
func (m *StreamMeter) Write(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.closed {
		return 0, ErrMeterClosed
	}
	n := len(p)
	wrote := false
	if m.oversized {
		end := m.scanEnd(p)
		if end < 0 {
			return n, m.passOversized(p, true)
		}
		if err := m.passOversized(p[:end], true); err != nil {
			return 0, err
		}
		m.oversized, m.state, p, wrote = false, lineStart, p[end:], true
	}
	m.buf = append(m.buf, p...)
	off, out := 0, 0 // processed bytes of buf; start of the bytes of buf still to write
	for {
		end := m.scanEnd(m.buf[off+m.scanned:])
		if end < 0 {
			m.scanned = len(m.buf) - off
			break
		}
		evEnd := off + m.scanned + end
		if m.processEvent(m.buf[off:evEnd]) { // drop it: write what precedes it
			if err := m.write(m.buf[out:off]); err != nil {
				return 0, err
			}
			wrote = wrote || off > out
			out = evEnd
		}
		off, m.scanned, m.state = evEnd, 0, lineStart
	}
	if err := m.write(m.buf[out:off]); err != nil {
		return 0, err
	}
	wrote = wrote || off > out
	m.buf = m.buf[:copy(m.buf, m.buf[off:])]
	if len(m.buf) > m.maxEvent { // too long to buffer: pass it through unparsed from here on
		m.oversized = true
		if err := m.passOversized(m.buf, false); err != nil {
			return 0, err
		}
		m.buf, m.scanned, wrote = m.buf[:0], 0, true
	}
	if wrote && m.flush != nil {
		m.flush()
	}
	return n, nil
}

// Close handles a trailing event the upstream did not end with a blank line, as a complete event, and flushes. It
// returns the error writing to dst failed with, if any. Later calls do nothing.
func (m *StreamMeter) Close() error {
	if m.closed || m.err != nil {
		m.closed = true
		return m.err
	}
	m.closed = true
	if len(m.buf) == 0 {
		return nil
	}
	ev := m.buf
	m.buf = nil
	if !m.processEvent(ev) {
		if err := m.write(ev); err != nil {
			return err
		}
	}
	if m.flush != nil {
		m.flush()
	}
	return nil
}

// Usage returns the usage the stream reported, and false when it reported none. That is the last usage of a chunk
// without choices (the usage-only chunk, or a responses API event's "response", as in response.completed), which
// covers the whole request. Without one, it is the sum over choice indexes of the last usage carried by a chunk
// with choices: TGI's /v1/completions reports each prompt's usage on that prompt's final chunk, so a batch of
// prompts needs the sum (which over-counts the prompt when n > 1 shares it, the safe side for settling).
func (m *StreamMeter) Usage() (Usage, bool) {
	if m.hasFinal {
		return m.final, true
	}
	if len(m.perChoice) == 0 {
		return Usage{}, false
	}
	var sum Usage
	for _, c := range m.perChoice {
		sum.PromptTokens += c.u.PromptTokens
		sum.CompletionTokens += c.u.CompletionTokens
		sum.TotalTokens += c.u.TotalTokens
		sum.CachedTokens += c.u.CachedTokens
	}
	return sum, true
}

type choiceUsage struct {
	index int64
	u     Usage
}

func (m *StreamMeter) setChoiceUsage(index int64, u Usage) {
	for i := range m.perChoice {
		if m.perChoice[i].index == index {
			m.perChoice[i].u = u
			return
		}
	}
	m.perChoice = append(m.perChoice, choiceUsage{index, u})
}

// choiceIndex returns the "index" of the choice object at b[cs], or -1.
func choiceIndex(b []byte, cs int) int64 {
	vs, ve, ok := member(b, cs, "index")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(string(b[vs:ve]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// FirstContentAt is when the first event carrying generated content was written (the time to first token, measured
// from the request's start): a delta with non-empty content, reasoning, refusal or tool calls, a completions text,
// or a responses API *.delta event. Zero when there was none.
func (m *StreamMeter) FirstContentAt() time.Time { return m.firstContent }

// ContentChunks counts the events carrying generated content.
func (m *StreamMeter) ContentChunks() int { return m.contentChunks }

// Done reports whether the stream ended with data: [DONE]; a stream that stops without it was cut short.
func (m *StreamMeter) Done() bool { return m.done }

// Stripped counts the usage-only chunks dropped.
func (m *StreamMeter) Stripped() int { return m.stripped }

func (m *StreamMeter) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := m.dst.Write(b); err != nil {
		m.err = err
		return err
	}
	return nil
}

// passOversized writes part of an event too long to buffer. The first part counts as content when it is a data
// event (the only events that long are generated text, or an error).
func (m *StreamMeter) passOversized(b []byte, more bool) error {
	if !more && bytes.HasPrefix(b, []byte("data:")) {
		m.content()
	}
	if err := m.write(b); err != nil {
		return err
	}
	if more && m.flush != nil {
		m.flush()
	}
	return nil
}

// lineState is where the event scanner stands.
type lineState uint8

const (
	midLine     lineState = iota // inside a line
	lineStart                    // at the start of a line
	lineStartCR                  // after a "\r" at the start of a line
)

// scanEnd scans b, continuing from m.state, and returns the index just past the blank line that ends the event, or
// -1 (with m.state updated) when b does not finish it.
func (m *StreamMeter) scanEnd(b []byte) int {
	st := m.state
	for i := 0; i < len(b); {
		if st == midLine {
			k := bytes.IndexByte(b[i:], '\n')
			if k < 0 {
				break
			}
			i, st = i+k+1, lineStart
			continue
		}
		c := b[i]
		i++
		switch {
		case c == '\n':
			return i
		case c == '\r' && st == lineStart:
			st = lineStartCR
		default:
			st = midLine
		}
	}
	m.state = st
	return -1
}

// processEvent meters one complete event and reports whether to drop it.
func (m *StreamMeter) processEvent(ev []byte) (drop bool) {
	data, ok := m.eventData(ev)
	if !ok {
		return false // a comment (keep-alive), a blank line, or an event without data
	}
	if string(data) == "[DONE]" {
		m.done = true
		return false
	}
	start := skipSpace(data, 0)
	if start >= len(data) || data[start] != '{' {
		return false
	}
	var usage, choices, typ, delta, response span
	if forEachMember(data, start, func(key []byte, vs, ve int) bool {
		switch string(keyName(key)) {
		case "usage":
			usage = span{vs, ve}
		case "choices":
			choices = span{vs, ve}
		case "type":
			typ = span{vs, ve}
		case "delta":
			delta = span{vs, ve}
		case "response":
			response = span{vs, ve}
		}
		return true
	}) < 0 {
		return false // not JSON: pass it on, unmetered
	}
	generated, emptyChoices, firstChoice := false, false, -1
	if choices.ok() && data[choices.s] == '[' {
		emptyChoices = true
		forEachElement(data, choices.s, func(cs, _ int) bool {
			if emptyChoices {
				emptyChoices, firstChoice = false, cs
			}
			generated = generated || choiceHasContent(data, cs)
			return true
		})
	}
	var u Usage
	hasUsage := false
	if usage.ok() && data[usage.s] == '{' {
		u, hasUsage = parseUsageObject(data[usage.s:usage.e])
	} else if response.ok() && data[response.s] == '{' { // responses API: response.completed and its kin
		if vs, ve, ok := member(data, response.s, "usage"); ok && data[vs] == '{' {
			u, hasUsage = parseUsageObject(data[vs:ve])
		}
	}
	switch {
	case hasUsage && firstChoice < 0:
		m.final, m.hasFinal = u, true
	case hasUsage:
		m.setChoiceUsage(choiceIndex(data, firstChoice), u)
	}
	if typ.ok() && delta.ok() && data[delta.s] == '"' && delta.e-delta.s > 2 &&
		strings.HasSuffix(string(stringChars(data[typ.s:typ.e])), ".delta") {
		generated = true // responses API: response.output_text.delta, response.reasoning_text.delta, ...
	}
	if generated {
		m.content()
	}
	if m.strip && hasUsage && emptyChoices && !generated && json.Valid(data) {
		m.stripped++
		return true
	}
	return false
}

func (m *StreamMeter) content() {
	m.contentChunks++
	if m.firstContent.IsZero() {
		m.firstContent = m.now()
	}
}

// eventData returns the event's data: its data lines' values joined by "\n" (a single line's value is a sub-slice;
// several are joined in m.scratch), and false when the event has no data line.
func (m *StreamMeter) eventData(ev []byte) ([]byte, bool) {
	var data []byte
	lines, found := 0, false
	for len(ev) > 0 {
		line := ev
		if k := bytes.IndexByte(ev, '\n'); k >= 0 {
			line, ev = ev[:k], ev[k+1:]
		} else {
			ev = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		value, isData := dataValue(line)
		if !isData {
			continue
		}
		switch lines++; lines {
		case 1:
			data, found = value, true
		case 2:
			m.scratch = append(append(append(m.scratch[:0], data...), '\n'), value...)
			data = m.scratch
		default:
			m.scratch = append(append(m.scratch, '\n'), value...)
			data = m.scratch
		}
	}
	return data, found
}

// dataValue returns the value of an SSE "data" field line ("data: x" or "data:x" gives "x"; "data" gives "").
func dataValue(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, []byte("data")) {
		return nil, false
	}
	rest := line[4:]
	if len(rest) == 0 {
		return rest, true
	}
	if rest[0] != ':' {
		return nil, false // another field, such as "dataset:"
	}
	rest = rest[1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return rest, true
}

// choiceHasContent reports whether a streamed choice carries generated output: a chat delta with non-empty
// content, reasoning_content, reasoning or refusal, or tool calls or a function call; or a completions text.
func choiceHasContent(b []byte, cs int) bool {
	if cs >= len(b) || b[cs] != '{' {
		return false
	}
	found := false
	forEachMember(b, cs, func(key []byte, vs, ve int) bool {
		switch string(keyName(key)) {
		case "text":
			found = b[vs] == '"' && ve-vs > 2
		case "delta":
			found = b[vs] == '{' && deltaHasContent(b, vs)
		}
		return !found
	})
	return found
}

func deltaHasContent(b []byte, ds int) bool {
	found := false
	forEachMember(b, ds, func(key []byte, vs, ve int) bool {
		switch string(keyName(key)) {
		case "content", "reasoning_content", "reasoning", "refusal":
			found = b[vs] == '"' && ve-vs > 2
		case "tool_calls":
			found = b[vs] == '[' && skipSpace(b, vs+1) < ve-1
		case "function_call":
			found = b[vs] == '{'
		}
		return !found
	})
	return found
}
