package openai

import (
	"encoding/json"
	"fmt"
)

// The bytes EnsureStreamUsage writes.
const (
	streamOptionsMember = `"stream_options":{"include_usage":true}`
	includeUsageMember  = `"include_usage":true`
)

// EnsureStreamUsage returns a chat or completions request body that asks for the final usage chunk of a stream: when
// the body has "stream": true and stream_options.include_usage is not true, it inserts
// "stream_options":{"include_usage":true} as the object's last member, or, when stream_options is there, sets
// include_usage to true inside it (replacing a false or null, or adding it as stream_options' last member). Every
// other byte is kept as the client sent it: key order, whitespace, number spelling, escapes and unknown members.
// changed reports whether the body was changed; when it is false the returned slice is body itself. A body that does
// not stream is returned unchanged (the engines reject stream_options without stream).
//
// Only chat and completions bodies have stream_options: call it when Request.NeedsStreamUsage is true. It fails, as
// Inspect does, on a body that is not a JSON object or whose stream, stream_options or include_usage has the wrong
// type. When a key is repeated it edits the last occurrence, the one the engines read.
func EnsureStreamUsage(body []byte) (out []byte, changed bool, err error) {
	if !json.Valid(body) {
		return body, false, &RequestError{Message: "We could not parse the JSON body of your request: it is not valid JSON."}
	}
	b := body
	start := skipSpace(b, 0)
	if b[start] != '{' {
		return body, false, &RequestError{Message: fmt.Sprintf(
			"The request body must be a JSON object, but got %s instead.", kindOf(b, start))}
	}
	var stream, options span
	lastEnd := -1
	forEachMember(b, start, func(key []byte, vs, ve int) bool {
		switch string(keyName(key)) {
		case "stream":
			stream = span{vs, ve}
		case "stream_options":
			options = span{vs, ve}
		}
		lastEnd = ve
		return true
	})
	streaming, err := boolOf(b, "stream", stream)
	if err != nil || !streaming {
		return body, false, err
	}
	if !options.ok() { // add stream_options after the last member
		return splice(b, lastEnd, lastEnd, ","+streamOptionsMember), true, nil
	}
	if isNull(b[options.s:options.e]) {
		return splice(b, options.s, options.e, `{`+includeUsageMember+`}`), true, nil
	}
	if b[options.s] != '{' {
		return body, false, invalidType(b, "stream_options", options.s, "an object")
	}
	var usage span
	optionsLast := -1
	forEachMember(b, options.s, func(key []byte, vs, ve int) bool {
		if string(keyName(key)) == "include_usage" {
			usage = span{vs, ve}
		}
		optionsLast = ve
		return true
	})
	switch {
	case !usage.ok() && optionsLast < 0: // stream_options is {} (perhaps with whitespace inside)
		return splice(b, options.s+1, options.s+1, includeUsageMember), true, nil
	case !usage.ok():
		return splice(b, optionsLast, optionsLast, ","+includeUsageMember), true, nil
	}
	switch string(b[usage.s:usage.e]) {
	case "true":
		return body, false, nil
	case "false", "null":
		return splice(b, usage.s, usage.e, "true"), true, nil
	}
	return body, false, invalidType(b, "stream_options.include_usage", usage.s, "a boolean")
}

// splice returns a new slice holding b with b[from:to] replaced by s.
func splice(b []byte, from, to int, s string) []byte {
	out := make([]byte, 0, len(b)-(to-from)+len(s))
	out = append(out, b[:from]...)
	out = append(out, s...)
	return append(out, b[to:]...)
}
