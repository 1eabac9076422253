package engine

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Docs is the generated part of docs/engines.md: what the registry says of every engine, in tables. The engine
// tests check the file against it (go test ./internal/engine -update rewrites it).
func Docs() string {
	var b strings.Builder
	all := All()
	row := func(cells ...string) { fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | ")) }
	header := func(first string) {
		cells := []string{first}
		for _, f := range all {
			cells = append(cells, fmt.Sprintf("%s (`%s`)", f.Title, f.Name))
		}
		row(cells...)
		row(strings.Split(strings.Repeat("---,", len(cells)), ",")[:len(cells)]...)
	}

	b.WriteString("### Engines\n\n")
	header("")
	cells := func(label string, f func(Facts) string) {
		c := []string{label}
		for _, e := range all {
			c = append(c, f(e))
		}
		row(c...)
	}
	cells("release the facts are from", func(f Facts) string { return f.Version })
	cells("pinned image", func(f Facts) string { return "`" + f.Image + "`" })
	cells("CPU image (`gpu.count: 0`)", func(f Facts) string { return codeOr(f.CPUImage, "– (GPUs only)") })
	cells("model sources", func(f Facts) string {
		s := make([]string, len(f.Schemes))
		for i, sc := range f.Schemes {
			s[i] = "`" + string(sc) + "://`"
		}
		out := strings.Join(s, " ")
		if f.ModelFileSuffix != "" {
			out += fmt.Sprintf(" (pvc:// names a `%s` file)", f.ModelFileSuffix)
		}
		return out
	})
	cells("`model.revision`", func(f Facts) string {
		if f.Revisions {
			return "branch, tag or commit"
		}
		return "refused (default branch only)"
	})
	cells("`dtype`", func(f Facts) string {
		out := codeList(names(f.Dtypes))
		if !f.DtypeWithQuantization && len(f.Dtypes) > 1 {
			out += "; only `auto` with a quantization"
		}
		return out
	})
	cells("`tensorParallelSize`", func(f Facts) string {
		switch f.Parallelism {
		case TensorAndPipeline:
			return "divides `gpu.count`; the rest become pipeline stages"
		case TensorOnly:
			return "equals `gpu.count`"
		default:
			return "not accepted: layers are split over the GPUs"
		}
	})
	cells("quantization flag", func(f Facts) string { return codeOr(f.QuantizationOption, "– (the file fixes it)") })
	cells("flags `engine.args` may not set", func(f Facts) string { return codeList(f.ManagedFlags) })
	cells("variables `engine.env` may not set (besides the common ones)", func(f Facts) string {
		var s []string
		s = append(s, f.ManagedEnv...)
		for n := range f.ForbiddenEnv {
			s = append(s, n)
		}
		return codeOr(strings.Join(sorted(s), "` `"), "–")
	})
	cells("flags the admission policy refuses by default (`admission.refusedArgs`)", func(f Facts) string {
		out := codeList(f.WideningFlags)
		if f.Abbreviates && len(f.WideningFlags) > 0 {
			out += ", and their abbreviations"
		}
		return out
	})
	cells("variables the admission policy refuses by default (`admission.refusedEnv`), besides the loader's", func(f Facts) string {
		return codeList(f.WideningEnv)
	})
	cells("source", func(f Facts) string { return f.Source })
	fmt.Fprintf(&b, "\nVariables no engine's `engine.env` may set: %s. The admission policy also refuses, by default, %s.\n",
		codeList(CommonEnvNames), codeList(WideningEnvNames))

	b.WriteString("\n### Quantization\n\n")
	b.WriteString("*checkpoint*: the engine reads the method from a quantized checkpoint and gets no flag; *on load*: the flag\n" +
		"that quantizes an unquantized checkpoint as it loads. Which of the two applies is `spec.model.quantized`\n" +
		"(see [Quantization](#quantization-checkpoint-or-on-load)). Bits per weight size the fit estimate.\n\n")
	header("`spec.quantization`")
	var qs []v1.Quantization
	for _, f := range all {
		for _, q := range f.Quantizations {
			if !slices.Contains(qs, q.Name) {
				qs = append(qs, q.Name)
			}
		}
	}
	for _, q := range qs {
		c := []string{"`" + string(q) + "`"}
		for _, f := range all {
			e, ok := f.QuantizationOf(q)
			switch {
			case !ok:
				c = append(c, "refused")
			case q == v1.QuantizationNone:
				c = append(c, "–")
			default:
				var ways []string
				if e.FromCheckpoint {
					ways = append(ways, "checkpoint")
				}
				if e.OnLoadFlag != "" {
					ways = append(ways, fmt.Sprintf("on load: `%s=%s`", f.QuantizationOption, e.OnLoadFlag))
				}
				if e.MaxGPUs > 0 {
					ways = append(ways, fmt.Sprintf("at most %d GPU", e.MaxGPUs))
				}
				ways = append(ways, fmt.Sprintf("%g bits", e.BitsPerWeight))
				c = append(c, strings.Join(ways, "; "))
			}
		}
		row(c...)
	}

	b.WriteString("\n### Metrics the operator reads\n\n")
	header("signal")
	metric := func(label string, get func(Metrics) []string) {
		c := []string{label}
		for _, f := range all {
			c = append(c, codeOr(strings.Join(get(f.Metrics), "`, then `"), "–"))
		}
		row(c...)
	}
	metric("requests running", func(m Metrics) []string { return m.RequestsRunning })
	metric("queue depth", func(m Metrics) []string { return m.RequestsWaiting })
	metric("KV-cache use (0..1)", func(m Metrics) []string { return m.KVCacheUsage })
	metric("prompt tokens", func(m Metrics) []string { return m.PromptTokens })
	metric("generated tokens", func(m Metrics) []string { return m.GenerationTokens })
	metric("time to first token", func(m Metrics) []string { return m.TimeToFirstToken })
	metric("request latency", func(m Metrics) []string { return m.RequestLatency })
	metric("created on first request (absent = 0)", func(m Metrics) []string { return m.CreatedOnFirstUse })
	return b.String()
}

func codeOr(s, empty string) string {
	if s == "" {
		return empty
	}
	return "`" + s + "`"
}

func codeList(items []string) string {
	if len(items) == 0 {
		return "–"
	}
	return "`" + strings.Join(items, "` `") + "`"
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
