package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ModelCacheSpec says which model files to download once, verified, into a volume that engine pods mount
// read-only. The operator creates one ModelCache per (source, revision, file filter) that an LLMDeployment with
// spec.model.cache needs, named from their hash, and every LLMDeployment of the namespace that needs the same
// files shares it. The spec does not change after creation: a different source, revision or filter is another
// cache.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a ModelCache's spec does not change: a different model, revision or file filter is another ModelCache"
type ModelCacheSpec struct {
	// Source is the model's URI: hf://<org>/<name> (a Hugging Face Hub, or the mirror the cache class names),
	// s3://<bucket>/<folder> (the S3 endpoint the cache class names, e.g. MinIO), or pvc://<claim>/<path>, a model
	// already on a volume of the namespace: nothing is downloaded, the loader checks it (config.json and weights,
	// or one .gguf file) and reads its checkpoint, read-only.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^hf://[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$') || self.matches('^s3://[a-z0-9][a-z0-9.-]{1,62}(/[A-Za-z0-9_][A-Za-z0-9._=+-]*)*/?$') || self.matches('^pvc://[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(/[A-Za-z0-9_][A-Za-z0-9._-]*)*/?$')",message="source must be hf://<org>/<name>, s3://<bucket>/<folder> or pvc://<claim>/<path>"
	Source string `json:"source"`

	// Revision is the branch, tag or commit of an hf:// source to download; the loader resolves it to a commit
	// once, and the cache keeps serving that commit (status.commit) even when the branch moves. Empty for s3://.
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._/-]*$`
	// +optional
	Revision string `json:"revision,omitempty"`

	// Files selects the repository's files to download; unset, the engine's filter (e.g. safetensors weights
	// only, without original/ consolidated weights).
	// +optional
	Files *FileFilter `json:"files,omitempty"`

	// TokenSecretRef names a Secret of the namespace whose key holds the Hub token for a gated or private model.
	// Only the download Job mounts it: the engine pods and the operator never read it.
	// +optional
	TokenSecretRef *SecretKeyRef `json:"tokenSecretRef,omitempty"`

	// ClassName is the cache class of the operator configuration (modelCache.classes) that gives the storage and
	// the Hub endpoint; unset, its default class.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	ClassName string `json:"className,omitempty"`

	// Size of the volume; unset, the class's size.
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`
}

// FileFilter selects files by glob (path.Match, with ** for any folders), matched against the path in the repo.
type FileFilter struct {
	// Include are the globs of the files to download; empty: every file.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	// +optional
	Include []string `json:"include,omitempty"`
	// Exclude are the globs of files left out, even if included.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	// +optional
	Exclude []string `json:"exclude,omitempty"`
}

// Conditions and reasons of a ModelCache, besides the kstatus Ready, Reconciling and Stalled.
const (
	// ReasonDownloading: the download Job runs (Reconciling; the message has the percentage).
	ReasonDownloading = "Downloading"
	// ReasonCached: every file of the snapshot is on the volume, verified (Ready).
	ReasonCached = "Cached"
	// ReasonCacheClassNotFound: the cache names a class the operator configuration does not have.
	ReasonCacheClassNotFound = "CacheClassNotFound"
	// ReasonCacheFailed: the download failed without a typed reason (the loader's report is missing).
	ReasonCacheFailed = "DownloadFailed"
	// ReasonCacheNotReady is the reason of an LLMDeployment whose cache stalled; the message has the cache's.
	ReasonCacheNotReady = "CacheNotReady"
)

// ModelCacheStatus is what the download did.
type ModelCacheStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration"`

	// Conditions are Ready (every file verified on the volume), Reconciling (downloading) and Stalled (the
	// download cannot succeed: the reason is the loader's, e.g. GatedRepo, RepoNotFound, RevisionNotFound,
	// DiskFull, VerifyFailed).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Commit is the commit the revision resolved to: the snapshot the engines load. For s3://, a content id of
	// the objects' keys, ETags and sizes.
	// +optional
	Commit string `json:"commit,omitempty"`

	// ClaimName is the PersistentVolumeClaim that holds the files.
	// +optional
	ClaimName string `json:"claimName,omitempty"`

	// Path is the model's folder on the claim: hub for hf:// (the Hugging Face cache layout), s3/<bucket>/<folder>
	// for s3://, the source's path for pvc://.
	// +optional
	Path string `json:"path,omitempty"`

	// Progress is the download's, written at most every 15 seconds while it runs, and once at the end.
	// +optional
	Progress *DownloadProgress `json:"progress,omitempty"`

	// DownloadStarted and DownloadFinished bound the download (the Job's pod start and end).
	// +optional
	DownloadStarted *metav1.Time `json:"downloadStarted,omitempty"`
	// +optional
	DownloadFinished *metav1.Time `json:"downloadFinished,omitempty"`

	// Checkpoint is what the downloaded config.json and file list say of the model.
	// +optional
	Checkpoint *CheckpointStatus `json:"checkpoint,omitempty"`

	// Users are the LLMDeployments that use the cache now. A cache in use cannot be deleted (a finalizer waits).
	// +kubebuilder:validation:MaxItems=256
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`

	// UnusedSince is when the last user went; the cache is deleted after the class's TTL.
	// +optional
	UnusedSince *metav1.Time `json:"unusedSince,omitempty"`
}

// DownloadProgress is how far a download is.
type DownloadProgress struct {
	// FilesDone and FilesTotal count the snapshot's files.
	FilesDone  int32 `json:"filesDone"`
	FilesTotal int32 `json:"filesTotal"`
	// BytesDone and BytesTotal count the snapshot's bytes, those already on the volume included.
	BytesDone  int64 `json:"bytesDone"`
	BytesTotal int64 `json:"bytesTotal"`
	// Percent is BytesDone of BytesTotal.
	Percent int32 `json:"percent"`
	// BytesPerSecond is the average download speed so far.
	// +optional
	BytesPerSecond int64 `json:"bytesPerSecond,omitempty"`
	// ETA is the time left at that speed.
	// +optional
	ETA *metav1.Duration `json:"eta,omitempty"`
	// UpdatedAt is when the figures were read.
	UpdatedAt metav1.Time `json:"updatedAt"`
}

// CheckpointStatus is the model's shape as its checkpoint states it; unknown figures are left out.
type CheckpointStatus struct {
	// Architecture is config.json's first architecture, e.g. LlamaForCausalLM.
	// +optional
	Architecture string `json:"architecture,omitempty"`
	// Parameters is estimated from the weights' bytes and bits per weight.
	// +optional
	Parameters int64 `json:"parameters,omitempty"`
	// Layers, HiddenSize, AttentionHeads, KVHeads and HeadDim are the transformer's shape.
	// +optional
	Layers int64 `json:"layers,omitempty"`
	// +optional
	HiddenSize int64 `json:"hiddenSize,omitempty"`
	// +optional
	AttentionHeads int64 `json:"attentionHeads,omitempty"`
	// +optional
	KVHeads int64 `json:"kvHeads,omitempty"`
	// +optional
	HeadDim int64 `json:"headDim,omitempty"`
	// ContextLength is max_position_embeddings.
	// +optional
	ContextLength int64 `json:"contextLength,omitempty"`
	// TorchDtype is config.json's torch_dtype.
	// +optional
	TorchDtype string `json:"torchDtype,omitempty"`
	// QuantMethod and QuantBits are config.json's quantization_config; empty for an unquantized checkpoint.
	// +optional
	QuantMethod string `json:"quantMethod,omitempty"`
	// +optional
	QuantBits int64 `json:"quantBits,omitempty"`
	// Format of the weights: safetensors, gguf or pytorch.
	// +optional
	Format string `json:"format,omitempty"`
	// WeightBytes is the weights' total size.
	// +optional
	WeightBytes int64 `json:"weightBytes,omitempty"`
	// ModelFile is the GGUF file llama.cpp loads (-m), relative to the snapshot.
	// +optional
	ModelFile string `json:"modelFile,omitempty"`
	// Files and Bytes count the whole snapshot.
	// +optional
	Files int32 `json:"files,omitempty"`
	// +optional
	Bytes int64 `json:"bytes,omitempty"`
}

// ModelCache is one model's files, downloaded once and verified, on a volume the engine pods mount read-only.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mc;mcache,categories=privatellm
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.spec.revision`
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.status.commit`,priority=1
// +kubebuilder:printcolumn:name="Progress",type=integer,JSONPath=`.status.progress.percent`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ModelCache struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModelCacheSpec `json:"spec"`

	Status ModelCacheStatus `json:"status,omitempty"`
}

// ModelCacheList is a list of ModelCaches.
//
// +kubebuilder:object:root=true
type ModelCacheList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []ModelCache `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModelCache{}, &ModelCacheList{})
}

// ModelCacheOptions is an LLMDeployment's use of the model cache.
type ModelCacheOptions struct {
	// Enabled turns the cache on (true) or off (false) for this model, whatever the cluster default.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// ClassName is the cache class of the operator configuration; unset, its default class.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	ClassName string `json:"className,omitempty"`
	// Size of the cache's volume; unset, the class's size. Set it above the weights' size for large models.
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`
	// Files overrides the engine's file filter.
	// +optional
	Files *FileFilter `json:"files,omitempty"`
}

// CacheStatus is an LLMDeployment's view of its ModelCache.
type CacheStatus struct {
	// Name of the ModelCache.
	Name string `json:"name"`
	// Commit served, once resolved.
	// +optional
	Commit string `json:"commit,omitempty"`
	// Percent downloaded.
	// +optional
	Percent int32 `json:"percent,omitempty"`
}

// StartupStep is one step of a replica's start.
type StartupStep struct {
	// Name is CacheResolved, DownloadStarted, DownloadFinished, Scheduled, ImagePulled, ContainerStarted or
	// ModelServed.
	Name string `json:"name"`
	// Time the step ended.
	Time metav1.Time `json:"time"`
	// Duration since the previous step.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// StartupTimeline is the start of one replica, from the LLMDeployment's cache to the model served.
type StartupTimeline struct {
	// Pod is the replica the timeline is of: the slowest to start of the current ones.
	Pod string `json:"pod"`
	// Steps in order; a step the cluster has not reached yet is left out.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Steps []StartupStep `json:"steps"`
	// Total is the time from the first step to the last.
	// +optional
	Total *metav1.Duration `json:"total,omitempty"`
}
