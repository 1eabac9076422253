// Command bench-gateway is the gateway's data-plane benchmark (issue #12): the same load on the same engine-sim
// backends, sent to the backends directly and through the gateway, with the gateway in a process of its own pinned
// to one core. It prints figures; it asserts nothing (the targets are reported as met or MISSED).
//
//	go run ./test/bench-gateway [-levels 1,64,512] [-requests 1000,4000,2048] [-streams 1000,4000] [-profile-dir DIR]
//	go run ./test/bench-gateway -phases latency -levels 64 -requests 500 -rounds 1   # a quick look
//
// A full run with the defaults takes about two and a half minutes.
//
// # What runs where
//
// The program re-executes itself as "engine-sim" backends (test/enginesim.ParseArgs and Run, exactly what
// test/engine-sim runs, playing vLLM; -engine-sim runs a built binary instead) and as "serve", the gateway: a
// catalog with one APIKey (a real key from internal/apikey, of which serve gets only the ID and hash; no limits)
// and one LLMDeployment per backend set with an EndpointSlice per backend, served by proxy.New with a limiter and
// prometheus metrics, under the http.Server settings of cmd/gateway. That is the real request path: authenticate,
// inspect, resolve, reserve (nothing is limited), pick, forward, meter; a stream gets include_usage added and its
// usage event removed on the way back. Only the Kubernetes watches are missing. serve runs with GOMAXPROCS=1 and
// every thread pinned to one CPU (sched_setaffinity on each of /proc/self/task; -gateway-cpu, default the last
// allowed CPU). The benchmark pins itself, and so the backends it starts (they inherit the mask), to the other
// CPUs: on a 2-core machine the load generator and all backends share one core and the gateway has the other to
// itself, as far as other work on the machine lets it. Each backend set is -backends processes; direct load goes
// to them round robin by worker, the gateway balances its own. Every process is killed at the end, on error and
// on Ctrl-C too (each has its own process group, killed with SIGKILL; Pdeathsig covers the benchmark being killed).
// Readiness is polled (the backends' /health, the gateway's ready line, then /v1/models with the key), never
// waited for with a sleep.
//
// # What is measured
//
//  1. Added latency. For each level of concurrent streams (-levels), closed loop: c workers each send streaming
//     chat completions of -tokens output tokens back to back with Go's net/http client (HTTP/1.1, keep-alive, one
//     connection per worker), until -requests of them are measured. The first request of each worker is not
//     measured (it opens the connection), and worker w starts w/c of a request's length late, so that the
//     streams' token timers are spread over time rather than firing together. Per request the time to its first
//     event (TTFB: the role event, which engine-sim sends at once, so TTFB is the request path's own latency) and
//     to the end of the stream ([DONE] and EOF) are recorded from before the request is sent. Direct and gateway
//     segments alternate (-rounds of each), so that drift on a shared machine hits both alike. The added latency
//     is the gateway's percentile minus the direct one, of the two distributions pooled over the rounds (the
//     target is judged on it); the p99 added per round and its median are printed too, as a stall of a few
//     hundred milliseconds in one segment (other work on a shared machine) moves the pooled p99 and not the
//     median. Every stream is checked: the role event, -tokens content events, the finish event, [DONE] and
//     nothing more (the gateway must have removed the usage event it asked for).
//     The backends of a level send a token every max(-token-interval, c / -event-rate): all streams of a level
//     together carry at most -event-rate token events per second (4,000 by default: 62 tokens/s per stream at 64
//     streams, a real engine's pace at that batch; 7.8 tokens/s at 512). On the machine this was written on (a
//     nested VM), the gateway spends about 60 µs of CPU per event, nearly all of it in read and write system
//     calls; at 16,000 events/s its core is over half busy and the p99 measures the queue at that core. The
//     interval of each level is printed; raise -event-rate to load the gateway more.
//  2. Short requests per second. -rps-conns workers, closed loop, each on its own keep-alive connection, send
//     non-streaming chat completions with max_tokens 1 to backends that generate without delay (engine-sim
//     --token-rate -1); after -rps-warmup, the requests completed in -rps-window are counted, direct and through
//     the gateway. This load generator writes prepared request bytes and reads the answer by its Content-Length:
//     with net/http's client the shared load core, not the gateway, would set the rate. The gateway's CPU time
//     over the window (utime+stime of /proc/<pid>/stat) shows whether its core was saturated.
//  3. Memory per open stream. This phase runs first, on the fresh gateway. The gateway's VmRSS (/proc/<pid>/status)
//     and Go heap (HeapAlloc after a GC, plus goroutine stacks, from its side port) are read idle (after 8 streams
//     have been opened and closed), then with N streams open through it (-streams), each on a connection of its
//     own (the dials are counted), to backends that send a token every 1/-hold-token-rate seconds. They are read
//     after -hold, with the gateway's in-flight gauge showing all N. Per stream is (open − idle)/N, idle being the
//     reading before the first N.
//
// Around each run the CPU time of the gateway, of the benchmark and backends, and of each CPU as a whole
// (/proc/stat) are read: what a CPU spent beyond our processes is other work on the machine, printed so that a
// disturbed run shows as one. At the end the gateway's privatellm_gateway_requests_total is compared with the
// requests sent to it (metering was on), and its threads' CPU affinity is read back. -profile-dir saves a CPU
// profile of the gateway over the requests-per-second window and a heap profile at the largest N; -samples writes
// every latency sample as CSV.
//
// # Caveats
//
// With two cores the load generator and the backends share one: when it is saturated (the direct short-request
// run saturates it), direct figures measure the load side, and the gateway's figures include waiting for it; the
// CPU table shows how busy each side was. Other work on a shared machine lands on either core; the CPU table shows
// it, and a run that other work disturbed should be repeated. Loopback TCP is not a network: a real one adds a
// round trip per hop. engine-sim's token timers have the Go runtime's timer granularity; the totals carry that
// jitter on both sides alike. RSS counts only pages touched: a buffer allocated but not yet written (most of
// io.Copy's 32 KiB when events are small) is in the heap figure but not in RSS, which is why both are printed.
// CPU times are in clock ticks (10 ms), fine over windows of seconds.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/apikey"
)

// options are the command-line flags.
type options struct {
	levels, requests []int
	tokens           int
	tokenInterval    time.Duration
	eventRate        float64
	rounds           int

	rpsConns          int
	rpsWarmup, rpsWin time.Duration

	streams   []int
	holdRate  float64
	hold      time.Duration
	parallel  int
	backends  int
	gwCPU     int
	phases    []string
	profile   string
	samples   string
	engineSim string
}

func (o options) phase(p string) bool { return slices.Contains(o.phases, p) }

// intsFlag is a comma-separated list of positive integers.
type intsFlag struct{ v *[]int }

func (f intsFlag) String() string {
	if f.v == nil {
		return ""
	}
	s := make([]string, len(*f.v))
	for i, n := range *f.v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (f intsFlag) Set(v string) error {
	var out []int
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("%q: want positive integers, comma-separated", v)
		}
		out = append(out, n)
	}
	*f.v = out
	return nil
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "engine-sim") {
		sub := serveMain
		if os.Args[1] == "engine-sim" {
			sub = engineSimMain
		}
		if err := sub(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "bench-gateway %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	o := options{levels: []int{1, 64, 512}, requests: []int{1000, 4000, 2048}, streams: []int{1000, 4000}}
	flag.Var(intsFlag{&o.levels}, "levels", "Concurrent streams of the latency runs, comma-separated.")
	flag.Var(intsFlag{&o.requests}, "requests", "Measured requests per level and per target (direct, gateway), comma-separated, one per level.")
	flag.IntVar(&o.tokens, "tokens", 16, "Output tokens of each streamed request.")
	flag.DurationVar(&o.tokenInterval, "token-interval", time.Millisecond, "Shortest interval between a stream's tokens.")
	flag.Float64Var(&o.eventRate, "event-rate", 4000, "Most token events per second of all streams of a level together (lengthens the interval at high levels).")
	flag.IntVar(&o.rounds, "rounds", 4, "Segments per level and target; direct and gateway segments alternate.")
	flag.IntVar(&o.rpsConns, "rps-conns", 128, "Connections of the requests-per-second runs.")
	flag.DurationVar(&o.rpsWarmup, "rps-warmup", time.Second, "Unmeasured start of each requests-per-second run.")
	flag.DurationVar(&o.rpsWin, "rps-window", 5*time.Second, "Measured window of each requests-per-second run.")
	flag.Var(intsFlag{&o.streams}, "streams", "Open streams of the memory runs, comma-separated.")
	flag.Float64Var(&o.holdRate, "hold-token-rate", 1, "Tokens per second of each held stream.")
	flag.DurationVar(&o.hold, "hold", 2*time.Second, "How long the streams stay open before memory is read.")
	flag.IntVar(&o.parallel, "open-parallel", 256, "Streams being opened at once in the memory runs.")
	flag.IntVar(&o.backends, "backends", 2, "engine-sim processes behind each model.")
	flag.IntVar(&o.gwCPU, "gateway-cpu", -1, "CPU the gateway is pinned to (-1: the last one this process may use).")
	phases := flag.String("phases", "memory,latency,rps", "Phases to run, comma-separated: memory, latency, rps.")
	flag.StringVar(&o.profile, "profile-dir", "", "Save the gateway's CPU profile (requests-per-second window) and heap profile (largest -streams) here.")
	flag.StringVar(&o.samples, "samples", "", "Write every latency sample to this CSV file (level, target, start offset, TTFB, total in µs).")
	flag.StringVar(&o.engineSim, "engine-sim", "", "An engine-sim binary for the backends (default: this program re-executed as engine-sim).")
	flag.Parse()
	o.phases = strings.Split(*phases, ",")
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gateway:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench-gateway:", err)
		stop()
		os.Exit(1)
	}
}

func (o options) check() error {
	for _, p := range o.phases {
		if p != "memory" && p != "latency" && p != "rps" {
			return fmt.Errorf("unknown phase %q (memory, latency, rps)", p)
		}
	}
	switch {
	case len(o.requests) != len(o.levels):
		return fmt.Errorf("-requests has %d values for %d levels", len(o.requests), len(o.levels))
	case o.tokens < 1 || o.rounds < 1 || o.rpsConns < 1 || o.backends < 1 || o.parallel < 1:
		return errors.New("-tokens, -rounds, -rps-conns, -backends and -open-parallel must be at least 1")
	case o.tokenInterval <= 0 || o.eventRate <= 0 || o.holdRate <= 0:
		return errors.New("-token-interval, -event-rate and -hold-token-rate must be positive")
	case o.rpsWin <= 0 || o.hold < 0 || o.rpsWarmup < 0:
		return errors.New("-rps-window must be positive, -hold and -rps-warmup not negative")
	}
	return nil
}

// interval is the token interval of a level of c streams.
func (o options) interval(c int) time.Duration {
	return max(o.tokenInterval, time.Duration(float64(c)/o.eventRate*float64(time.Second)))
}

// backendSet is one model: its engine-sim processes and their addresses.
type backendSet struct {
	model string
	rate  float64 // tokens per second of each sequence; negative: no delay
	procs []*child
	addrs []string
}

func (s *backendSet) direct() *target {
	t := &target{name: "direct"}
	for _, a := range s.addrs {
		t.bases = append(t.bases, "http://"+a)
	}
	return t
}

// gateway is the serve process.
type gateway struct {
	proc       *child
	api, side  string // base URLs
	gomaxprocs int
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench-gateway: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run is the whole benchmark; every process it starts is stopped when it returns.
func run(ctx context.Context, o options) (err error) {
	r := &result{o: o, cpuModel: cpuModel(), goVersion: runtime.Version(), start: time.Now()}
	cpus, err := allowedCPUs()
	if err != nil {
		return err
	}
	r.cpus = cpus
	r.gwCPU = o.gwCPU
	if r.gwCPU < 0 {
		r.gwCPU = cpus[len(cpus)-1]
	}
	if !slices.Contains(cpus, r.gwCPU) {
		return fmt.Errorf("-gateway-cpu %d: this process may use CPUs %v", r.gwCPU, cpus)
	}
	for _, c := range cpus {
		if c != r.gwCPU {
			r.restCPUs = append(r.restCPUs, c)
		}
	}
	if len(r.restCPUs) == 0 {
		logf("only CPU %d is available: the gateway shares it with the load generator and the backends", r.gwCPU)
		r.restCPUs = cpus
	}
	// The benchmark and the backends it starts (they inherit the mask) keep off the gateway's CPU.
	if err := pinSelf(r.restCPUs); err != nil {
		return err
	}
	runtime.GOMAXPROCS(len(r.restCPUs))
	if r.nofile, err = raiseNoFile(); err != nil {
		return err
	}
	if most := slices.Max(append([]int{0}, o.streams...)); o.phase("memory") && uint64(2*most+512) > r.nofile {
		return fmt.Errorf("%d streams need about %d open files in the gateway; the limit is %d", most, 2*most+512, r.nofile)
	}

	dir, err := os.MkdirTemp("", "bench-gateway-")
	if err != nil {
		return err
	}
	cs := &children{dir: dir}
	defer func() {
		cs.stopAll()
		if err == nil {
			_ = os.RemoveAll(dir)
		} else {
			logf("logs of the backends and the gateway are in %s", dir)
		}
	}()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	key, err := apikey.Generate()
	if err != nil {
		return err
	}

	// Backends: one set per latency level (its token interval), one for short requests, one for held streams.
	var sets []*backendSet
	streamSet := map[int]*backendSet{}
	if o.phase("latency") {
		for _, c := range o.levels {
			if streamSet[c] == nil {
				s := &backendSet{model: fmt.Sprintf("stream-%d", c), rate: 1 / o.interval(c).Seconds()}
				streamSet[c] = s
				sets = append(sets, s)
			}
		}
	}
	short := &backendSet{model: "short", rate: -1}
	hold := &backendSet{model: "hold", rate: o.holdRate}
	if o.phase("rps") {
		sets = append(sets, short)
	}
	if o.phase("memory") {
		sets = append(sets, hold)
	}
	logf("starting %d engine-sim backends on CPU %v", len(sets)*o.backends, r.restCPUs)
	for _, s := range sets {
		if err := startBackends(ctx, cs, o, self, s); err != nil {
			return err
		}
	}
	gw, err := startGateway(ctx, cs, self, r.gwCPU, key, sets)
	if err != nil {
		return err
	}
	r.gomaxprocs = gw.gomaxprocs
	logf("gateway pid %d on CPU %d (GOMAXPROCS=%d) at %s, side port %s", gw.proc.pid(), r.gwCPU, gw.gomaxprocs, gw.api, gw.side)

	rest := []int{os.Getpid()}
	for _, s := range sets {
		rest = append(rest, pids(s.procs...)...)
	}
	meter := cpuMeter{gateway: []int{gw.proc.pid()}, rest: rest, gatewayCPU: []int{r.gwCPU}, restCPU: r.restCPUs}
	through := &target{name: "gateway", bases: []string{gw.api}, key: key.Key}
	side := &http.Client{Timeout: 30 * time.Second}

	if o.phase("memory") {
		if r.memory, err = memoryPhase(ctx, o, gw, through, side, hold); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	if o.phase("latency") {
		for i, c := range o.levels {
			s := streamSet[c]
			lr := levelResult{streams: c, interval: o.interval(c)}
			body := chatBody(s.model, true, o.tokens)
			per := max(o.requests[i]/o.rounds, 1)
			logf("latency: %d streams, %d requests per target in %d rounds, a token every %s", c, per*o.rounds, o.rounds, lr.interval)
			for range o.rounds {
				for _, m := range []struct {
					t   *target
					out *modeResult
				}{{s.direct(), &lr.direct}, {through, &lr.gateway}} {
					sr := runStreams(ctx, m.t, c, per, o.tokens, body, time.Duration(o.tokens)*lr.interval, meter)
					if err := ctx.Err(); err != nil {
						return err
					}
					m.out.merge(sr)
				}
			}
			r.levels = append(r.levels, lr)
			logf("latency: %d streams: %s", c, lr.summary())
		}
	}
	if o.phase("rps") {
		body := chatBody(short.model, false, 1)
		logf("rps: %d connections, %s warm-up and %s measured, direct", o.rpsConns, o.rpsWarmup, o.rpsWin)
		r.rpsDirect = runRPS(ctx, short.direct(), o.rpsConns, body, o.rpsWarmup, o.rpsWin, meter, nil)
		logf("rps: direct %.0f req/s; through the gateway", r.rpsDirect.rate())
		var profile func(context.Context)
		if o.profile != "" {
			profile = func(ctx context.Context) {
				secs := max(int(o.rpsWin.Seconds())-1, 1)
				saveProfile(ctx, gw.side+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), filepath.Join(o.profile, "gateway-rps.cpu.pprof"))
			}
		}
		r.rpsGateway = runRPS(ctx, through, o.rpsConns, body, o.rpsWarmup, o.rpsWin, meter, profile)
		logf("rps: gateway %.0f req/s, its CPU %.2f cores", r.rpsGateway.rate(), r.rpsGateway.cpu.cores(r.rpsGateway.cpu.gateway))
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	r.sent = through.sent.Load()
	if r.metered, err = metricSum(ctx, side, gw.side, "privatellm_gateway_requests_total", ""); err != nil {
		return err
	}
	if r.threadCPUs, r.threads, err = threadCPUs(gw.proc.pid()); err != nil {
		return err
	}
	if exit := gw.proc.exited(); exit != nil {
		return exit
	}
	if o.samples != "" {
		if err := r.writeSamples(o.samples); err != nil {
			return err
		}
	}
	r.elapsed = time.Since(r.start)
	r.print(os.Stdout)
	return nil
}

// startBackends starts a set's engine-sim processes and waits until each answers /health.
func startBackends(ctx context.Context, cs *children, o options, self string, s *backendSet) error {
	for i := range o.backends {
		port, err := freePort()
		if err != nil {
			return err
		}
		argv := []string{o.engineSim}
		if o.engineSim == "" {
			argv = []string{self, "engine-sim"}
		}
		argv = append(argv, "--token-rate", strconv.FormatFloat(s.rate, 'g', -1, 64),
			"--max-batch", "1000000", "--kv-capacity", "1000000000000",
			// The default engine's own command line (vLLM: "<engine> serve <model>").
			"--", string(v1.DefaultEngine), "serve", "bench/"+s.model, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--served-model-name", s.model)
		c, err := cs.start(fmt.Sprintf("engine-sim-%s-%d", s.model, i), argv, nil, nil)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, c)
		s.addrs = append(s.addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	client := &http.Client{Timeout: time.Second}
	for i, c := range s.procs {
		url := "http://" + s.addrs[i] + "/health"
		if err := poll(ctx, c, 20*time.Second, c.name+" /health", func() error {
			_, err := getOK(ctx, client, url, "")
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// startGateway starts the serve process and waits for its ready line, then for /v1/models to list every model
// with the key.
func startGateway(ctx context.Context, cs *children, self string, cpu int, key apikey.Generated, sets []*backendSet) (*gateway, error) {
	argv := []string{self, "serve", "-cpu", strconv.Itoa(cpu), "-key-id", key.ID, "-key-hash", key.Hash}
	for _, s := range sets {
		argv = append(argv, "-model", modelSpec{name: s.model, addrs: s.addrs}.String())
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	c, err := cs.start("gateway", argv, []string{"GOMAXPROCS=1"}, wr)
	wr.Close()
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(rd).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-c.done:
		return nil, c.exited()
	case <-time.After(20 * time.Second):
		return nil, errors.New("the gateway did not report ready within 20s")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "ready" {
		if err := c.exited(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("the gateway said %q, want ready <api> <side> <GOMAXPROCS>", line)
	}
	gw := &gateway{proc: c, api: "http://" + f[1], side: "http://" + f[2]}
	gw.gomaxprocs, _ = strconv.Atoi(f[3])
	client := &http.Client{Timeout: time.Second}
	err = poll(ctx, c, 10*time.Second, "the gateway's /v1/models", func() error {
		body, err := getOK(ctx, client, gw.api+"/v1/models", key.Key)
		if err != nil {
			return err
		}
		for _, s := range sets {
			if !strings.Contains(string(body), `"`+s.model+`"`) {
				return fmt.Errorf("model %s not listed: %s", s.model, body)
			}
		}
		return nil
	})
	return gw, err
}

// memoryPhase reads the gateway's memory idle and with each number of streams open.
func memoryPhase(ctx context.Context, o options, gw *gateway, through *target, side *http.Client, hold *backendSet) (memoryResult, error) {
	var res memoryResult
	body := chatBody(hold.model, true, 1_000_000)
	pid := gw.proc.pid()
	inflight := func(want int) error {
		return poll(ctx, gw.proc, 30*time.Second, fmt.Sprintf("%d requests in flight in the gateway", want), func() error {
			n, err := metricSum(ctx, side, gw.side, "privatellm_gateway_inflight_requests", "")
			if err != nil {
				return err
			}
			if int(n) != want {
				return fmt.Errorf("%d in flight", int(n))
			}
			return nil
		})
	}
	// A few streams first, so that what the first request of a model sets up once is part of idle.
	warm, err := openStreams(ctx, through, 8, 8, body, 30*time.Second)
	if err != nil {
		return res, err
	}
	warm.close()
	if err := inflight(0); err != nil {
		return res, err
	}
	if res.idleRSS, err = statusKiB(pid, "VmRSS"); err != nil {
		return res, err
	}
	if res.idle, err = sideStats(ctx, side, gw.side, true); err != nil {
		return res, err
	}
	logf("memory: gateway idle: RSS %d KiB, heap %d KiB, %d goroutines", res.idleRSS, res.idle.HeapAlloc>>10, res.idle.Goroutines)
	for _, n := range o.streams {
		logf("memory: opening %d streams through the gateway", n)
		set, err := openStreams(ctx, through, n, o.parallel, body, 2*time.Minute)
		if err != nil {
			return res, err
		}
		mr := memoryRun{streams: n}
		err = func() error {
			defer set.close()
			if err := inflight(n); err != nil {
				return err
			}
			if !sleepCtx(ctx, o.hold) {
				return ctx.Err()
			}
			var err error
			if mr.rss, err = statusKiB(pid, "VmRSS"); err != nil {
				return err
			}
			if mr.stats, err = sideStats(ctx, side, gw.side, true); err != nil {
				return err
			}
			mr.dials = set.dials.Load()
			if o.profile != "" && n == slices.Max(o.streams) {
				saveProfile(ctx, gw.side+"/debug/pprof/heap", filepath.Join(o.profile, fmt.Sprintf("gateway-%d-streams.heap.pprof", n)))
			}
			return nil
		}()
		if err != nil {
			return res, err
		}
		if err := inflight(0); err != nil {
			return res, err
		}
		res.runs = append(res.runs, mr)
		logf("memory: %d streams: RSS %d KiB (%.1f KiB per stream), %d goroutines", n, mr.rss,
			float64(mr.rss-res.idleRSS)/float64(n), mr.stats.Goroutines)
	}
	if res.hwm, err = statusKiB(pid, "VmHWM"); err != nil {
		return res, err
	}
	return res, nil
}

// saveProfile fetches a pprof profile into a file; a failure is logged, not fatal.
func saveProfile(ctx context.Context, url, path string) {
	client := &http.Client{Timeout: 2 * time.Minute}
	body, err := getOK(ctx, client, url, "")
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, body, 0o644)
	}
	if err != nil {
		logf("profile %s: %v", path, err)
		return
	}
	logf("saved %s", path)
}
