package v1alpha1

import "time"

// Effective values: what a field means when it is left out. The CRD defaults most fields at admission; these
// helpers cover the fields whose default depends on another field, and objects built in Go without defaulting.

// DefaultStartupTimeout is the model download and load budget when spec.startupTimeout is unset.
const DefaultStartupTimeout = 30 * time.Minute

// EffectiveReplicas is spec.replicas; when unset, autoscaling.minReplicas with autoscaling, else 1.
func (s *LLMDeploymentSpec) EffectiveReplicas() int32 {
	if s.Replicas != nil {
		return *s.Replicas
	}
	if s.Autoscaling != nil && s.Autoscaling.MinReplicas != nil {
		return *s.Autoscaling.MinReplicas
	}
	return 1
}

// GPUCount is spec.gpu.count, 1 when unset; 0 serves on CPU.
func (s *LLMDeploymentSpec) GPUCount() int32 {
	if s.GPU.Count == nil || *s.GPU.Count < 0 {
		return 1
	}
	return *s.GPU.Count
}

// OnCPU says whether the model is served without GPUs (gpu.count 0).
func (s *LLMDeploymentSpec) OnCPU() bool { return s.GPUCount() == 0 }

// EffectiveTensorParallelSize is spec.tensorParallelSize, gpu.count when unset (1 on CPU).
func (s *LLMDeploymentSpec) EffectiveTensorParallelSize() int32 {
	if s.TensorParallelSize == nil || *s.TensorParallelSize < 1 {
		return max(s.GPUCount(), 1)
	}
	return *s.TensorParallelSize
}

// PipelineParallelSize is gpu.count / tensorParallelSize: the GPUs of a replica not used for tensor parallelism.
func (s *LLMDeploymentSpec) PipelineParallelSize() int32 {
	tp := s.EffectiveTensorParallelSize()
	if s.GPUCount() == 0 || s.GPUCount()%tp != 0 {
		return 1
	}
	return s.GPUCount() / tp
}

// EffectiveStartupTimeout is spec.startupTimeout, DefaultStartupTimeout when unset.
func (s *LLMDeploymentSpec) EffectiveStartupTimeout() time.Duration {
	if s.StartupTimeout == nil || s.StartupTimeout.Duration <= 0 {
		return DefaultStartupTimeout
	}
	return s.StartupTimeout.Duration
}

// EffectiveGPUResourceName is spec.gpu.resourceName, nvidia.com/gpu when unset.
func (s *LLMDeploymentSpec) EffectiveGPUResourceName() GPUResourceName {
	if s.GPU.ResourceName == "" {
		return GPUResourceNVIDIA
	}
	return s.GPU.ResourceName
}

// EffectiveQuantization is spec.quantization, none when unset.
func (s *LLMDeploymentSpec) EffectiveQuantization() Quantization {
	if s.Quantization == "" {
		return QuantizationNone
	}
	return s.Quantization
}

// EffectiveDtype is spec.dtype, auto when unset.
func (s *LLMDeploymentSpec) EffectiveDtype() Dtype {
	if s.Dtype == "" {
		return DtypeAuto
	}
	return s.Dtype
}

// EffectiveEngine is spec.engine.name, DefaultEngine when unset.
func (s *LLMDeploymentSpec) EffectiveEngine() EngineName {
	if s.Engine.Name == "" {
		return DefaultEngine
	}
	return s.Engine.Name
}

// ServedModelName is the model's name in the OpenAI API: spec.model.servedName, else the object's name.
func (l *LLMDeployment) ServedModelName() string {
	if l.Spec.Model.ServedName != "" {
		return l.Spec.Model.ServedName
	}
	return l.Name
}
