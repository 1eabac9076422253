package llmdeployment

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/testutil"
)

// TestLLMDeploymentGauge: the manager's registry counts LLMDeployments by their Ready condition.
func TestLLMDeploymentGauge(t *testing.T) {
	ns := newNamespace(t)
	llm := sampleLLM(ns, "gauge")
	if err := k8sClient.Create(context.Background(), llm); err != nil {
		t.Fatal(err)
	}
	waitForLLM(t, ns, "gauge", readyIs(metav1.ConditionFalse, v1.ReasonProgressing))
	testutil.Eventually(t, 10*time.Second, func() error {
		families, err := metrics.Registry.Gather()
		if err != nil {
			return err
		}
		for _, f := range families {
			if f.GetName() != "privatellm_llmdeployments" {
				continue
			}
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["ready"] == "False" && labels["reason"] == v1.ReasonProgressing && m.GetGauge().GetValue() >= 1 {
					return nil
				}
			}
			return fmt.Errorf("no ready=False reason=Progressing series in %v", f.GetMetric())
		}
		return fmt.Errorf("privatellm_llmdeployments is not registered")
	})
}

// TestStatusCollectorPerModel: the collector exports each LLMDeployment's effective desired replicas, ready
// replicas and its Ready, Stalled and Reconciling conditions, read from a client (a fake one here: no API server).
func TestStatusCollectorPerModel(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "m", LastTransitionTime: metav1.Now()}
	}
	serving := &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "llama"},
		Spec:       v1.LLMDeploymentSpec{Replicas: ptr.To[int32](3)},
		Status: v1.LLMDeploymentStatus{ReadyReplicas: 3, Conditions: []metav1.Condition{
			cond(v1.ConditionReady, metav1.ConditionTrue, "Serving"),
			cond("Other", metav1.ConditionTrue, "NotExported"),
		}},
	}
	stalled := &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "qwen"},
		// No spec.replicas: autoscaling.minReplicas is the desired count.
		Spec: v1.LLMDeploymentSpec{Autoscaling: &v1.AutoscalingSpec{MinReplicas: ptr.To[int32](0)}},
		Status: v1.LLMDeploymentStatus{ReadyReplicas: 0, Conditions: []metav1.Condition{
			cond(v1.ConditionReady, metav1.ConditionFalse, "Unschedulable"),
			cond(v1.ConditionStalled, metav1.ConditionTrue, "Unschedulable"),
		}},
	}
	fresh := &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "new"}}
	reader := fake.NewClientBuilder().WithScheme(testScheme).WithObjects(serving, stalled, fresh).
		WithStatusSubresource(&v1.LLMDeployment{}).Build()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range collectors(reader) {
		reg.MustRegister(c)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[f.GetName()] = append(got[f.GetName()], fmt.Sprintf("{%s} %g", strings.Join(labels, ","), m.GetGauge().GetValue()))
		}
		sort.Strings(got[f.GetName()])
	}
	want := map[string][]string{
		"privatellm_llmdeployments": {
			"{ready=False,reason=Unschedulable} 1",
			"{ready=True,reason=Serving} 1",
			"{ready=Unknown,reason=Unknown} 1",
		},
		"privatellm_llmdeployment_replicas": {
			"{name=llama,namespace=team-a} 3",
			"{name=new,namespace=team-b} 1",
			"{name=qwen,namespace=team-b} 0",
		},
		"privatellm_llmdeployment_ready_replicas": {
			"{name=llama,namespace=team-a} 3",
			"{name=new,namespace=team-b} 0",
			"{name=qwen,namespace=team-b} 0",
		},
		"privatellm_llmdeployment_condition": {
			"{name=llama,namespace=team-a,reason=Serving,status=True,type=Ready} 1",
			"{name=qwen,namespace=team-b,reason=Unschedulable,status=False,type=Ready} 1",
			"{name=qwen,namespace=team-b,reason=Unschedulable,status=True,type=Stalled} 1",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("collected\n%v\nwant\n%v", got, want)
	}
}

// TestCollectorsDescribeWithoutReader: Collectors() describes every series without a reader and collects nothing.
func TestCollectorsDescribeWithoutReader(t *testing.T) {
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
	for _, n := range []string{"privatellm_llmdeployments", "privatellm_llmdeployment_replicas",
		"privatellm_llmdeployment_ready_replicas", "privatellm_llmdeployment_condition"} {
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
