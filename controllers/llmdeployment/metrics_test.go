package llmdeployment

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
