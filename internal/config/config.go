// Package config is the operator's typed configuration: engine images and default budgets, read from one
// versioned YAML file (a ConfigMap in a cluster) instead of a pile of flags.
package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cost"
	"github.com/privatellm/privatellm/internal/engine"
)

// APIVersion and Kind of the configuration file.
const (
	APIVersion = "config.privatellm.dev/v1alpha1"
	Kind       = "OperatorConfig"
)

// OperatorConfig configures the operator.
type OperatorConfig struct {
	metav1.TypeMeta `json:",inline"`

	// Engines pins the images of engines by name (vllm, tgi, sglang, llamacpp); an engine left out runs the image
	// its registry entry pins (internal/engine, docs/engines.md).
	Engines map[v1.EngineName]EngineConfig `json:"engines,omitempty"`

	// StallGracePeriod is how long a pod may stay unschedulable or wait for a missing Secret before the
	// LLMDeployment is reported Stalled (a cluster autoscaler or a GitOps sync may still fix it). Default 2m.
	StallGracePeriod metav1.Duration `json:"stallGracePeriod,omitempty"`

	// Admission is what the admission webhook refuses beyond the schema.
	Admission AdmissionPolicy `json:"admission,omitempty"`

	// Gateway is what the operator tells API key owners about the gateway.
	Gateway GatewayConfig `json:"gateway,omitempty"`

	// InferencePool, when set, has the operator publish one Gateway API Inference Extension InferencePool
	// (inference.networking.k8s.io/v1) per LLMDeployment, selecting its engine pods on the engine's port, so that
	// a Gateway API implementation (Istio, agentgateway, NGINX Gateway Fabric, …) can route to the models too. The
	// InferencePool CRD must be installed when the operator starts; without it the operator logs that pools are
	// not published and carries on. Requests that take that path bypass privatellm's gateway: its keys, limits and
	// metering apply only to traffic through it (and gateway.networkPolicy must admit the other gateway's pods).
	InferencePool *InferencePoolConfig `json:"inferencePool,omitempty"`

	// Cost, when set, has the operator count each LLMDeployment's GPU time and tokens, price them, and compare
	// them with reference API prices: status.usage, the privatellm_gpu_hours_total, privatellm_tokens_total,
	// privatellm_cost_total and privatellm_api_equivalent_cost_total metrics, and `kubectl privatellm cost`.
	// No price is built in: the figures are as good as the prices given here.
	Cost *CostConfig `json:"cost,omitempty"`

	// ModelCache, when set, lets LLMDeployments download their weights once into a shared, verified cache
	// (spec.model.cache, the ModelCache kind) that engine pods mount read-only and load offline.
	ModelCache *ModelCacheConfig `json:"modelCache,omitempty"`
}

// CostConfig holds the prices and how often usage is read and written.
type CostConfig struct {
	// Prices: gpuHourly (price of one GPU for an hour, by GPU product, the node label nvidia.com/gpu.product, e.g.
	// NVIDIA-L4), defaultGPUHourly (for products not listed; 0: those GPUs are reported unpriced, not free) and
	// apis (reference prices: name, inputPerMTok, outputPerMTok, per million tokens).
	cost.Prices `json:",inline"`
	// Currency of the prices, shown next to the figures. Default USD.
	Currency string `json:"currency,omitempty"`
	// ScrapeInterval is how often the engines' token counters are read and GPU time is added up. Default 30s.
	ScrapeInterval metav1.Duration `json:"scrapeInterval,omitempty"`
	// RefreshInterval is the most often status.usage is written for one LLMDeployment (and only when a figure
	// changed): N models cost the API server at most N writes per interval. Default 5m.
	RefreshInterval metav1.Duration `json:"refreshInterval,omitempty"`
}

// InferencePoolConfig says how the published InferencePools name their endpoint picker.
type InferencePoolConfig struct {
	// EndpointPicker is the endpoint picker (EPP) extension of each pool. The InferencePool CRD before v1.6 requires
	// one; from v1.6 a pool may go without, and the Gateway API implementation then balances over the pods itself.
	// Left out, pools name none.
	EndpointPicker *EndpointPickerConfig `json:"endpointPicker,omitempty"`
}

// EndpointPickerConfig names the EPP Service of each pool. An EPP serves a single pool, so every LLMDeployment has
// its own: the Service <LLMDeployment name><serviceSuffix> in the LLMDeployment's namespace (the upstream
// inferencepool chart names it <release>-epp).
type EndpointPickerConfig struct {
	// ServiceSuffix is appended to the LLMDeployment's name to form the EPP Service's name. Default "-epp".
	ServiceSuffix string `json:"serviceSuffix,omitempty"`
	// Port is the EPP Service's ext-proc port. Default 9002.
	Port int32 `json:"port,omitempty"`
	// FailureMode is what the Gateway does when the EPP does not answer: FailClose (refuse the request, the
	// default) or FailOpen (route it anyway).
	FailureMode string `json:"failureMode,omitempty"`
}

// GatewayConfig describes the OpenAI-compatible gateway, when it is installed.
type GatewayConfig struct {
	// URL is the gateway's base URL for clients (e.g. http://privatellm-gateway.privatellm-system.svc/v1). When set,
	// every APIKey's Secret carries it as OPENAI_BASE_URL, so a pod that takes the Secret as its environment is
	// ready to call the API.
	URL string `json:"url,omitempty"`
	// Service is the gateway's Service, "namespace/name": the autoscaler reads the metrics of its ready endpoints
	// (port "metrics") to wake models at zero replicas and to keep running ones from going to zero. The operator's
	// RBAC lets it read EndpointSlices in its own namespace, where config/default and the chart put the gateway.
	Service string `json:"service,omitempty"`
	// MetricsURLs are the gateway replicas' metrics pages, for a gateway that does not run as pods of the cluster
	// (the simulated cluster's): used instead of Service.
	MetricsURLs []string `json:"metricsURLs,omitempty"`
	// NetworkPolicy, when set, has the operator render a NetworkPolicy per LLMDeployment that admits traffic to
	// the engine's port only from these pods (the gateway's, and the operator's own, which reads the engines'
	// metrics), so the gateway's keys and limits cannot be bypassed by calling the pods. It needs a CNI that
	// enforces NetworkPolicy. Switching it off later leaves the policies in place until their LLMDeployments go.
	NetworkPolicy *NetworkPolicyConfig `json:"networkPolicy,omitempty"`
}

// NetworkPolicyConfig lists the pods that may call the engines.
type NetworkPolicyConfig struct {
	// AllowFrom are the pods admitted to the engines' port.
	AllowFrom []PodPeer `json:"allowFrom"`
}

// PodPeer is the pods with all of Labels in Namespace.
type PodPeer struct {
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

// Enabled says whether the autoscaler can read the gateway, which scale from zero needs.
func (g GatewayConfig) Enabled() bool { return g.Service != "" || len(g.MetricsURLs) > 0 }

// ServiceKey is Service split into namespace and name; false when unset or malformed.
func (g GatewayConfig) ServiceKey() (namespace, name string, ok bool) {
	namespace, name, ok = strings.Cut(g.Service, "/")
	return namespace, name, ok && namespace != "" && name != ""
}

// AdmissionPolicy says which engine flags and variables tenants may not set and which PriorityClasses they may
// use. Each list left out takes its secure default; an empty list refuses (or, for allowedPriorityClasses,
// allows) nothing.
type AdmissionPolicy struct {
	// RefusedArgs are flags spec.engine.args may not set, for every engine (and, for engines whose parser expands
	// abbreviations, not abbreviate either). Default: each engine's flags that widen what it may read, load or
	// execute (docs/engines.md).
	RefusedArgs []string `json:"refusedArgs,omitempty"`
	// RefusedEnv are variables spec.engine.env may not set. Default: the dynamic loader's and Python's load paths
	// (LD_PRELOAD, PYTHONPATH, …) and each engine's plugin and code-loading switches.
	RefusedEnv []string `json:"refusedEnv,omitempty"`
	// AllowedPriorityClasses are the only PriorityClasses spec.priorityClassName may name. Default: any but the
	// system ones (system-node-critical, system-cluster-critical), whose pods would preempt other tenants' GPU
	// pods and are meant for the cluster's own components.
	AllowedPriorityClasses []string `json:"allowedPriorityClasses,omitempty"`
}

// RefusedArgsFor are the flags the policy refuses in an engine's args.
func (p AdmissionPolicy) RefusedArgsFor(name v1.EngineName) []string {
	if p.RefusedArgs != nil {
		return p.RefusedArgs
	}
	return engine.FactsOf(name).WideningFlags
}

// RefusedEnvFor are the variables the policy refuses in an engine's env.
func (p AdmissionPolicy) RefusedEnvFor(name v1.EngineName) []string {
	if p.RefusedEnv != nil {
		return p.RefusedEnv
	}
	return append(append([]string{}, engine.WideningEnvNames...), engine.FactsOf(name).WideningEnv...)
}

// AllowsPriorityClass says whether spec.priorityClassName may name pc ("" is always allowed).
func (p AdmissionPolicy) AllowsPriorityClass(pc string) bool {
	if pc == "" {
		return true
	}
	if p.AllowedPriorityClasses != nil {
		for _, a := range p.AllowedPriorityClasses {
			if a == pc {
				return true
			}
		}
		return false
	}
	return !strings.HasPrefix(pc, "system-")
}

// EngineConfig configures one engine.
type EngineConfig struct {
	// Image is the default image, with a tag or digest.
	Image string `json:"image,omitempty"`
	// CPUImage is the default image for gpu.count 0, for engines that serve on CPU.
	CPUImage string `json:"cpuImage,omitempty"`
}

// Default returns the built-in configuration.
func Default() OperatorConfig {
	c := OperatorConfig{}
	c.setDefaults()
	return c
}

func (c *OperatorConfig) setDefaults() {
	c.APIVersion, c.Kind = APIVersion, Kind
	if c.Engines == nil {
		c.Engines = map[v1.EngineName]EngineConfig{}
	}
	for _, f := range engine.All() {
		e := c.Engines[f.Name]
		if e.Image == "" {
			e.Image = f.Image
		}
		if e.CPUImage == "" {
			e.CPUImage = f.CPUImage
		}
		c.Engines[f.Name] = e
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
	for name, e := range c.Engines {
		f, ok := engine.Lookup(name)
		if !ok {
			return OperatorConfig{}, fmt.Errorf("operator config: engines.%s: no such engine; the operator knows %s", name, engineNames())
		}
		if e.CPUImage != "" && !f.Facts().ServesOnCPU() {
			return OperatorConfig{}, fmt.Errorf("operator config: engines.%s.cpuImage: %s does not serve on CPU", name, name)
		}
	}
	c.setDefaults()
	for _, name := range engine.Names() {
		e := c.Engines[name]
		for field, img := range map[string]string{"image": e.Image, "cpuImage": e.CPUImage} {
			if img != "" && !strings.Contains(img[strings.LastIndex(img, "/")+1:], ":") && !strings.Contains(img, "@") {
				return OperatorConfig{}, fmt.Errorf("operator config: engines.%s.%s %q needs a tag or digest", name, field, img)
			}
		}
	}
	if u := c.Gateway.URL; u != "" {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return OperatorConfig{}, fmt.Errorf("operator config: gateway.url %q must be an http or https URL", u)
		}
	}
	if _, _, ok := c.Gateway.ServiceKey(); c.Gateway.Service != "" && !ok {
		return OperatorConfig{}, fmt.Errorf("operator config: gateway.service %q must be namespace/name", c.Gateway.Service)
	}
	if np := c.Gateway.NetworkPolicy; np != nil {
		if len(np.AllowFrom) == 0 {
			return OperatorConfig{}, fmt.Errorf("operator config: gateway.networkPolicy.allowFrom must list the gateway's pods (and the operator's): with none, nothing could reach the engines")
		}
		for i, p := range np.AllowFrom {
			if p.Namespace == "" || len(p.Labels) == 0 {
				return OperatorConfig{}, fmt.Errorf("operator config: gateway.networkPolicy.allowFrom[%d] needs a namespace and labels of the pods", i)
			}
		}
	}
	if p := c.InferencePool; p != nil && p.EndpointPicker != nil {
		e := p.EndpointPicker
		if e.ServiceSuffix == "" {
			e.ServiceSuffix = "-epp"
		}
		if e.Port == 0 {
			e.Port = 9002
		}
		if e.FailureMode == "" {
			e.FailureMode = "FailClose"
		}
		if e.Port < 1 || e.Port > 65535 {
			return OperatorConfig{}, fmt.Errorf("operator config: inferencePool.endpointPicker.port %d must be a port number (1-65535)", e.Port)
		}
		if e.FailureMode != "FailClose" && e.FailureMode != "FailOpen" {
			return OperatorConfig{}, fmt.Errorf("operator config: inferencePool.endpointPicker.failureMode %q must be FailClose or FailOpen", e.FailureMode)
		}
		if errs := validation.IsDNS1123Label("a" + e.ServiceSuffix); len(errs) > 0 {
			return OperatorConfig{}, fmt.Errorf("operator config: inferencePool.endpointPicker.serviceSuffix %q must make Service names (lower-case letters, digits, '-'): %s", e.ServiceSuffix, strings.Join(errs, "; "))
		}
	}
	if cc := c.Cost; cc != nil {
		if err := cc.Prices.Validate(); err != nil {
			return OperatorConfig{}, fmt.Errorf("operator config: cost: %w", err)
		}
		if cc.Currency == "" {
			cc.Currency = "USD"
		}
		if cc.ScrapeInterval.Duration == 0 {
			cc.ScrapeInterval.Duration = 30 * time.Second
		}
		if cc.RefreshInterval.Duration == 0 {
			cc.RefreshInterval.Duration = 5 * time.Minute
		}
		if cc.ScrapeInterval.Duration < time.Second || cc.RefreshInterval.Duration < cc.ScrapeInterval.Duration {
			return OperatorConfig{}, fmt.Errorf("operator config: cost: scrapeInterval (%s) must be at least 1s and refreshInterval (%s) at least scrapeInterval", cc.ScrapeInterval.Duration, cc.RefreshInterval.Duration)
		}
	}
	for _, u := range c.Gateway.MetricsURLs {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return OperatorConfig{}, fmt.Errorf("operator config: gateway.metricsURLs: %q must be an http or https URL", u)
		}
	}
	if mc := c.ModelCache; mc != nil {
		if err := mc.setDefaults(); err != nil {
			return OperatorConfig{}, fmt.Errorf("operator config: %w", err)
		}
	}
	if c.StallGracePeriod.Duration < 0 {
		return OperatorConfig{}, fmt.Errorf("operator config: stallGracePeriod must not be negative")
	}
	return c, nil
}

// EngineImages are the images the engine package takes.
func (c OperatorConfig) EngineImages() engine.Images {
	out := engine.Images{}
	for name, e := range c.Engines {
		out[name] = engine.Image{GPU: e.Image, CPU: e.CPUImage}
	}
	return out
}

func engineNames() string {
	var s []string
	for _, n := range engine.Names() {
		s = append(s, string(n))
	}
	return strings.Join(s, ", ")
}
