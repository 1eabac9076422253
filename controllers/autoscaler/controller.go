// Package autoscaler is the controller of spec.autoscaling: it reads each ready replica's engine metrics
// (internal/enginemetrics) and, when the gateway is configured, the model's requests waiting and running at every
// gateway replica (scale from zero), decides HPA-style (internal/autoscaler) and writes spec.replicas through
// /scale.
package autoscaler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	decide "github.com/privatellm/privatellm/internal/autoscaler"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/enginemetrics"
	"github.com/privatellm/privatellm/internal/gateway/proxy"
	"github.com/privatellm/privatellm/internal/gatewaymetrics"
	"github.com/privatellm/privatellm/internal/render"
)

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments/scale,verbs=get;update;patch
// The gateway runs in the operator's namespace (config/default, the chart): its EndpointSlices are read there only.
// +kubebuilder:rbac:groups=discovery.k8s.io,namespace=privatellm-system,resources=endpointslices,verbs=list;watch

var (
	autoscalerDesired = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "privatellm_autoscaler_desired_replicas", Help: "Replicas the autoscaler last decided on.",
	}, []string{"namespace", "name"})
	autoscalerValue = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "privatellm_autoscaler_metric_per_replica", Help: "The followed engine metric, averaged over the ready replicas (percent for the KV cache).",
	}, []string{"namespace", "name", "metric"})
	autoscalerScrapeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "privatellm_autoscaler_scrape_errors_total", Help: "Ready replicas whose engine metrics could not be read.",
	}, []string{"namespace", "name"})
	autoscalerScrapeSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "privatellm_autoscaler_scrape_duration_seconds", Help: "Time to read one replica's engine metrics.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 12),
	})
	registerAutoscalerMetrics sync.Once
)

// Reconciler scales LLMDeployments that have spec.autoscaling on their engines' metrics, writing
// spec.replicas through the /scale subresource as an HPA would.
type Reconciler struct {
	client.Client
	Recorder events.EventRecorder
	// Gateway says where the gateway's metrics are (scale from zero); the zero value: no gateway.
	Gateway config.GatewayConfig

	scraper *enginemetrics.Scraper
}

// atZeroInterval is how often a model at zero replicas is looked at: a request waits at the gateway meanwhile.
const atZeroInterval = 2 * time.Second

// conflictRetry is how soon a pass whose status patch met a newer object looks again.
const conflictRetry = 200 * time.Millisecond

// Reconcile looks at one autoscaled LLMDeployment's metrics and decides its replicas, then comes back after the
// autoscaling interval.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	llm := &servingv1alpha1.LLMDeployment{}
	if err := r.Get(ctx, req.NamespacedName, llm); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	as := llm.Spec.Autoscaling
	if as == nil || !llm.DeletionTimestamp.IsZero() {
		autoscalerDesired.DeleteLabelValues(llm.Namespace, llm.Name)
		return ctrl.Result{}, nil
	}
	interval := 15 * time.Second
	if as.Interval != nil && as.Interval.Duration > 0 {
		interval = as.Interval.Duration
	}

	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(llm.Namespace), client.MatchingLabels(render.SelectorLabels(llm))); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing pods: %w", err)
	}
	em := engine.FactsOf(llm.Spec.EffectiveEngine()).Metrics
	names := decide.MetricNames(as.Metric, em)
	values, failures := r.scrape(ctx, pods.Items, names, em)
	if failures > 0 {
		autoscalerScrapeErrors.WithLabelValues(llm.Namespace, llm.Name).Add(float64(failures))
	}

	current := llm.Spec.EffectiveReplicas()
	var history []servingv1alpha1.Recommendation
	if llm.Status.Autoscaling != nil {
		history = llm.Status.Autoscaling.Recommendations
	}
	d := decide.Decide(decide.Input{
		Spec: *as, Current: current, Values: values, ScrapeFailures: failures, History: history, Now: time.Now(),
		Gateway: r.gatewayLoad(ctx, llm),
	})
	if current == 0 && d.Desired == 0 && r.Gateway.Enabled() {
		interval = min(interval, atZeroInterval)
	}
	autoscalerDesired.WithLabelValues(llm.Namespace, llm.Name).Set(float64(d.Desired))
	if len(values) > 0 {
		autoscalerValue.WithLabelValues(llm.Namespace, llm.Name, string(as.Metric)).Set(d.PerReplica)
	}

	before := llm.DeepCopy()
	st := llm.Status.Autoscaling
	if st == nil {
		st = &servingv1alpha1.AutoscalingStatus{}
		llm.Status.Autoscaling = st
	}
	scaled := false
	if d.Desired != current {
		// The cache may lag behind a scale this autoscaler just made: the live scale subresource decides.
		scale := &autoscalingv1.Scale{}
		if err := r.SubResource("scale").Get(ctx, llm, scale); err != nil {
			return ctrl.Result{}, fmt.Errorf("reading the scale subresource: %w", err)
		}
		if scale.Spec.Replicas != d.Desired {
			scale.Spec.Replicas = d.Desired
			if err := r.SubResource("scale").Update(ctx, llm, client.WithSubResourceBody(scale)); err != nil {
				return ctrl.Result{}, fmt.Errorf("scaling to %d: %w", d.Desired, err)
			}
			scaled = true
			now := metav1.Now()
			st.LastScaleTime, st.LastDecision = &now, d.Reason
			if r.Recorder != nil {
				r.Recorder.Eventf(llm, nil, corev1.EventTypeNormal, "Scaled", "Autoscale", "%s", d.Reason)
			}
			ctrl.LoggerFrom(ctx).Info("Scaled", "from", current, "to", d.Desired, "reason", d.Reason)
		}
	}
	// The status changes only with a decision or a new recommendation, so steady load writes nothing. The last
	// decision is rewritten when the replica count changes (by this autoscaler or by anyone else).
	if st.LastDecision == "" || st.DesiredReplicas != d.Desired {
		st.LastDecision = d.Reason
	}
	st.DesiredReplicas, st.Recommendations = d.Desired, d.History
	if !equality.Semantic.DeepEqual(before.Status.Autoscaling, llm.Status.Autoscaling) {
		// A pass that scaled writes its decision whatever else changed meanwhile (the reconciler's own status
		// patch follows every scale). Any other pass writes only onto the object it read: right after a scale the
		// cache can hold the new replicas but not yet the status recording the scale, and a pass on that mix
		// would overwrite the decision with a "hold". It looks again shortly, from a cache that has caught up.
		patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
		if scaled {
			patch = client.MergeFrom(before)
		}
		if err := r.Status().Patch(ctx, llm, patch); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("patching status.autoscaling: %w", err)
		}
	}
	return ctrl.Result{RequeueAfter: interval}, nil
}

// scrape reads the signal from every ready replica, at most 8 at a time.
func (r *Reconciler) scrape(ctx context.Context, pods []corev1.Pod, names []string, em engine.Metrics) ([]float64, int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var values []float64
	failures := 0
	sem := make(chan struct{}, 8)
	for i := range pods {
		p := &pods[i]
		if !p.DeletionTimestamp.IsZero() || !podReady(p) || p.Status.PodIP == "" {
			continue
		}
		url := enginemetrics.URL(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := r.scrapeOne(ctx, url, names, em)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures++
				ctrl.LoggerFrom(ctx).V(1).Info("Unable to read engine metrics", "url", url, "err", err.Error())
				return
			}
			values = append(values, v)
		}()
	}
	wg.Wait()
	return values, failures
}

func (r *Reconciler) scrapeOne(ctx context.Context, url string, names []string, em engine.Metrics) (float64, error) {
	start := time.Now()
	defer func() { autoscalerScrapeSeconds.Observe(time.Since(start).Seconds()) }()
	page, err := r.scraper.Scrape(ctx, url, enginemetrics.Names(em)...)
	if err != nil {
		return 0, err
	}
	v, ok := page.Signal(names, em)
	if !ok {
		return 0, fmt.Errorf("GET %s: none of %v", url, names)
	}
	return v, nil
}

// gatewayLoad reads the model's requests waiting and running at every gateway replica; nil without a gateway.
func (r *Reconciler) gatewayLoad(ctx context.Context, llm *servingv1alpha1.LLMDeployment) *decide.GatewayLoad {
	if !r.Gateway.Enabled() {
		return nil
	}
	urls, err := gatewaymetrics.URLs(ctx, r.Client, r.Gateway)
	load := &decide.GatewayLoad{Complete: err == nil && len(urls) > 0}
	if err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("Unable to find the gateway's replicas", "err", err.Error())
	}
	match := map[string]string{"model_namespace": llm.Namespace, "model": llm.Name}
	for _, u := range urls {
		page, err := r.scraper.Scrape(ctx, u, proxy.PendingMetric, proxy.InFlightMetric)
		if err != nil {
			load.Complete = false
			ctrl.LoggerFrom(ctx).V(1).Info("Unable to read the gateway's metrics", "url", u, "err", err.Error())
			continue
		}
		// A gauge with no series yet is left off the page: nothing waits or runs.
		p, _ := page.ValueWith(proxy.PendingMetric, match)
		f, _ := page.ValueWith(proxy.InFlightMetric, match)
		load.Pending += p
		load.InFlight += f
	}
	return load
}

// podReady says whether the pod's Ready condition is True.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// SetupWithManager registers the autoscaler for LLMDeployments with spec.autoscaling.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.scraper = enginemetrics.NewScraper(enginemetrics.DefaultTimeout)
	var err error
	registerAutoscalerMetrics.Do(func() {
		for _, c := range []prometheus.Collector{autoscalerDesired, autoscalerValue, autoscalerScrapeErrors, autoscalerScrapeSeconds} {
			if err = metrics.Registry.Register(c); err != nil {
				return
			}
		}
	})
	if err != nil {
		return fmt.Errorf("registering autoscaler metrics: %w", err)
	}
	autoscaled := predicate.NewPredicateFuncs(func(o client.Object) bool {
		l, ok := o.(*servingv1alpha1.LLMDeployment)
		return ok && l.Spec.Autoscaling != nil
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.LLMDeployment{}, builder.WithPredicates(autoscaled, predicate.GenerationChangedPredicate{})).
		Named("autoscaler").
		Complete(r)
}
