package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EngineName names an inference engine of the operator's engine registry (internal/engine, one file per engine).
// The CRD's list of engines, the quantizations each accepts and the rules tying them to the other fields are
// generated from that registry (make manifests), so an engine is added in one place.
type EngineName string

// DefaultEngine is the engine of an LLMDeployment that names none.
const DefaultEngine EngineName = "vllm"

// Quantization names how the model's weights are quantized: a method that engines read from a pre-quantized
// checkpoint (awq, gptq, compressed-tensors, GGUF types such as Q4_K_M), or one they can also apply to an
// unquantized checkpoint as they load it (fp8, bitsandbytes). Which engine accepts which is generated into the
// CRD from the engine registry and listed in docs/engines.md.
type Quantization string

// Quantization methods several engines share. Engine-specific methods are declared by their engine.
const (
	QuantizationNone              Quantization = "none"
	QuantizationAWQ               Quantization = "awq"
	QuantizationGPTQ              Quantization = "gptq"
	QuantizationFP8               Quantization = "fp8"
	QuantizationBitsAndBytes      Quantization = "bitsandbytes"
	QuantizationCompressedTensors Quantization = "compressed-tensors"
)

// Dtype is the data type of the model's weights and activations.
// +kubebuilder:validation:Enum=auto;half;float16;bfloat16;float;float32
type Dtype string

// The dtypes privatellm accepts; auto lets the engine choose from the checkpoint.
const (
	DtypeAuto     Dtype = "auto"
	DtypeHalf     Dtype = "half"
	DtypeFloat16  Dtype = "float16"
	DtypeBFloat16 Dtype = "bfloat16"
	DtypeFloat    Dtype = "float"
	DtypeFloat32  Dtype = "float32"
)

// GPUResourceName is the extended resource a GPU is requested by.
// +kubebuilder:validation:Enum=nvidia.com/gpu;amd.com/gpu
type GPUResourceName string

// The GPU resource names privatellm knows the node labels of.
const (
	GPUResourceNVIDIA GPUResourceName = "nvidia.com/gpu"
	GPUResourceAMD    GPUResourceName = "amd.com/gpu"
)

// LLMDeploymentSpec declares a model to serve, the engine that serves it and the GPUs it needs. Rules that
// depend on the engine (quantizations, dtypes, model sources, parallelism, CPU serving, managed flags) are
// generated into the CRD from the engine registry.
//
// +kubebuilder:validation:XValidation:rule="!has(self.tensorParallelSize) || self.gpu.count % self.tensorParallelSize == 0",message="tensorParallelSize must divide gpu.count: each replica's GPUs are split into gpu.count / tensorParallelSize pipeline stages",fieldPath=".tensorParallelSize"
// +kubebuilder:validation:XValidation:rule="self.gpu.count > 0 || !has(self.tensorParallelSize)",message="tensorParallelSize needs GPUs: leave it out with gpu.count 0 (CPU serving)",fieldPath=".tensorParallelSize"
// +kubebuilder:validation:XValidation:rule="self.gpu.count > 0 || (!has(self.gpu.products) && !has(self.gpu.minMemory))",message="gpu.products and gpu.minMemory select GPU nodes: leave them out with gpu.count 0 (CPU serving)",fieldPath=".gpu"
// +kubebuilder:validation:XValidation:rule="self.gpu.count > 0 || (has(self.resources) && has(self.resources.requests) && 'memory' in self.resources.requests && 'cpu' in self.resources.requests)",message="a CPU model server (gpu.count 0) needs resources.requests.cpu and resources.requests.memory: the scheduler places it by them, and the model must fit the memory",fieldPath=".resources"
// +kubebuilder:validation:XValidation:rule="!has(self.model.quantized) || !self.model.quantized || self.quantization != 'none'",message="model.quantized: true says the checkpoint is quantized: set spec.quantization to its method (e.g. awq, fp8)",fieldPath=".model.quantized"
// +kubebuilder:validation:XValidation:rule="!has(self.resources) || !has(self.resources.limits) || !(self.gpu.resourceName in self.resources.limits)",message="do not set the GPU resource in resources.limits: the operator requests gpu.count GPUs per replica",fieldPath=".resources.limits"
// +kubebuilder:validation:XValidation:rule="!has(self.resources) || !has(self.resources.requests) || !(self.gpu.resourceName in self.resources.requests)",message="do not set the GPU resource in resources.requests: the operator requests gpu.count GPUs per replica",fieldPath=".resources.requests"
// +kubebuilder:validation:XValidation:rule="!has(self.shmSize) || !has(self.resources) || !has(self.resources.limits) || !('memory' in self.resources.limits) || quantity(string(self.shmSize)).compareTo(quantity(string(self.resources.limits['memory']))) <= 0",message="shmSize counts against the container's memory: it must not exceed resources.limits.memory",fieldPath=".shmSize"
// +kubebuilder:validation:XValidation:rule="!has(self.model.cache) || !has(self.model.cache.enabled) || !self.model.cache.enabled || !self.model.uri.startsWith('gs://')",message="model.cache holds hf:// and s3:// models and checks pvc:// ones; gs:// is loaded by the engine",fieldPath=".model.cache"
type LLMDeploymentSpec struct {
	// Model says which model to serve and where its weights come from.
	Model ModelSpec `json:"model"`

	// Engine selects the inference server that runs the model.
	// +kubebuilder:default={name: vllm}
	Engine EngineSpec `json:"engine,omitempty"`

	// Quantization of the weights the engine serves. Methods of pre-quantized checkpoints (awq, gptq,
	// compressed-tensors, GGUF types such as Q4_K_M) are read by the engine from the checkpoint and get no flag;
	// methods that can also quantize an unquantized checkpoint as it loads (fp8, bitsandbytes) get the engine's
	// flag unless spec.model.quantized says the checkpoint already is quantized. Allowed values depend on the
	// engine (see docs/engines.md).
	// +kubebuilder:default=none
	// +optional
	Quantization Quantization `json:"quantization,omitempty"`

	// Dtype of weights and activations; auto takes it from the checkpoint. Allowed values depend on the engine
	// (see docs/engines.md): some accept only auto together with a quantization, or only auto at all.
	// +kubebuilder:default=auto
	// +optional
	Dtype Dtype `json:"dtype,omitempty"`

	// MaxModelLen is the longest context (prompt + completion tokens) the server accepts. It sizes the KV cache;
	// unset, the engine uses the model's own maximum. docs/engines.md gives each engine's flag.
	// +kubebuilder:validation:Minimum=128
	// +kubebuilder:validation:Maximum=10485760
	// +optional
	MaxModelLen *int32 `json:"maxModelLen,omitempty"`

	// GPU says how many GPUs of which kind each replica needs.
	// +kubebuilder:default={count: 1}
	GPU GPUSpec `json:"gpu,omitempty"`

	// TensorParallelSize is the number of GPUs one copy of the model is split across. It must divide gpu.count;
	// engines with pipeline parallelism use the remaining factor as pipeline stages, others need it equal to
	// gpu.count (docs/engines.md). Defaults to gpu.count.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16
	// +optional
	TensorParallelSize *int32 `json:"tensorParallelSize,omitempty"`

	// Replicas is the number of model servers. It is the /scale subresource's field, so kubectl scale, an HPA, KEDA
	// or spec.autoscaling can own it instead of the manifest: leave it out of manifests then, so that re-applying
	// them never resets it (the default of 1 is owned by no one).
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources are the CPU and memory of the engine container. GPUs come from gpu, not from here.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// ShmSize bounds the in-memory /dev/shm that tensor parallel workers share. Unset, /dev/shm is an unbounded
	// memory emptyDir. It counts against the container's memory limit.
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity('0')) > 0",message="shmSize must be more than 0: leave it out for an unbounded /dev/shm"
	// +optional
	ShmSize *resource.Quantity `json:"shmSize,omitempty"`

	// StartupTimeout is the budget for downloading and loading the model before a pod is considered failed.
	// Between 1m and 24h. The startup probe and the Deployment's progress deadline are sized from it.
	// +kubebuilder:default="30m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('24h')",message="startupTimeout must be between 1m and 24h"
	// +optional
	StartupTimeout *metav1.Duration `json:"startupTimeout,omitempty"`

	// NodeSelector is added to the GPU placement rules of the pods.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations are added to the toleration of the GPU taint.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity is merged with the GPU node affinity: its node affinity terms are ANDed with the GPU product and
	// memory requirements; pod (anti-)affinity is taken as given.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PriorityClassName of the pods.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// PodLabels are added to the pods. The operator's own labels (app.kubernetes.io/*, serving.privatellm.dev/*)
	// cannot be overridden.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('app.kubernetes.io/') && !k.startsWith('serving.privatellm.dev/') && k != 'pod-template-hash')",message="podLabels may not set app.kubernetes.io/*, serving.privatellm.dev/* or pod-template-hash labels: the operator and the Deployment controller select pods by them"
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// Autoscaling scales the replicas on what the engine reports: queue depth, KV-cache use or requests in flight.
	// The autoscaler writes spec.replicas through the /scale subresource, as an HPA would.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// PodAnnotations are added to the pods.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// Gateway says who may call the model through the operator's OpenAI-compatible gateway, with what limits,
	// and how requests pick a replica. API keys of the model's own namespace may always call it.
	// +optional
	Gateway *GatewaySpec `json:"gateway,omitempty"`
}

// RoutingPolicy is how the gateway picks a replica for a request.
// +kubebuilder:validation:Enum=LeastRequests;PrefixHash
type RoutingPolicy string

// The gateway's routing policies.
const (
	// RoutingLeastRequests sends a request to the replica with the fewest requests in flight.
	RoutingLeastRequests RoutingPolicy = "LeastRequests"
	// RoutingPrefixHash sends requests that share a conversation's leading text to the same replica, whose prefix
	// cache then holds it, unless that replica is over its share of the load (consistent hashing with bounded
	// load); then to the least loaded.
	RoutingPrefixHash RoutingPolicy = "PrefixHash"
)

// GatewaySpec is the model's side of the gateway: sharing, limits, routing.
type GatewaySpec struct {
	// SharedWith are other namespaces whose API keys may call this model; "*" is every namespace. Sharing is the
	// model owner's decision: an APIKey cannot reach a model that is not shared with its namespace.
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`
	// +optional
	SharedWith []string `json:"sharedWith,omitempty"`

	// Limits of the model, over all the keys that call it.
	// +optional
	Limits *RateLimits `json:"limits,omitempty"`

	// Routing picks the replica of a request.
	// +kubebuilder:default=LeastRequests
	// +optional
	Routing RoutingPolicy `json:"routing,omitempty"`

	// DefaultMaxTokens is the completion budget a request that sets no max_tokens reserves against token limits
	// (the engine may still generate up to its context length; the excess is charged when the usage comes in).
	// +kubebuilder:default=1024
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1048576
	// +optional
	DefaultMaxTokens *int32 `json:"defaultMaxTokens,omitempty"`
}

// AutoscalingMetric is the engine signal the autoscaler follows.
// +kubebuilder:validation:Enum=QueueDepth;KVCacheUtilization;InFlightRequests
type AutoscalingMetric string

// The signals the autoscaler can follow.
const (
	// MetricQueueDepth is the number of requests waiting (e.g. vllm:num_requests_waiting).
	MetricQueueDepth AutoscalingMetric = "QueueDepth"
	// MetricKVCacheUtilization is the percentage of KV cache in use (e.g. vllm:kv_cache_usage_perc), for the
	// engines that export it (docs/engines.md).
	MetricKVCacheUtilization AutoscalingMetric = "KVCacheUtilization"
	// MetricInFlightRequests is the number of requests being generated (e.g. vllm:num_requests_running).
	MetricInFlightRequests AutoscalingMetric = "InFlightRequests"
)

// AutoscalingSpec scales an LLMDeployment on its engine's own load signals.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not exceed autoscaling.maxReplicas"
// +kubebuilder:validation:XValidation:rule="self.metric != 'KVCacheUtilization' || self.target <= 100",message="a KVCacheUtilization target is a percentage: at most 100",fieldPath=".target"
type AutoscalingSpec struct {
	// MinReplicas is the fewest replicas, also while metrics cannot be read. 0 lets an idle model scale to zero:
	// it wakes when a request for it waits at the gateway (which holds the request until a replica is ready), and
	// it goes to zero only when its engines and every gateway replica report nothing waiting or running. It needs
	// the gateway configured in the operator (gateway.metricsURLs or gateway.service).
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the most replicas.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	MaxReplicas int32 `json:"maxReplicas"`

	// Metric is the signal to follow.
	// +kubebuilder:default=QueueDepth
	// +optional
	Metric AutoscalingMetric `json:"metric,omitempty"`

	// Target is the value of the metric per replica the autoscaler aims at: requests waiting (QueueDepth),
	// requests in flight (InFlightRequests) or percent of KV cache in use (KVCacheUtilization).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Target int32 `json:"target"`

	// ScaleUpStabilizationWindow: a scale-up takes the lowest recommendation of this window (0s: at once).
	// +kubebuilder:default="0s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('1h')",message="scaleUpStabilizationWindow must be between 0s and 1h"
	// +optional
	ScaleUpStabilizationWindow *metav1.Duration `json:"scaleUpStabilizationWindow,omitempty"`

	// ScaleDownStabilizationWindow: a scale-down takes the highest recommendation of this window, so a short lull
	// does not unload a model that takes minutes to load again.
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('24h')",message="scaleDownStabilizationWindow must be between 0s and 24h"
	// +optional
	ScaleDownStabilizationWindow *metav1.Duration `json:"scaleDownStabilizationWindow,omitempty"`

	// Interval between two looks at the metrics.
	// +kubebuilder:default="15s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('5m')",message="autoscaling.interval must be between 1s and 5m"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
}

// ModelSpec says which model to serve and where its weights come from.
type ModelSpec struct {
	// URI of the model weights: hf://<org>/<name> (Hugging Face Hub), s3://<bucket>/<path> or
	// gs://<bucket>/<path> (streamed, by the engines that can), or pvc://<claim>/<path> (a PersistentVolumeClaim in
	// the same namespace, mounted read-only). Which engine loads which is in docs/engines.md.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^(hf|s3|gs|pvc)://')",message="model.uri must start with hf://, s3://, gs:// or pvc:// (other schemes such as file:// or https:// are not supported)"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('hf://') || self.matches('^hf://[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$')",message="an hf:// URI names a Hugging Face repository, hf://<org>/<name>, of letters, digits, '.', '_' and '-' (no leading '-' or '.')"
	// +kubebuilder:validation:XValidation:rule="!(self.startsWith('s3://') || self.startsWith('gs://')) || self.matches('^(s3|gs)://[a-z0-9][a-z0-9.-]{1,62}(/[A-Za-z0-9_][A-Za-z0-9._=+-]*)*/?$')",message="an s3:// or gs:// URI is <scheme>://<bucket>/<path>: a lower-case bucket name and path segments of letters, digits and '._=+-' that do not start with '.' or '-'"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('pvc://') || self.matches('^pvc://[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(/[A-Za-z0-9_][A-Za-z0-9._-]*)*/?$')",message="a pvc:// URI is pvc://<claim>/<path>: a claim name in the same namespace and path segments of letters, digits and '._-' that do not start with '.' or '-'"
	URI string `json:"uri"`

	// Revision of the model: a branch, tag or commit of the Hugging Face repository (hf:// only).
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_][A-Za-z0-9._/-]*$') && !self.contains('..')",message="revision must be a branch, tag or commit: letters, digits and '._/-', not starting with '-' or '.', without '..'"
	// +optional
	Revision string `json:"revision,omitempty"`

	// ServedName is the model's name in the OpenAI API (the "model" field of requests). Defaults to the
	// LLMDeployment's name.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_][A-Za-z0-9._/:-]*$')",message="servedName must be letters, digits and '._/:-', not starting with '-' or '.'"
	// +optional
	ServedName string `json:"servedName,omitempty"`

	// TokenSecretRef names a key of a Secret in the same namespace that holds a Hugging Face token. The pod reads
	// it through an environment variable; the operator never reads the Secret.
	// +optional
	TokenSecretRef *SecretKeyRef `json:"tokenSecretRef,omitempty"`

	// Quantized says whether the checkpoint at uri is already quantized with spec.quantization (its config.json
	// carries a quantization_config, or it is a GGUF file). true: the engine reads the method from the checkpoint
	// and is given no quantization flag (vLLM and SGLang refuse a flag that does not match the checkpoint, TGI
	// refuses a dtype with it). false: the checkpoint is unquantized and the engine quantizes it as it loads
	// (fp8, bitsandbytes and the like only). Unset: methods that exist only as checkpoints (awq, gptq, GGUF types)
	// count as quantized, on-load methods (fp8, bitsandbytes) as quantized on load, and the
	// QuantizationResolved condition says that the operator assumed it.
	// +optional
	Quantized *bool `json:"quantized,omitempty"`

	// TrustRemoteCode lets the engine run Python code shipped in the model repository. It is an explicit opt-in
	// because that code runs with the pod's permissions; it cannot be enabled through engine.args.
	// +optional
	TrustRemoteCode bool `json:"trustRemoteCode,omitempty"`

	// Cache downloads the weights once, verified, into a ModelCache that every LLMDeployment of the namespace with
	// the same model, revision and files shares; the engine pods then mount it read-only and start offline, with
	// no token. A pvc:// model is not copied: the loader checks it (config.json and weights) and reads its
	// checkpoint before the engine starts. Unset, the operator configuration's modelCache.enabledByDefault decides.
	// +optional
	Cache *ModelCacheOptions `json:"cache,omitempty"`
}

// SecretKeyRef names a key of a Secret in the LLMDeployment's own namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key within the Secret.
	// +kubebuilder:default=token
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`
}

// EngineSpec selects and tunes the inference server.
//
// +kubebuilder:validation:XValidation:rule="!has(self.args) || self.args.all(a, !a.matches('^--t(r(u(s(t([-_](r(e(m(o(t(e([-_](c(o(d(e)?)?)?)?)?)?)?)?)?)?)?)?)?)?)?)?(=.*)?$'))",message="engine.args may not enable --trust-remote-code, nor any abbreviation of it that argparse would expand (--trust-rem …): set spec.model.trustRemoteCode: true instead",fieldPath=".args"
type EngineSpec struct {
	// Name of the engine. The allowed values are the engines of the operator's registry (docs/engines.md).
	// +kubebuilder:default=vllm
	// +optional
	Name EngineName `json:"name,omitempty"`

	// Image overrides the engine image pinned in the operator configuration. It must carry a tag other than
	// latest, or a sha256 digest.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9][A-Za-z0-9._/:-]*(@sha256:[a-f0-9]{64})$') || self.matches('^[A-Za-z0-9][A-Za-z0-9._/:-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')",message="engine.image must name a tag or a digest, e.g. vllm/vllm-openai:v0.18.0 or repo/image@sha256:<64 hex>"
	// +kubebuilder:validation:XValidation:rule="!self.endsWith(':latest')",message="engine.image may not use the latest tag: pin a version so every replica runs the same engine"
	// +optional
	Image string `json:"image,omitempty"`

	// Args are extra engine flags, passed in exec form (never through a shell). Flags the operator manages
	// (model, host, port, parallelism, quantization, dtype, context length, revision, served name, metrics) are
	// rejected, per engine: use the spec fields. Each engine's list is in docs/engines.md.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +listType=atomic
	// +optional
	Args []string `json:"args,omitempty"`

	// Env adds environment variables to the engine container. Variables the operator manages (ports, token,
	// user, cache locations, and per engine those docs/engines.md lists, such as vLLM's debug endpoints switch)
	// are rejected.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Env []EnvVar `json:"env,omitempty"`
}

// EnvVar is an environment variable of the engine container.
type EnvVar struct {
	// Name of the variable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`

	// Value of the variable.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Value string `json:"value,omitempty"`

	// ValueFrom takes the value from a Secret, ConfigMap or field of the pod (read by the kubelet, not the
	// operator).
	// +optional
	ValueFrom *corev1.EnvVarSource `json:"valueFrom,omitempty"`
}

// GPUSpec says how many GPUs of which kind each replica needs.
type GPUSpec struct {
	// Count of GPUs per replica, all on one node. 0 serves the model on CPU nodes (llamacpp only): no GPU is
	// requested or tolerated, and resources.requests.cpu and memory are required.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16
	// +optional
	Count *int32 `json:"count,omitempty"`

	// Products the pods may run on, matched against the node label nvidia.com/gpu.product (GPU Feature
	// Discovery) or amd.com/gpu.product-name. Empty: any product.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	// +listType=set
	// +optional
	Products []string `json:"products,omitempty"`

	// MinMemory per GPU, matched against the node label nvidia.com/gpu.memory (MiB). NVIDIA only.
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity('0')) > 0",message="gpu.minMemory must be more than 0, e.g. 40Gi"
	// +optional
	MinMemory *resource.Quantity `json:"minMemory,omitempty"`

	// ResourceName is the extended resource GPUs are requested by.
	// +kubebuilder:default="nvidia.com/gpu"
	// +optional
	ResourceName GPUResourceName `json:"resourceName,omitempty"`
}

// Condition types of an LLMDeployment, in the kstatus vocabulary.
const (
	// ConditionReady is True when every desired replica serves the current spec's model.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator or the cluster is still working towards the spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs someone to act (fix the spec, add GPUs, create a Secret).
	ConditionStalled = "Stalled"
	// ConditionQuantizationResolved says how the engine is told the quantization (informational: it does not change
	// kstatus): True when the spec says or the method implies whether the checkpoint is quantized, Unknown when the
	// operator had to assume it (set spec.model.quantized).
	ConditionQuantizationResolved = "QuantizationResolved"
	// ConditionModelFits says whether the estimated memory of the model fits the declared GPUs (informational:
	// it does not change kstatus). Unknown when the model or the GPU memory is not known.
	ConditionModelFits = "ModelFits"
)

// Reasons of the conditions.
const (
	ReasonAvailable                = "Available"
	ReasonScaledToZero             = "ScaledToZero"
	ReasonProgressing              = "Progressing"
	ReasonModelLoading             = "ModelLoading"
	ReasonUnschedulable            = "Unschedulable"
	ReasonCrashLoopBackOff         = "CrashLoopBackOff"
	ReasonImagePullBackOff         = "ImagePullBackOff"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonSecretNotFound           = "SecretNotFound"
	ReasonQuotaExceeded            = "QuotaExceeded"
	ReasonPriorityClassNotFound    = "PriorityClassNotFound"
	ReasonPodSecurityRejected      = "PodSecurityRejected"
	ReasonFailedCreate             = "FailedCreate"
	ReasonRolloutBlocked           = "RolloutBlocked"
	ReasonApplyFailed              = "ApplyFailed"
	ReasonInvalidSpec              = "InvalidSpec"
	ReasonFits                     = "Fits"
	ReasonDoesNotFit               = "DoesNotFit"
	ReasonModelUnknown             = "ModelUnknown"
	ReasonGPUMemoryUnknown         = "GPUMemoryUnknown"
	ReasonFromCheckpoint           = "FromCheckpoint"
	ReasonQuantizeOnLoad           = "QuantizeOnLoad"
	ReasonNotQuantized             = "NotQuantized"
	ReasonCheckpointUnknown        = "CheckpointUnknown"
	// ReasonQuantizationMismatch: spec.quantization disagrees with the downloaded checkpoint's quantization_config.
	ReasonQuantizationMismatch = "QuantizationMismatch"
)

// LLMDeploymentStatus is what the operator observed of the model servers.
type LLMDeploymentStatus struct {
	// ObservedGeneration is the metadata.generation the status describes. It is -1 until the operator has seen
	// the object, so a fresh object never looks up to date to kstatus-based tools.
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// Conditions: Ready, Reconciling and Stalled (kstatus).
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Replicas is the number of model server pods (the /scale subresource's status).
	// +kubebuilder:default=0
	// +optional
	Replicas int32 `json:"replicas"`

	// ReadyReplicas is the number of pods that serve the model.
	// +kubebuilder:default=0
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// UpdatedReplicas is the number of pods that run the current spec.
	// +kubebuilder:default=0
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas"`

	// Selector is the label selector of the pods, for the /scale subresource.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Selector string `json:"selector,omitempty"`

	// Endpoint is the in-cluster OpenAI-compatible base URL of the model.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// Fit is the estimated GPU memory the model needs, for models of the operator's catalogue.
	// +optional
	Fit *FitStatus `json:"fit,omitempty"`

	// Autoscaling is the autoscaler's state: its last decision and why, and the recommendations its stabilization
	// windows need (kept here so that they survive an operator restart).
	// +optional
	Autoscaling *AutoscalingStatus `json:"autoscaling,omitempty"`

	// Usage is what the model served and what its GPUs cost, next to the reference API prices of the operator
	// config: written by the operator when its config has a cost section, at most every cost.refreshInterval.
	// +optional
	Usage *UsageStatus `json:"usage,omitempty"`

	// Cache is the model cache the LLMDeployment uses (spec.model.cache): its name, the commit served, and how far
	// its download is.
	// +optional
	Cache *CacheStatus `json:"cache,omitempty"`

	// Startup is where the startup minutes of the slowest current replica went: cache, scheduling, image,
	// container start, model load.
	// +optional
	Startup *StartupTimeline `json:"startup,omitempty"`
}

// UsageStatus is the model's usage and cost since the operator began counting, and over the last 24 hours.
type UsageStatus struct {
	// UpdatedAt is when the figures were written.
	UpdatedAt metav1.Time `json:"updatedAt"`
	// Currency of the amounts, as the operator config names it (e.g. USD).
	// +kubebuilder:validation:MaxLength=16
	// +optional
	Currency string `json:"currency,omitempty"`
	// Total counts from its windowStart (the operator's first look at the model) on. It survives operator
	// restarts: a new operator goes on from it.
	Total UsageFigures `json:"total"`
	// Last24h counts over the last 24 hours, or from its windowStart on when the operator has run less long.
	// +optional
	Last24h *UsageFigures `json:"last24h,omitempty"`
	// Unpriced are the GPU products the model's pods held that the operator config gives no price for: their
	// time is in gpuHours but not in cost.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=128
	// +listType=set
	// +optional
	Unpriced []string `json:"unpriced,omitempty"`
	// Keys is the usage by API key through the gateway, since counting began (when the operator config tells it
	// where the gateway's metrics are): the 64 keys with the most tokens.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=key
	// +optional
	Keys []KeyUsage `json:"keys,omitempty"`
}

// KeyUsage is what one API key used of a model through the gateway. A key is charged the GPU cost of each interval
// in which it sent tokens, in proportion to its share of the model's tokens in that interval; GPU time in which
// no key sent anything is charged to none.
type KeyUsage struct {
	// Key is the APIKey, "namespace/name".
	// +kubebuilder:validation:MaxLength=317
	Key string `json:"key"`
	// InputTokens are the prompt tokens the gateway metered for the key.
	InputTokens int64 `json:"inputTokens"`
	// OutputTokens are the generated tokens the gateway metered for the key.
	OutputTokens int64 `json:"outputTokens"`
	// Cost is the key's share of the model's GPU cost.
	// +kubebuilder:validation:MaxLength=32
	Cost string `json:"cost"`
	// APIs compare the key's tokens with each reference API price.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	APIs []APIComparison `json:"apis,omitempty"`
}

// UsageFigures are the usage and cost over one window. Amounts of money are in the currency of the operator
// config's prices, as decimal strings (e.g. "31.25").
type UsageFigures struct {
	// WindowStart is where the window begins.
	WindowStart metav1.Time `json:"windowStart"`
	// GPUHours is the GPU time the pods held: from scheduled until gone, times the GPUs of each pod.
	// +kubebuilder:validation:MaxLength=32
	GPUHours string `json:"gpuHours"`
	// Cost is GPUHours priced by GPU product.
	// +kubebuilder:validation:MaxLength=32
	Cost string `json:"cost"`
	// InputTokens are the prompt tokens the engines counted.
	InputTokens int64 `json:"inputTokens"`
	// OutputTokens are the tokens the engines generated.
	OutputTokens int64 `json:"outputTokens"`
	// CostPerMTok is Cost per million tokens, input and output together; empty while there are none.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	CostPerMTok string `json:"costPerMTok,omitempty"`
	// UtilizationPercent is the tokens per second served over the window against the highest rate the pods
	// sustained (per minute) in it.
	// +optional
	UtilizationPercent int32 `json:"utilizationPercent,omitempty"`
	// APIs compare the window with each reference API price.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	APIs []APIComparison `json:"apis,omitempty"`
}

// APIComparison is what the same tokens would have cost at one reference API price.
type APIComparison struct {
	// Name of the reference API price in the operator config.
	// +kubebuilder:validation:MaxLength=64
	Name string `json:"name"`
	// Cost of the window's input and output tokens at that price.
	// +kubebuilder:validation:MaxLength=32
	Cost string `json:"cost"`
	// Verdict: Cheaper (self-hosting cost less than the API would have), Dearer, or NoTraffic.
	// +kubebuilder:validation:Enum=Cheaper;Dearer;NoTraffic
	Verdict string `json:"verdict"`
	// BreakEvenTokensPerDay is the daily volume, at the window's input:output mix, at which the GPUs the model
	// holds now cost the same as the API; 0 when the API is free or the model holds no GPU.
	// +optional
	BreakEvenTokensPerDay int64 `json:"breakEvenTokensPerDay,omitempty"`
}

// AutoscalingStatus is the autoscaler's state.
type AutoscalingStatus struct {
	// DesiredReplicas is the replica count of the last decision.
	DesiredReplicas int32 `json:"desiredReplicas"`
	// LastScaleTime is when the autoscaler last changed spec.replicas.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`
	// LastDecision says what the autoscaler decided last and from which inputs.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	LastDecision string `json:"lastDecision,omitempty"`
	// Recommendations are the raw recommendations of the stabilization windows, each from the time it was first
	// made until the next one.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Recommendations []Recommendation `json:"recommendations,omitempty"`
}

// Recommendation is a replica count the metrics asked for, from a point in time on.
type Recommendation struct {
	// Replicas asked for.
	Replicas int32 `json:"replicas"`
	// Since is when this recommendation was first made.
	Since metav1.Time `json:"since"`
}

// FitStatus is a first-order estimate of the memory the model needs per GPU: weights by quantization and dtype,
// the KV cache of one sequence of the context length, and runtime overhead, split over a replica's GPUs.
type FitStatus struct {
	// Model is the catalogue entry the estimate used, e.g. "Llama 3.x 70B".
	// +kubebuilder:validation:MaxLength=128
	Model string `json:"model"`
	// Weights is the memory of one copy of the weights, e.g. "65.8Gi".
	// +kubebuilder:validation:MaxLength=32
	Weights string `json:"weights"`
	// KVCache is the memory of the KV cache for ContextTokens tokens.
	// +kubebuilder:validation:MaxLength=32
	KVCache string `json:"kvCache"`
	// ContextTokens is the context length the KV cache was sized for (spec.maxModelLen, else the model's).
	ContextTokens int64 `json:"contextTokens"`
	// PerGPU is what each GPU of a replica must hold.
	// +kubebuilder:validation:MaxLength=32
	PerGPU string `json:"perGPU"`
	// PerGPUUsable is the declared GPUs' memory times the engine's memory utilization (0.9); empty when unknown.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	PerGPUUsable string `json:"perGPUUsable,omitempty"`
}

// LLMDeployment runs an open-weight language model on GPU nodes behind an in-cluster OpenAI-compatible
// endpoint.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=llmd;llm,categories=privatellm
// +kubebuilder:printcolumn:name="Engine",type=string,JSONPath=`.spec.engine.name`
// +kubebuilder:printcolumn:name="Model",type=string,JSONPath=`.spec.model.uri`
// +kubebuilder:printcolumn:name="Quant",type=string,JSONPath=`.spec.quantization`
// +kubebuilder:printcolumn:name="GPUs",type=integer,JSONPath=`.spec.gpu.count`,description="GPUs per replica"
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoint`,priority=1
// +kubebuilder:printcolumn:name="$/MTok",type=string,JSONPath=`.status.usage.last24h.costPerMTok`,priority=1,description="Cost per million tokens over the last 24h"
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 52",message="metadata.name may be at most 52 characters: it names the Deployment, Service and pods"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must start with a letter and hold only lower-case letters, digits and '-': it names the model's Service"
type LLMDeployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired model deployment.
	Spec LLMDeploymentSpec `json:"spec"`

	// Status is what the operator observed.
	// +kubebuilder:default={}
	// +optional
	Status LLMDeploymentStatus `json:"status,omitempty"`
}

// LLMDeploymentList is a list of LLMDeployments.
//
// +kubebuilder:object:root=true
type LLMDeploymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the LLMDeployments.
	Items []LLMDeployment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LLMDeployment{}, &LLMDeploymentList{})
}
