package balance

import (
	"encoding/json"
	"hash/fnv"
	"strings"
	"testing"
)

// text returns n bytes of text that starts with seed and differs from the text of other seeds from the start.
func text(seed string, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(seed)
		b.WriteString(" says something long about the weather. ")
	}
	return b.String()[:n]
}

type msg struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

func chat(msgs ...msg) []byte {
	b, err := json.Marshal(map[string]any{"model": "llama", "stream": true, "messages": msgs})
	if err != nil {
		panic(err)
	}
	return b
}

func body(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func key(t *testing.T, b []byte) uint64 {
	t.Helper()
	k, ok := PrefixKey(b, 0, 0)
	if !ok {
		t.Fatalf("PrefixKey(%.200s) found no conversation", b)
	}
	return k
}

// With the defaults a key covers 4 blocks of 256 bytes. A message takes len(role)+len(content)+2 bytes.
func TestPrefixKeySameOrDifferent(t *testing.T) {
	sys := text("system", 300)      // more than one block
	longSys := text("system", 1100) // more than the whole window
	u1, u2 := text("alice", 400), text("bob", 400)
	tests := []struct {
		name string
		a, b []byte
		same bool
	}{
		{
			"another turn after a full window",
			chat(msg{"system", sys}, msg{"user", u1}, msg{"assistant", text("answer", 500)}),
			chat(msg{"system", sys}, msg{"user", u1}, msg{"assistant", text("answer", 500)}, msg{"user", "and then?"}),
			true,
		},
		{
			"another turn that completes no new block",
			chat(msg{"system", sys}, msg{"user", "hi"}),                                   // 316 bytes: 1 block
			chat(msg{"system", sys}, msg{"user", "hi"}, msg{"assistant", "hello there!"}), // 339 bytes: 1 block
			true,
		},
		{
			"another turn that completes a block",
			chat(msg{"system", sys}, msg{"user", "hi"}),                                   // 1 block
			chat(msg{"system", sys}, msg{"user", "hi"}, msg{"assistant", text("a", 300)}), // 2 blocks
			false,
		},
		{
			"different system prompts",
			chat(msg{"system", text("pirate", 300)}, msg{"user", u1}),
			chat(msg{"system", text("lawyer", 300)}, msg{"user", u1}),
			false,
		},
		{
			"short different system prompts",
			chat(msg{"system", "be brief"}, msg{"user", "hi"}),
			chat(msg{"system", "be long"}, msg{"user", "hi"}),
			false,
		},
		{
			// The second block holds the users' words: the conversations go their own ways.
			"same system prompt, different first user turns within the window",
			chat(msg{"system", sys}, msg{"user", u1}),
			chat(msg{"system", sys}, msg{"user", u2}),
			false,
		},
		{
			// The users' words are in the second block, which neither completes: both share the first block.
			"same system prompt, different short user turns in an incomplete block",
			chat(msg{"system", sys}, msg{"user", "what is the weather?"}),
			chat(msg{"system", sys}, msg{"user", "tell me a joke"}),
			true,
		},
		{
			// The system prompt fills the window: all its conversations share a key (and bounded load spreads them).
			"same system prompt longer than the window",
			chat(msg{"system", longSys}, msg{"user", u1}),
			chat(msg{"system", longSys}, msg{"user", u2}),
			true,
		},
		{
			"same text in another role",
			chat(msg{"system", "hello"}),
			chat(msg{"user", "hello"}),
			false,
		},
		{
			"message boundaries matter",
			chat(msg{"user", "ab"}, msg{"user", "c"}),
			chat(msg{"user", "a"}, msg{"user", "bc"}),
			false,
		},
		{
			"conversations shorter than a block hash what they have",
			chat(msg{"user", "hi"}),
			chat(msg{"user", "ho"}),
			false,
		},
		{
			"string content and a text part",
			chat(msg{"system", sys}, msg{"user", "describe this"}),
			chat(msg{"system", []any{map[string]any{"type": "text", "text": sys}}}, msg{"user", []any{map[string]any{"type": "text", "text": "describe this"}}}),
			true,
		},
		{
			"text parts join with a newline",
			chat(msg{"user", "first\nsecond"}),
			chat(msg{"user", []any{map[string]any{"type": "text", "text": "first"}, map[string]any{"type": "text", "text": "second"}}}),
			true,
		},
		{
			"image data is not hashed",
			chat(msg{"user", []any{map[string]any{"type": "text", "text": "what is it?"}, map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,AAAA"}}}}),
			chat(msg{"user", []any{map[string]any{"type": "text", "text": "what is it?"}, map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,BBBB"}}}}),
			true,
		},
		{
			"an image part is not nothing",
			chat(msg{"user", []any{map[string]any{"type": "text", "text": "what is it?"}, map[string]any{"type": "image_url", "image_url": map[string]any{"url": "x"}}}}),
			chat(msg{"user", "what is it?"}),
			false,
		},
		{
			"escaped and unescaped text",
			[]byte(`{"messages":[{"role":"user","content":"caf\u00e9 \"x\""}]}`),
			[]byte(`{"messages":[{"role":"user","content":"café \"x\""}]}`),
			true,
		},
		{
			"unknown fields and field order",
			chat(msg{"user", "hi"}),
			[]byte(`{"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"messages":[{"content":"hi","role":"user","name":"ann","extra":{"a":[1,2,3]}}],"temperature":0.2,"model":"other"}`),
			true,
		},
		{
			"completions: string and first of an array",
			body(map[string]any{"prompt": text("once", 2000)}),
			body(map[string]any{"prompt": []string{text("once", 2000), "another prompt"}}),
			true,
		},
		{
			"completions: a longer prompt past the window",
			body(map[string]any{"prompt": text("once", 1024)}),
			body(map[string]any{"prompt": text("once", 1024) + " upon a time"}),
			true,
		},
		{
			"completions: different prompts",
			body(map[string]any{"prompt": "once upon a time"}),
			body(map[string]any{"prompt": "twice upon a time"}),
			false,
		},
		{
			"completions: token ids, flat and nested",
			[]byte(`{"prompt":[1,2,3,4]}`),
			[]byte(`{"prompt":[[1,2,3,4],[5,6]]}`),
			true,
		},
		{
			"completions: different token ids",
			[]byte(`{"prompt":[1,2,3,4]}`),
			[]byte(`{"prompt":[1,2,3,5]}`),
			false,
		},
		{
			"responses: instructions and string input are a system and a user message",
			body(map[string]any{"instructions": sys, "input": "hi"}),
			chat(msg{"system", sys}, msg{"user", "hi"}),
			true,
		},
		{
			"responses: input items with parts",
			body(map[string]any{"input": []any{
				map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": "hi"}}},
				map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "output_text", "text": "hello"}}},
			}}),
			chat(msg{"user", "hi"}, msg{"assistant", "hello"}),
			true,
		},
		{
			"responses: a new turn after a full window",
			body(map[string]any{"instructions": sys, "input": []any{map[string]any{"role": "user", "content": u1}, map[string]any{"role": "assistant", "content": u2}}}),
			body(map[string]any{"instructions": sys, "input": []any{map[string]any{"role": "user", "content": u1}, map[string]any{"role": "assistant", "content": u2}, map[string]any{"role": "user", "content": "more"}}}),
			true,
		},
		{
			"responses: different instructions",
			body(map[string]any{"instructions": "be brief", "input": "hi"}),
			body(map[string]any{"instructions": "be long", "input": "hi"}),
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := key(t, tt.a), key(t, tt.b)
			if (a == b) != tt.same {
				t.Fatalf("keys %x and %x: same = %v, want %v\na: %.300s\nb: %.300s", a, b, a == b, tt.same, tt.a, tt.b)
			}
		})
	}
}

func TestPrefixKeyNone(t *testing.T) {
	for _, b := range []string{
		``,
		`not json`,
		`{"messages":[{"role":"user","content":"hi"}`,
		`{"prompt":"hi"} trailing`,
		`{"prompt":"hi"}{}`,
		`{"messages":[{"role":"user","content":"hi"},]}`,
		`[1,2]`,
		`"a string"`,
		`{"model":"llama"}`,
		`{"messages":[]}`,
		`{"messages":[{"role":"user","content":""}]}`,
		`{"messages":[{"role":"assistant","content":null,"tool_calls":[]}]}`,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`,
		`{"messages":[{"role":"user","content":{"unexpected":"object"}}]}`,
		`{"messages":[{"role":7,"content":"hi"}]}`,
		`{"messages":"hi"}`,
		`{"prompt":""}`,
		`{"prompt":[]}`,
		`{"prompt":[[]]}`,
		`{"prompt":null}`,
		`{"input":[]}`,
		`{"input":""}`,
		`{"instructions":""}`,
	} {
		if k, ok := PrefixKey([]byte(b), 0, 0); ok {
			t.Errorf("PrefixKey(%q) = %x, true; want false", b, k)
		}
	}
}

// TestPrefixKeyReadsOnlyWhatItNeeds: a chat body is read up to the end of its leading blocks; what follows is not
// looked at, not even to validate it.
func TestPrefixKeyReadsOnlyWhatItNeeds(t *testing.T) {
	first := text("user", 1100)
	complete := chat(msg{"user", first}, msg{"assistant", "fine"})
	cut := []byte(`{"messages":[{"role":"user","content":"` + first + `"},{"role":"assistant","content":`)
	if got, ok := PrefixKey(cut, 0, 0); !ok || got != key(t, complete) {
		t.Fatalf("body cut after the window: %x, %v; want the key of the complete body %x", got, ok, key(t, complete))
	}
	// Cut before the window is complete: invalid.
	if _, ok := PrefixKey(cut[:300], 0, 0); ok {
		t.Fatal("body cut inside the window has a key")
	}
}

func TestPrefixKeyBlocks(t *testing.T) {
	conv := text("x", 5000)
	b := body(map[string]any{"prompt": conv})
	for _, tt := range []struct {
		blockBytes, blocks int
		want               string // the text the key covers
	}{
		{0, 0, conv[:1024]},
		{256, 4, conv[:1024]},
		{-1, -1, conv[:1024]},
		{100, 3, conv[:300]},
		{1000, 10, conv[:5000]}, // five complete blocks
		{3000, 4, conv[:3000]},
		{10000, 1, conv}, // shorter than one block: all of it
	} {
		got, ok := PrefixKey(b, tt.blockBytes, tt.blocks)
		if want := fnv1a(fnvOffset, tt.want); !ok || got != want {
			t.Errorf("PrefixKey(%d, %d) = %x, %v; want the hash of the first %d bytes, %x", tt.blockBytes, tt.blocks, got, ok, len(tt.want), want)
		}
	}
	// 4999 bytes in blocks of 1000: the incomplete fifth block does not count.
	short := body(map[string]any{"prompt": conv[:4999]})
	if got, _ := PrefixKey(short, 1000, 10); got != fnv1a(fnvOffset, conv[:4000]) {
		t.Errorf("4999 bytes in blocks of 1000: key %x is not the hash of the first four blocks", got)
	}
}

// TestPrefixKeyStable pins the key of a fixed body: gateway replicas and restarts must agree, so it may never
// change by accident.
func TestPrefixKeyStable(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("hello, world"))
	if got := fnv1a(fnvOffset, "hello, world"); got != h.Sum64() {
		t.Fatalf("fnv1a = %x, hash/fnv says %x", got, h.Sum64())
	}
	got := key(t, []byte(`{"model":"m","messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"Hi!"}]}`))
	if want := fnv1a(fnvOffset, "system\x1fYou are helpful.\x1euser\x1fHi!\x1e"); got != want {
		t.Fatalf("key = %x, want %x", got, want)
	}
	if got != 0x0d191581087277c4 {
		t.Fatalf("key = %#x; the key of this body changed", got)
	}
}

func TestPrefixKeyBigBody(t *testing.T) {
	// A big image and many turns after the window: still the key of the leading text.
	img := strings.Repeat("A", 4<<20)
	msgs := []msg{{"system", text("sys", 2000)}}
	for i := range 200 {
		msgs = append(msgs, msg{"user", []any{map[string]any{"type": "text", "text": text("q", 500)}, map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + img[:i*1000]}}}})
	}
	if got, want := key(t, chat(msgs...)), key(t, chat(msgs[0])); got != want {
		t.Fatalf("big body key %x, want the key of its system prompt %x", got, want)
	}
}
