package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Where a phase's time goes. The simulated cluster runs on the same few cores as the operator, so a phase whose
// cores are busy throughout takes as long as the work it causes: the CPU seconds each process spent and the
// writes the API server served, both per phase, explain the ratio.

// clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux).
const clockTicks = 100

// snapshot is what the cluster and the operator had done up to one moment.
type snapshot struct {
	at time.Time
	// cpu is the CPU time in seconds of each process: the cluster's components and "operator".
	cpu map[string]float64
	// writes counts the API server's write requests (POST, PUT, PATCH, DELETE) by resource (with subresource),
	// reads its other requests by verb and resource.
	writes, reads map[string]float64
}

// usage is the difference between two snapshots.
type usage struct {
	wall          time.Duration
	cpu           map[string]float64
	writes, reads map[string]float64
}

// snapshot reads the processes' CPU times from /proc and the API server's request counter from its /metrics.
func (b *bench) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{at: time.Now(), cpu: map[string]float64{}, writes: map[string]float64{}, reads: map[string]float64{}}
	pids := b.cluster.PIDs()
	pids["operator"] = b.op.pid()
	for name, pid := range pids {
		secs, err := cpuSeconds(pid)
		if err != nil {
			return s, fmt.Errorf("CPU time of %s: %w", name, err)
		}
		s.cpu[name] = secs
	}
	m, err := apiServerMetrics(ctx, b.api)
	if err != nil {
		return s, err
	}
	for _, x := range m {
		if x.name != "apiserver_request_total" {
			continue
		}
		res := x.labels["resource"]
		if sub := x.labels["subresource"]; sub != "" {
			res += "/" + sub
		}
		if code := x.labels["code"]; code != "" && code[0] != '2' {
			res += " (" + code + ")"
		}
		if isWrite(x.labels["verb"]) {
			s.writes[res] += x.value
		} else {
			s.reads[x.labels["verb"]+" "+res] += x.value
		}
	}
	return s, nil
}

// since is what happened between before and s.
func (s snapshot) since(before snapshot) usage {
	u := usage{wall: s.at.Sub(before.at), cpu: map[string]float64{}, writes: map[string]float64{}, reads: map[string]float64{}}
	for k, v := range s.cpu {
		u.cpu[k] = v - before.cpu[k]
	}
	for k, v := range s.writes {
		if d := v - before.writes[k]; d > 0 {
			u.writes[k] = d
		}
	}
	for k, v := range s.reads {
		if d := v - before.reads[k]; d > 0 {
			u.reads[k] = d
		}
	}
	return u
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

// topEntries formats the largest entries of m, per object, as "name=value" with the given precision.
func topEntries(m map[string]float64, n int, perObject float64, format string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for i, k := range keys {
		if i == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s "+format, k, m[k]/perObject))
	}
	return strings.Join(parts, ", ")
}

// isWrite is true for the API server's verbs that change state (its metric names verbs, not HTTP methods).
func isWrite(verb string) bool {
	switch verb {
	case "CREATE", "UPDATE", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION", "POST", "PUT":
		return true
	}
	return false
}

// cpuSeconds is the user plus system CPU time of a process, from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// apiServerMetrics reads the API server's /metrics.
func apiServerMetrics(ctx context.Context, api rest.Interface) (metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	raw, err := api.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	return parseMetrics(bytes.NewReader(raw))
}

// profileAPIServer records a CPU profile of the API server for d into path, in the background; the returned
// function waits for it and returns its error. The cluster must have been started with --profiling=true.
func profileAPIServer(ctx context.Context, api rest.Interface, d time.Duration, path string) func() error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
		defer cancel()
		raw, err := api.Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(int(d.Seconds()))).DoRaw(ctx)
		if err != nil {
			done <- fmt.Errorf("profiling the API server: %w", err)
			return
		}
		done <- os.WriteFile(path, raw, 0o644)
	}()
	return func() error { return <-done }
}
