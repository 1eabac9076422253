package openai

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// A small JSON walker over raw bytes: it finds the spans of keys and values without decoding them, so a body of
// megabytes is read without copying its strings or building a map. Every function is bounds-checked and returns -1
// on malformed input instead of panicking; callers that need a validity guarantee run json.Valid first (Inspect and
// EnsureStreamUsage do).

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string literal starting at b[i] == '"', or -1.
func skipString(b []byte, i int) int {
	// Most strings are short (keys, roles, chunk fields): scan them byte by byte, and leave long ones to IndexByte.
	j := i + 1
	for end := min(len(b), j+32); j < end; j++ {
		switch b[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	if j > len(b) {
		return -1
	}
	for j <= len(b) {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		backslashes := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i < 0 || i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case '}', ']', ',', ':', ' ', '\t', '\n', '\r':
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) {
			switch b[j] {
			case ' ', '\t', '\n', '\r', ',', '}', ']', ':':
				return j
			}
			j++
		}
		return j
	}
}

// forEachMember calls fn with the raw key (quotes included) and the value span [vs, ve) of each member of the object
// starting at b[i] == '{', in order, until fn returns false. It returns the index just past the object (or past the
// value where fn stopped), or -1 when the object is malformed.
func forEachMember(b []byte, i int, fn func(key []byte, vs, ve int) bool) int {
	if i < 0 || i >= len(b) || b[i] != '{' {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		ke := skipString(b, i)
		if ke < 0 {
			return -1
		}
		key := b[i:ke]
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		vs := skipSpace(b, i+1)
		ve := skipValue(b, vs)
		if ve < 0 {
			return -1
		}
		if !fn(key, vs, ve) {
			return ve
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// forEachElement calls fn with the span [vs, ve) of each element of the array starting at b[i] == '[', in order,
// until fn returns false. It returns like forEachMember.
func forEachElement(b []byte, i int, fn func(vs, ve int) bool) int {
	if i < 0 || i >= len(b) || b[i] != '[' {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		vs := i
		ve := skipValue(b, vs)
		if ve < 0 {
			return -1
		}
		if !fn(vs, ve) {
			return ve
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// keyName returns the key's characters: the bytes between the quotes, or, for the rare key written with escapes
// ("\u006dodel"), its decoded form. Comparing string(keyName(k)) to a literal does not allocate.
func keyName(raw []byte) []byte {
	if len(raw) < 2 {
		return nil
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	var k string
	if json.Unmarshal(raw, &k) != nil {
		return nil
	}
	return []byte(k)
}

// member returns the value span of the last member named name of the object at b[i] (the last one, as Python's
// json keeps it), or ok == false when there is none or the object is malformed.
func member(b []byte, i int, name string) (vs, ve int, ok bool) {
	end := forEachMember(b, i, func(key []byte, s, e int) bool {
		if string(keyName(key)) == name {
			vs, ve, ok = s, e, true
		}
		return true
	})
	if end < 0 {
		return 0, 0, false
	}
	return vs, ve, ok
}

// kindOf names the JSON type of the value starting at b[i], as error messages say it.
func kindOf(b []byte, i int) string {
	if i < 0 || i >= len(b) {
		return "nothing"
	}
	switch b[i] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// isNull reports whether the value span is the literal null.
func isNull(v []byte) bool { return string(v) == "null" }

// renderedASCII is how many bytes each ASCII character takes when a JSON encoder re-renders it inside a string in the
// most expansive way an engine's chat template does: Python's json.dumps with ensure_ascii=True, or Jinja's
// htmlsafe tojson, which also writes <, >, & and ' as \u00XX.
var renderedASCII = func() (t [utf8.RuneSelf]int8) {
	for c := range t {
		switch {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			t[c] = 2
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\'':
			t[c] = 6
		default:
			t[c] = 1
		}
	}
	return t
}()

// stringSizes reads the string literal raw (quotes included) and returns its decoded length in UTF-8 bytes (what a
// tokenizer sees when the text is inserted as is) and an upper bound of its length when re-rendered as a JSON string
// by a template (quotes included). Invalid UTF-8 and lone surrogates count as U+FFFD, as encoding/json decodes them.
func stringSizes(raw []byte) (decoded, rendered int64) {
	if len(raw) < 2 {
		return 0, 0
	}
	s := raw[1 : len(raw)-1]
	rendered = 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c != '\\' {
			decoded++
			rendered += int64(renderedASCII[c])
			i++
			continue
		}
		var r rune
		if c == '\\' {
			if i+1 >= len(s) {
				return decoded + 1, rendered + 2
			}
			if s[i+1] != 'u' {
				r = rune(unescapeChar(s[i+1]))
				i += 2
			} else {
				var n int
				r, n = decodeUnicodeEscape(s[i:])
				i += n
			}
			if r < utf8.RuneSelf {
				decoded++
				rendered += int64(renderedASCII[r])
				continue
			}
		} else {
			var n int
			r, n = utf8.DecodeRune(s[i:])
			i += n
		}
		decoded += int64(utf8.RuneLen(r))
		if r >= 0x10000 {
			rendered += 12 // a surrogate pair of \uXXXX
		} else {
			rendered += 6
		}
	}
	return decoded, rendered
}

// appendUnescaped appends the characters of the string literal raw (quotes included) to dst, decoded.
func appendUnescaped(dst, raw []byte) []byte {
	if len(raw) < 2 {
		return dst
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c != '\\':
			dst = append(dst, c)
			i++
		case i+1 >= len(s):
			return dst
		case s[i+1] != 'u':
			dst = append(dst, unescapeChar(s[i+1]))
			i += 2
		default:
			r, n := decodeUnicodeEscape(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		}
	}
	return dst
}

func unescapeChar(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	default: // '"', '\\', '/' (and anything else, which json.Valid has excluded)
		return c
	}
}

// decodeUnicodeEscape decodes "\uXXXX" (and a following low surrogate) at the start of s, returning the rune and
// the bytes consumed; a lone surrogate or bad hex gives utf8.RuneError.
func decodeUnicodeEscape(s []byte) (rune, int) {
	u, ok := hex4(s)
	if !ok {
		return utf8.RuneError, min(len(s), 2)
	}
	if u < 0xD800 || u > 0xDFFF {
		return u, 6
	}
	if u < 0xDC00 && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if lo, ok := hex4(s[6:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			return 0x10000 + (u-0xD800)<<10 + (lo - 0xDC00), 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 parses the four hex digits after "\u" at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 6 {
		return 0, false
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// renderedSize is an upper bound of the length of the JSON value at b[i] when a chat template re-renders it with
// json.dumps / tojson: the ensure_ascii string escapes of stringSizes, ", " and ": " separators or, with indent=4 (the
// Llama 3.1 template's), a newline and four spaces per level before every element and closing bracket, and Python's
// float formatting (at most 24 characters) for numbers with a fraction or exponent. It returns the index past the
// value, or -1. depth is the nesting level of the value (0 for the value itself).
func renderedSize(b []byte, i, depth int) (end int, n int64) {
	if i >= len(b) {
		return -1, 0
	}
	switch b[i] {
	case '"':
		end = skipString(b, i)
		if end < 0 {
			return -1, 0
		}
		_, n = stringSizes(b[i:end])
		return end, n
	case '{', '[':
		n = 2                                // the brackets
		perElement := int64(2 + 4*(depth+1)) // ",\n" and the indent, or ", "
		elements, total, bad := int64(0), int64(0), false
		visit := func(vs int) bool {
			ve, vn := renderedSize(b, vs, depth+1)
			total += vn + perElement
			elements++
			bad = ve < 0
			return !bad
		}
		if b[i] == '{' {
			end = forEachMember(b, i, func(key []byte, vs, _ int) bool {
				_, kn := stringSizes(key)
				total += kn + 2 // ": "
				return visit(vs)
			})
		} else {
			end = forEachElement(b, i, func(vs, _ int) bool { return visit(vs) })
		}
		if end < 0 || bad {
			return -1, 0
		}
		if elements > 0 {
			n += int64(1 + 4*depth) // the newline and indent before the closing bracket
		}
		return end, n + total
	default:
		end = skipValue(b, i)
		if end < 0 {
			return -1, 0
		}
		n = int64(end - i)
		if bytes.ContainsAny(b[i:end], ".eE") && n < 24 {
			n = 24
		}
		return end, n
	}
}
