package cli

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

var (
	start   = metav1.NewTime(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	updated = metav1.NewTime(time.Date(2026, 7, 9, 12, 0, 0, 0, time.UTC))
)

func llmd(namespace, name string) v1.LLMDeployment {
	return v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Generation: 1},
		Spec:       v1.LLMDeploymentSpec{Model: v1.ModelSpec{URI: "hf://meta-llama/Llama-3.1-8B-Instruct"}},
		Status:     v1.LLMDeploymentStatus{ObservedGeneration: 1},
	}
}

// costFixtures: team-a has a model with last-24h figures and two APIs, one with only total figures and a third
// API, and one without usage; team-b has an idle model on an unpriced GPU.
func costFixtures() []v1.LLMDeployment {
	big := llmd("team-a", "llama-70b")
	big.Status.Usage = &v1.UsageStatus{
		UpdatedAt: updated,
		Total: v1.UsageFigures{WindowStart: start, GPUHours: "768", Cost: "2304", InputTokens: 9_800_000, OutputTokens: 2_700_000,
			CostPerMTok: "184.32", APIs: []v1.APIComparison{{Name: "gpt-4o", Cost: "51.50", Verdict: "Dearer"}}},
		Last24h: &v1.UsageFigures{WindowStart: start, GPUHours: "96", Cost: "288", InputTokens: 1_234_567, OutputTokens: 340_500,
			CostPerMTok: "182.85", UtilizationPercent: 3, APIs: []v1.APIComparison{
				{Name: "gpt-4o", Cost: "6.49", Verdict: "Dearer", BreakEvenTokensPerDay: 68_000_000},
				{Name: "claude-sonnet", Cost: "8.81", Verdict: "Dearer", BreakEvenTokensPerDay: 52_000_000},
			}},
	}
	small := llmd("team-a", "llama-8b")
	small.Status.Usage = &v1.UsageStatus{
		UpdatedAt: updated,
		Total: v1.UsageFigures{WindowStart: start, GPUHours: "12.5", Cost: "9.38", InputTokens: 50_000_000, OutputTokens: 12_000_000,
			CostPerMTok: "0.15", APIs: []v1.APIComparison{
				{Name: "gpt-4o", Cost: "245.00", Verdict: "Cheaper"},
				{Name: "gpt-4o-mini", Cost: "14.70", Verdict: "Cheaper"},
			}},
	}
	none := llmd("team-a", "qwen-72b")
	idle := llmd("team-b", "mistral-7b")
	idle.Status.Usage = &v1.UsageStatus{
		UpdatedAt: updated,
		Total: v1.UsageFigures{WindowStart: start, GPUHours: "48", Cost: "0", APIs: []v1.APIComparison{
			{Name: "gpt-4o", Cost: "0", Verdict: "NoTraffic"}}},
		Last24h: &v1.UsageFigures{WindowStart: start, GPUHours: "24", Cost: "0", APIs: []v1.APIComparison{
			{Name: "gpt-4o", Cost: "0", Verdict: "NoTraffic"}}},
		Unpriced: []string{"NVIDIA-A100-SXM4-40GB"},
	}
	return []v1.LLMDeployment{none, small, idle, big}
}

func condition(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: start, ObservedGeneration: 1}
}

// statusFixtures are LLMDeployments in each state the report tells apart.
func statusFixtures() []v1.LLMDeployment {
	ready := llmd("team-a", "llama-8b")
	ready.Spec.Replicas = ptr.To[int32](2)
	ready.Status.ReadyReplicas, ready.Status.UpdatedReplicas, ready.Status.Replicas = 2, 2, 2
	ready.Status.Endpoint = "http://llama-8b.team-a.svc:8000/v1"
	ready.Status.Conditions = []metav1.Condition{
		condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "2 of 2 replicas serve model llama-8b"),
		condition(v1.ConditionModelFits, metav1.ConditionTrue, v1.ReasonFits, "Llama 3.x 8B: weights ≈ 15.0 GiB"),
	}

	loading := llmd("team-a", "llama-70b")
	loading.Spec.Replicas = ptr.To[int32](2)
	loading.Status.ReadyReplicas, loading.Status.UpdatedReplicas, loading.Status.Replicas = 1, 2, 2
	loading.Status.Endpoint = "http://llama-70b.team-a.svc:8000/v1"
	msg := "1 of 2 replicas are downloading and loading the model (budget 1h0m0s); 1 ready; the Deployment is rolling out the new spec"
	loading.Status.Conditions = []metav1.Condition{
		condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonModelLoading, msg),
		condition(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonModelLoading, msg),
	}

	stalled := llmd("team-a", "llama-405b")
	stalled.Status.Endpoint = "http://llama-405b.team-a.svc:8000/v1"
	msg = "1 of 1 pods cannot be scheduled: no node offers 8 nvidia.com/gpu of product NVIDIA-B200; add such nodes, or change spec.gpu.products and spec.gpu.count"
	stalled.Status.Conditions = []metav1.Condition{
		condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonUnschedulable, msg),
		condition(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonUnschedulable, msg),
		condition(v1.ConditionModelFits, metav1.ConditionFalse, v1.ReasonDoesNotFit,
			"Llama 3.1 405B: weights ≈ 756.0 GiB, KV cache for 131072 tokens ≈ 63.0 GiB, ≈ 103.9 GiB per GPU of 71.7 GiB usable; use more GPUs, a quantization, or a shorter maxModelLen"),
	}

	fresh := llmd("team-a", "gemma-9b")
	fresh.Status = v1.LLMDeploymentStatus{ObservedGeneration: -1}

	stale := llmd("team-a", "phi-3")
	stale.Generation = 3
	stale.Status.ObservedGeneration = 2
	stale.Status.ReadyReplicas = 1
	stale.Status.Conditions = []metav1.Condition{
		condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "1 of 1 replicas serve model phi-3"),
	}

	asleep := llmd("team-b", "mistral-7b")
	asleep.Spec.Replicas = ptr.To[int32](0)
	asleep.Spec.Autoscaling = &v1.AutoscalingSpec{MinReplicas: ptr.To[int32](0), MaxReplicas: 4, Metric: v1.MetricInFlightRequests, Target: 8}
	asleep.Status.Endpoint = "http://mistral-7b.team-b.svc:8000/v1"
	asleep.Status.Autoscaling = &v1.AutoscalingStatus{LastDecision: "scaled 1 to 0: nothing waiting or running for 15m0s"}
	asleep.Status.Conditions = []metav1.Condition{
		condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonScaledToZero,
			"scaled to zero while idle: a request for model mistral-7b through the gateway wakes it (it waits there until a replica has loaded the model)"),
		condition(v1.ConditionQuantizationResolved, metav1.ConditionUnknown, v1.ReasonCheckpointUnknown,
			"assumed that the checkpoint is quantized with awq; set spec.model.quantized to say so"),
	}

	gone := llmd("team-b", "old-model")
	gone.DeletionTimestamp = &updated
	gone.Finalizers = []string{"serving.privatellm.dev/cleanup"}

	return []v1.LLMDeployment{stale, stalled, ready, fresh, loading, asleep, gone}
}

func only(list []v1.LLMDeployment, namespace string) []v1.LLMDeployment {
	var out []v1.LLMDeployment
	for _, l := range list {
		if l.Namespace == namespace {
			out = append(out, l)
		}
	}
	return out
}
