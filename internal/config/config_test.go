package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
)

func TestShippedConfigParses(t *testing.T) {
	c, err := config.Load("../../config/manager/operator-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range engine.DefaultImages() {
		if c.Engines[name].Image != img.GPU || c.Engines[name].CPUImage != img.CPU {
			t.Errorf("%s: shipped config %+v and the registry's pins %+v disagree", name, c.Engines[name], img)
		}
	}
	if c.StallGracePeriod.Duration != 2*time.Minute {
		t.Errorf("stallGracePeriod = %s", c.StallGracePeriod.Duration)
	}
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown field":          {"engines: {vllm: {imag: x:1}}", "unknown field"},
		"unknown engine":         {"engines: {triton: {image: x:1}}", "engines.triton: no such engine"},
		"untagged image":         {"engines: {vllm: {image: vllm/vllm-openai}}", "needs a tag or digest"},
		"untagged CPU image":     {"engines: {llamacpp: {cpuImage: registry.local:5000/llama.cpp}}", "engines.llamacpp.cpuImage"},
		"CPU image, GPU engine":  {"engines: {tgi: {cpuImage: tgi:1}}", "tgi does not serve on CPU"},
		"wrong kind":             {"apiVersion: v1\nkind: ConfigMap", "want config.privatellm.dev/v1alpha1"},
		"negative grace":         {"stallGracePeriod: -1m", "must not be negative"},
		"engines as a list":      {"engines: [vllm]", "parsing operator config"},
		"an engine not a struct": {"engines: {vllm: v0.18}", "parsing operator config"},
		"gateway URL not http":   {"gateway: {url: gateway.svc/v1}", "gateway.url"},
		"gateway service no ns":  {"gateway: {service: privatellm-gateway}", "must be namespace/name"},
		"metrics URL not http":   {"gateway: {metricsURLs: [\"10.0.0.1:9090\"]}", "gateway.metricsURLs"},
		"network policy, no one": {"gateway: {networkPolicy: {allowFrom: []}}", "must list the gateway's pods"},
		"network policy peer":    {"gateway: {networkPolicy: {allowFrom: [{namespace: x}]}}", "allowFrom[0] needs a namespace and labels"},
		"EPP failure mode":       {"inferencePool: {endpointPicker: {failureMode: Retry}}", "must be FailClose or FailOpen"},
		"EPP port":               {"inferencePool: {endpointPicker: {port: 70000}}", "must be a port number"},
		"EPP suffix":             {"inferencePool: {endpointPicker: {serviceSuffix: _EPP}}", "must make Service names"},
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
	pinned := engine.DefaultImages()
	if c.Engines["vllm"].Image != pinned["vllm"].GPU || c.Engines["tgi"].Image != "registry.local:5000/tgi@sha256:abc" ||
		c.Engines["llamacpp"].CPUImage != pinned["llamacpp"].CPU {
		t.Errorf("%+v", c.Engines)
	}
	images := c.EngineImages()
	for _, name := range engine.Names() {
		if images[name].GPU == "" {
			t.Errorf("EngineImages has no image for %s", name)
		}
	}
}

func TestInferencePoolDefaults(t *testing.T) {
	c, err := config.Parse([]byte("inferencePool: {endpointPicker: {}}"))
	if err != nil {
		t.Fatal(err)
	}
	if e := c.InferencePool.EndpointPicker; e.ServiceSuffix != "-epp" || e.Port != 9002 || e.FailureMode != "FailClose" {
		t.Errorf("endpointPicker defaults %+v, want the upstream chart's -epp, 9002, FailClose", e)
	}
	c, err = config.Parse([]byte("inferencePool: {}"))
	if err != nil || c.InferencePool == nil || c.InferencePool.EndpointPicker != nil {
		t.Errorf("inferencePool: {} = %+v, %v; want pools without an endpoint picker", c.InferencePool, err)
	}
}

// TestDemoConfigParses: make demo's operator config, with its example prices, is one the operator accepts.
func TestDemoConfigParses(t *testing.T) {
	c, err := config.Load("../../hack/demo-operator-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Cost == nil || c.Cost.GPUHourly["NVIDIA-L4"] <= 0 || len(c.Cost.APIs) != 2 || c.Cost.RefreshInterval.Duration != 10*time.Second {
		t.Errorf("demo cost config %+v", c.Cost)
	}
}
