// Command gateway serves the OpenAI-compatible API in front of the cluster's LLMDeployments: API keys, limits,
// metering, routing to the engines' pods, and waiting for a model at zero replicas. It is stateless: run several
// replicas behind one Service; none is elected.
package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/gateway/catalog"
	"github.com/privatellm/privatellm/internal/gateway/feed"
	"github.com/privatellm/privatellm/internal/gateway/limit"
	"github.com/privatellm/privatellm/internal/gateway/proxy"
)

func main() {
	var listen, metricsAddr, probeAddr, peersService string
	var replicas, maxQueue int
	var idle, maxWait time.Duration
	flag.StringVar(&listen, "listen-address", ":8080", "Address of the OpenAI-compatible API.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":9090", "Address of the Prometheus metrics; 0 disables them.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz.")
	flag.IntVar(&replicas, "replicas", 1, "Number of gateway replicas: each enforces this share of every limit (when --peers-service is unset, or until its endpoints are known).")
	flag.StringVar(&peersService, "peers-service", "", "The gateway's own Service, namespace/name: the replicas are counted from its EndpointSlices, so each enforces its share of every limit however many there are.")
	flag.IntVar(&maxQueue, "max-queue", 1000, "Requests that may wait for a ready replica of one model.")
	flag.DurationVar(&idle, "idle-timeout", 5*time.Minute, "Cut an upstream that sends nothing for this long (there is no total timeout).")
	flag.DurationVar(&maxWait, "max-wait", 10*time.Minute, "Longest wait for a first ready replica (the model's startupTimeout when shorter).")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("gateway")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme: scheme, Cache: feed.CacheOptions(), Metrics: metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
	})
	if err != nil {
		log.Error(err, "Unable to create the manager")
		os.Exit(1)
	}
	ctx := ctrl.SetupSignalHandler()
	cat := catalog.New()
	if err := feed.Setup(ctx, mgr, cat); err != nil {
		log.Error(err, "Unable to watch the cluster")
		os.Exit(1)
	}
	share := func() int { return replicas }
	if peersService != "" {
		ns, name, ok := strings.Cut(peersService, "/")
		if !ok || ns == "" || name == "" {
			log.Error(nil, "--peers-service must be namespace/name", "value", peersService)
			os.Exit(1)
		}
		peers, err := feed.WatchPeers(ctx, mgr, ns, name)
		if err != nil {
			log.Error(err, "Unable to count the gateway's replicas")
			os.Exit(1)
		}
		share = func() int { return peers.Count(replicas) }
	}
	m, err := proxy.NewMetrics(metrics.Registry)
	if err != nil {
		log.Error(err, "Unable to register the metrics")
		os.Exit(1)
	}
	handler := proxy.New(proxy.Options{
		Catalog: cat, Limiter: limit.New(nil), Metrics: m, Replicas: share,
		IdleTimeout: idle, MaxQueue: maxQueue, MaxWait: maxWait, Log: log,
	})
	synced := func(*http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(context.Background()) {
			return errors.New("caches not synced")
		}
		return nil
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		log.Error(err, "Unable to add the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("caches", synced); err != nil {
		log.Error(err, "Unable to add the readiness check")
		os.Exit(1)
	}
	srv := &http.Server{Addr: listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	go func() {
		// Serve only once the caches hold the keys and models, so that no request is refused for want of them.
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return
		}
		log.Info("Serving the OpenAI-compatible API", "address", listen)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "API server failed")
			os.Exit(1)
		}
	}()
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "Gateway stopped")
		os.Exit(1)
	}
}
