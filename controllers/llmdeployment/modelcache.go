package llmdeployment

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/engine"
)

// cacheRecheck is how soon a pass waiting for a download looks again if no change of the cache wakes it first.
const cacheRecheck = 30 * time.Second

// cachePhase makes the ModelCache the LLMDeployment needs exist and waits for it: until the cache is Ready the
// pass stops here, so no engine pod starts (and a serving Deployment keeps its pods) before the files are
// verified on the volume. A Ready cache gives the render phase the commit and the checkpoint's facts.
func (r *Reconciler) cachePhase(ctx context.Context, s *scope) outcome {
	want, err := cache.Want(s.llm, r.Config.ModelCache)
	if err != nil {
		s.llm.Status.Cache = nil
		return stalled(servingv1alpha1.ReasonInvalidSpec, err.Error())
	}
	if want == nil {
		s.llm.Status.Cache = nil
		return done()
	}
	mc := &servingv1alpha1.ModelCache{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(want), mc); apierrors.IsNotFound(err) {
		// Not owned: the cache outlives any one LLMDeployment, its users hold it (the finalizer), and its TTL
		// collects it once unused.
		if err := r.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return failedWith(servingv1alpha1.ReasonApplyFailed, "creating the model cache "+want.Name+" failed; retrying", err)
		}
		mc = want
	} else if err != nil {
		return failed(err)
	}
	st := &servingv1alpha1.CacheStatus{Name: mc.Name, Commit: mc.Status.Commit}
	if p := mc.Status.Progress; p != nil {
		st.Percent = p.Percent
	}
	s.llm.Status.Cache = st
	s.modelCache = mc
	switch {
	case cache.IsReady(mc) && cache.IsPVC(mc.Spec):
		// Checked where it is: the engine mounts the user's claim as it would without the cache, and the plan
		// and the fit follow the checkpoint.
		s.checkpoint, s.checkpointAt = mc.Status.Checkpoint, "in "+mc.Spec.Source
		return done()
	case cache.IsReady(mc):
		// Also while it is being deleted: its users hold it (the finalizer) and keep serving from it.
		claim := mc.Status.ClaimName
		if claim == "" {
			claim = mc.Name
		}
		path := mc.Status.Path
		if path == "" {
			path = cache.Path(mc.Spec)
		}
		s.cache = &engine.CachedModel{Commit: mc.Status.Commit, Claim: claim, Path: path}
		if ck := mc.Status.Checkpoint; ck != nil {
			s.cache.File = ck.ModelFile
		}
		if f := engine.FactsOf(s.llm.Spec.EffectiveEngine()); f.CacheGGUF && s.cache.File == "" {
			return stalled(servingv1alpha1.ReasonCacheNotReady, fmt.Sprintf("the model cache %s holds no GGUF file of %s at commit %s for %s to load: check spec.quantization against the repository's files",
				mc.Name, s.llm.Spec.EffectiveQuantization(), shortCommit(mc.Status.Commit), f.Title))
		}
		s.checkpoint, s.checkpointAt = mc.Status.Checkpoint, "at commit "+shortCommit(mc.Status.Commit)
		return done()
	case mc.DeletionTimestamp != nil:
		return pending(servingv1alpha1.ReasonDownloading, "the model cache "+mc.Name+" is being deleted; a new one is created once it is gone").retryAfter(cacheRecheck)
	case meta.IsStatusConditionTrue(mc.Status.Conditions, servingv1alpha1.ConditionStalled):
		c := meta.FindStatusCondition(mc.Status.Conditions, servingv1alpha1.ConditionStalled)
		return stalled(servingv1alpha1.ReasonCacheNotReady, fmt.Sprintf("the model cache %s cannot download %s: %s: %s", mc.Name, mc.Spec.Source, c.Reason, c.Message))
	}
	return pending(servingv1alpha1.ReasonDownloading, fmt.Sprintf("waiting for the model cache %s: %s", mc.Name, downloadMessage(mc))).retryAfter(cacheRecheck)
}

// downloadMessage is the cache's own account of its download.
func downloadMessage(mc *servingv1alpha1.ModelCache) string {
	if c := meta.FindStatusCondition(mc.Status.Conditions, servingv1alpha1.ConditionReconciling); c != nil && c.Message != "" {
		return c.Message
	}
	return "downloading " + mc.Spec.Source + " at " + mc.Spec.Revision + ": " + cache.ProgressMessage(mc.Status.Progress)
}

// checkpointSpec is the spec the engine plan is made from when the checkpoint is known: spec.model.quantized
// follows its quantization_config, so no flag is guessed; ok false with a message when spec.quantization and the
// checkpoint disagree (the engine would refuse to start).
func checkpointSpec(llm *servingv1alpha1.LLMDeployment, where string, ck *servingv1alpha1.CheckpointStatus) (*servingv1alpha1.LLMDeployment, string) {
	if ck == nil || ck.Format == "gguf" {
		return llm, ""
	}
	q := llm.Spec.EffectiveQuantization()
	f := engine.FactsOf(llm.Spec.EffectiveEngine())
	entry, _ := f.QuantizationOf(q)
	out := llm.DeepCopy()
	quantized := ck.QuantMethod != ""
	out.Spec.Model.Quantized = ptr.To(quantized)
	have := cache.SpecQuantization(cache.Facts(ck))
	switch {
	case q == servingv1alpha1.QuantizationNone:
		out.Spec.Model.Quantized = nil
		return out, ""
	case !quantized && entry.OnLoadFlag != "":
		return out, "" // quantized on load
	case !quantized:
		return nil, fmt.Sprintf("spec.quantization is %s, but the checkpoint %s is not quantized (its config.json has no quantization_config) and %s cannot quantize to %s as it loads: set spec.quantization to none, or use a %s checkpoint",
			q, where, f.Title, q, q)
	case have != q && !(q == servingv1alpha1.QuantizationCompressedTensors && ck.QuantMethod == "compressed-tensors"):
		got := ck.QuantMethod
		hint := "none"
		if have != "" {
			hint = string(have)
		}
		return nil, fmt.Sprintf("spec.quantization is %s, but the checkpoint %s is quantized with %s (quantization_config.quant_method): set spec.quantization to %s, or use a %s checkpoint",
			q, where, got, hint, q)
	}
	return out, ""
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
