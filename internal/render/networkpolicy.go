package render

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/engine"
)

// Peer is a set of pods allowed to reach the engines: the pods with all Labels in Namespace.
type Peer struct {
	Namespace string
	Labels    map[string]string
}

// NetworkPolicy renders the policy that admits traffic to a model's pods only on the engine's port and only from
// peers (the gateway's pods, and the operator's, which reads the engines' metrics). Every other ingress to the
// pods is refused once a NetworkPolicy selects them. It takes a CNI that enforces NetworkPolicy.
func NetworkPolicy(llm *servingv1alpha1.LLMDeployment, plan engine.Plan, peers []Peer) *networkingv1.NetworkPolicy {
	port := intstr.FromInt32(plan.Port)
	tcp := corev1.ProtocolTCP
	from := make([]networkingv1.NetworkPolicyPeer, 0, len(peers))
	for _, p := range peers {
		from = append(from, networkingv1.NetworkPolicyPeer{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: p.Namespace}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: copyMap(p.Labels)},
		})
	}
	sort.SliceStable(from, func(i, j int) bool {
		return from[i].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] < from[j].NamespaceSelector.MatchLabels[corev1.LabelMetadataName]
	})
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: llm.Name, Namespace: llm.Namespace, Labels: Labels(llm)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: SelectorLabels(llm)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  from,
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
			}},
		},
	}
}
