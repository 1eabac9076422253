package hub

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Filter picks the files to download with glob patterns, with the semantics of huggingface_hub's
// allow_patterns/ignore_patterns (utils/_paths.py filter_repo_objects), so a pattern that works with
// `hf download --include/--exclude` works here:
//
//   - patterns are Python fnmatch globs, case-sensitive: '*' matches any run of characters INCLUDING '/',
//     '?' one character, "[seq]" and "[!seq]" a character class; "**" is the same as '*';
//   - a pattern ending in '/' matches everything under that directory ("original/" is "original/*");
//   - backslashes are path separators in patterns and paths alike;
//   - a file is kept when Include is empty or one Include pattern matches, and no Exclude pattern matches.
//
// So "*.safetensors" matches "model-00001-of-00004.safetensors" and "sub/model.safetensors", "original/**"
// matches every file under original/, and "*Q4_K_M*.gguf" picks one GGUF quantization.
type Filter struct {
	// Include lists patterns of which one must match; empty keeps every file.
	Include []string
	// Exclude lists patterns of which none may match.
	Exclude []string
}

// Validate reports the first pattern that cannot be used (an empty one, or a character class with a reversed
// range such as "[z-a]").
func (f Filter) Validate() error {
	_, err := f.compile()
	return err
}

// Match reports whether the filter keeps the repo path p. A Filter that does not Validate keeps nothing.
func (f Filter) Match(p string) bool {
	m, err := f.compile()
	return err == nil && m.match(p)
}

// SelectFiles returns the files the filter keeps, in their order. It is pure: no I/O, no state.
func SelectFiles(files []File, f Filter) ([]File, error) {
	m, err := f.compile()
	if err != nil {
		return nil, err
	}
	var out []File
	for _, file := range files {
		if m.match(file.Path) {
			out = append(out, file)
		}
	}
	return out, nil
}

type matcher struct{ include, exclude []*regexp.Regexp }

func (m matcher) match(p string) bool {
	p = strings.ReplaceAll(p, `\`, "/")
	if len(m.include) > 0 && !anyMatch(m.include, p) {
		return false
	}
	return !anyMatch(m.exclude, p)
}

func anyMatch(res []*regexp.Regexp, p string) bool {
	for _, re := range res {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

func (f Filter) compile() (matcher, error) {
	var m matcher
	for _, set := range []struct {
		pats []string
		out  *[]*regexp.Regexp
	}{{f.Include, &m.include}, {f.Exclude, &m.exclude}} {
		for _, p := range set.pats {
			re, err := compileGlob(p)
			if err != nil {
				return matcher{}, &Error{Reason: ReasonInvalidArgument, Err: err,
					Detail: fmt.Sprintf("invalid file pattern %q: %v", p, err)}
			}
			*set.out = append(*set.out, re)
		}
	}
	return m, nil
}

// compileGlob translates a glob as Python's fnmatch.translate does, after filter_repo_objects' normalization
// (backslashes to '/', a trailing '/' gets '*').
func compileGlob(pat string) (*regexp.Regexp, error) {
	if pat == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	pat = strings.ReplaceAll(pat, `\`, "/")
	if strings.HasSuffix(pat, "/") {
		pat += "*"
	}
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pat); {
		r, size := utf8.DecodeRuneInString(pat[i:])
		i += size
		switch r {
		case '*':
			for i < len(pat) && pat[i] == '*' {
				i++
			}
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) { // no closing bracket: a literal '['
				b.WriteString(`\[`)
				continue
			}
			class := pat[i:j]
			i = j + 1
			b.WriteString(globClass(class))
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

// globClass turns the inside of a glob's [...] into a regexp class: a leading '!' negates, '-' makes ranges,
// every other character is literal.
func globClass(class string) string {
	var b strings.Builder
	b.WriteByte('[')
	if strings.HasPrefix(class, "!") {
		b.WriteByte('^')
		class = class[1:]
	}
	for i, r := range class {
		switch {
		case r == '-' && i > 0 && i < len(class)-1:
			b.WriteByte('-')
		case r < utf8.RuneSelf && !isAlnum(byte(r)):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(']')
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
