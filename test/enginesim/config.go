package enginesim

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// CacheMetric selects which of vLLM's two KV-cache gauges /metrics carries.
type CacheMetric string

// The choices of Config.CacheMetric.
const (
	// CacheMetricKV emits only vllm:kv_cache_usage_perc (vLLM from 0.9 on; the pinned release).
	CacheMetricKV CacheMetric = "kv"
	// CacheMetricBoth emits vllm:kv_cache_usage_perc and the deprecated vllm:gpu_cache_usage_perc (0.9 to 0.11).
	CacheMetricBoth CacheMetric = "both"
	// CacheMetricGPU emits only vllm:gpu_cache_usage_perc (vLLM < 0.9).
	CacheMetricGPU CacheMetric = "gpu"
)

// Defaults of Config; see the flags of ParseArgs.
const (
	DefaultTokenRate  = 50
	DefaultMaxBatch   = 8
	DefaultKVCapacity = 65536
	DefaultMaxTokens  = 16
)

// Config describes the simulated GPU server. Zero fields take the defaults above.
type Config struct {
	// Engine is the engine whose surface is served: a profile name (default: the operator's default engine).
	Engine string
	// ServedModelName is the model name /v1/models lists and requests must name (default "model").
	ServedModelName string
	// TokenRate is the generation speed of one sequence in tokens per second; every sequence of the batch runs
	// at this speed. A negative value generates without delay (benchmarks); 0 means DefaultTokenRate.
	TokenRate float64
	// MaxBatch is how many sequences are generated at once (default 8). Further requests wait in the queue.
	MaxBatch int
	// MaxQueue bounds the queue: a request arriving at a full queue is refused with 429. 0: unbounded.
	MaxQueue int
	// KVCapacity is the KV cache size in tokens (default 65536). A sequence holds its prompt and the tokens
	// generated so far; it is admitted only when its prompt plus max_tokens fit next to the running ones, and
	// a request that could never fit is refused with 400.
	KVCapacity int
	// DefaultMaxTokens is the length of a completion whose request gives no max_tokens (default 16).
	DefaultMaxTokens int
	// LoadDelay is how long the simulated model load takes: until it has passed, /health and the API answer 503
	// (or, for engines that listen only once loaded, nothing listens).
	LoadDelay time.Duration
	// FailMetrics makes /metrics answer 500.
	FailMetrics bool
	// MetricsOff makes /metrics answer as the engine does when its command line did not enable them.
	MetricsOff bool
	// CacheMetric selects the vLLM KV-cache gauge names (default kv, as the pinned vLLM).
	CacheMetric CacheMetric
}

// withDefaults returns c with zero fields set to their defaults, or an error for invalid values.
func (c Config) withDefaults() (Config, error) {
	if c.Engine == "" {
		c.Engine = string(v1.DefaultEngine)
	}
	if _, ok := profiles[c.Engine]; !ok {
		return c, fmt.Errorf("unknown engine %q: engine-sim plays %v", c.Engine, Profiles())
	}
	if c.ServedModelName == "" {
		c.ServedModelName = "model"
	}
	if c.TokenRate == 0 {
		c.TokenRate = DefaultTokenRate
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.KVCapacity == 0 {
		c.KVCapacity = DefaultKVCapacity
	}
	if c.DefaultMaxTokens == 0 {
		c.DefaultMaxTokens = DefaultMaxTokens
	}
	if c.CacheMetric == "" {
		c.CacheMetric = CacheMetricKV
	}
	switch {
	case c.MaxBatch < 0:
		return c, fmt.Errorf("max batch %d: must be positive", c.MaxBatch)
	case c.MaxQueue < 0:
		return c, fmt.Errorf("max queue %d: must be 0 (unbounded) or positive", c.MaxQueue)
	case c.KVCapacity < 0:
		return c, fmt.Errorf("KV capacity %d: must be positive", c.KVCapacity)
	case c.DefaultMaxTokens < 0:
		return c, fmt.Errorf("default max tokens %d: must be positive", c.DefaultMaxTokens)
	case c.LoadDelay < 0:
		return c, fmt.Errorf("load delay %s: must not be negative", c.LoadDelay)
	}
	switch c.CacheMetric {
	case CacheMetricBoth, CacheMetricKV, CacheMetricGPU:
	default:
		return c, fmt.Errorf("cache metric %q: use kv, both or gpu", c.CacheMetric)
	}
	return c, nil
}

// Options are a Config and where to listen.
type Options struct {
	Config
	// Host and Port are where the API, /health and /metrics are served.
	Host string
	Port int
}

// ParseArgs parses engine-sim's command line:
//
//	engine-sim [simulator options] -- <engine command line>
//
// The engine command line is the container's command and args, exactly as the operator renders them (e.g.
// `vllm serve org/model --port=8000 …`). engine-sim recognises the engine by its program, parses the arguments
// with that engine's flag table at its pinned release and checks them as the engine does at start: what the
// real engine refuses comes back as a *UsageError with the engine's message and exit status, so a pod the real
// engine would crash-loop crash-loops in the simulated cluster too. The environment (env, as KEY=VALUE entries;
// nil: the process's own) stands for the container's, uid for its user (-1: the process's own).
//
// The simulator options set what the command line cannot: --bind (the address to listen on when the engine
// binds every address; the simulated cluster passes the pod's IP), --uid, --load-delay, --token-rate,
// --max-batch, --max-queue, --kv-capacity, --default-max-tokens, --fail-metrics and --cache-metric.
// errors.Is(err, flag.ErrHelp) after -h.
func ParseArgs(args []string, usage io.Writer, env []string) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("engine-sim", flag.ContinueOnError)
	fs.SetOutput(usage)
	bind := fs.String("bind", "", "address to listen on when the engine binds every address (e.g. a pod's IP)")
	uid := fs.Int64("uid", -1, "user the engine runs as (-1: this process's)")
	fs.Float64Var(&o.TokenRate, "token-rate", DefaultTokenRate, "tokens per second of each sequence (negative: no delay)")
	fs.IntVar(&o.MaxBatch, "max-batch", DefaultMaxBatch, "sequences generated at once; more requests queue")
	fs.IntVar(&o.MaxQueue, "max-queue", 0, "longest queue before requests are refused with 429 (0: unbounded)")
	fs.IntVar(&o.KVCapacity, "kv-capacity", DefaultKVCapacity, "KV cache capacity in tokens")
	fs.IntVar(&o.DefaultMaxTokens, "default-max-tokens", DefaultMaxTokens, "completion length when a request sets no max_tokens")
	fs.DurationVar(&o.LoadDelay, "load-delay", 0, "simulated model load time: /health answers 503 (or nothing listens) until it has passed")
	fs.BoolVar(&o.FailMetrics, "fail-metrics", false, "make /metrics answer 500")
	checkFiles := fs.Bool("check-files", false, "look the model's local paths up on this machine, as the engine opens them "+
		"(the simulated cluster maps a pod's mounts to folders here); off, only the command line is checked")
	cacheMetric := fs.String("cache-metric", string(CacheMetricKV),
		"vLLM KV-cache gauge: kv (vllm:kv_cache_usage_perc), both, or gpu (the name before vLLM 0.9)")
	fs.Usage = func() {
		fmt.Fprintln(usage, "usage: engine-sim [options] -- <engine command line>")
		fmt.Fprintln(usage, "engines:", Profiles())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fs.Usage()
		return o, errors.New("no engine command line: give it after --")
	}
	p, prog, engineArgs, err := Detect(argv)
	if err != nil {
		return o, err
	}
	cl, err := p.Flags.Parse(prog, engineArgs, p.MaxPositionals)
	if err != nil {
		return o, err
	}
	e := Environment{UID: *uid, Vars: envMap(env), CheckFiles: *checkFiles}
	if e.UID < 0 {
		e.UID = int64(os.Getuid())
	}
	served, err := p.Start(cl, e)
	if err != nil {
		return o, err
	}
	o.Engine, o.ServedModelName, o.MetricsOff = p.Name, served.ServedModelName, served.MetricsOff
	o.Host, o.Port = served.Host, served.Port
	if isWildcard(o.Host) {
		o.Host = *bind
		if o.Host == "" {
			o.Host = "0.0.0.0"
		}
	}
	if net.ParseIP(o.Host) == nil && o.Host != "localhost" {
		return o, exitf(1, "%s: cannot bind host %q", prog, o.Host)
	}
	if o.Port <= 0 || o.Port > 65535 {
		return o, exitf(1, "%s: port %d out of range", prog, o.Port)
	}
	o.CacheMetric = CacheMetric(*cacheMetric)
	cfg, err := o.Config.withDefaults()
	if err != nil {
		return o, err
	}
	o.Config = cfg
	return o, nil
}

func envMap(env []string) map[string]string {
	if env == nil {
		env = os.Environ()
	}
	m := map[string]string{}
	for _, kv := range env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				m[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return m
}

// errQueueFull is returned when a request arrives at a full queue.
var errQueueFull = errors.New("the queue is full")
