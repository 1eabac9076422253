package testutil

import (
	"k8s.io/utils/ptr"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// FuzzSpec builds the LLMDeployment of one input of FuzzRender (internal/render). The controllers' envtest suite
// replays the committed corpus through the API server with the same mapping.
func FuzzSpec(uri, revision, servedName, engineName, quant, extraArg string, gpus, tp uint8) *v1.LLMDeployment {
	l := &v1.LLMDeployment{}
	l.Name, l.Namespace = "fuzz", "ns"
	l.Spec.Model = v1.ModelSpec{URI: uri, Revision: revision, ServedName: servedName}
	l.Spec.Engine.Name = v1.EngineName(engineName)
	l.Spec.Quantization = v1.Quantization(quant)
	if extraArg != "" {
		l.Spec.Engine.Args = []string{extraArg}
	}
	l.Spec.GPU.Count = ptr.To(int32(gpus%16) + 1)
	if tp > 0 {
		t := int32(tp%16) + 1
		l.Spec.TensorParallelSize = &t
	}
	return l
}
