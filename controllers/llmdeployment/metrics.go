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

// The operator's LLMDeployment metrics. Reconcile counts, errors, durations and work queue depth come from
// controller-runtime (controller_runtime_reconcile_*, workqueue_*).
var (
	// llmDeploymentsDesc describes the gauge of LLMDeployments by their Ready condition.
	llmDeploymentsDesc = prometheus.NewDesc(
		"privatellm_llmdeployments",
		"LLMDeployments by the status and reason of their Ready condition (reason Unknown: not reconciled yet).",
		[]string{"ready", "reason"}, nil,
	)
	// replicasDesc describes each LLMDeployment's desired replicas.
	replicasDesc = prometheus.NewDesc(
		"privatellm_llmdeployment_replicas",
		"Desired replicas of the LLMDeployment (spec.replicas; when unset, autoscaling.minReplicas with autoscaling, else 1).",
		modelLabels, nil,
	)
	// readyReplicasDesc describes each LLMDeployment's ready replicas.
	readyReplicasDesc = prometheus.NewDesc(
		"privatellm_llmdeployment_ready_replicas",
		"Replicas of the LLMDeployment that serve the model (status.readyReplicas).",
		modelLabels, nil,
	)
	// conditionDesc describes the LLMDeployments' kstatus conditions.
	conditionDesc = prometheus.NewDesc(
		"privatellm_llmdeployment_condition",
		"1 for each of the Ready, Stalled and Reconciling conditions present in the LLMDeployment's status, with its status and reason.",
		append(append([]string{}, modelLabels...), "type", "status", "reason"), nil,
	)
	// modelLabels name an LLMDeployment in the per-model series.
	modelLabels = []string{"namespace", "name"}
	// exportedConditions are the conditions the condition gauge exports, in order.
	exportedConditions = []string{
		servingv1alpha1.ConditionReady, servingv1alpha1.ConditionStalled, servingv1alpha1.ConditionReconciling,
	}
)

// statusCollector exports LLMDeployments' status when scraped, from the manager's cache: no API requests. It
// counts them by Ready condition and exports each one's desired and ready replicas and conditions.
type statusCollector struct{ reader client.Reader }

// Describe implements prometheus.Collector.
func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{llmDeploymentsDesc, replicasDesc, readyReplicasDesc, conditionDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Without a reader it collects nothing.
func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	if c.reader == nil {
		return
	}
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
		llm := &list.Items[i]
		k := key{"Unknown", "Unknown"}
		if c := meta.FindStatusCondition(llm.Status.Conditions, servingv1alpha1.ConditionReady); c != nil {
			k = key{string(c.Status), c.Reason}
		}
		counts[k]++
		ch <- prometheus.MustNewConstMetric(replicasDesc, prometheus.GaugeValue,
			float64(llm.Spec.EffectiveReplicas()), llm.Namespace, llm.Name)
		ch <- prometheus.MustNewConstMetric(readyReplicasDesc, prometheus.GaugeValue,
			float64(llm.Status.ReadyReplicas), llm.Namespace, llm.Name)
		for _, t := range exportedConditions {
			if cond := meta.FindStatusCondition(llm.Status.Conditions, t); cond != nil {
				ch <- prometheus.MustNewConstMetric(conditionDesc, prometheus.GaugeValue, 1,
					llm.Namespace, llm.Name, t, string(cond.Status), cond.Reason)
			}
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(llmDeploymentsDesc, prometheus.GaugeValue, float64(n), k.ready, k.reason)
	}
}

// Collectors are the operator's LLMDeployment metrics without a reader: they Describe every series (for tests
// and documentation) and collect nothing. The manager registers them reading its cache (SetupWithManager).
func Collectors() []prometheus.Collector { return collectors(nil) }

// collectors are the LLMDeployment metrics reading from reader.
func collectors(reader client.Reader) []prometheus.Collector {
	return []prometheus.Collector{statusCollector{reader: reader}, coldStartSeconds}
}

// registerMetrics adds the LLMDeployment metrics to the manager's metrics registry.
func registerMetrics(reader client.Reader) error {
	for _, c := range collectors(reader) {
		if err := metrics.Registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}
