package cli

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// StatusReport says, for each LLMDeployment, what it is waiting for: its state and the message of the condition
// that decides it (Stalled, Ready, Reconciling), ready and desired replicas, the endpoint, and the informational
// conditions (ModelFits, QuantizationResolved) when they are not True. Messages are wrapped at width (100 when 0
// or less). allNamespaces names each object with its namespace.
func StatusReport(list []v1.LLMDeployment, allNamespaces bool, width int) string {
	if width <= 0 {
		width = reportWidth
	}
	if len(list) == 0 {
		return "No LLMDeployments found.\n"
	}
	var b strings.Builder
	for i, llm := range sortedItems(list) {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(statusOf(&llm, allNamespaces, width))
	}
	return b.String()
}

// stateOf is the one-line state of an LLMDeployment and the message that explains it.
func stateOf(llm *v1.LLMDeployment) (state, message string) {
	conds := llm.Status.Conditions
	ready := meta.FindStatusCondition(conds, v1.ConditionReady)
	stalled := meta.FindStatusCondition(conds, v1.ConditionStalled)
	reconciling := meta.FindStatusCondition(conds, v1.ConditionReconciling)
	switch {
	case !llm.DeletionTimestamp.IsZero():
		return "being deleted", "the operator removes its children, then the object goes"
	case ready == nil && stalled == nil && reconciling == nil:
		return "waiting for the operator", "it has not written a status yet: is the operator running, and does it watch this namespace?"
	case stalled != nil && stalled.Status == metav1.ConditionTrue:
		return "stalled, needs you to act (" + stalled.Reason + ")", stalled.Message
	case ready != nil && ready.Status == metav1.ConditionTrue:
		return "ready (" + ready.Reason + ")", ready.Message
	case reconciling != nil && reconciling.Status == metav1.ConditionTrue:
		return "waiting (" + reconciling.Reason + ")", reconciling.Message
	case ready != nil && ready.Status == metav1.ConditionFalse:
		return "not ready (" + ready.Reason + ")", ready.Message
	case ready != nil:
		return "unknown (" + ready.Reason + ")", ready.Message
	default:
		return "not ready", "no Ready condition yet"
	}
}

// statusOf is the block of one LLMDeployment.
func statusOf(llm *v1.LLMDeployment, allNamespaces bool, width int) string {
	name := llm.Name
	if allNamespaces {
		name = llm.Namespace + "/" + name
	}
	state, message := stateOf(llm)
	var b strings.Builder
	b.WriteString(name + ": " + state + "\n")
	if message != "" {
		b.WriteString(wrap(message, "  ", "  ", width))
	}

	type row struct{ key, value string }
	var rows []row
	if g, o := llm.Generation, llm.Status.ObservedGeneration; g > 0 && o < g && len(llm.Status.Conditions) > 0 {
		rows = append(rows, row{"stale", fmt.Sprintf("the operator has not observed generation %d yet: this status is of generation %d", g, o)})
	}
	replicas := fmt.Sprintf("%d/%d ready, %d updated", llm.Status.ReadyReplicas, llm.Spec.EffectiveReplicas(), llm.Status.UpdatedReplicas)
	if a := llm.Spec.Autoscaling; a != nil {
		minReplicas := int32(1)
		if a.MinReplicas != nil {
			minReplicas = *a.MinReplicas
		}
		metric := a.Metric
		if metric == "" {
			metric = v1.MetricQueueDepth
		}
		replicas += fmt.Sprintf("; autoscaling %d to %d on %s", minReplicas, a.MaxReplicas, metric)
	}
	rows = append(rows, row{"replicas", replicas})
	if as := llm.Status.Autoscaling; as != nil && as.LastDecision != "" {
		rows = append(rows, row{"autoscaler", as.LastDecision})
	}
	endpoint := llm.Status.Endpoint
	if endpoint == "" {
		endpoint = "none yet"
	}
	rows = append(rows, row{"endpoint", endpoint})
	if c := meta.FindStatusCondition(llm.Status.Conditions, v1.ConditionModelFits); c != nil && c.Status != metav1.ConditionTrue {
		rows = append(rows, row{"fit", c.Reason + ": " + c.Message})
	}
	if c := meta.FindStatusCondition(llm.Status.Conditions, v1.ConditionQuantizationResolved); c != nil && c.Status != metav1.ConditionTrue {
		rows = append(rows, row{"quantization", c.Reason + ": " + c.Message})
	}

	keyWidth := 0
	for _, r := range rows {
		keyWidth = max(keyWidth, len(r.key))
	}
	indent := strings.Repeat(" ", 2+keyWidth+2)
	for _, r := range rows {
		first := "  " + r.key + strings.Repeat(" ", keyWidth-len(r.key)+2)
		b.WriteString(wrap(r.value, first, indent, width))
	}
	return b.String()
}
