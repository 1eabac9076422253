package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/config"
)

func TestShippedConfigParses(t *testing.T) {
	c, err := config.Load("../../config/manager/operator-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Engines.VLLM.Image != config.DefaultVLLMImage || c.Engines.TGI.Image != config.DefaultTGIImage {
		t.Errorf("shipped config and built-in defaults disagree: %+v", c.Engines)
	}
	if c.StallGracePeriod.Duration != 2*time.Minute {
		t.Errorf("stallGracePeriod = %s", c.StallGracePeriod.Duration)
	}
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown field":  {"engines: {vllm: {imag: x:1}}", "unknown field"},
		"untagged image": {"engines: {vllm: {image: vllm/vllm-openai}}", "needs a tag or digest"},
		"wrong kind":     {"apiVersion: v1\nkind: ConfigMap", "want config.privatellm.dev/v1alpha1"},
		"negative grace": {"stallGracePeriod: -1m", "must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
			}
		})
	}
}

func TestDefaultsFillGaps(t *testing.T) {
	c, err := config.Parse([]byte("engines: {tgi: {image: registry.local:5000/tgi@sha256:abc}}"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Engines.VLLM.Image != config.DefaultVLLMImage || c.Engines.TGI.Image != "registry.local:5000/tgi@sha256:abc" {
		t.Errorf("%+v", c.Engines)
	}
}
