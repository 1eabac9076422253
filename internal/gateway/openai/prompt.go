package openai

import (
	"encoding/json"
	"fmt"
	"math"
)

// BoundParams are the overheads PromptTokenBound adds to the prompt's bytes, in tokens. The defaults
// ([DefaultBoundParams]) cover the chat templates of the Llama 3.x, Qwen2.5/Qwen3 (ChatML), Gemma and Mistral
// families as vLLM, SGLang, TGI and llama.cpp render them; a model whose template adds more text of its own (a long
// default system prompt, as Mistral Small 3's does) needs a larger Fixed, which the gateway can measure once per model
// by asking the engine to tokenize a conversation of one empty user message (vLLM's and SGLang's /tokenize take
// messages).
type BoundParams struct {
	// PerMessage is added for each message (and responses input item): the role header and footer a template
	// writes around the content. ChatML's <|im_start|>, "\n", <|im_end|>, "\n" are 4 tokens; Llama 3's
	// <|start_header_id|>, <|end_header_id|>, "\n\n", <|eot_id|> are 4; Gemma's <start_of_turn>, "\n",
	// <end_of_turn>, "\n" are 4; Mistral's [INST]/[/INST]/</s> fewer. 16 leaves room for templates that write a role
	// name other than the message's ("ipython" for "tool") or wrap tool results (Qwen's <tool_response> block).
	PerMessage int64
	// PerPrompt is added for each prompt the engine tokenizes on its own (each completions prompt, each embeddings
	// input, and the whole chat prompt): a BOS and an EOS token and SentencePiece's dummy-prefix space.
	PerPrompt int64
	// PerToolCall is added for each tool call of an assistant message: the text a template wraps around its name
	// and arguments (Qwen's '<tool_call>\n{"name": "', '", "arguments": ', '}\n</tool_call>' is about 40 bytes).
	PerToolCall int64
	// PerTool is added for each tool definition, beyond its rendered JSON (which PromptBytes counts).
	PerTool int64
	// ToolsPreamble is added once when tools are defined: the instructions templates put before them (Qwen2.5's
	// "# Tools ... <tools></tools> ..." is about 400 bytes, Llama 3.1's JSON tool-call prompt about 280, TGI's
	// default tool prompt about 270), counted at one token per byte.
	ToolsPreamble int64
	// PerMedia is added for each image, audio, video or file part. It is an assumption, not a bound: an image's
	// tokens depend on the model and the image's size (LLaVA-1.5 576, Pixtral up to 4096, Qwen2-VL up to 16384 at
	// its default max_pixels, Gemma 3 256), and the gateway does not decode images. Raise it for models that can
	// exceed it.
	PerMedia int64
	// Fixed is added once: the generation prompt ("<|im_start|>assistant\n"), a BOS, and a template's default system
	// text (Qwen2.5's "You are Qwen, created by Alibaba Cloud. ..." is about 70 bytes, Llama 3.1's knowledge-cutoff
	// header about 60), counted at one token per byte.
	Fixed int64
}

// DefaultBoundParams are the overheads PromptTokenBound uses; see BoundParams for where each number comes from.
var DefaultBoundParams = BoundParams{
	PerMessage:    16,
	PerPrompt:     4,
	PerToolCall:   32,
	PerTool:       32,
	ToolsPreamble: 512,
	PerMedia:      4096,
	Fixed:         128,
}

// PromptTokenBound is an upper bound of the prompt tokens the engine will count for the request, with the default
// overheads: PromptTokenBoundWith(DefaultBoundParams).
//
// The gateway reserves this number against a token limit before forwarding, so it must never be below the real
// count, whatever the model's tokenizer: it counts one token per byte of text. Byte-level BPE tokenizers (GPT-style
// tiktoken, Llama 3, Qwen2.5, Mistral's tekken) cannot produce more tokens than bytes, since every token covers at
// least one byte; SentencePiece tokenizers with byte fallback (Llama 2, Mistral v1-v3, Gemma) produce at most one
// token per character, or one per byte for characters outside the vocabulary. Chat templates then add a bounded
// number of tokens per message, per tool call and per prompt, which BoundParams holds.
//
// The price of "cannot overshoot" is that English text, at about 4 bytes per token, is over-estimated 3-4x (CJK text,
// at about 1.5 bytes per token, about 2x), and structured values a template re-renders as JSON (tool definitions,
// tool results) are counted at their most expansive rendering. That is acceptable because the reservation is held
// only while the request runs and is settled with the usage the engine reports.
//
// What it cannot bound: media parts (see BoundParams.PerMedia), context held by the server (see
// Request.ServerState), templates that add more than BoundParams allows (among them a chat_template sent in the
// request, which vLLM accepts only with --trust-request-chat-template), and the few code points a tokenizer's
// Unicode normalization expands (NFC in Qwen2's tokenizer maps U+0958 to two code points; NFKC, used by some
// SentencePiece models, maps U+FDFA to eighteen) - the per-message overhead absorbs a few of those.
func (r Request) PromptTokenBound() int64 { return r.PromptTokenBoundWith(DefaultBoundParams) }

// PromptTokenBoundWith is PromptTokenBound with the given overheads:
//
//	PromptBytes + PromptTokenIDs
//	  + Messages×PerMessage + Prompts×PerPrompt + ToolCalls×PerToolCall
//	  + Tools×PerTool + ToolsPreamble (when Tools > 0) + MediaParts×PerMedia + Fixed
func (r Request) PromptTokenBoundWith(p BoundParams) int64 {
	n := satAdd(r.PromptBytes, r.PromptTokenIDs)
	n = satAdd(n, satMul(int64(r.Messages), p.PerMessage))
	n = satAdd(n, satMul(int64(max(r.Prompts, 1)), p.PerPrompt))
	n = satAdd(n, satMul(int64(r.ToolCalls), p.PerToolCall))
	if r.Tools > 0 {
		n = satAdd(n, satAdd(satMul(int64(r.Tools), p.PerTool), p.ToolsPreamble))
	}
	n = satAdd(n, satMul(int64(r.MediaParts), p.PerMedia))
	return satAdd(n, p.Fixed)
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// promptCounter walks the parts of a body that become prompt tokens. The body has passed json.Valid.
type promptCounter struct {
	b           []byte
	bytes       int64
	messages    int
	toolCalls   int
	tools       int
	media       int
	tokenIDs    int64
	serverState bool
	scratch     []byte
}

func countPrompt(b []byte, f *fields, r *Request) error {
	c := &promptCounter{b: b}
	present := func(v span) bool { return v.ok() && !isNull(b[v.s:v.e]) }
	var err error
	switch r.Endpoint {
	case ChatCompletions:
		if !present(f.messages) {
			return missing("messages")
		}
		err = c.messageList(f.messages, "messages")
	case Completions:
		if present(f.prompt) {
			r.Prompts, err = c.promptList(f.prompt, "prompt")
		}
		if err == nil && present(f.suffix) {
			err = c.text(f.suffix, "suffix")
		}
		c.serverState = c.serverState || present(f.promptEmbeds)
	case Embeddings:
		switch {
		case present(f.input):
			r.Prompts, err = c.promptList(f.input, "input")
		case present(f.messages): // vLLM's chat-style embeddings request
			err = c.messageList(f.messages, "messages")
		default:
			return missing("input")
		}
	case Responses:
		if present(f.instructions) {
			c.messages++ // rendered as a system (developer) message
			err = c.text(f.instructions, "instructions")
		}
		if err == nil && present(f.input) {
			if b[f.input.s] == '"' {
				c.messages++
				err = c.text(f.input, "input")
			} else {
				err = c.messageList(f.input, "input")
			}
		}
		c.serverState = c.serverState || present(f.previousResponseID) || present(f.conversation) || present(f.prompt)
	}
	if err == nil {
		err = c.toolList(f.tools, "tools")
	}
	if err == nil {
		err = c.toolList(f.functions, "functions")
	}
	if err != nil {
		return err
	}
	if present(f.documents) { // vLLM passes documents to RAG chat templates
		c.rendered(f.documents.s)
	}
	r.PromptBytes, r.Messages, r.ToolCalls, r.Tools = c.bytes, c.messages, c.toolCalls, c.tools
	r.MediaParts, r.PromptTokenIDs = c.media, c.tokenIDs
	r.ServerState = r.ServerState || c.serverState
	return nil
}

// text counts a member that must be a string.
func (c *promptCounter) text(v span, param string) error {
	if c.b[v.s] != '"' {
		return invalidType(c.b, param, v.s, "a string")
	}
	d, _ := stringSizes(c.b[v.s:v.e])
	c.bytes += d
	return nil
}

// messageList counts an array of chat messages or responses input items.
func (c *promptCounter) messageList(v span, param string) error {
	b := c.b
	if b[v.s] != '[' {
		return invalidType(b, param, v.s, "an array")
	}
	var err error
	i := 0
	forEachElement(b, v.s, func(es, _ int) bool {
		if b[es] != '{' {
			err = invalidType(b, fmt.Sprintf("%s[%d]", param, i), es, "an object")
			return false
		}
		c.messages++
		c.object(es, true)
		i++
		return true
	})
	return err
}

// promptList counts a completions prompt or an embeddings input: a string, an array of strings, an array of token
// IDs, or an array of arrays of token IDs. It returns the number of prompts.
func (c *promptCounter) promptList(v span, param string) (int, error) {
	b := c.b
	switch b[v.s] {
	case '"':
		return 1, c.text(v, param)
	case '[':
	default:
		return 0, invalidType(b, param, v.s, "a string or an array")
	}
	const want = "a string, an array of strings, an array of token IDs or an array of arrays of token IDs"
	var first byte
	prompts, i := 0, 0
	var err error
	forEachElement(b, v.s, func(es, ee int) bool {
		elem := func() string { return fmt.Sprintf("%s[%d]", param, i-1) }
		i++
		k := b[es]
		if k == '-' || (k >= '0' && k <= '9') {
			k = '0'
		}
		if first == 0 {
			first = k
		}
		if k != first || (k != '"' && k != '0' && k != '[') {
			err = invalidType(b, elem(), es, "the same type as the first element of "+want)
			return false
		}
		switch k {
		case '"':
			d, _ := stringSizes(b[es:ee])
			c.bytes += d
			prompts++
		case '0':
			c.tokenIDs++
			prompts = 1
		case '[':
			prompts++
			j := 0
			forEachElement(b, es, func(ts, _ int) bool {
				if t := b[ts]; t != '-' && (t < '0' || t > '9') {
					err = invalidType(b, fmt.Sprintf("%s[%d]", elem(), j), ts, "an integer token ID")
					return false
				}
				c.tokenIDs++
				j++
				return true
			})
		}
		return err == nil
	})
	if err != nil {
		return 0, err
	}
	if i == 0 {
		return 0, invalidValue(param, "expected a non-empty array")
	}
	return prompts, nil
}

// toolList counts tool (or function) definitions at their rendered JSON size.
func (c *promptCounter) toolList(v span, param string) error {
	b := c.b
	if !v.ok() || isNull(b[v.s:v.e]) {
		return nil
	}
	if b[v.s] != '[' {
		return invalidType(b, param, v.s, "an array")
	}
	forEachElement(b, v.s, func(es, _ int) bool {
		c.tools++
		c.rendered(es)
		return true
	})
	return nil
}

// rendered counts the value at b[s] at its most expansive JSON rendering.
func (c *promptCounter) rendered(s int) {
	if _, n := renderedSize(c.b, s, 0); n > 0 {
		c.bytes += n
	}
}

// value counts any value as text: strings by their decoded bytes, numbers and booleans as printed, objects and
// arrays by their contents.
func (c *promptCounter) value(s, e int) {
	b := c.b
	switch b[s] {
	case '"':
		d, _ := stringSizes(b[s:e])
		c.bytes += d
	case '[':
		forEachElement(b, s, func(es, ee int) bool { c.value(es, ee); return true })
	case '{':
		c.object(s, false)
	case 'n': // null
	default:
		c.rendered(s)
	}
}

// object counts a message, an input item, a content part or any nested object. Media parts count as one media part
// each, never by their (base64) bytes; item references make the prompt depend on server state. Tool results (the
// content of a tool, ipython or function message, the output of a function_call_output item) count at their
// rendered JSON size, because templates such as Llama 3.1's render them with tojson.
func (c *promptCounter) object(s int, isMessage bool) {
	b := c.b
	var typ, role []byte
	var small [16]memberSpan // the members, so that they are scanned once
	members := small[:0]
	forEachMember(b, s, func(key []byte, vs, ve int) bool {
		name := keyName(key)
		switch string(name) {
		case "type":
			typ = stringChars(b[vs:ve])
		case "role":
			role = stringChars(b[vs:ve])
		}
		members = append(members, memberSpan{name, vs, ve})
		return true
	})
	if isMediaName(typ) {
		c.media++
		return
	}
	if string(typ) == "item_reference" {
		c.serverState = true
		return
	}
	jsonKey := ""
	if isMessage {
		switch string(role) {
		case "tool", "ipython", "function":
			jsonKey = "content"
		}
		if string(typ) == "function_call_output" {
			jsonKey = "output"
		}
	}
	for _, m := range members {
		name, vs, ve := m.name, m.vs, m.ve
		switch {
		case jsonKey != "" && string(name) == jsonKey:
			c.rendered(vs)
		case isMediaName(name) && (b[vs] == '{' || b[vs] == '"'):
			c.media++ // a part without "type", or an assistant's audio reference
		case string(name) == "arguments" && b[vs] == '"':
			c.arguments(vs, ve)
		case string(name) == "tool_calls" && b[vs] == '[':
			forEachElement(b, vs, func(es, ee int) bool {
				c.toolCalls++
				c.value(es, ee)
				return true
			})
		default:
			c.value(vs, ve)
		}
	}
}

type memberSpan struct {
	name   []byte
	vs, ve int
}

// arguments counts a tool call's arguments, a string holding JSON: some templates insert the string, others (and
// vLLM for some models) parse it and render the object with tojson, so it counts the larger of the two.
func (c *promptCounter) arguments(s, e int) {
	d, _ := stringSizes(c.b[s:e])
	c.scratch = appendUnescaped(c.scratch[:0], c.b[s:e])
	if json.Valid(c.scratch) {
		if _, r := renderedSize(c.scratch, skipSpace(c.scratch, 0), 0); r > d {
			d = r
		}
	}
	c.bytes += d
}

// stringChars returns the characters of a string literal without escapes (type and role values), else nil.
func stringChars(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return keyName(v)
}

// isMediaName reports whether a content part type (or key) names non-text input.
func isMediaName(name []byte) bool {
	switch string(name) {
	case "image_url", "input_image", "image", "image_file", "image_pil", "image_embeds",
		"input_audio", "audio_url", "audio", "audio_embeds",
		"video_url", "video", "file", "input_file":
		return true
	}
	return false
}
