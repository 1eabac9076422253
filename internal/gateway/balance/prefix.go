package balance

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
)

const (
	// DefaultBlockBytes is the block size PrefixKey uses when given zero or less.
	DefaultBlockBytes = 256
	// DefaultBlocks is the number of leading blocks PrefixKey hashes when given zero or less.
	DefaultBlocks = 4
)

// PrefixKey returns the routing key of an OpenAI request body: a hash of the leading blocks of its conversation,
// so that requests that share those blocks go to the same engine pod, whose prefix (KV) cache holds them.
//
// The conversation is the text the engine will see first, in order:
//   - /v1/chat/completions: each message's role and content; content is a string or an array of parts, whose
//     text parts count as their text joined by "\n" (as the engines join them) and whose other parts (images,
//     audio, files) count as a fixed marker naming the part's type, not as their data;
//   - /v1/completions: the prompt, a string or the first of an array of strings (a token-id prompt counts as
//     its ids, 4 bytes each);
//   - /v1/responses: the instructions (as a system message), then the input: a string (a user message) or an
//     array of items with role and content, parts read as for chat.
//
// The body's fields decide which: messages, else prompt, else input and instructions. Roles, contents and
// messages are separated by control bytes, so that different conversations do not run together into the same text.
//
// The key hashes the first blocks complete blocks of blockBytes bytes of that text (DefaultBlocks and
// DefaultBlockBytes when zero or less); a conversation shorter than one block hashes all it has. Only complete
// blocks count, as in the engines' prefix caches. So a conversation keeps its key when a turn is added unless the
// turn completes another of the first blocks blocks; once the conversation is blocks*blockBytes long its key never
// changes again, so it changes at most blocks times over the conversation's life. (Hashing the partial last block
// too would change the key on every turn of a conversation still shorter than the window.)
//
// Why leading blocks and not the first message: every request of a chat repeats the earlier turns, and the chats of
// one application share its system prompt. Hashing only the start of the first message (a peer's gateway hashes
// the first 100 characters) sends every conversation with the same system prompt to one pod. The window reaches
// past the system prompt into the first user turns, which tell conversations apart. What this gives, with the
// defaults (4 × 256 bytes):
//   - conversations that differ anywhere in their first 1 KiB, within a complete block, get different keys;
//   - conversations that share their first complete blocks share a key (and the pod that has those blocks
//     cached), even if they differ after them: two short chats with the same 300-byte system prompt and different
//     20-byte questions share the first block only, and so a key, until they are 512 bytes long;
//   - a system prompt of 1 KiB or more fills the window, so all its conversations share one key; bounded load
//     (see Pool.Pick) then spreads them over more pods when that key is hot. Raise blocks for such applications.
//
// The hash is 64-bit FNV-1a with its standard offset basis, no per-process seed: every gateway replica computes the
// same key for the same body, before and after restarts.
//
// PrefixKey returns false when the body is not a JSON object or has no conversation text (no content, prompt or
// input text); the caller then picks the least loaded endpoint. Fields it does not know are skipped (the model
// field is not part of the key: each model has its own Pool). It reads a chat body only up to the end of the
// leading blocks (or of the messages array), so the cost does not grow with the rest of the body, images and later
// turns included, and JSON errors past that point go unnoticed (the engine rejects such a body anyway).
func PrefixKey(body []byte, blockBytes, blocks int) (uint64, bool) {
	if blockBytes <= 0 {
		blockBytes = DefaultBlockBytes
	}
	if blocks <= 0 {
		blocks = DefaultBlocks
	}
	h := blockHasher{blockBytes: blockBytes, blocks: blocks, h: fnvOffset}

	// Stream the top-level object, so that a chat body is read only up to the end of its leading blocks.
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, false
	}
	var prompt, input, instructions json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, false
		}
		var v any = &skipValue{}
		switch t {
		case "messages":
			if done, ok := h.messages(dec); !ok {
				return 0, false
			} else if done {
				return h.sum()
			}
			continue
		case "prompt":
			v = &prompt
		case "input":
			v = &input
		case "instructions":
			v = &instructions
		}
		if dec.Decode(v) != nil {
			return 0, false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return 0, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return 0, false // trailing data
	}

	switch {
	case len(prompt) > 0 && !bytes.Equal(prompt, []byte("null")):
		h.prompt(prompt)
	default:
		if s, ok := jsonString(instructions); ok && len(s) > 0 {
			h.message("system", s)
		}
		if s, ok := jsonString(input); ok {
			h.message("user", s)
		} else if len(input) > 0 {
			var items []message
			if json.Unmarshal(input, &items) != nil {
				return 0, false
			}
			for _, it := range items {
				if it.Role == "" && it.Content == nil {
					h.write(partMarker)
					h.write([]byte(it.Type))
					h.write(messageEnd)
					continue
				}
				if !h.message(it.Role, it.Content) {
					break
				}
			}
		}
	}
	return h.sum()
}

// messages hashes the messages array the decoder is at, message by message, and stops reading once the blocks are
// complete. It reports whether the key is settled (false for a null messages, which counts as absent) and whether
// the JSON was valid as far as it read.
func (h *blockHasher) messages(dec *json.Decoder) (done, ok bool) {
	t, err := dec.Token()
	if err != nil {
		return false, false
	}
	if t == nil {
		return false, true
	}
	if t != json.Delim('[') {
		return false, false
	}
	for dec.More() {
		var m message
		if dec.Decode(&m) != nil {
			return false, false
		}
		if !h.message(m.Role, m.Content) {
			return true, true
		}
	}
	if _, err := dec.Token(); err != nil {
		return false, false
	}
	return true, true
}

// skipValue is a top-level value PrefixKey does not need.
type skipValue struct{}

// UnmarshalJSON accepts any value and keeps nothing.
func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// message is a chat message or a responses input item. Content is a string, an array of parts or null.
type message struct {
	Type    string `json:"type"`
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// Separators: control bytes, which JSON text carries only escaped and conversations hardly ever contain.
var (
	roleEnd    = []byte{0x1f}       // after a role
	messageEnd = []byte{0x1e}       // after a message
	partMarker = []byte{0x1d}       // starts a non-text part, followed by its type
	partSep    = []byte{'\n'}       // between parts, as the engines join text parts
	tokenMark  = []byte{0x1c, 0x1c} // starts a token-id prompt
)

// blockHasher hashes text with FNV-1a and keeps the hash as of the last complete block.
type blockHasher struct {
	blockBytes, blocks int
	h                  uint64 // hash of all n bytes
	n                  int    // bytes hashed
	full               uint64 // hash of the first fullBlocks blocks
	fullBlocks         int
	text               bool // some content, prompt or input text was seen
}

// write hashes b, up to the end of the last block; it returns false once that is reached.
func (h *blockHasher) write(b []byte) bool {
	for len(b) > 0 && h.fullBlocks < h.blocks {
		chunk := b[:min(len(b), h.blockBytes-h.n%h.blockBytes)]
		h.h = fnv1a(h.h, chunk)
		h.n += len(chunk)
		b = b[len(chunk):]
		if h.n%h.blockBytes == 0 {
			h.full, h.fullBlocks = h.h, h.fullBlocks+1
		}
	}
	return h.fullBlocks < h.blocks
}

// content hashes text that counts as conversation text.
func (h *blockHasher) content(b []byte) bool {
	if len(b) > 0 {
		h.text = true
	}
	return h.write(b)
}

// message hashes one message; it returns false once the blocks are complete. content is a string, []byte or a
// decoded JSON array of parts; anything else counts as no content.
func (h *blockHasher) message(role string, content any) bool {
	h.write([]byte(role))
	h.write(roleEnd)
	switch c := content.(type) {
	case []byte:
		h.content(c)
	case string:
		h.content([]byte(c))
	case []any:
		for i, p := range c {
			if i > 0 {
				h.write(partSep)
			}
			p, _ := p.(map[string]any)
			typ, _ := p["type"].(string)
			switch typ {
			case "text", "input_text", "output_text":
				t, _ := p["text"].(string)
				h.content([]byte(t))
			default:
				h.write(partMarker)
				h.write([]byte(typ))
			}
		}
	}
	return h.write(messageEnd)
}

// prompt hashes a completions prompt: a string, an array of strings (the first counts), an array of token ids or
// an array of arrays of token ids (the first counts).
func (h *blockHasher) prompt(raw json.RawMessage) {
	if s, ok := jsonString(raw); ok {
		h.content(s)
		return
	}
	var first []json.RawMessage
	if json.Unmarshal(raw, &first) != nil || len(first) == 0 {
		return
	}
	if s, ok := jsonString(first[0]); ok {
		h.content(s)
		return
	}
	tokens := raw
	if len(first[0]) > 0 && first[0][0] == '[' {
		tokens = first[0]
	}
	var ids []uint32
	if json.Unmarshal(tokens, &ids) != nil || len(ids) == 0 {
		return
	}
	h.write(tokenMark)
	var buf [4]byte
	for _, id := range ids {
		binary.LittleEndian.PutUint32(buf[:], id)
		if !h.content(buf[:]) {
			return
		}
	}
}

// sum returns the key, or false when there was no conversation text.
func (h *blockHasher) sum() (uint64, bool) {
	switch {
	case !h.text:
		return 0, false
	case h.fullBlocks > 0:
		return h.full, true
	default:
		return h.h, true
	}
}

// jsonString returns the value of raw when it is a JSON string. raw comes from a body json.Unmarshal accepted, so
// it is valid JSON; a string without escapes is used as it is.
func jsonString(raw json.RawMessage) ([]byte, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv1a continues the 64-bit FNV-1a hash h over b.
func fnv1a[T string | []byte](h uint64, b T) uint64 {
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime
	}
	return h
}
