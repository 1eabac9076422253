package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/privatellm/privatellm/internal/config"
)

const loaderImage = "ghcr.io/privatellm/privatellm:v0.9.0"

func parseModelCache(t *testing.T, yaml string) *config.ModelCacheConfig {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("Parse(%q): %v", yaml, err)
	}
	if c.ModelCache == nil {
		t.Fatalf("Parse(%q): no modelCache", yaml)
	}
	return c.ModelCache
}

func TestNoModelCache(t *testing.T) {
	c, err := config.Parse([]byte("stallGracePeriod: 3m"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ModelCache != nil {
		t.Errorf("modelCache %+v, want none when the config has no section", c.ModelCache)
	}
	if config.Default().ModelCache != nil {
		t.Error("the default config must have no model cache")
	}
	var none *config.ModelCacheConfig
	if _, ok := none.Class(""); ok || none.ClassNames() != nil {
		t.Error("a nil ModelCacheConfig must have no classes")
	}
}

func TestModelCacheDefaults(t *testing.T) {
	mc := parseModelCache(t, "modelCache: {loaderImage: "+loaderImage+", classes: {default: {}}}")
	if mc.EnabledByDefault || mc.DefaultClass != "default" || mc.LoaderImage != loaderImage {
		t.Errorf("enabledByDefault %v, defaultClass %q, loaderImage %q", mc.EnabledByDefault, mc.DefaultClass, mc.LoaderImage)
	}
	cl, ok := mc.Class("")
	if !ok {
		t.Fatal(`Class("") did not find the default class`)
	}
	if named, _ := mc.Class("default"); !reflect.DeepEqual(named, cl) {
		t.Errorf(`Class("") %+v and Class("default") %+v differ`, cl, named)
	}
	if !reflect.DeepEqual(cl.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
		t.Errorf("accessModes %v, want [ReadWriteMany]", cl.AccessModes)
	}
	if cl.StorageClassName != nil {
		t.Errorf("storageClassName %q, want unset (the cluster's default)", *cl.StorageClassName)
	}
	if cl.Size == nil || cl.Size.Cmp(resource.MustParse("100Gi")) != 0 {
		t.Errorf("size %v, want 100Gi", cl.Size)
	}
	if cl.TTL.Duration != 168*time.Hour {
		t.Errorf("ttl %s, want 168h", cl.TTL.Duration)
	}
	if cl.HubEndpoint != "https://huggingface.co" {
		t.Errorf("hubEndpoint %q, want https://huggingface.co", cl.HubEndpoint)
	}
	if cl.HTTPSProxy != "" || cl.NoProxy != "" || cl.CABundleConfigMap != nil {
		t.Errorf("proxy %q %q, CA bundle %+v: want none", cl.HTTPSProxy, cl.NoProxy, cl.CABundleConfigMap)
	}
	r := cl.Resources
	if r == nil || r.Requests.Cpu().Cmp(resource.MustParse("100m")) != 0 || r.Requests.Memory().Cmp(resource.MustParse("256Mi")) != 0 ||
		r.Limits.Memory().Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("resources %+v, want 100m CPU and 256Mi memory requested, 1Gi memory limit", r)
	}
	if _, ok := r.Limits[corev1.ResourceCPU]; ok {
		t.Errorf("resources %+v: no CPU limit by default", r)
	}
	if cl.BackoffLimit == nil || *cl.BackoffLimit != 4 {
		t.Errorf("backoffLimit %v, want 4", cl.BackoffLimit)
	}
	if _, ok := mc.Class("other"); ok {
		t.Error(`Class("other") found a class that is not configured`)
	}
}

func TestModelCacheKeepsWhatIsSet(t *testing.T) {
	mc := parseModelCache(t, `
modelCache:
  enabledByDefault: true
  defaultClass: shared
  loaderImage: registry.local:5000/privatellm@sha256:0123456789abcdef
  classes:
    shared: {}
    local-nvme:
      storageClassName: local-nvme
      accessModes: [ReadWriteOnce]
      size: 2Ti
      ttl: 24h
      hubEndpoint: https://artifactory.corp/api/huggingface/hf
      httpsProxy: http://proxy.corp:3128
      noProxy: .svc,.cluster.local,10.0.0.0/8
      caBundleConfigMap: {name: corp-ca, key: ca.crt}
      resources:
        requests: {cpu: 500m, memory: 512Mi}
        limits: {memory: 2Gi}
      backoffLimit: 0
`)
	if !mc.EnabledByDefault || mc.DefaultClass != "shared" {
		t.Errorf("enabledByDefault %v defaultClass %q", mc.EnabledByDefault, mc.DefaultClass)
	}
	if got := mc.ClassNames(); !reflect.DeepEqual(got, []string{"local-nvme", "shared"}) {
		t.Errorf("ClassNames = %v, want them sorted", got)
	}
	if def, ok := mc.Class(""); !ok || def.Size.Cmp(resource.MustParse("100Gi")) != 0 {
		t.Errorf(`Class("") = %+v, %v; want the defaulted "shared" class`, def, ok)
	}
	cl, ok := mc.Class("local-nvme")
	if !ok {
		t.Fatal("no local-nvme class")
	}
	if cl.StorageClassName == nil || *cl.StorageClassName != "local-nvme" ||
		!reflect.DeepEqual(cl.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
		t.Errorf("storage %v %v", cl.StorageClassName, cl.AccessModes)
	}
	if cl.Size.Cmp(resource.MustParse("2Ti")) != 0 || cl.TTL.Duration != 24*time.Hour {
		t.Errorf("size %s ttl %s", cl.Size, cl.TTL.Duration)
	}
	if cl.HubEndpoint != "https://artifactory.corp/api/huggingface/hf" || cl.HTTPSProxy != "http://proxy.corp:3128" ||
		cl.NoProxy != ".svc,.cluster.local,10.0.0.0/8" {
		t.Errorf("endpoint %q proxy %q noProxy %q", cl.HubEndpoint, cl.HTTPSProxy, cl.NoProxy)
	}
	if b := cl.CABundleConfigMap; b == nil || b.Name != "corp-ca" || b.Key != "ca.crt" {
		t.Errorf("caBundleConfigMap %+v", b)
	}
	if r := cl.Resources; r.Requests.Cpu().Cmp(resource.MustParse("500m")) != 0 || r.Limits.Memory().Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("resources %+v", r)
	}
	if cl.BackoffLimit == nil || *cl.BackoffLimit != 0 {
		t.Errorf("backoffLimit %v, want the 0 that was set (no retries), not the default", cl.BackoffLimit)
	}
}

func TestModelCacheLoaderImages(t *testing.T) {
	for _, img := range []string{"privatellm:v1", "ghcr.io/privatellm/privatellm:v0.9.0", "registry.local:5000/privatellm:v1",
		"registry.local:5000/privatellm@sha256:abc"} {
		if _, err := config.Parse([]byte("modelCache: {loaderImage: \"" + img + "\", classes: {default: {}}}")); err != nil {
			t.Errorf("loaderImage %s: %v", img, err)
		}
	}
}

func TestModelCacheRejects(t *testing.T) {
	for name, tc := range map[string]struct{ classes, extra, want string }{
		"no loaderImage":         {extra: "-", want: "modelCache.loaderImage must name the operator's image"},
		"untagged loaderImage":   {extra: "loaderImage: ghcr.io/privatellm/privatellm", want: "needs a tag or digest"},
		"a port is not a tag":    {extra: "loaderImage: registry.local:5000/privatellm", want: "needs a tag or digest"},
		"no classes":             {classes: "-", want: `has no "default" class`},
		"no default class":       {classes: "{fast: {}}", want: `has no "default" class`},
		"a missing defaultClass": {classes: "{default: {}}", extra: "defaultClass: fast", want: `has no "fast" class`},
		"bad class name":         {classes: "{default: {}, Fast_SSD: {}}", want: `"Fast_SSD" is not a valid class name`},
		"bad access mode":        {classes: "{default: {accessModes: [ReadWriteSometimes]}}", want: `"ReadWriteSometimes" is not an access mode`},
		"size 0":                 {classes: "{default: {size: 0}}", want: "modelCache.classes.default.size must be more than 0"},
		"negative size":          {classes: "{default: {size: -1Gi}}", want: "size must be more than 0"},
		"ttl under 1m":           {classes: "{default: {ttl: 30s}}", want: "modelCache.classes.default.ttl 30s must be at least 1m"},
		"negative ttl":           {classes: "{default: {ttl: -1h}}", want: "must be at least 1m"},
		"hubEndpoint no scheme":  {classes: "{default: {hubEndpoint: huggingface.co}}", want: "modelCache.classes.default.hubEndpoint"},
		"hubEndpoint ftp":        {classes: "{default: {hubEndpoint: \"ftp://mirror.corp\"}}", want: "must be an http or https URL"},
		"hubEndpoint no host":    {classes: "{default: {hubEndpoint: \"https://\"}}", want: "must be an http or https URL"},
		"httpsProxy no scheme":   {classes: "{default: {httpsProxy: \"proxy.corp:3128\"}}", want: "modelCache.classes.default.httpsProxy"},
		"CA bundle without key":  {classes: "{default: {caBundleConfigMap: {name: corp-ca}}}", want: "caBundleConfigMap needs a name and a key"},
		"CA bundle without name": {classes: "{default: {caBundleConfigMap: {key: ca.crt}}}", want: "caBundleConfigMap needs a name and a key"},
		"negative backoffLimit":  {classes: "{default: {backoffLimit: -1}}", want: "backoffLimit must not be negative"},
		"unknown field":          {classes: "{default: {sise: 10Gi}}", want: "unknown field"},
		"unknown top field":      {extra: "enabled: true", want: "unknown field"},
	} {
		t.Run(name, func(t *testing.T) {
			var lines []string
			switch tc.extra {
			case "-":
			case "":
				lines = append(lines, "loaderImage: "+loaderImage)
			default:
				if !strings.HasPrefix(tc.extra, "loaderImage") {
					lines = append(lines, "loaderImage: "+loaderImage)
				}
				lines = append(lines, tc.extra)
			}
			switch tc.classes {
			case "-":
			case "":
				lines = append(lines, "classes: {default: {}}")
			default:
				lines = append(lines, "classes: "+tc.classes)
			}
			yaml := "modelCache:\n  " + strings.Join(lines, "\n  ") + "\n"
			c, err := config.Parse([]byte(yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %+v, %v; want an error containing %q", yaml, c.ModelCache, err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "operator config") && !strings.HasPrefix(err.Error(), "parsing operator config") {
				t.Errorf("error %q does not say it is the operator config's", err)
			}
		})
	}
}
