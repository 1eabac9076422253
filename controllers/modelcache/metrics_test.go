package modelcache

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// TestMetricsCollectorPerCache: the collector exports each ModelCache's Ready, Stalled and Reconciling
// conditions, bytes done and total, download speed and users, read from a client (a fake one here: no API server).
func TestMetricsCollectorPerCache(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "m", LastTransitionTime: metav1.Now()}
	}
	downloading := &v1.ModelCache{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "llama-8b-1a2b3c"},
		Spec:       v1.ModelCacheSpec{Source: "hf://meta-llama/Llama-3.1-8B-Instruct", Revision: "main"},
		Status: v1.ModelCacheStatus{
			Conditions: []metav1.Condition{
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDownloading),
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonDownloading),
				cond("Other", metav1.ConditionTrue, "NotExported"),
			},
			Progress: &v1.DownloadProgress{FilesDone: 3, FilesTotal: 7, BytesDone: 4_000_000_000,
				BytesTotal: 16_000_000_000, Percent: 25, BytesPerSecond: 100_000_000, UpdatedAt: metav1.Now()},
			Users: []string{"chat", "batch"},
		},
	}
	stalled := &v1.ModelCache{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "gated-4d5e6f"},
		Spec:       v1.ModelCacheSpec{Source: "hf://acme/gated", Revision: "main"},
		// No progress: the loader failed before listing the files.
		Status: v1.ModelCacheStatus{
			Conditions: []metav1.Condition{
				cond(v1.ConditionReady, metav1.ConditionFalse, "GatedRepo"),
				cond(v1.ConditionStalled, metav1.ConditionTrue, "GatedRepo"),
			},
			Users: []string{"gated"},
		},
	}
	reader := fake.NewClientBuilder().WithScheme(testScheme).WithObjects(downloading, stalled).
		WithStatusSubresource(&v1.ModelCache{}).Build()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range collectors(reader) {
		reg.MustRegister(c)
	}
	want := `
# HELP privatellm_modelcache_bytes Bytes of the ModelCache's snapshot on its volume, verified or being downloaded (status.progress.bytesDone; 0 before the first progress).
# TYPE privatellm_modelcache_bytes gauge
privatellm_modelcache_bytes{name="gated-4d5e6f",namespace="team-b"} 0
privatellm_modelcache_bytes{name="llama-8b-1a2b3c",namespace="team-a"} 4e+09
# HELP privatellm_modelcache_bytes_total Bytes of the ModelCache's whole snapshot (status.progress.bytesTotal; 0 while unknown).
# TYPE privatellm_modelcache_bytes_total gauge
privatellm_modelcache_bytes_total{name="gated-4d5e6f",namespace="team-b"} 0
privatellm_modelcache_bytes_total{name="llama-8b-1a2b3c",namespace="team-a"} 1.6e+10
# HELP privatellm_modelcache_condition 1 for each of the Ready, Stalled and Reconciling conditions present in the ModelCache's status, with its status and reason.
# TYPE privatellm_modelcache_condition gauge
privatellm_modelcache_condition{name="gated-4d5e6f",namespace="team-b",reason="GatedRepo",status="False",type="Ready"} 1
privatellm_modelcache_condition{name="gated-4d5e6f",namespace="team-b",reason="GatedRepo",status="True",type="Stalled"} 1
privatellm_modelcache_condition{name="llama-8b-1a2b3c",namespace="team-a",reason="Downloading",status="False",type="Ready"} 1
privatellm_modelcache_condition{name="llama-8b-1a2b3c",namespace="team-a",reason="Downloading",status="True",type="Reconciling"} 1
# HELP privatellm_modelcache_download_bytes_per_second Average download speed of the ModelCache so far, in bytes per second (status.progress.bytesPerSecond; 0 while unknown).
# TYPE privatellm_modelcache_download_bytes_per_second gauge
privatellm_modelcache_download_bytes_per_second{name="gated-4d5e6f",namespace="team-b"} 0
privatellm_modelcache_download_bytes_per_second{name="llama-8b-1a2b3c",namespace="team-a"} 1e+08
# HELP privatellm_modelcache_users LLMDeployments that use the ModelCache now (len(status.users)); a cache in use is not deleted.
# TYPE privatellm_modelcache_users gauge
privatellm_modelcache_users{name="gated-4d5e6f",namespace="team-b"} 1
privatellm_modelcache_users{name="llama-8b-1a2b3c",namespace="team-a"} 2
`
	if err := promtestutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestMetricsCollectorsDescribeWithoutReader: Collectors() describes every series without a reader and collects
// nothing.
func TestMetricsCollectorsDescribeWithoutReader(t *testing.T) {
	descs := make(chan *prometheus.Desc, 16)
	metricsCh := make(chan prometheus.Metric, 16)
	for _, c := range Collectors() {
		c.Describe(descs)
		c.Collect(metricsCh)
	}
	close(descs)
	close(metricsCh)
	var names []string
	for d := range descs {
		names = append(names, d.String())
	}
	for _, n := range []string{"privatellm_modelcache_condition", "privatellm_modelcache_bytes",
		"privatellm_modelcache_bytes_total", "privatellm_modelcache_download_bytes_per_second",
		"privatellm_modelcache_users"} {
		found := false
		for _, d := range names {
			found = found || strings.Contains(d, `fqName: "`+n+`"`)
		}
		if !found {
			t.Errorf("Collectors() does not describe %s: %v", n, names)
		}
	}
	if n := len(metricsCh); n != 0 {
		t.Errorf("Collectors() without a reader collected %d metrics, want 0", n)
	}
}

// TestMetricsRegisteredBySetup: SetupWithManager (TestMain) registered the collector with the manager's registry.
func TestMetricsRegisteredBySetup(t *testing.T) {
	err := metrics.Registry.Register(cacheCollector{})
	if err == nil {
		metrics.Registry.Unregister(cacheCollector{})
		t.Fatal("the ModelCache collector is not registered with the manager's metrics registry")
	}
	if !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
		t.Fatalf("registering the collector again: %v, want AlreadyRegisteredError", err)
	}
}
