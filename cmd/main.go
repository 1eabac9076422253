// Command manager runs the privatellm operator.
package main

import (
	"flag"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/controllers/apikey"
	"github.com/privatellm/privatellm/controllers/autoscaler"
	"github.com/privatellm/privatellm/controllers/llmdeployment"
	"github.com/privatellm/privatellm/controllers/modelcache"
	"github.com/privatellm/privatellm/controllers/usage"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/manager"
	"github.com/privatellm/privatellm/internal/webhook"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(servingv1alpha1.AddToScheme(scheme))
}

func main() {
	var configPath, metricsAddr, probeAddr, pprofAddr string
	var leaderElect, metricsSecure bool
	var leaderElectionNamespace, watchNamespaces string
	var enableWebhook, webhookManageCerts bool
	var webhookCertDir string
	var webhookPort int
	var workers int
	var qps float64
	var burst int
	flag.StringVar(&configPath, "config", "", "Path of the OperatorConfig file (engine images, budgets). Empty: built-in defaults.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint, e.g. :8080; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address of the Go profiler (/debug/pprof), e.g. 127.0.0.1:6060; empty disables it. Unauthenticated: bind it to loopback.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader on a Lease so that only one replica reconciles.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; empty: the pod's own namespace (required out of cluster).")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to watch; empty: all. With namespaces, namespaced Roles are enough.")
	flag.BoolVar(&metricsSecure, "metrics-secure", false, "Serve metrics over HTTPS, authenticating and authorizing scrapers (TokenReview, SubjectAccessReview).")
	flag.BoolVar(&enableWebhook, "enable-webhook", false, "Serve the validating admission webhook of LLMDeployments (config/webhook).")
	flag.BoolVar(&webhookManageCerts, "webhook-manage-certs", true, "Create and rotate the webhook's self-signed certificate in its Secret and inject the CA; off with cert-manager.")
	flag.StringVar(&webhookCertDir, "webhook-cert-dir", webhook.DefaultCertDir, "Folder with the webhook's tls.crt and tls.key.")
	flag.IntVar(&webhookPort, "webhook-port", webhook.DefaultPort, "Port of the webhook server.")
	flag.IntVar(&workers, "max-concurrent-reconciles", 4, "How many LLMDeployments are reconciled at once.")
	flag.Float64Var(&qps, "kube-api-qps", 100, "Queries per second the operator may send to the API server.")
	flag.IntVar(&burst, "kube-api-burst", 200, "Burst of queries the operator may send to the API server.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	cfg, err := config.Load(configPath)
	if err != nil {
		log.Error(err, "Unable to load the operator configuration", "path", configPath)
		os.Exit(1)
	}

	restCfg := ctrl.GetConfigOrDie()
	restCfg.QPS, restCfg.Burst = float32(qps), burst
	cacheOpts := manager.CacheOptions(cfg.Gateway)
	if watchNamespaces != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(watchNamespaces, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				cacheOpts.DefaultNamespaces[ns] = cache.Config{}
			}
		}
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr}
	if metricsSecure {
		metricsOpts.SecureServing = true
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOpts,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "privatellm.serving.privatellm.dev",
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// Finish in-flight reconciles on SIGTERM before exiting.
		GracefulShutdownTimeout: ptr.To(30 * time.Second),
	})
	if err != nil {
		log.Error(err, "Unable to create the manager")
		os.Exit(1)
	}
	if err := (&llmdeployment.Reconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		Config:                  cfg,
		Recorder:                mgr.GetEventRecorder("privatellm"),
		MaxConcurrentReconciles: workers,
	}).SetupWithManager(mgr); err != nil {
		log.Error(err, "Unable to set up the LLMDeployment controller")
		os.Exit(1)
	}
	if err := (&autoscaler.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("privatellm-autoscaler"),
		Gateway:  cfg.Gateway,
	}).SetupWithManager(mgr); err != nil {
		log.Error(err, "Unable to set up the autoscaler")
		os.Exit(1)
	}
	if err := (&apikey.Reconciler{
		Client:     mgr.GetClient(),
		Scheme:     mgr.GetScheme(),
		Recorder:   mgr.GetEventRecorder("privatellm"),
		GatewayURL: cfg.Gateway.URL,
	}).SetupWithManager(mgr); err != nil {
		log.Error(err, "Unable to set up the APIKey controller")
		os.Exit(1)
	}
	if cfg.Cost != nil {
		if err := (&usage.Reconciler{Client: mgr.GetClient(), Config: *cfg.Cost, Gateway: cfg.Gateway}).SetupWithManager(mgr); err != nil {
			log.Error(err, "Unable to set up the usage controller")
			os.Exit(1)
		}
	}
	if cfg.ModelCache != nil {
		if err := (&modelcache.Reconciler{
			Client:   mgr.GetClient(),
			Scheme:   mgr.GetScheme(),
			Config:   cfg,
			Recorder: mgr.GetEventRecorder("privatellm-modelcache"),
		}).SetupWithManager(mgr); err != nil {
			log.Error(err, "Unable to set up the ModelCache controller")
			os.Exit(1)
		}
	}
	if enableWebhook {
		if err := webhook.Setup(mgr, webhook.Options{
			Namespace: os.Getenv("POD_NAMESPACE"), ManageCerts: webhookManageCerts, CertDir: webhookCertDir, Port: webhookPort,
			Config: &cfg,
		}); err != nil {
			log.Error(err, "Unable to set up the admission webhook")
			os.Exit(1)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "Unable to add the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "Unable to add the readiness check")
		os.Exit(1)
	}
	images := make([]any, 0, 2*len(cfg.Engines))
	for _, name := range engine.Names() {
		images = append(images, string(name)+"Image", cfg.Engines[name].Image)
	}
	log.Info("Starting the manager", images...)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}
