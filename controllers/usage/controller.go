// Package usage counts what each LLMDeployment's GPUs cost and what its engines served, and compares it with
// reference API prices (issue #14): GPU time from its pods (scheduled until gone), tokens from the engines' own
// counters through the shared engine-metrics reader, priced with the operator config's cost section. It writes
// status.usage at most every cost.refreshInterval per model, and exports the figures as Prometheus metrics.
// It runs only when the operator config has a cost section.
package usage

import (
	"context"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/enginemetrics"
	"github.com/privatellm/privatellm/internal/gatewaymetrics"
	"github.com/privatellm/privatellm/internal/gpu"
	"github.com/privatellm/privatellm/internal/render"
)

// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.privatellm.dev,resources=llmdeployments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,namespace=privatellm-system,resources=endpointslices,verbs=list;watch

// Reconciler keeps one ledger per LLMDeployment and looks at each every cost.scrapeInterval.
type Reconciler struct {
	client.Client
	Config config.CostConfig
	// Gateway says where the gateway's metrics are, for the usage per API key; the zero value: none.
	Gateway config.GatewayConfig
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	scraper *enginemetrics.Scraper
	gateway gatewayPages
	// started is when this controller began; models created since are counted from their creation.
	started time.Time
	mu      sync.Mutex
	ledgers map[types.NamespacedName]*ledger
}

// Reconcile adds up one LLMDeployment's usage since its last pass and writes it when due.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	llm := &v1.LLMDeployment{}
	if err := r.Get(ctx, req.NamespacedName, llm); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !llm.DeletionTimestamp.IsZero() {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	now := r.now()
	l := r.ledgerFor(req.NamespacedName, llm, now)

	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(llm.Namespace), client.MatchingLabels(render.SelectorLabels(llm))); err != nil {
		return ctrl.Result{}, err
	}
	obs, load := r.observe(ctx, llm, pods.Items)
	d := l.pass(now, obs, r.keyTokens(ctx, llm, now), r.Config.Prices)
	r.export(llm, l, d, load)

	u := l.status(now, r.Config.Prices, r.Config.Currency)
	if l.due(u, now, r.Config.RefreshInterval.Duration) {
		before := llm.DeepCopy()
		llm.Status.Usage = u
		if err := r.Status().Patch(ctx, llm, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		l.wrote(u)
	}
	return ctrl.Result{RequeueAfter: r.Config.ScrapeInterval.Duration}, nil
}

// load is the engines' load summed (queue, running) or averaged (KV cache) over the ready pods that answered.
type load struct {
	waiting, running, kv float64
	kvPods               int
}

// observe reads each pod's GPUs and node product, and the ready pods' engine counters.
func (r *Reconciler) observe(ctx context.Context, llm *v1.LLMDeployment, pods []corev1.Pod) ([]observation, load) {
	res := llm.Spec.EffectiveGPUResourceName()
	productLabel := gpu.LabelsFor(res).Product
	m := engine.FactsOf(llm.Spec.EffectiveEngine()).Metrics
	names := enginemetrics.Names(m)
	out := make([]observation, len(pods))
	var mu sync.Mutex
	var total load
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range pods {
		p := &pods[i]
		o := &out[i]
		*o = observation{UID: string(p.UID), Created: p.CreationTimestamp.Time, GPUs: int(gpu.PodGPUs(p, corev1.ResourceName(res)))}
		if !gpu.Holds(p) {
			o.GPUs = 0 // finished: it holds nothing any more
		}
		if t, ok := scheduledAt(p); ok {
			o.Scheduled = t
			node := &corev1.Node{}
			if err := r.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, node); err == nil {
				o.Product = node.Labels[productLabel]
			}
		}
		if !ready(p) || p.Status.PodIP == "" || !p.DeletionTimestamp.IsZero() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			page, err := r.scraper.Scrape(ctx, enginemetrics.URL(p), names...)
			if err != nil {
				ctrl.LoggerFrom(ctx).V(1).Info("Unable to read engine metrics", "pod", p.Name, "err", err.Error())
				return
			}
			l, err := enginemetrics.ReadLoad(page, m)
			if err != nil {
				ctrl.LoggerFrom(ctx).V(1).Info("Engine metrics incomplete", "pod", p.Name, "err", err.Error())
				return
			}
			o.Scraped, o.Prompt, o.Generation = true, l.PromptTokens, l.GenerationTokens
			mu.Lock()
			defer mu.Unlock()
			total.waiting += l.Waiting
			total.running += l.Running
			if l.HasKVCache {
				total.kv += l.KVCache
				total.kvPods++
			}
		}()
	}
	wg.Wait()
	return out, total
}

// export moves the metrics on by what the pass added, and sets the gauges.
func (r *Reconciler) export(llm *v1.LLMDeployment, l *ledger, d delta, ld load) {
	ns, name := llm.Namespace, llm.Name
	r.addCounters(ns, name, d)
	gpus, _ := l.gpusNow(r.Config.Prices)
	gpusHeld.WithLabelValues(ns, name).Set(float64(gpus))
	requestsWaiting.WithLabelValues(ns, name).Set(ld.waiting)
	requestsRunning.WithLabelValues(ns, name).Set(ld.running)
	if ld.kvPods > 0 {
		kvCache.WithLabelValues(ns, name).Set(ld.kv / float64(ld.kvPods))
	}
}

// addCounters adds figures to the model's counters: a pass's delta, or the totals an operator starts from.
func (r *Reconciler) addCounters(ns, name string, d delta) {
	gpuHours.WithLabelValues(ns, name).Add(d.GPUSeconds / 3600)
	costTotal.WithLabelValues(ns, name).Add(d.Cost)
	tokens.WithLabelValues(ns, name, "input").Add(d.Input)
	tokens.WithLabelValues(ns, name, "output").Add(d.Output)
	for _, a := range r.Config.APIs {
		apiEquivalent.WithLabelValues(ns, name, a.Name).Add(d.Input/1e6*a.InputPerMTok + d.Output/1e6*a.OutputPerMTok)
	}
	for key, kd := range d.Keys {
		kns, kname, _ := strings.Cut(key, "/")
		keyCost.WithLabelValues(ns, name, kns, kname).Add(kd.Cost)
		for _, a := range r.Config.APIs {
			keyAPIEquivalent.WithLabelValues(ns, name, kns, kname, a.Name).Add(kd.Input/1e6*a.InputPerMTok + kd.Output/1e6*a.OutputPerMTok)
		}
	}
}

// keyTokens reads the model's token counters per API key from every gateway replica's page; none without a
// gateway.
func (r *Reconciler) keyTokens(ctx context.Context, llm *v1.LLMDeployment, now time.Time) []keyObservation {
	if !r.Gateway.Enabled() {
		return nil
	}
	var out []keyObservation
	for url, page := range r.gateway.read(ctx, r, now) {
		for _, kt := range gatewaymetrics.ModelKeyTokens(page, llm.Namespace, llm.Name) {
			out = append(out, keyObservation{Gateway: url, Key: kt.Key, Input: kt.Input, Output: kt.Output})
		}
	}
	return out
}

// gatewayPages holds the gateway replicas' pages, read at most once per scrape interval for all models.
type gatewayPages struct {
	mu    sync.Mutex
	at    time.Time
	pages map[string]enginemetrics.Page
}

func (g *gatewayPages) read(ctx context.Context, r *Reconciler, now time.Time) map[string]enginemetrics.Page {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pages != nil && now.Sub(g.at) < r.Config.ScrapeInterval.Duration {
		return g.pages
	}
	urls, err := gatewaymetrics.URLs(ctx, r.Client, r.Gateway)
	if err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("Unable to find the gateway's replicas", "err", err.Error())
	}
	pages := map[string]enginemetrics.Page{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			page, err := r.scraper.Scrape(ctx, u, gatewaymetrics.TokensMetric)
			if err != nil {
				ctrl.LoggerFrom(ctx).V(1).Info("Unable to read the gateway's metrics", "url", u, "err", err.Error())
				return
			}
			mu.Lock()
			pages[u] = page
			mu.Unlock()
		}()
	}
	wg.Wait()
	g.pages, g.at = pages, now
	return pages
}

// ledgerFor is the model's ledger; the first time, it goes on from status.usage (an earlier operator's) and
// starts the counters from its totals.
func (r *Reconciler) ledgerFor(key types.NamespacedName, llm *v1.LLMDeployment, now time.Time) *ledger {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.ledgers[key]; l != nil {
		return l
	}
	l := restore(llm.Status.Usage, now)
	if created := llm.CreationTimestamp.Time; llm.Status.Usage == nil && !created.Before(r.started.Truncate(time.Second)) && created.Before(now) {
		// Created while this operator was counting: it has seen everything, so the model's account starts at its
		// creation and every pod's counters count in full.
		l.since, l.started, l.accounted, l.countFrom = created, created, created, created
		l.fresh = true
	}
	start := delta{GPUSeconds: l.total.GPUSeconds, Cost: l.total.Cost, Input: l.total.Input, Output: l.total.Output, Keys: map[string]keyDelta{}}
	for k, acc := range l.keys {
		start.Keys[k] = *acc
	}
	r.addCounters(key.Namespace, key.Name, start)
	r.ledgers[key] = l
	return l
}

func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.ledgers, key)
	r.mu.Unlock()
	forgetMetrics(key.Namespace, key.Name)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// scheduledAt is when the pod was bound to a node: from then on it holds its GPUs.
func scheduledAt(p *corev1.Pod) (time.Time, bool) {
	if p.Spec.NodeName == "" {
		return time.Time{}, false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time, true
		}
	}
	// Bound without the condition (a pod created with spec.nodeName): from its creation.
	return p.CreationTimestamp.Time, !p.CreationTimestamp.IsZero()
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// SetupWithManager registers the controller: every LLMDeployment, then again after each scrape interval. Status
// changes do not trigger a pass (its own writes would).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	registerMetrics()
	r.ledgers = map[types.NamespacedName]*ledger{}
	r.started = r.now()
	r.scraper = enginemetrics.NewScraper(2 * time.Second)
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.LLMDeployment{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("usage").
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(r)
}
