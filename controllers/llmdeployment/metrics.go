package llmdeployment

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// Secured metrics: the manager's metrics endpoint authenticates and authorizes scrapers with these reviews.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// llmDeploymentsDesc describes the gauge of LLMDeployments by their Ready condition. Reconcile counts, errors,
// durations and work queue depth come from controller-runtime (controller_runtime_reconcile_*, workqueue_*).
var llmDeploymentsDesc = prometheus.NewDesc(
	"privatellm_llmdeployments",
	"LLMDeployments by the status and reason of their Ready condition (reason Unknown: not reconciled yet).",
	[]string{"ready", "reason"}, nil,
)

// statusCollector counts LLMDeployments by condition when scraped, from the manager's cache: no API requests.
type statusCollector struct{ reader client.Reader }

// Describe implements prometheus.Collector.
func (c statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- llmDeploymentsDesc }

// Collect implements prometheus.Collector.
func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &servingv1alpha1.LLMDeploymentList{}
	if err := c.reader.List(ctx, list); err != nil {
		ctrl.Log.WithName("metrics").Error(err, "Unable to list LLMDeployments for the metrics")
		return
	}
	type key struct{ ready, reason string }
	counts := map[key]int{}
	for i := range list.Items {
		k := key{"Unknown", "Unknown"}
		if c := meta.FindStatusCondition(list.Items[i].Status.Conditions, servingv1alpha1.ConditionReady); c != nil {
			k = key{string(c.Status), c.Reason}
		}
		counts[k]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(llmDeploymentsDesc, prometheus.GaugeValue, float64(n), k.ready, k.reason)
	}
}

// registerMetrics adds the LLMDeployment gauge to the manager's metrics registry.
func registerMetrics(reader client.Reader) error {
	return metrics.Registry.Register(statusCollector{reader: reader})
}
