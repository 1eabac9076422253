package enginesim

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Engine names the engine whose HTTP surface is simulated.
type Engine string

// The simulated engines.
const (
	VLLM Engine = "vllm"
	TGI  Engine = "tgi"
)

// CacheMetric selects which of vLLM's two KV-cache gauges /metrics carries.
type CacheMetric string

// The choices of Config.CacheMetric.
const (
	// CacheMetricBoth emits vllm:kv_cache_usage_perc and the deprecated vllm:gpu_cache_usage_perc.
	CacheMetricBoth CacheMetric = "both"
	// CacheMetricKV emits only vllm:kv_cache_usage_perc (vLLM >= 0.9 without the deprecated name).
	CacheMetricKV CacheMetric = "kv"
	// CacheMetricGPU emits only vllm:gpu_cache_usage_perc (vLLM < 0.9).
	CacheMetricGPU CacheMetric = "gpu"
)

// Defaults of Config; see the flags of ParseArgs.
const (
	DefaultTokenRate   = 50
	DefaultMaxBatch    = 8
	DefaultKVCapacity  = 65536
	DefaultMaxTokens   = 16
	DefaultVLLMPort    = 8000
	DefaultTGIPort     = 8080
	DefaultMetricsPort = 9000
)

// Config describes the simulated GPU server. Zero fields take the defaults above.
type Config struct {
	// Engine is the engine whose surface is served (default vllm).
	Engine Engine
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
	// LoadDelay is how long the simulated model load takes: until it has passed, /health and the API answer 503.
	LoadDelay time.Duration
	// FailMetrics makes /metrics answer 500.
	FailMetrics bool
	// CacheMetric selects the vLLM KV-cache gauge names (default both).
	CacheMetric CacheMetric
}

// withDefaults returns c with zero fields set to their defaults, or an error for invalid values.
func (c Config) withDefaults() (Config, error) {
	if c.Engine == "" {
		c.Engine = VLLM
	}
	if c.Engine != VLLM && c.Engine != TGI {
		return c, fmt.Errorf("unknown engine %q: use vllm or tgi", c.Engine)
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
		c.CacheMetric = CacheMetricBoth
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
		return c, fmt.Errorf("cache metric %q: use both, kv or gpu", c.CacheMetric)
	}
	return c, nil
}

// Options are a Config and where to listen.
type Options struct {
	Config
	// Host is the address to bind (default 0.0.0.0).
	Host string
	// Port serves the API, /health and /metrics (default 8000 for vllm, 8080 for tgi).
	Port int
	// MetricsPort serves /metrics alone, like TGI's Prometheus exporter (default 9000 for tgi, none for vllm;
	// negative: none).
	MetricsPort int
}

// aliases map the real engines' flag names to engine-sim's.
var aliases = map[string]string{
	"hostname":        "host",
	"prometheus-port": "metrics-port",
}

// ParseArgs parses engine-sim's command line. It also accepts the argument style of the real engines, so the
// operator's rendered args can be passed unchanged: positional arguments ("serve", a model) and unknown flags
// are ignored, --hostname is --host and --prometheus-port is --metrics-port. Unknown flags are ignored only in
// the --flag=value or bare --flag form (a following separate value would be taken for a positional argument,
// which is ignored as well). errors.Is(err, flag.ErrHelp) after -h.
func ParseArgs(args []string, usage io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("engine-sim", flag.ContinueOnError)
	fs.SetOutput(usage)
	engineName := fs.String("engine", string(VLLM), "simulated engine: vllm or tgi")
	fs.StringVar(&o.ServedModelName, "served-model-name", "model", "model name served in /v1/models (also --served-model-name=a,b: the first)")
	fs.Float64Var(&o.TokenRate, "token-rate", DefaultTokenRate, "tokens per second of each sequence (negative: no delay)")
	fs.IntVar(&o.MaxBatch, "max-batch", DefaultMaxBatch, "sequences generated at once; more requests queue")
	fs.IntVar(&o.MaxQueue, "max-queue", 0, "longest queue before requests are refused with 429 (0: unbounded)")
	fs.IntVar(&o.KVCapacity, "kv-capacity", DefaultKVCapacity, "KV cache capacity in tokens")
	fs.IntVar(&o.DefaultMaxTokens, "default-max-tokens", DefaultMaxTokens, "completion length when a request sets no max_tokens")
	fs.DurationVar(&o.LoadDelay, "load-delay", 0, "simulated model load time: /health answers 503 until it has passed")
	fs.BoolVar(&o.FailMetrics, "fail-metrics", false, "make /metrics answer 500")
	cacheMetric := fs.String("cache-metric", string(CacheMetricBoth),
		"vLLM KV-cache gauge: both, kv (vllm:kv_cache_usage_perc) or gpu (deprecated vllm:gpu_cache_usage_perc)")
	fs.StringVar(&o.Host, "host", "0.0.0.0", "address to listen on (also --hostname)")
	fs.IntVar(&o.Port, "port", 0, "API port (default 8000 for vllm, 8080 for tgi)")
	fs.IntVar(&o.MetricsPort, "metrics-port", 0, "separate /metrics port (default 9000 for tgi, none for vllm; also --prometheus-port)")

	var known []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue // positional: `vllm serve <model>`
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if n, ok := aliases[name]; ok {
			name = n
		}
		f := fs.Lookup(name)
		if f == nil && name != "h" && name != "help" {
			continue // a real engine's flag
		}
		if hasValue {
			known = append(known, "--"+name+"="+value)
			continue
		}
		known = append(known, "--"+name)
		if f != nil && !isBoolFlag(f) && i+1 < len(args) {
			i++
			known = append(known, args[i])
		}
	}
	if err := fs.Parse(known); err != nil {
		return o, err
	}
	o.Engine = Engine(*engineName)
	o.CacheMetric = CacheMetric(*cacheMetric)
	o.ServedModelName, _, _ = strings.Cut(o.ServedModelName, ",")
	if o.Port == 0 {
		o.Port = DefaultVLLMPort
		if o.Engine == TGI {
			o.Port = DefaultTGIPort
		}
	}
	if o.MetricsPort == 0 && o.Engine == TGI {
		o.MetricsPort = DefaultMetricsPort
	}
	if o.MetricsPort < 0 || o.MetricsPort == o.Port {
		o.MetricsPort = 0
	}
	if o.Port < 0 || o.Port > 65535 || o.MetricsPort > 65535 {
		return o, fmt.Errorf("port %d / metrics port %d out of range", o.Port, o.MetricsPort)
	}
	cfg, err := o.Config.withDefaults()
	if err != nil {
		return o, err
	}
	o.Config = cfg
	return o, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// errQueueFull is returned when a request arrives at a full queue.
var errQueueFull = errors.New("the queue is full")
