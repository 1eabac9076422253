package config

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ModelCacheConfig is the model cache: where downloaded weights are kept and where they come from (issue #13,
// docs/model-cache.md). Without it, LLMDeployments cannot use spec.model.cache and engines download themselves.
type ModelCacheConfig struct {
	// EnabledByDefault has every LLMDeployment of an hf:// model (and of an s3:// one, with a class that has an s3
	// endpoint) use the cache unless its spec.model.cache.enabled is false. A pvc:// model is checked only when
	// its spec.model.cache.enabled is true.
	EnabledByDefault bool `json:"enabledByDefault,omitempty"`
	// DefaultClass is the class of caches that name none. Default "default".
	DefaultClass string `json:"defaultClass,omitempty"`
	// LoaderImage is the image of the download Job: the operator's own image, which ships the loader
	// (cmd/loader) as /loader. Required.
	LoaderImage string `json:"loaderImage"`
	// Classes are the storage and source settings by name; at least the default class.
	Classes map[string]CacheClass `json:"classes"`
}

// CacheClass is one kind of cache volume and the Hub it downloads from.
type CacheClass struct {
	// StorageClassName of the cache volumes; unset, the cluster's default StorageClass.
	StorageClassName *string `json:"storageClassName,omitempty"`
	// AccessModes of the cache volumes. Default [ReadWriteMany], so that replicas on any node mount the same
	// files. [ReadWriteOnce] with a node-local StorageClass keeps the weights on the node that downloaded them:
	// the scheduler then places every replica of the model on that node.
	AccessModes []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`
	// Size of a cache volume unless the LLMDeployment asks for more. Default 100Gi.
	Size *resource.Quantity `json:"size,omitempty"`
	// TTL is how long an unused cache is kept (a redeploy within it downloads nothing). Default 168h.
	TTL metav1.Duration `json:"ttl,omitempty"`
	// HubEndpoint is the Hugging Face Hub or its mirror (Artifactory, Nexus, a self-hosted hub), the loader's
	// HF_ENDPOINT. Default https://huggingface.co.
	HubEndpoint string `json:"hubEndpoint,omitempty"`
	// CABundleConfigMap names a ConfigMap in each namespace (e.g. distributed by trust-manager) whose key holds
	// the PEM CAs of the mirror or proxy.
	CABundleConfigMap *ConfigMapKey `json:"caBundleConfigMap,omitempty"`
	// HTTPSProxy and NoProxy are the loader's proxy settings.
	HTTPSProxy string `json:"httpsProxy,omitempty"`
	NoProxy    string `json:"noProxy,omitempty"`
	// Resources of the loader container. Default 100m CPU and 256Mi memory requested, 1Gi memory limit.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// S3 is where s3:// models come from: the endpoint and the credentials' Secret; nil, the class does not
	// download s3:// models.
	S3 *S3Source `json:"s3,omitempty"`
	// NodeSelector and Tolerations place the download pods. Unset, they run wherever the scheduler finds room,
	// which on a cluster of tainted GPU nodes is none of them: add the GPU taint's toleration then. A node-local
	// class (ReadWriteOnce) binds its volume to the node the download ran on, so its download pods must run where
	// the models' replicas can: select the GPU nodes and tolerate their taint.
	NodeSelector map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations  []corev1.Toleration `json:"tolerations,omitempty"`
	// BackoffLimit is how many times a download that failed for a reason a retry may fix (rate limit, server
	// error, cut transfer) is retried. Default 4.
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
}

// S3Source is an S3 endpoint (AWS, MinIO, Ceph RGW …).
type S3Source struct {
	// Endpoint is the S3 API's URL, e.g. http://minio.minio.svc:9000. Default https://s3.<region>.amazonaws.com.
	Endpoint string `json:"endpoint,omitempty"`
	// Region signs the requests. Default us-east-1.
	Region string `json:"region,omitempty"`
	// PathStyle addresses buckets as <endpoint>/<bucket> (MinIO) instead of <bucket>.<endpoint>.
	PathStyle bool `json:"pathStyle,omitempty"`
	// CredentialsSecret names a Secret in each namespace with the keys AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, mounted in the download Job only; empty: anonymous requests.
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
}

// S3 credential keys of CredentialsSecret.
const (
	S3AccessKeyIDKey     = "AWS_ACCESS_KEY_ID"
	S3SecretAccessKeyKey = "AWS_SECRET_ACCESS_KEY"
)

// ConfigMapKey names a key of a ConfigMap.
type ConfigMapKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// The cache's defaults.
const (
	DefaultCacheClass    = "default"
	DefaultHubEndpoint   = "https://huggingface.co"
	defaultCacheTTL      = 168 * time.Hour
	defaultBackoffLimit  = 4
	defaultCacheSizeText = "100Gi"
)

// Class returns a class by name ("" is the default class).
func (c *ModelCacheConfig) Class(name string) (CacheClass, bool) {
	if c == nil {
		return CacheClass{}, false
	}
	if name == "" {
		name = c.DefaultClass
	}
	cl, ok := c.Classes[name]
	return cl, ok
}

// ClassNames are the classes, sorted, for messages.
func (c *ModelCacheConfig) ClassNames() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.Classes))
	for n := range c.Classes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// setDefaults fills the defaults and checks the section.
func (c *ModelCacheConfig) setDefaults() error {
	if c.DefaultClass == "" {
		c.DefaultClass = DefaultCacheClass
	}
	img := c.LoaderImage
	if img == "" {
		return fmt.Errorf("modelCache.loaderImage must name the operator's image (it ships the loader)")
	}
	if !strings.Contains(img[strings.LastIndex(img, "/")+1:], ":") && !strings.Contains(img, "@") {
		return fmt.Errorf("modelCache.loaderImage %q needs a tag or digest", img)
	}
	if _, ok := c.Classes[c.DefaultClass]; !ok {
		return fmt.Errorf("modelCache.classes has no %q class, the default class: add it or set modelCache.defaultClass", c.DefaultClass)
	}
	for name, cl := range c.Classes {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			return fmt.Errorf("modelCache.classes: %q is not a valid class name: %s", name, strings.Join(errs, "; "))
		}
		if len(cl.AccessModes) == 0 {
			cl.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}
		for _, m := range cl.AccessModes {
			if m != corev1.ReadWriteMany && m != corev1.ReadWriteOnce && m != corev1.ReadWriteOncePod && m != corev1.ReadOnlyMany {
				return fmt.Errorf("modelCache.classes.%s.accessModes: %q is not an access mode (ReadWriteMany, ReadWriteOnce, ReadWriteOncePod, ReadOnlyMany)", name, m)
			}
		}
		if cl.Size == nil {
			q := resource.MustParse(defaultCacheSizeText)
			cl.Size = &q
		} else if cl.Size.Sign() <= 0 {
			return fmt.Errorf("modelCache.classes.%s.size must be more than 0", name)
		}
		if cl.TTL.Duration == 0 {
			cl.TTL.Duration = defaultCacheTTL
		} else if cl.TTL.Duration < time.Minute {
			return fmt.Errorf("modelCache.classes.%s.ttl %s must be at least 1m", name, cl.TTL.Duration)
		}
		if cl.HubEndpoint == "" {
			cl.HubEndpoint = DefaultHubEndpoint
		}
		for field, u := range map[string]string{"hubEndpoint": cl.HubEndpoint, "httpsProxy": cl.HTTPSProxy} {
			if u == "" {
				continue
			}
			if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return fmt.Errorf("modelCache.classes.%s.%s %q must be an http or https URL", name, field, u)
			}
		}
		if s3 := cl.S3; s3 != nil {
			if s3.Region == "" {
				s3.Region = "us-east-1"
			}
			if s3.Endpoint == "" {
				s3.Endpoint = "https://s3." + s3.Region + ".amazonaws.com"
			}
			if p, err := url.Parse(s3.Endpoint); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return fmt.Errorf("modelCache.classes.%s.s3.endpoint %q must be an http or https URL", name, s3.Endpoint)
			}
			if s3.CredentialsSecret != "" {
				if errs := validation.IsDNS1123Subdomain(s3.CredentialsSecret); len(errs) > 0 {
					return fmt.Errorf("modelCache.classes.%s.s3.credentialsSecret %q is not a Secret name: %s", name, s3.CredentialsSecret, strings.Join(errs, "; "))
				}
			}
		}
		if b := cl.CABundleConfigMap; b != nil && (b.Name == "" || b.Key == "") {
			return fmt.Errorf("modelCache.classes.%s.caBundleConfigMap needs a name and a key", name)
		}
		if cl.Resources == nil {
			cl.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			}
		}
		if cl.BackoffLimit == nil {
			v := int32(defaultBackoffLimit)
			cl.BackoffLimit = &v
		} else if *cl.BackoffLimit < 0 {
			return fmt.Errorf("modelCache.classes.%s.backoffLimit must not be negative", name)
		}
		c.Classes[name] = cl
	}
	return nil
}
