// Package config is the operator's typed configuration: engine images and default budgets, read from one
// versioned YAML file (a ConfigMap in a cluster) instead of a pile of flags.
package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/privatellm/privatellm/internal/engine"
)

// APIVersion and Kind of the configuration file.
const (
	APIVersion = "config.privatellm.dev/v1alpha1"
	Kind       = "OperatorConfig"
)

// Default engine images, pinned by tag. Platform teams should pin digests in their configuration.
const (
	DefaultVLLMImage = "vllm/vllm-openai:v0.18.0"
	DefaultTGIImage  = "ghcr.io/huggingface/text-generation-inference:3.3.6"
)

// OperatorConfig configures the operator.
type OperatorConfig struct {
	metav1.TypeMeta `json:",inline"`

	// Engines pins the image of each engine.
	Engines Engines `json:"engines,omitempty"`

	// StallGracePeriod is how long a pod may stay unschedulable or wait for a missing Secret before the
	// LLMDeployment is reported Stalled (a cluster autoscaler or a GitOps sync may still fix it). Default 2m.
	StallGracePeriod metav1.Duration `json:"stallGracePeriod,omitempty"`
}

// Engines pins the image of each engine.
type Engines struct {
	// VLLM configures vLLM.
	VLLM EngineConfig `json:"vllm,omitempty"`
	// TGI configures text-generation-inference.
	TGI EngineConfig `json:"tgi,omitempty"`
}

// EngineConfig configures one engine.
type EngineConfig struct {
	// Image is the default image, with a tag or digest.
	Image string `json:"image,omitempty"`
}

// Default returns the built-in configuration.
func Default() OperatorConfig {
	c := OperatorConfig{}
	c.setDefaults()
	return c
}

func (c *OperatorConfig) setDefaults() {
	c.APIVersion, c.Kind = APIVersion, Kind
	if c.Engines.VLLM.Image == "" {
		c.Engines.VLLM.Image = DefaultVLLMImage
	}
	if c.Engines.TGI.Image == "" {
		c.Engines.TGI.Image = DefaultTGIImage
	}
	if c.StallGracePeriod.Duration == 0 {
		c.StallGracePeriod.Duration = 2 * time.Minute
	}
}

// Load reads a configuration file; fields left out take their defaults. An empty path gives Default().
func Load(path string) (OperatorConfig, error) {
	if path == "" {
		return Default(), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return OperatorConfig{}, fmt.Errorf("reading operator config: %w", err)
	}
	return Parse(raw)
}

// Parse decodes a configuration strictly: unknown fields are errors, so a typo is not silently ignored.
func Parse(raw []byte) (OperatorConfig, error) {
	var c OperatorConfig
	if err := yaml.UnmarshalStrict(raw, &c); err != nil {
		return OperatorConfig{}, fmt.Errorf("parsing operator config: %w", err)
	}
	if c.APIVersion != "" && c.APIVersion != APIVersion || c.Kind != "" && c.Kind != Kind {
		return OperatorConfig{}, fmt.Errorf("operator config is %s %s, want %s %s", c.APIVersion, c.Kind, APIVersion, Kind)
	}
	c.setDefaults()
	for name, img := range map[string]string{"vllm": c.Engines.VLLM.Image, "tgi": c.Engines.TGI.Image} {
		if !strings.Contains(img[strings.LastIndex(img, "/")+1:], ":") && !strings.Contains(img, "@") {
			return OperatorConfig{}, fmt.Errorf("operator config: engines.%s.image %q needs a tag or digest", name, img)
		}
	}
	if c.StallGracePeriod.Duration < 0 {
		return OperatorConfig{}, fmt.Errorf("operator config: stallGracePeriod must not be negative")
	}
	return c, nil
}

// EngineDefaults are the engine settings the engine package takes.
func (c OperatorConfig) EngineDefaults() engine.Defaults {
	return engine.Defaults{VLLMImage: c.Engines.VLLM.Image, TGIImage: c.Engines.TGI.Image}
}
