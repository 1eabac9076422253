package openai

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestSkipValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`"abc" x`, 5},
		{`"a\"b" x`, 6},
		{`"a\\" x`, 5},
		{`"a\\\"b" x`, 8},
		{`{"a":"}","b":[1,{"c":"]"}]} x`, 27},
		{`[] x`, 2},
		{`-1.5e3,`, 6},
		{`true}`, 4},
		{`null`, 4},
		{`"unterminated`, -1},
		{`{"a":1`, -1},
		{`[1,2`, -1},
		{`,`, -1},
		{``, -1},
	} {
		if got := skipValue([]byte(tc.in), 0); got != tc.want {
			t.Errorf("skipValue(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestMemberLastWinsAndEscapedKeys(t *testing.T) {
	b := []byte(`{"model":"a", "mod\u0065l" : "b", "Model":"c"}`)
	vs, ve, ok := member(b, 0, "model")
	if !ok || string(b[vs:ve]) != `"b"` {
		t.Fatalf("member(model) = %q, %v; want the last, escaped key's value \"b\"", b[vs:ve], ok)
	}
	if _, _, ok := member(b, 0, "MODEL"); ok {
		t.Fatal("keys must match case-sensitively")
	}
}

// TestScannerNeverPanics feeds every prefix (and every single-byte corruption) of a document to the walkers, which
// must report malformed input instead of reading out of bounds.
func TestScannerNeverPanics(t *testing.T) {
	doc := []byte(`{"a":[1,"x\"y",{"b":null}],"c":{"d":"\ud83c\udf0d"},"e":-2.5e3,"f":true}`)
	visit := func(b []byte) {
		forEachMember(b, 0, func(_ []byte, vs, ve int) bool {
			skipValue(b, vs)
			renderedSize(b, vs, 0)
			forEachElement(b, vs, func(int, int) bool { return true })
			_ = ve
			return true
		})
		member(b, 0, "c")
		renderedSize(b, 0, 0)
	}
	for i := 0; i <= len(doc); i++ {
		visit(doc[:i])
		for _, c := range []byte{'"', '{', '}', '[', ']', ',', ':', '\\', 0} {
			corrupt := append([]byte(nil), doc...)
			if i < len(corrupt) {
				corrupt[i] = c
			}
			visit(corrupt)
		}
	}
}

func TestStringSizes(t *testing.T) {
	for _, tc := range []struct {
		raw               string
		decoded, rendered int64
	}{
		{`""`, 0, 2},
		{`"hello"`, 5, 7},
		{`"a\"b\\c"`, 5, 2 + 1 + 2 + 1 + 2 + 1},
		{`"line\nbreak\t"`, 11, 2 + 9 + 2 + 2},
		{`"é"`, 2, 2 + 6},             // raw UTF-8
		{`"\u00e9"`, 2, 2 + 6},        // the same character escaped
		{`"世"`, 3, 2 + 6},             // 3-byte character
		{`"🌍"`, 4, 2 + 12},            // 4-byte character: a surrogate pair when re-escaped
		{`"\ud83c\udf0d"`, 4, 2 + 12}, // the same as a surrogate pair
		{`"\ud83c"`, 3, 2 + 6},        // a lone surrogate decodes to U+FFFD
		{`"\u0001<&>'"`, 5, 2 + 6*5},  // control and HTML-escaped characters
		{"\"\xff\"", 3, 2 + 6},        // invalid UTF-8 decodes to U+FFFD
		{`"\/"`, 1, 2 + 1},            // an escaped solidus is one byte
		{`"caf\u00e9 \u4e16\u754c"`, 12, 2 + 3 + 6 + 1 + 12},
	} {
		d, r := stringSizes([]byte(tc.raw))
		if d != tc.decoded || r != tc.rendered {
			t.Errorf("stringSizes(%s) = %d, %d; want %d, %d", tc.raw, d, r, tc.decoded, tc.rendered)
		}
		var s string
		if err := json.Unmarshal([]byte(tc.raw), &s); err == nil && int64(len(s)) != tc.decoded {
			t.Errorf("stringSizes(%s) decoded = %d, but encoding/json decodes %d bytes", tc.raw, d, len(s))
		}
		if u := appendUnescaped(nil, []byte(tc.raw)); utf8.Valid([]byte(tc.raw)) && string(u) != s {
			t.Errorf("appendUnescaped(%s) = %q, encoding/json decodes %q", tc.raw, u, s)
		}
	}
}

// TestRenderedSizeCoversTemplateRenderings checks renderedSize against the lengths Python's json.dumps gives
// (computed with CPython 3: default separators, indent=4, ensure_ascii=False with and without indent, compact
// separators, indent=2). The bound must be at least the longest.
func TestRenderedSizeCoversTemplateRenderings(t *testing.T) {
	for _, tc := range []struct {
		doc     string
		pythons []int
	}{
		{`{"type":"function","function":{"name":"get_weather","description":"Get the weather <now> & 'here'",` +
			`"parameters":{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Zürich","東京"]},` +
			`"days":{"type":"integer","minimum":1,"maximum":1e1}},"required":["city"]}}}`,
			[]int{316, 708, 301, 693, 290, 520}},
		{`[1,2.5,[],{},{"a":[true,false,null]}, "\ud83c\udf0d\n\u0001"]`, []int{68, 154, 57, 143, 60, 114}},
		{`{"city":"Paris"}`, []int{17, 23, 17, 23, 16, 21}},
	} {
		end, n := renderedSize([]byte(tc.doc), 0, 0)
		if end != len(tc.doc) {
			t.Fatalf("renderedSize(%s) ended at %d of %d", tc.doc, end, len(tc.doc))
		}
		for _, p := range tc.pythons {
			if n < int64(p) {
				t.Errorf("renderedSize(%s) = %d, below a Python rendering of %d bytes", tc.doc, n, p)
			}
		}
	}
	if _, n := renderedSize([]byte(`{"city":"Paris"}`), 0, 0); n != 24 {
		// 2 braces + (6 key + 2 ": " + 7 value + 6 ",\n    ") + 1 closing newline
		t.Errorf(`renderedSize({"city":"Paris"}) = %d, want 24`, n)
	}
}
