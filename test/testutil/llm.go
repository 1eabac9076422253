package testutil

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// WaitForLLM polls the LLMDeployment ns/name through c until check accepts it, failing t after timeout, and
// returns it as last read.
func WaitForLLM(t testing.TB, c client.Client, ns, name string, timeout time.Duration, check func(*v1.LLMDeployment) error) *v1.LLMDeployment {
	t.Helper()
	l := &v1.LLMDeployment{}
	Eventually(t, timeout, func() error {
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, l); err != nil {
			return err
		}
		return check(l)
	})
	return l
}

// ReadyWith accepts an LLMDeployment that is Ready at its current generation with want ready replicas.
func ReadyWith(want int32) func(*v1.LLMDeployment) error {
	return func(l *v1.LLMDeployment) error {
		r := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady)
		if l.Status.ObservedGeneration != l.Generation || r == nil || r.Status != metav1.ConditionTrue || l.Status.ReadyReplicas != want {
			return fmt.Errorf("not ready with %d replicas: generation %d observed %d, ready %d, Ready %+v",
				want, l.Generation, l.Status.ObservedGeneration, l.Status.ReadyReplicas, r)
		}
		return nil
	}
}
