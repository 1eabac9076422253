package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// buildManager builds the operator from ./cmd, as the end-to-end tests do.
func buildManager(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the operator: %w", err)
	}
	return nil
}

// operator is the manager process under measurement.
type operator struct {
	cmd        *exec.Cmd
	log        string
	metricsURL string
	// pprofURL is the base of the operator's /debug/pprof, when started with profiling.
	pprofURL string
	done     chan struct{} // closed when the process has exited
}

// startOperator runs the manager with its built-in configuration against kubeconfig, serving its metrics on a free
// loopback port, and returns once its controller has started its workers (caches synced).
func startOperator(ctx context.Context, bin, kubeconfig, logPath string, profiling bool, extraArgs []string) (*operator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pprofURL := ""
	if profiling {
		pp, err := freePort()
		if err != nil {
			return nil, err
		}
		pprofURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", pp)
		extraArgs = append([]string{fmt.Sprintf("--pprof-bind-address=127.0.0.1:%d", pp)}, extraArgs...)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	args := append([]string{"--health-probe-bind-address=0", fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port)}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the operator: %w", err)
	}
	o := &operator{cmd: cmd, log: logPath, metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), pprofURL: pprofURL, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(o.done) }()

	deadline := time.Now().Add(time.Minute)
	for {
		if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte("Starting workers")) {
			if _, err := o.scrape(ctx); err == nil {
				return o, nil
			}
		}
		if o.exited() {
			return nil, fmt.Errorf("the operator exited at start:\n%s", o.logTail(20))
		}
		if time.Now().After(deadline) {
			o.stop()
			return nil, fmt.Errorf("the operator did not start its workers within a minute:\n%s", o.logTail(20))
		}
		select {
		case <-ctx.Done():
			o.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (o *operator) pid() int { return o.cmd.Process.Pid }

// exited reports whether the process has ended.
func (o *operator) exited() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// stop ends the operator: SIGTERM, then SIGKILL after 15s.
func (o *operator) stop() {
	if o.exited() {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(15 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.done
	}
}

// profile records a CPU profile of the operator for d into path, in the background; the returned function waits
// for it and returns its error.
func (o *operator) profile(ctx context.Context, d time.Duration, path string) func() error {
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("%s/profile?seconds=%d", o.pprofURL, int(d.Seconds()))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- fmt.Errorf("profiling the operator: %w", err)
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("profiling the operator: %s", resp.Status)
		}
		if err != nil {
			done <- err
			return
		}
		done <- os.WriteFile(path, raw, 0o644)
	}()
	return func() error { return <-done }
}

// memory returns the operator's peak (VmHWM) and current (VmRSS) resident set size in KiB.
func (o *operator) memory() (peak, current int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", o.pid()))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the operator's memory: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			peak = v
		case "VmRSS:":
			current = v
		}
	}
	if peak == 0 || current == 0 {
		return 0, 0, fmt.Errorf("no VmHWM/VmRSS in /proc/%d/status", o.pid())
	}
	return peak, current, nil
}

// logTail returns the last n lines of the operator's log.
func (o *operator) logTail(n int) string {
	b, err := os.ReadFile(o.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// scrape reads the operator's Prometheus metrics.
func (o *operator) scrape(ctx context.Context) (metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the operator's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the operator's metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// sample is one series of a scrape: a counter, gauge or untyped value, or a histogram's or summary's _sum and
// _count, under the name the text format gives it.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// metrics are the series of one scrape.
type metrics []sample

// parseMetrics reads the Prometheus text exposition format with the Prometheus parser.
func parseMetrics(r io.Reader) (metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing metrics: %w", err)
	}
	var out metrics
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			add := func(name string, v float64) { out = append(out, sample{name: name, labels: labels, value: v}) }
			switch {
			case m.Counter != nil:
				add(name, m.GetCounter().GetValue())
			case m.Gauge != nil:
				add(name, m.GetGauge().GetValue())
			case m.Untyped != nil:
				add(name, m.GetUntyped().GetValue())
			case m.Histogram != nil:
				add(name+"_sum", m.GetHistogram().GetSampleSum())
				add(name+"_count", float64(m.GetHistogram().GetSampleCount()))
			case m.Summary != nil:
				add(name+"_sum", m.GetSummary().GetSampleSum())
				add(name+"_count", float64(m.GetSummary().GetSampleCount()))
			}
		}
	}
	return out, nil
}

// writeMethods are the HTTP methods that change something on the API server.
var writeMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

// counts are request counts by HTTP method.
type counts map[string]float64

// writes sums rest_client_requests_total (every code, every host) for each write method: what the operator's
// clients, the event recorder included, sent.
func (m metrics) writes() counts {
	c := counts{}
	for _, method := range writeMethods {
		c[method] = 0
	}
	for _, s := range m {
		if s.name != "rest_client_requests_total" {
			continue
		}
		if _, ok := c[s.labels["method"]]; ok {
			c[s.labels["method"]] += s.value
		}
	}
	return c
}

// controller is the operator's controller name in the controller_runtime_* series.
const controller = "llmdeployment"

// sum adds up the series called name whose labels include every pair of match.
func (m metrics) sum(name string, match map[string]string) float64 {
	var n float64
next:
	for _, s := range m {
		if s.name != name {
			continue
		}
		for k, v := range match {
			if s.labels[k] != v {
				continue next
			}
		}
		n += s.value
	}
	return n
}

// reconciles is the number of reconciles the operator's controller has finished, whatever their result.
func (m metrics) reconciles() float64 {
	return m.sum("controller_runtime_reconcile_total", map[string]string{"controller": controller})
}

// reconcileErrors is the number of reconciles that returned an error.
func (m metrics) reconcileErrors() float64 {
	return m.sum("controller_runtime_reconcile_total", map[string]string{"controller": controller, "result": "error"})
}

// reconcileSeconds is the time the controller's workers have spent in Reconcile, all together.
func (m metrics) reconcileSeconds() float64 {
	return m.sum("controller_runtime_reconcile_time_seconds_sum", map[string]string{"controller": controller})
}

// workers is the controller's number of workers (MaxConcurrentReconciles).
func (m metrics) workers() float64 {
	return m.sum("controller_runtime_max_concurrent_reconciles", map[string]string{"controller": controller})
}

// minus returns c - before, per method.
func (c counts) minus(before counts) counts {
	out := counts{}
	for k, v := range c {
		out[k] = v - before[k]
	}
	return out
}

// total is the sum over all methods.
func (c counts) total() float64 {
	var t float64
	for _, v := range c {
		t += v
	}
	return t
}

// String lists the counts in writeMethods order, e.g. "POST=2 PUT=0 PATCH=5 DELETE=0".
func (c counts) String() string {
	parts := make([]string, 0, len(writeMethods))
	for _, m := range writeMethods {
		parts = append(parts, fmt.Sprintf("%s=%d", m, int64(c[m])))
	}
	return strings.Join(parts, " ")
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
