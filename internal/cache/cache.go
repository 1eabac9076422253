// Package cache decides which ModelCache an LLMDeployment needs (one per source, revision, file filter and
// class, shared by every LLMDeployment of the namespace that needs the same files) and turns what the loader
// reports into the cache's status. Pure: no client, no clock but the one given.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/checkpoint"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
)

// Labels of the cache's objects.
const (
	// LabelModelCache carries the ModelCache's name on its claim, Job and pods.
	LabelModelCache = "serving.privatellm.dev/modelcache"
	// Finalizer holds a ModelCache while LLMDeployments use it.
	Finalizer = "serving.privatellm.dev/in-use"
)

// Want returns the ModelCache the LLMDeployment needs, nil when it uses none (the engine downloads the model
// itself), or an error that says what to change when the spec asks for a cache the operator cannot give.
func Want(llm *v1.LLMDeployment, cfg *config.ModelCacheConfig) (*v1.ModelCache, error) {
	spec := &llm.Spec
	opts := spec.Model.Cache
	explicit := opts != nil && opts.Enabled != nil
	enabled := cfg != nil && cfg.EnabledByDefault
	if explicit {
		enabled = *opts.Enabled
	}
	if !enabled {
		return nil, nil
	}
	if cfg == nil {
		return nil, fmt.Errorf("spec.model.cache.enabled is true, but the operator configuration has no modelCache section: ask the platform team to configure one (docs/model-cache.md), or leave spec.model.cache out")
	}
	src, err := engine.ParseModelURI(spec.Model.URI)
	if err != nil {
		return nil, err
	}
	f := engine.FactsOf(spec.EffectiveEngine())
	if src.Scheme == engine.SchemePVC && !explicit {
		return nil, nil // the default downloads; checking a pre-loaded volume is asked for by the model
	}
	cacheable := src.Scheme == engine.SchemeHF || src.Scheme == engine.SchemeS3 || src.Scheme == engine.SchemePVC
	if !cacheable || !f.UsesCache() && src.Scheme != engine.SchemePVC {
		if !explicit {
			return nil, nil // the cluster default covers what the cache can hold
		}
		if !cacheable {
			return nil, fmt.Errorf("spec.model.cache holds hf:// and s3:// models and checks pvc:// ones; %s is loaded from where it is", spec.Model.URI)
		}
		return nil, fmt.Errorf("%s does not load from the model cache yet: set spec.model.cache.enabled: false", f.Title)
	}
	class := ""
	if opts != nil {
		class = opts.ClassName
	}
	cl, ok := cfg.Class(class)
	if !ok {
		return nil, fmt.Errorf("spec.model.cache.className %q is not a cache class of the operator configuration: use one of %s", class, strings.Join(cfg.ClassNames(), ", "))
	}
	if class == "" {
		class = cfg.DefaultClass
	}
	if src.Scheme == engine.SchemeS3 && cl.S3 == nil {
		if !explicit {
			return nil, nil
		}
		return nil, fmt.Errorf("the cache class %q has no s3 endpoint for %s: ask the platform team to set modelCache.classes.%s.s3, or use another class (spec.model.cache.className)", class, spec.Model.URI, class)
	}
	mcSpec := v1.ModelCacheSpec{
		Source:         spec.Model.URI,
		Revision:       spec.Model.Revision,
		TokenSecretRef: spec.Model.TokenSecretRef.DeepCopy(),
		ClassName:      class,
	}
	if filter, ok := engine.CacheFilter(spec); ok {
		mcSpec.Files = &v1.FileFilter{Include: filter.Include, Exclude: filter.Exclude}
	}
	switch {
	case src.Scheme == engine.SchemePVC:
		// Checked where it is: no revision, no token, no filter.
		mcSpec.Revision, mcSpec.TokenSecretRef, mcSpec.Files = "", nil, nil
	case src.Scheme == engine.SchemeS3:
		mcSpec.Revision, mcSpec.TokenSecretRef = "", nil // the class's credentials, not a Hub token
	case mcSpec.Revision == "":
		mcSpec.Revision = "main"
	}
	if opts != nil && opts.Files != nil && src.Scheme != engine.SchemePVC {
		mcSpec.Files = opts.Files.DeepCopy()
	}
	if opts != nil && opts.Size != nil && opts.Size.Cmp(*cl.Size) > 0 {
		mcSpec.Size = ptr.To(opts.Size.DeepCopy())
	}
	return &v1.ModelCache{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "ModelCache"},
		ObjectMeta: metav1.ObjectMeta{Name: Name(mcSpec), Namespace: llm.Namespace},
		Spec:       mcSpec,
	}, nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// Name is the ModelCache's name for a spec: the model's name, readable, and a hash of what makes two caches the
// same files (source, revision, filter, class). At most 51 characters, so "<name>-download" is a valid Job name.
func Name(s v1.ModelCacheSpec) string {
	h := sha256.New()
	files := v1.FileFilter{}
	if s.Files != nil {
		files = *s.Files
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", s.Source, s.Revision, strings.Join(files.Include, "\x01"), strings.Join(files.Exclude, "\x01"), s.ClassName)
	sum := hex.EncodeToString(h.Sum(nil))[:10]
	repo := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(s.Source, "hf://"), "s3://"), "pvc://"), "/")
	if i := strings.LastIndex(repo, "/"); i >= 0 {
		repo = repo[i+1:]
	}
	base := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(repo), "-"), "-")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	if base == "" {
		return "model-" + sum
	}
	return base + "-" + sum
}

// Repo is the hf:// source's repository id.
func Repo(s v1.ModelCacheSpec) string { return strings.TrimPrefix(s.Source, "hf://") }

// IsReady says a ModelCache's files are verified and may be served: Ready, with the commit they are of (a pvc://
// model has none).
func IsReady(mc *v1.ModelCache) bool {
	return meta.IsStatusConditionTrue(mc.Status.Conditions, v1.ConditionReady) && (mc.Status.Commit != "" || IsPVC(mc.Spec))
}

// IsPVC says whether the source is a model already on a claim (checked, not copied).
func IsPVC(s v1.ModelCacheSpec) bool { return strings.HasPrefix(s.Source, "pvc://") }

// PVC is a pvc:// source's claim and path.
func PVC(s v1.ModelCacheSpec) (claim, path string) {
	claim, path, _ = strings.Cut(strings.Trim(strings.TrimPrefix(s.Source, "pvc://"), "/"), "/")
	return claim, path
}

// IsS3 says whether the source is an s3:// folder.
func IsS3(s v1.ModelCacheSpec) bool { return strings.HasPrefix(s.Source, "s3://") }

// Path is where the source's files go on the cache's volume: hub (the Hugging Face cache layout, shared by every
// hf:// model of the volume) or s3/<bucket>/<folder>.
func Path(s v1.ModelCacheSpec) string {
	if IsPVC(s) {
		_, p := PVC(s)
		return p
	}
	if IsS3(s) {
		return "s3/" + strings.Trim(strings.TrimPrefix(s.Source, "s3://"), "/")
	}
	return "hub"
}

// Progress is the download's progress at now from the loader's figures.
func Progress(filesDone, filesTotal int, bytesDone, bytesTotal, bytesPerSecond int64, now time.Time) v1.DownloadProgress {
	p := v1.DownloadProgress{FilesDone: int32(filesDone), FilesTotal: int32(filesTotal), BytesDone: bytesDone,
		BytesTotal: bytesTotal, BytesPerSecond: bytesPerSecond, UpdatedAt: metav1.NewTime(now)}
	if bytesTotal > 0 {
		p.Percent = int32(min(bytesDone*100/bytesTotal, 100))
	}
	if left := bytesTotal - bytesDone; bytesPerSecond > 0 && left > 0 {
		p.ETA = &metav1.Duration{Duration: time.Duration(float64(left) / float64(bytesPerSecond) * float64(time.Second)).Round(time.Second)}
	}
	return p
}

// ProgressMessage says how far a download is, for conditions: "42% of 16.1 GB, 3 of 7 files, 110 MB/s, 1m20s left".
func ProgressMessage(p *v1.DownloadProgress) string {
	if p == nil || p.BytesTotal == 0 {
		return "resolving the revision and listing the files"
	}
	msg := fmt.Sprintf("%d%% of %s, %d of %d files", p.Percent, SizeText(p.BytesTotal), p.FilesDone, p.FilesTotal)
	if p.BytesPerSecond > 0 {
		msg += fmt.Sprintf(", %s/s", SizeText(p.BytesPerSecond))
	}
	if p.ETA != nil {
		msg += ", " + p.ETA.Duration.String() + " left"
	}
	return msg
}

// SizeText is a size in decimal units, as download sizes and speeds are said: "16.1 GB".
func SizeText(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// CheckpointStatus is the status form of the checkpoint's facts.
func CheckpointStatus(f *checkpoint.Facts, files int, total int64, modelFile string) *v1.CheckpointStatus {
	if f == nil {
		return nil
	}
	s := &v1.CheckpointStatus{Architecture: f.Architecture, Parameters: f.Parameters, Layers: f.Layers,
		HiddenSize: f.HiddenSize, AttentionHeads: f.AttentionHeads, KVHeads: f.KVHeads, HeadDim: f.HeadDim,
		ContextLength: f.ContextLength, TorchDtype: f.TorchDtype, Format: f.Format, WeightBytes: f.WeightBytes,
		Files: int32(files), Bytes: total, ModelFile: modelFile}
	if q := f.Quantization; q != nil {
		s.QuantMethod, s.QuantBits = q.Method, q.Bits
	}
	return s
}

// Facts are the checkpoint's facts back from the status, for the fit estimate.
func Facts(s *v1.CheckpointStatus) checkpoint.Facts {
	f := checkpoint.Facts{Architecture: s.Architecture, Parameters: s.Parameters, Layers: s.Layers,
		HiddenSize: s.HiddenSize, AttentionHeads: s.AttentionHeads, KVHeads: s.KVHeads, HeadDim: s.HeadDim,
		ContextLength: s.ContextLength, TorchDtype: s.TorchDtype, Format: s.Format, WeightBytes: s.WeightBytes}
	if s.QuantMethod != "" {
		f.Quantization = &checkpoint.Quantization{Method: s.QuantMethod, Bits: s.QuantBits}
	}
	return f
}

// SpecQuantization is the spec.quantization a pre-quantized checkpoint stands for (awq, gptq, fp8), or ""
// when it is not quantized or its method has no such value.
func SpecQuantization(f checkpoint.Facts) v1.Quantization {
	q := f.Quantization
	if q == nil {
		return ""
	}
	switch {
	case q.Method == "awq":
		return v1.QuantizationAWQ
	case q.Method == "gptq":
		return v1.QuantizationGPTQ
	case strings.Contains(q.Method, "fp8"), q.Method == "compressed-tensors" && q.Bits == 8:
		return v1.QuantizationFP8
	}
	return ""
}
