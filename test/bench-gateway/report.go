package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Targets of issue #12.
const (
	targetAddedP99     = time.Millisecond // at targetStreams
	targetStreams      = 64
	targetRPS          = 5000
	targetKiBPerStream = 64
)

// modeResult is one target's side of a latency level, over all its segments.
type modeResult struct {
	sent     int64
	samples  []sample
	rounds   []percentiles // of each segment
	errors   int
	firstErr error
	dials    int64
	cpu      usage
}

func (m *modeResult) merge(r streamRun) {
	m.sent += r.sent
	m.samples = append(m.samples, r.samples...)
	m.rounds = append(m.rounds, percentilesOf(r.samples))
	m.errors += r.errors
	if m.firstErr == nil {
		m.firstErr = r.firstErr
	}
	m.dials += r.dials
	m.cpu.merge(r.cpu)
}

// levelResult is one latency level.
type levelResult struct {
	streams         int
	interval        time.Duration
	direct, gateway modeResult
}

// added is the gateway's percentiles minus the direct ones.
func (l levelResult) added() (d, g, a percentiles) {
	d, g = percentilesOf(l.direct.samples), percentilesOf(l.gateway.samples)
	a = percentiles{ttfb50: g.ttfb50 - d.ttfb50, ttfb99: g.ttfb99 - d.ttfb99, total50: g.total50 - d.total50,
		total99: g.total99 - d.total99}
	return d, g, a
}

// roundsAdded is, per round, the gateway segment's percentiles minus those of the direct segment before it.
func (l levelResult) roundsAdded() []percentiles {
	var out []percentiles
	for i := range min(len(l.direct.rounds), len(l.gateway.rounds)) {
		d, g := l.direct.rounds[i], l.gateway.rounds[i]
		out = append(out, percentiles{n: min(d.n, g.n), ttfb50: g.ttfb50 - d.ttfb50, ttfb99: g.ttfb99 - d.ttfb99,
			total50: g.total50 - d.total50, total99: g.total99 - d.total99})
	}
	return out
}

// median is the median of the rounds' values of one field (the mean of the middle two for an even count).
func median(rounds []percentiles, field func(percentiles) time.Duration) time.Duration {
	if len(rounds) == 0 {
		return 0
	}
	v := make([]time.Duration, len(rounds))
	for i, r := range rounds {
		v[i] = field(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ttfb99(p percentiles) time.Duration  { return p.ttfb99 }
func total99(p percentiles) time.Duration { return p.total99 }

func (l levelResult) summary() string {
	_, _, a := l.added()
	s := fmt.Sprintf("added TTFB p50 %s p99 %s, total p50 %s p99 %s", signedMs(a.ttfb50), signedMs(a.ttfb99),
		signedMs(a.total50), signedMs(a.total99))
	for _, m := range []struct {
		name string
		r    modeResult
	}{{"direct", l.direct}, {"gateway", l.gateway}} {
		if m.r.errors > 0 {
			s += fmt.Sprintf("; %s: %d errors, the first: %v", m.name, m.r.errors, m.r.firstErr)
		}
	}
	return s
}

// memoryRun is the gateway's memory with a number of streams open.
type memoryRun struct {
	streams int
	rss     int64 // KiB
	stats   memStats
	dials   int64
}

type memoryResult struct {
	idleRSS, hwm int64 // KiB
	idle         memStats
	runs         []memoryRun
}

// perStream is what one open stream adds: RSS in KiB, live heap plus stacks in KiB, goroutines.
func (m memoryResult) perStream(r memoryRun) (rss, heap, goroutines float64) {
	n := float64(r.streams)
	rss = float64(r.rss-m.idleRSS) / n
	heap = (float64(r.stats.HeapAlloc+r.stats.StackInuse) - float64(m.idle.HeapAlloc+m.idle.StackInuse)) / 1024 / n
	goroutines = float64(r.stats.Goroutines-m.idle.Goroutines) / n
	return rss, heap, goroutines
}

// result is everything the benchmark measured.
type result struct {
	o                   options
	start               time.Time
	elapsed             time.Duration
	cpuModel, goVersion string
	cpus, restCPUs      []int
	gwCPU, gomaxprocs   int
	nofile              uint64

	memory                memoryResult
	levels                []levelResult
	rpsDirect, rpsGateway rpsRun

	sent       int64
	metered    float64
	threadCPUs []string
	threads    int
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

func signedMs(d time.Duration) string {
	return fmt.Sprintf("%+.3f ms", float64(d)/float64(time.Millisecond))
}

func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, ",")
}

// print writes the tables for people, then the same figures as key=value lines.
func (r *result) print(w io.Writer) {
	o := r.o
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## privatellm gateway benchmark")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Conditions: %s, %s; CPUs %s allowed. Gateway: its own process pinned to CPU %d, GOMAXPROCS=%d (its %d threads' Cpus_allowed_list: %s). "+
		"Load generator (GOMAXPROCS=%d; net/http client for streams, raw keep-alive connections for short requests) and %d engine-sim backend(s) per model (vLLM profile) on CPU %s. "+
		"Auth with a real key, metering on, no limits. Open files limit %d. The run took %.0f s.\n",
		r.cpuModel, r.goVersion, cpuList(r.cpus), r.gwCPU, r.gomaxprocs, r.threads, strings.Join(r.threadCPUs, " | "),
		len(r.restCPUs), o.backends, cpuList(r.restCPUs), r.nofile, r.elapsed.Seconds())

	if len(r.levels) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "### Added latency: streaming chat completions, %d output tokens, direct → gateway (added), ms\n\n", o.tokens)
		fmt.Fprintln(w, "| streams | token every | requests d / g | TTFB p50 | TTFB p99 | total p50 | total p99 | errors d / g |")
		fmt.Fprintln(w, "|---:|---:|---:|---|---|---|---|---:|")
		for _, l := range r.levels {
			d, g, a := l.added()
			cell := func(dv, gv, av time.Duration) string {
				return fmt.Sprintf("%s → %s (%s)", ms(dv), ms(gv), signedMs(av))
			}
			fmt.Fprintf(w, "| %d | %s | %d / %d | %s | %s | %s | %s | %d / %d |\n",
				l.streams, l.interval, d.n, g.n, cell(d.ttfb50, g.ttfb50, a.ttfb50), cell(d.ttfb99, g.ttfb99, a.ttfb99),
				cell(d.total50, g.total50, a.total50), cell(d.total99, g.total99, a.total99), l.direct.errors, l.gateway.errors)
		}
		fmt.Fprintf(w, "\nTTFB is the time to the first event (the role event engine-sim sends at once); total to [DONE] and EOF. "+
			"Direct and gateway alternate in %d segments each; every worker's first request (its connection) is not measured. Token interval: max(%s, streams / %.0f events/s).\n",
			o.rounds, o.tokenInterval, o.eventRate)
		if o.rounds > 1 {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "p99 added per round (each gateway segment against the direct segment just before it), to tell the gateway from a disturbance of one segment:")
			fmt.Fprintln(w)
			fmt.Fprintln(w, "| streams | TTFB p99 added, per round | median | total p99 added, per round | median |")
			fmt.Fprintln(w, "|---:|---|---:|---|---:|")
			for _, l := range r.levels {
				rounds := l.roundsAdded()
				list := func(field func(percentiles) time.Duration) string {
					s := make([]string, len(rounds))
					for i, p := range rounds {
						s[i] = fmt.Sprintf("%+.3f", float64(field(p))/float64(time.Millisecond))
					}
					return strings.Join(s, ", ")
				}
				fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", l.streams, list(ttfb99), signedMs(median(rounds, ttfb99)),
					list(total99), signedMs(median(rounds, total99)))
			}
		}
	}

	if r.rpsGateway.window > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "### Short requests: non-streaming, max_tokens 1, %d connections keep-alive, %s measured after %s\n\n", o.rpsConns, o.rpsWin, o.rpsWarmup)
		fmt.Fprintln(w, "| target | requests/s | connections | errors |")
		fmt.Fprintln(w, "|---|---:|---:|---:|")
		for _, x := range []struct {
			name string
			r    rpsRun
		}{{"direct", r.rpsDirect}, {"gateway", r.rpsGateway}} {
			fmt.Fprintf(w, "| %s | %.0f | %d | %d |\n", x.name, x.r.rate(), x.r.dials, x.r.errors)
		}
		fmt.Fprintln(w, "\nThe load side writes prepared requests on raw keep-alive connections (one per worker) and reads answers by Content-Length.")
	}

	if len(r.memory.runs) > 0 {
		m := r.memory
		fmt.Fprintln(w)
		fmt.Fprintf(w, "### Memory per open stream (a token every %.3g s, read after %s open)\n\n", 1/o.holdRate, o.hold)
		fmt.Fprintln(w, "| open streams | gateway RSS | RSS per stream | heap + stacks per stream | goroutines per stream | client connections |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
		fmt.Fprintf(w, "| 0 (idle) | %.1f MiB | | heap %.1f MiB, stacks %.1f MiB | %d goroutines | |\n", float64(m.idleRSS)/1024,
			float64(m.idle.HeapAlloc)/(1<<20), float64(m.idle.StackInuse)/(1<<20), m.idle.Goroutines)
		for _, run := range m.runs {
			rss, heap, g := m.perStream(run)
			fmt.Fprintf(w, "| %d | %.1f MiB | %.1f KiB | %.1f KiB | %.2f | %d |\n", run.streams, float64(run.rss)/1024, rss, heap, g, run.dials)
		}
		fmt.Fprintf(w, "\nGateway peak RSS (VmHWM) over the phase: %.1f MiB. Heap is HeapAlloc after a GC.\n", float64(m.hwm)/1024)
	}

	r.printCPU(w)

	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Targets")
	fmt.Fprintln(w)
	if l, ok := r.level(targetStreams); ok {
		_, _, a := l.added()
		rounds := l.roundsAdded()
		fmt.Fprintf(w, "- p99 added ≤ %s at %d streams: TTFB %s, total %s: %s (median of the %d rounds: TTFB %s, total %s)\n",
			targetAddedP99, targetStreams, signedMs(a.ttfb99), signedMs(a.total99), verdict(r.latencyOK()), len(rounds),
			signedMs(median(rounds, ttfb99)), signedMs(median(rounds, total99)))
	} else {
		fmt.Fprintf(w, "- p99 added at %d streams: not measured (no level of %d)\n", targetStreams, targetStreams)
	}
	if r.rpsGateway.window > 0 {
		fmt.Fprintf(w, "- ≥ %d short requests/s through one core: %.0f (gateway core %.0f%% busy): %s\n", targetRPS, r.rpsGateway.rate(),
			100*r.rpsGateway.cpu.cores(r.rpsGateway.cpu.gateway), verdict(r.rpsGateway.rate() >= targetRPS))
	}
	for _, run := range r.memory.runs {
		rss, _, _ := r.memory.perStream(run)
		fmt.Fprintf(w, "- ≤ %d KiB per open stream at %d: %.1f KiB: %s\n", targetKiBPerStream, run.streams, rss, verdict(rss <= targetKiBPerStream))
	}
	fmt.Fprintf(w, "- metering: the gateway counted %.0f requests in privatellm_gateway_requests_total, %d were sent to it (a request cut off at the end of the short-request run may be on one side only)\n", r.metered, r.sent)

	fmt.Fprintln(w)
	kv := func(k string, v any) { fmt.Fprintf(w, "%s=%v\n", k, v) }
	kv("cpu_model", strings.ReplaceAll(r.cpuModel, " ", "_"))
	kv("cpus", cpuList(r.cpus))
	kv("gateway_cpu", r.gwCPU)
	kv("gateway_gomaxprocs", r.gomaxprocs)
	kv("gateway_threads_cpus", strings.Join(r.threadCPUs, "|"))
	kv("load_cpus", cpuList(r.restCPUs))
	kv("backends_per_model", o.backends)
	for _, l := range r.levels {
		d, g, a := l.added()
		p := fmt.Sprintf("latency_%d_", l.streams)
		kv(p+"requests", fmt.Sprintf("%d/%d", d.n, g.n))
		kv(p+"token_interval_ms", ms(l.interval))
		for _, x := range []struct {
			name    string
			d, g, a time.Duration
		}{
			{"ttfb_p50", d.ttfb50, g.ttfb50, a.ttfb50}, {"ttfb_p99", d.ttfb99, g.ttfb99, a.ttfb99},
			{"total_p50", d.total50, g.total50, a.total50}, {"total_p99", d.total99, g.total99, a.total99},
		} {
			kv(p+x.name+"_direct_ms", ms(x.d))
			kv(p+x.name+"_gateway_ms", ms(x.g))
			kv(p+x.name+"_added_ms", ms(x.a))
		}
		kv(p+"ttfb_p99_added_round_median_ms", ms(median(l.roundsAdded(), ttfb99)))
		kv(p+"total_p99_added_round_median_ms", ms(median(l.roundsAdded(), total99)))
		kv(p+"errors", fmt.Sprintf("%d/%d", l.direct.errors, l.gateway.errors))
		kv(p+"gateway_cpu_cores", fmt.Sprintf("%.3f", l.gateway.cpu.cores(l.gateway.cpu.gateway)))
		kv(p+"other_work_gateway_cpu_cores", fmt.Sprintf("%.3f", l.gateway.cpu.cores(l.gateway.cpu.foreignGateway)))
	}
	if r.rpsGateway.window > 0 {
		kv("rps_conns", o.rpsConns)
		kv("rps_window_seconds", o.rpsWin.Seconds())
		kv("rps_direct", fmt.Sprintf("%.0f", r.rpsDirect.rate()))
		kv("rps_gateway", fmt.Sprintf("%.0f", r.rpsGateway.rate()))
		kv("rps_gateway_cpu_cores", fmt.Sprintf("%.3f", r.rpsGateway.cpu.cores(r.rpsGateway.cpu.gateway)))
		kv("rps_direct_load_cpu_cores", fmt.Sprintf("%.3f", r.rpsDirect.cpu.cores(r.rpsDirect.cpu.rest)))
		kv("rps_gateway_load_cpu_cores", fmt.Sprintf("%.3f", r.rpsGateway.cpu.cores(r.rpsGateway.cpu.rest)))
		kv("rps_other_work_gateway_cpu_cores", fmt.Sprintf("%.3f", r.rpsGateway.cpu.cores(r.rpsGateway.cpu.foreignGateway)))
		kv("rps_errors", fmt.Sprintf("%d/%d", r.rpsDirect.errors, r.rpsGateway.errors))
	}
	if len(r.memory.runs) > 0 {
		kv("memory_idle_rss_kib", r.memory.idleRSS)
		for _, run := range r.memory.runs {
			rss, heap, g := r.memory.perStream(run)
			p := fmt.Sprintf("memory_%d_", run.streams)
			kv(p+"rss_kib", run.rss)
			kv(p+"rss_kib_per_stream", fmt.Sprintf("%.1f", rss))
			kv(p+"heap_kib_per_stream", fmt.Sprintf("%.1f", heap))
			kv(p+"goroutines_per_stream", fmt.Sprintf("%.2f", g))
		}
		kv("memory_peak_rss_kib", r.memory.hwm)
	}
	kv("sent_requests", r.sent)
	kv("metered_requests", fmt.Sprintf("%.0f", r.metered))
	if _, ok := r.level(targetStreams); ok {
		kv("target_latency_met", r.latencyOK())
	}
	if r.rpsGateway.window > 0 {
		kv("target_rps_met", r.rpsGateway.rate() >= targetRPS)
	}
	if len(r.memory.runs) > 0 {
		ok := true
		for _, run := range r.memory.runs {
			rss, _, _ := r.memory.perStream(run)
			ok = ok && rss <= targetKiBPerStream
		}
		kv("target_memory_met", ok)
	}
}

func (r *result) level(streams int) (levelResult, bool) {
	for _, l := range r.levels {
		if l.streams == streams {
			return l, true
		}
	}
	return levelResult{}, false
}

// latencyOK: the p99 added at targetStreams, of TTFB and of the total, is within the target, without errors.
func (r *result) latencyOK() bool {
	l, ok := r.level(targetStreams)
	if !ok {
		return false
	}
	_, _, a := l.added()
	return a.ttfb99 <= targetAddedP99 && a.total99 <= targetAddedP99 && l.direct.errors == 0 && l.gateway.errors == 0
}

// writeSamples writes every latency sample as CSV: streams, target, start (since the benchmark's), TTFB, total.
func (r *result) writeSamples(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "streams,target,start_us,ttfb_us,total_us")
	for _, l := range r.levels {
		for _, m := range []struct {
			name string
			r    modeResult
		}{{"direct", l.direct}, {"gateway", l.gateway}} {
			for _, s := range m.r.samples {
				fmt.Fprintf(w, "%d,%s,%d,%d,%d\n", l.streams, m.name, s.start.Sub(r.start).Microseconds(),
					s.ttfb.Microseconds(), s.total.Microseconds())
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printCPU is how busy each side was during each run, in cores: the gateway on its CPU, the benchmark and the
// backends on theirs, and other work on the machine on each (from /proc/stat, less our processes).
func (r *result) printCPU(w io.Writer) {
	type row struct {
		name string
		u    usage
		per  string
	}
	var rows []row
	perReq := func(cpu float64, n int64) string {
		if n <= 0 || cpu <= 0 {
			return ""
		}
		return fmt.Sprintf("%.0f", 1e6*cpu/float64(n))
	}
	for _, l := range r.levels {
		rows = append(rows, row{fmt.Sprintf("latency, %d streams, direct", l.streams), l.direct.cpu, ""},
			row{fmt.Sprintf("latency, %d streams, gateway", l.streams), l.gateway.cpu, perReq(l.gateway.cpu.gateway, l.gateway.sent)})
	}
	if r.rpsGateway.window > 0 {
		rows = append(rows, row{"short requests, direct", r.rpsDirect.cpu, ""},
			row{"short requests, gateway", r.rpsGateway.cpu, perReq(r.rpsGateway.cpu.gateway, r.rpsGateway.completed)})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "### CPU during the runs (cores busy; gateway on CPU %d, the rest on CPU %s)\n\n", r.gwCPU, cpuList(r.restCPUs))
	fmt.Fprintln(w, "| run | gateway | other work on its CPU | benchmark + backends | other work on their CPU | steal | gateway µs per request |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, x := range rows {
		u := x.u
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n", x.name, u.cores(u.gateway), u.cores(u.foreignGateway),
			u.cores(u.rest), u.cores(u.foreignRest), u.cores(u.steal), x.per)
	}
}
