package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// An APIKey is a key to the operator's OpenAI-compatible gateway, owned by a namespace. The operator generates the
// key, writes it into a Secret of the key's namespace for its owner (spec.secretName) and publishes only its
// SHA-256 hash in status.keys; the gateway checks the keys clients send against those hashes and can read no
// Secret. A key reaches the models of its own namespace and those other namespaces share with it
// (LLMDeployment spec.gateway.sharedWith); spec.models narrows that further. Identity comes from the key alone.
//
// Keys rotate: when spec.rotation is raised, or when a key with spec.expiresAfter is close to its end, the
// operator writes a new key into the Secret and keeps the previous one valid for spec.rotationOverlap, so clients
// can pick up the new one without an outage.

// APIKeySpec declares a gateway key: what it may call, its limits and its lifetime.
type APIKeySpec struct {
	// SecretName is the Secret of this namespace the operator creates and writes the key into (keys apiKey and
	// OPENAI_API_KEY, and OPENAI_BASE_URL when the gateway's URL is configured), owned by this APIKey. Defaults to
	// the APIKey's name. It must not exist yet: the operator never overwrites a Secret it did not create.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// Models narrows which models the key may call, by LLMDeployment: "name" for one of this namespace,
	// "namespace/name" for one another namespace shares with this one. Unset: every model the key can reach.
	// A model listed here that is not shared with this namespace stays out of reach.
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=317
	// +kubebuilder:validation:items:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Models []string `json:"models,omitempty"`

	// Limits of this key, over all the models it calls. The models' own limits apply as well.
	// +optional
	Limits *RateLimits `json:"limits,omitempty"`

	// ExpiresAfter is how long each generated key is valid. The operator rotates the key rotationOverlap before
	// it expires, so a client that rereads the Secret never holds an expired key. Unset: keys do not expire.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="expiresAfter must be at least 1h"
	// +optional
	ExpiresAfter *metav1.Duration `json:"expiresAfter,omitempty"`

	// Rotation is a counter: raising it makes the operator generate a new key at once (the previous one stays
	// valid for rotationOverlap).
	// +kubebuilder:validation:Minimum=0
	// +optional
	Rotation int64 `json:"rotation,omitempty"`

	// RotationOverlap is how long the previous key stays valid after a rotation.
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('168h')",message="rotationOverlap must be between 0s and 168h"
	// +optional
	RotationOverlap *metav1.Duration `json:"rotationOverlap,omitempty"`
}

// RateLimits are budgets per minute. Each gateway replica enforces its share (the limit divided by the number of
// gateway replicas), so the total across replicas never exceeds it.
type RateLimits struct {
	// RequestsPerMinute is the most requests admitted in any 60-second window.
	// +kubebuilder:validation:Minimum=1
	// +optional
	RequestsPerMinute *int64 `json:"requestsPerMinute,omitempty"`

	// TokensPerMinute is the most tokens (prompt and completion) in any 60-second window. A request reserves its
	// prompt's upper bound plus its max_tokens before it is forwarded, and is settled with the engine's usage.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TokensPerMinute *int64 `json:"tokensPerMinute,omitempty"`
}

// APIKeyHash is one key the gateway accepts.
type APIKeyHash struct {
	// ID is the key's public identifier, also its prefix after "pllm-": it names the key in metrics and logs.
	ID string `json:"id"`
	// Hash is "sha256:" and the hex SHA-256 of the whole key.
	Hash string `json:"hash"`
	// Rotation is the spec.rotation the key was generated for.
	Rotation int64 `json:"rotation"`
	// CreatedAt is when the key was generated.
	CreatedAt metav1.Time `json:"createdAt"`
	// ExpiresAt is when the gateway stops accepting the key; unset: never.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
}

// APIKeyStatus is what the operator observed and generated.
type APIKeyStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// Conditions: Ready (the key is in its Secret and accepted by the gateway), Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Keys are the keys the gateway accepts: the current one first, then the previous one while its overlap runs.
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Keys []APIKeyHash `json:"keys,omitempty"`

	// SecretName is the Secret the current key is in.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// SecretUID is the UID of the Secret the operator created: it only ever overwrites that Secret, never one
	// someone else made under the same name.
	// +optional
	SecretUID string `json:"secretUID,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=llmkey,categories=privatellm
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`
// +kubebuilder:printcolumn:name="Key",type=string,JSONPath=`.status.keys[0].id`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.keys[0].expiresAt`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// APIKey is a key to the OpenAI-compatible gateway, stored only as a hash (the key itself is in a Secret for its
// owner).
type APIKey struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec APIKeySpec `json:"spec,omitempty"`
	// +optional
	Status APIKeyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// APIKeyList is a list of APIKeys.
type APIKeyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []APIKey `json:"items"`
}

func init() {
	SchemeBuilder.Register(&APIKey{}, &APIKeyList{})
}
