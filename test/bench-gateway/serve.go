package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gateway/catalog"
	"github.com/privatellm/privatellm/internal/gateway/limit"
	"github.com/privatellm/privatellm/internal/gateway/proxy"
	"github.com/privatellm/privatellm/test/enginesim"
)

// benchNamespace holds the benchmark's APIKey and LLMDeployments in the gateway's catalog.
const benchNamespace = "bench"

// modelSpec is one LLMDeployment of the serve process and the addresses of its engine-sim backends.
type modelSpec struct {
	name  string
	addrs []string
}

func (m modelSpec) String() string { return m.name + "=" + strings.Join(m.addrs, ",") }

// modelsFlag is -model name=host:port,host:port, repeated.
type modelsFlag []modelSpec

func (f *modelsFlag) String() string {
	var s []string
	for _, m := range *f {
		s = append(s, m.String())
	}
	return strings.Join(s, " ")
}

func (f *modelsFlag) Set(v string) error {
	name, addrs, ok := strings.Cut(v, "=")
	if !ok || name == "" || addrs == "" {
		return fmt.Errorf("want name=host:port[,host:port…], got %q", v)
	}
	*f = append(*f, modelSpec{name: name, addrs: strings.Split(addrs, ",")})
	return nil
}

// serveMain is the gateway process: `bench-gateway serve -key-id … -key-hash … -model name=addr,… [-cpu N]`. It
// pins itself to one CPU, builds a catalog with one APIKey (no limits) and the models, and serves the gateway's
// handler as cmd/gateway does (same http.Server settings, limiter, prometheus metrics). A side port serves /stats
// (runtime.MemStats, after a GC with ?gc=1), /metrics (the gateway's registry) and /debug/pprof/. Once both listen
// it prints "ready <api address> <side address> <GOMAXPROCS>" on stdout. It runs until SIGTERM or SIGINT.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address of the OpenAI-compatible API")
	side := fs.String("side", "127.0.0.1:0", "address of /stats, /metrics and /debug/pprof/")
	keyID := fs.String("key-id", "", "public ID of the benchmark's API key")
	keyHash := fs.String("key-hash", "", "published hash of the benchmark's API key")
	cpu := fs.Int("cpu", -1, "CPU to pin every thread to (-1: leave the affinity alone)")
	var models modelsFlag
	fs.Var(&models, "model", "an LLMDeployment and its backends, name=host:port[,host:port…] (repeat)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpu >= 0 {
		if err := pinSelf([]int{*cpu}); err != nil {
			return err
		}
	}
	if _, err := raiseNoFile(); err != nil {
		return err
	}

	cat := catalog.New()
	cat.SetAPIKey(&v1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: "bench"},
		Status:     v1.APIKeyStatus{Keys: []v1.APIKeyHash{{ID: *keyID, Hash: *keyHash}}},
	})
	for _, m := range models {
		cat.SetModel(&v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: m.name}})
		for i, addr := range m.addrs {
			if err := setEndpoint(cat, m.name, fmt.Sprintf("%s-%d", m.name, i), addr); err != nil {
				return err
			}
		}
	}
	reg := prometheus.NewRegistry()
	metrics, err := proxy.NewMetrics(reg)
	if err != nil {
		return err
	}
	gw := proxy.New(proxy.Options{Catalog: cat, Limiter: limit.New(nil), Metrics: metrics})

	api, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	sideL, err := net.Listen("tcp", *side)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", serveStats)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(api) }()
	go func() { errc <- http.Serve(sideL, mux) }()
	fmt.Printf("ready %s %s %d\n", api.Addr(), sideL.Addr(), runtime.GOMAXPROCS(0))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// setEndpoint gives a model one ready endpoint, in an EndpointSlice of its own (as the backends' ports differ).
func setEndpoint(cat *catalog.Catalog, svc, slice, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	cat.SetEndpointSlice(&discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: slice,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To(catalog.ServicePortName), Port: ptr.To(int32(p)),
			Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{host},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	})
	return nil
}

// memStats is what /stats reports.
type memStats struct {
	HeapAlloc  uint64 `json:"heap_alloc"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	NumGC      uint32 `json:"num_gc"`
	Goroutines int    `json:"goroutines"`
}

func serveStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") == "1" {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(memStats{HeapAlloc: m.HeapAlloc, HeapInuse: m.HeapInuse, StackInuse: m.StackInuse,
		Sys: m.Sys, NumGC: m.NumGC, Goroutines: runtime.NumGoroutine()})
}

// engineSimMain is test/engine-sim's main, for when the benchmark re-executes itself as a backend.
func engineSimMain(args []string) error {
	opts, err := enginesim.ParseArgs(args, os.Stderr, nil)
	var refused *enginesim.UsageError
	if errors.As(err, &refused) {
		return errors.New(refused.Message)
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return enginesim.Run(ctx, opts, os.Stderr)
}

// sideStats reads the serve process's /stats (after a GC when gc is set).
func sideStats(ctx context.Context, client *http.Client, side string, gc bool) (memStats, error) {
	url := side + "/stats"
	if gc {
		url += "?gc=1"
	}
	var m memStats
	body, err := getOK(ctx, client, url, "")
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(body, &m)
}

// metricSum sums the samples of one metric family in the gateway's /metrics, optionally only those whose labels
// contain match.
func metricSum(ctx context.Context, client *http.Client, side, name, match string) (float64, error) {
	body, err := getOK(ctx, client, side+"/metrics", "")
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') || !strings.Contains(rest, match) {
			continue
		}
		v, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", line, err)
		}
		sum += v
	}
	return sum, nil
}
