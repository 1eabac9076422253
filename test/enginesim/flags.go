package enginesim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A FlagTable is the command line of one engine at one version, read from the engine's own argument definitions
// (vLLM's EngineArgs and frontend arguments, TGI's launcher, SGLang's ServerArgs, llama.cpp's common/arg.cpp).
// engine-sim parses the operator's rendered command line with it and refuses what the real engine refuses, with
// the real engine's exit code, so a pod the real engine would crash-loop crash-loops in the simulated cluster too.
type FlagTable struct {
	// Engine names the engine, e.g. "vllm".
	Engine string
	// Version is the engine release the table was read from, e.g. "v0.18.0".
	Version string
	// Source says which files at which commit the table was read from.
	Source string
	// Syntax is how the engine parses its command line.
	Syntax Syntax
	// AllowAbbrev (argparse only): a unique prefix of a long option is accepted for it (argparse's allow_abbrev).
	AllowAbbrev bool
	// UnderscoreAsDash: "--max_model_len" is read as "--max-model-len" (vLLM's FlexibleArgumentParser,
	// llama.cpp). Only the name is rewritten, never the value.
	UnderscoreAsDash bool
	// Flags are the options.
	Flags []Flag
}

// Syntax is a command-line parser family.
type Syntax uint8

// The parser families of the engines.
const (
	// Argparse is Python's argparse (vLLM, SGLang): "--x=v" and "--x v"; unknown arguments exit 2 with
	// "error: unrecognized arguments: …".
	Argparse Syntax = iota + 1
	// Clap is Rust's clap 4 (TGI's launcher): "--x=v", "--x v", "-p 8080", "-p8080"; an unknown argument or a
	// repeated single-value option exits 2.
	Clap
	// LlamaCpp is llama.cpp's own parser (common/arg.cpp): each option and each of its values is its own argument;
	// an unknown argument exits 1 with "error: invalid argument: …".
	LlamaCpp
)

// Arity is how many values an option takes.
type Arity uint8

// The arities.
const (
	// NoValue is a switch (argparse store_true/store_false/store_const, clap SetTrue, llama.cpp options without a
	// value hint). A value given with "=" is refused.
	NoValue Arity = iota
	// OneValue is exactly one value.
	OneValue
	// OptionalValue is argparse nargs='?': the option alone, or with one value.
	OptionalValue
	// OneOrMore is argparse nargs='+': one or more values, up to the next option.
	OneOrMore
	// ZeroOrMore is argparse nargs='*'.
	ZeroOrMore
	// TwoValues is a llama.cpp option with two value hints (e.g. --lora-scaled FNAME SCALE).
	TwoValues
)

// ValueType is how a value is checked. A type never refuses what the engine accepts: where the engine's own
// conversion is lenient or custom, the table says String.
type ValueType uint8

// The value types.
const (
	// String accepts any value.
	String ValueType = iota
	// Int is a base-10 integer (argparse int(), clap integer types, llama.cpp std::stoi).
	Int
	// Float is a floating point number.
	Float
	// Bool is clap's bool value parser: true or false.
	Bool
	// JSON is argparse's json.loads.
	JSON
)

// Flag is one option of an engine's command line.
type Flag struct {
	// Names are the option's spellings, the canonical long one first: "--tensor-parallel-size", "-tp".
	Names []string
	// Negation is the "--no-x" spelling of an argparse BooleanOptionalAction (or a llama.cpp negative option),
	// "" when there is none.
	Negation string
	// Arity is how many values it takes.
	Arity Arity
	// Type checks each value.
	Type ValueType
	// Choices are the accepted values (argparse choices, clap possible values); nil accepts any value of Type.
	Choices []string
	// Env is the environment variable the engine reads when the option is not given (clap env, llama.cpp
	// LLAMA_ARG_*), "" when none.
	Env string
}

// Name is the canonical spelling of the option.
func (f Flag) Name() string { return f.Names[0] }

// CommandLine is a command line that parsed.
type CommandLine struct {
	// Values holds each option given (by canonical name) with its values, in order of appearance; a switch has
	// an empty list, a negated BooleanOptionalAction the value "false".
	Values map[string][][]string
	// Positionals are the arguments that are not options or their values.
	Positionals []string
}

// Has says whether the option was given.
func (c CommandLine) Has(name string) bool { _, ok := c.Values[name]; return ok }

// Last is the last value given to an option, as argparse and llama.cpp keep it; "" when absent.
func (c CommandLine) Last(name string) (string, bool) {
	vs, ok := c.Values[name]
	if !ok || len(vs) == 0 {
		return "", ok
	}
	last := vs[len(vs)-1]
	if len(last) == 0 {
		return "", true
	}
	return last[len(last)-1], true
}

// UsageError is a command line the engine refuses: the message it prints and the status it exits with.
type UsageError struct {
	// Code is the exit status (argparse and clap 2, llama.cpp 1).
	Code int
	// Message is what the engine prints, e.g. "vllm serve: error: unrecognized arguments: --foo".
	Message string
}

func (e *UsageError) Error() string { return e.Message }

// Parse parses args (without the program name) as the engine would. maxPositionals is how many positional
// arguments the engine's parser takes (vLLM serve: the model; the others: none); more are refused.
func (t *FlagTable) Parse(prog string, args []string, maxPositionals int) (CommandLine, error) {
	p := parser{t: t, prog: prog, out: CommandLine{Values: map[string][][]string{}}}
	p.index()
	var err error
	switch t.Syntax {
	case Argparse:
		err = p.argparse(args, maxPositionals)
	case Clap:
		err = p.clap(args, maxPositionals)
	case LlamaCpp:
		err = p.llamacpp(args, maxPositionals)
	default:
		return CommandLine{}, fmt.Errorf("flag table %s: no syntax", t.Engine)
	}
	if err != nil {
		return CommandLine{}, err
	}
	return p.out, nil
}

type parser struct {
	t      *FlagTable
	prog   string
	byName map[string]*Flag // every spelling and negation
	out    CommandLine
}

func (p *parser) index() {
	p.byName = map[string]*Flag{}
	for i := range p.t.Flags {
		f := &p.t.Flags[i]
		for _, n := range f.Names {
			p.byName[n] = f
		}
		if f.Negation != "" {
			p.byName[f.Negation] = f
		}
	}
}

func (p *parser) normalize(name string) string {
	if p.t.UnderscoreAsDash && strings.HasPrefix(name, "--") {
		return "--" + strings.ReplaceAll(name[2:], "_", "-")
	}
	return name
}

func (p *parser) add(f *Flag, values []string) {
	p.out.Values[f.Name()] = append(p.out.Values[f.Name()], values)
}

// check converts one value as the engine would and returns the engine's message on failure.
func (f *Flag) check(v string) error {
	if len(f.Choices) > 0 {
		if !slices.Contains(f.Choices, v) {
			return fmt.Errorf("invalid choice: %q", v)
		}
		return nil
	}
	switch f.Type {
	case Int:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return fmt.Errorf("invalid int value: %q", v)
		}
	case Float:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("invalid float value: %q", v)
		}
	case Bool:
		if v != "true" && v != "false" {
			return fmt.Errorf("invalid bool value: %q", v)
		}
	case JSON:
		if !json.Valid([]byte(v)) {
			return fmt.Errorf("invalid loads value: %q", v)
		}
	}
	return nil
}

// --- argparse ---

func (p *parser) argparseErr(format string, args ...any) error {
	return &UsageError{Code: 2, Message: fmt.Sprintf("usage: %s [options]\n%s: error: %s", p.prog, p.prog, fmt.Sprintf(format, args...))}
}

// looksLikeOption is argparse's test: a "-"-prefixed string that is not a negative number.
func looksLikeOption(a string) bool {
	if !strings.HasPrefix(a, "-") || a == "-" {
		return false
	}
	if _, err := strconv.ParseFloat(a, 64); err == nil {
		return false
	}
	return true
}

// lookupArgparse finds the option of an argument's name part: exact, then (allow_abbrev) a unique prefix of a
// long option.
func (p *parser) lookupArgparse(name string) (*Flag, bool, error) {
	name = p.normalize(name)
	if f, ok := p.byName[name]; ok {
		return f, f.Negation == name, nil
	}
	if !p.t.AllowAbbrev || !strings.HasPrefix(name, "--") {
		return nil, false, nil
	}
	var matches []string
	for n := range p.byName {
		if strings.HasPrefix(n, "--") && strings.HasPrefix(n, name) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return nil, false, nil
	case 1:
		f := p.byName[matches[0]]
		return f, f.Negation == matches[0], nil
	}
	slices.Sort(matches)
	return nil, false, p.argparseErr("ambiguous option: %s could match %s", name, strings.Join(matches, ", "))
}

func (p *parser) argparse(args []string, maxPositionals int) error {
	var unrecognized []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.out.Positionals = append(p.out.Positionals, args[i+1:]...)
			break
		}
		if !looksLikeOption(a) {
			p.out.Positionals = append(p.out.Positionals, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		f, negated, err := p.lookupArgparse(name)
		if err != nil {
			return err
		}
		if f == nil {
			unrecognized = append(unrecognized, a)
			continue
		}
		var values []string
		switch {
		case f.Arity == NoValue || negated:
			if hasValue {
				return p.argparseErr("argument %s: ignored explicit argument %q", strings.Join(f.Names, "/"), value)
			}
			if negated {
				values = []string{"false"}
			}
		case hasValue:
			values = []string{value}
		default:
			for i+1 < len(args) && !looksLikeOption(args[i+1]) && args[i+1] != "--" {
				values = append(values, args[i+1])
				i++
				if f.Arity == OneValue || f.Arity == OptionalValue {
					break
				}
			}
			switch {
			case (f.Arity == OneValue) && len(values) == 0:
				return p.argparseErr("argument %s: expected one argument", strings.Join(f.Names, "/"))
			case f.Arity == OneOrMore && len(values) == 0:
				return p.argparseErr("argument %s: expected at least one argument", strings.Join(f.Names, "/"))
			}
		}
		if !negated {
			for _, v := range values {
				if err := f.check(v); err != nil {
					msg := err.Error()
					if len(f.Choices) > 0 {
						msg += " (choose from " + quoteList(f.Choices) + ")"
					}
					return p.argparseErr("argument %s: %s", strings.Join(f.Names, "/"), msg)
				}
			}
		}
		p.add(f, values)
	}
	if len(p.out.Positionals) > maxPositionals {
		unrecognized = append(p.out.Positionals[maxPositionals:], unrecognized...)
		p.out.Positionals = p.out.Positionals[:maxPositionals]
	}
	if len(unrecognized) > 0 {
		return p.argparseErr("unrecognized arguments: %s", strings.Join(unrecognized, " "))
	}
	return nil
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = "'" + it + "'"
	}
	return strings.Join(q, ", ")
}

// --- clap ---

func (p *parser) clapErr(format string, args ...any) error {
	return &UsageError{Code: 2, Message: "error: " + fmt.Sprintf(format, args...) + "\n\nFor more information, try '--help'."}
}

func (p *parser) clap(args []string, maxPositionals int) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.out.Positionals = append(p.out.Positionals, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			p.out.Positionals = append(p.out.Positionals, a)
			continue
		}
		var f *Flag
		var value string
		var hasValue bool
		if strings.HasPrefix(a, "--") {
			name, v, ok := strings.Cut(a, "=")
			f, value, hasValue = p.byName[name], v, ok
		} else {
			// -p8080, -p=8080, -p 8080
			name := a[:2]
			f = p.byName[name]
			if rest := a[2:]; rest != "" {
				value, hasValue = strings.TrimPrefix(rest, "="), true
			}
		}
		if f == nil {
			return p.clapErr("unexpected argument '%s' found", a)
		}
		display := f.Name()
		if f.Arity != NoValue {
			display += " <" + strings.ToUpper(strings.ReplaceAll(strings.TrimLeft(f.Name(), "-"), "-", "_")) + ">"
		}
		if p.out.Has(f.Name()) {
			return p.clapErr("the argument '%s' cannot be used multiple times", display)
		}
		var values []string
		switch {
		case f.Arity == NoValue:
			if hasValue {
				return p.clapErr("unexpected value '%s' for '%s' found; no more were expected", value, f.Name())
			}
		case hasValue:
			values = []string{value}
		case i+1 < len(args) && !(strings.HasPrefix(args[i+1], "-") && len(args[i+1]) > 1 && !isNumber(args[i+1])):
			values = []string{args[i+1]}
			i++
		default:
			return p.clapErr("a value is required for '%s' but none was supplied", display)
		}
		for _, v := range values {
			if err := f.check(v); err != nil {
				if len(f.Choices) > 0 {
					return p.clapErr("invalid value '%s' for '%s'\n  [possible values: %s]", v, display, strings.Join(f.Choices, ", "))
				}
				return p.clapErr("invalid value '%s' for '%s': %s", v, display, err)
			}
		}
		p.add(f, values)
	}
	if len(p.out.Positionals) > maxPositionals {
		return p.clapErr("unexpected argument '%s' found", p.out.Positionals[maxPositionals])
	}
	return nil
}

func isNumber(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }

// --- llama.cpp ---

func (p *parser) llamaErr(format string, args ...any) error {
	return &UsageError{Code: 1, Message: "error: " + fmt.Sprintf(format, args...)}
}

func (p *parser) llamacpp(args []string, maxPositionals int) error {
	for i := 0; i < len(args); i++ {
		a := p.normalize(args[i])
		f := p.byName[a]
		if f == nil {
			if !strings.HasPrefix(a, "-") && len(p.out.Positionals) < maxPositionals {
				p.out.Positionals = append(p.out.Positionals, a)
				continue
			}
			return p.llamaErr("invalid argument: %s", args[i])
		}
		n := 0
		switch f.Arity {
		case OneValue:
			n = 1
		case TwoValues:
			n = 2
		}
		if f.Negation == a {
			n = 0
		}
		if i+n >= len(args) {
			return p.llamaErr("expected value for argument")
		}
		values := append([]string(nil), args[i+1:i+1+n]...)
		i += n
		for _, v := range values {
			if err := f.check(v); err != nil {
				return p.llamaErr("while handling argument \"%s\": %s", args[i-n], err)
			}
		}
		if f.Negation == a {
			values = []string{"false"}
		}
		p.add(f, values)
	}
	return nil
}
