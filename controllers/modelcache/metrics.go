package modelcache

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// The operator's ModelCache metrics, one series per cache (namespace, name), read from each cache's status.
// Reconcile counts, errors and durations of the modelcache controller come from controller-runtime
// (controller_runtime_reconcile_*{controller="modelcache"}).
var (
	// cacheConditionDesc describes the ModelCaches' kstatus conditions.
	cacheConditionDesc = prometheus.NewDesc(
		"privatellm_modelcache_condition",
		"1 for each of the Ready, Stalled and Reconciling conditions present in the ModelCache's status, with its status and reason.",
		append(append([]string{}, cacheLabels...), "type", "status", "reason"), nil,
	)
	// cacheBytesDesc describes the bytes of each cache's snapshot on its volume.
	cacheBytesDesc = prometheus.NewDesc(
		"privatellm_modelcache_bytes",
		"Bytes of the ModelCache's snapshot on its volume, verified or being downloaded (status.progress.bytesDone; 0 before the first progress).",
		cacheLabels, nil,
	)
	// cacheBytesTotalDesc describes the size of each cache's snapshot.
	cacheBytesTotalDesc = prometheus.NewDesc(
		"privatellm_modelcache_bytes_total",
		"Bytes of the ModelCache's whole snapshot (status.progress.bytesTotal; 0 while unknown).",
		cacheLabels, nil,
	)
	// cacheSpeedDesc describes each cache's download speed.
	cacheSpeedDesc = prometheus.NewDesc(
		"privatellm_modelcache_download_bytes_per_second",
		"Average download speed of the ModelCache so far, in bytes per second (status.progress.bytesPerSecond; 0 while unknown).",
		cacheLabels, nil,
	)
	// cacheUsersDesc describes each cache's users.
	cacheUsersDesc = prometheus.NewDesc(
		"privatellm_modelcache_users",
		"LLMDeployments that use the ModelCache now (len(status.users)); a cache in use is not deleted.",
		cacheLabels, nil,
	)
	// cacheLabels name a ModelCache in its series.
	cacheLabels = []string{"namespace", "name"}
	// cacheConditions are the conditions the condition gauge exports, in order.
	cacheConditions = []string{v1.ConditionReady, v1.ConditionStalled, v1.ConditionReconciling}
)

// cacheCollector exports ModelCaches' status when scraped, from the manager's cache: no API requests. It exports
// each one's conditions, bytes done and total, download speed and users.
type cacheCollector struct{ reader client.Reader }

// Describe implements prometheus.Collector.
func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cacheConditionDesc, cacheBytesDesc, cacheBytesTotalDesc, cacheSpeedDesc, cacheUsersDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Without a reader it collects nothing.
func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	if c.reader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &v1.ModelCacheList{}
	if err := c.reader.List(ctx, list); err != nil {
		ctrl.Log.WithName("metrics").Error(err, "Unable to list ModelCaches for the metrics")
		return
	}
	for i := range list.Items {
		mc := &list.Items[i]
		var done, total, speed int64
		if p := mc.Status.Progress; p != nil {
			done, total, speed = p.BytesDone, p.BytesTotal, p.BytesPerSecond
		}
		ch <- prometheus.MustNewConstMetric(cacheBytesDesc, prometheus.GaugeValue, float64(done), mc.Namespace, mc.Name)
		ch <- prometheus.MustNewConstMetric(cacheBytesTotalDesc, prometheus.GaugeValue, float64(total), mc.Namespace, mc.Name)
		ch <- prometheus.MustNewConstMetric(cacheSpeedDesc, prometheus.GaugeValue, float64(speed), mc.Namespace, mc.Name)
		ch <- prometheus.MustNewConstMetric(cacheUsersDesc, prometheus.GaugeValue, float64(len(mc.Status.Users)), mc.Namespace, mc.Name)
		for _, t := range cacheConditions {
			if cond := meta.FindStatusCondition(mc.Status.Conditions, t); cond != nil {
				ch <- prometheus.MustNewConstMetric(cacheConditionDesc, prometheus.GaugeValue, 1,
					mc.Namespace, mc.Name, t, string(cond.Status), cond.Reason)
			}
		}
	}
}

// Collectors are the operator's ModelCache metrics without a reader: they Describe every series (for tests and
// documentation) and collect nothing. The manager registers them reading its cache (SetupWithManager).
func Collectors() []prometheus.Collector { return collectors(nil) }

// collectors are the ModelCache metrics reading from reader.
func collectors(reader client.Reader) []prometheus.Collector {
	return []prometheus.Collector{cacheCollector{reader: reader}}
}

// registerMetrics adds the ModelCache metrics to the manager's metrics registry.
func registerMetrics(reader client.Reader) error {
	for _, c := range collectors(reader) {
		if err := metrics.Registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}
