// Package helm_test tests the Helm chart charts/privatellm: lint, golden `helm template` output, agreement with
// config/ (CRD and RBAC rules), least privilege and pod security of what it renders, and, on the simulated GPU
// cluster, install, upgrade and uninstall, the operator running with the chart's ServiceAccount, leader-election
// failover and the no-drift GitOps contract.
package helm_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/test/simcluster"
)

var update = flag.Bool("update", false, "rewrite the golden files of helm template")

// HelmEnv names the environment variable with the path of the helm binary (make test-helm sets it).
const HelmEnv = "PRIVATELLM_HELM"

const (
	release   = "privatellm"
	namespace = "privatellm-system"
)

var (
	repoRoot = func() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..", "..") }()
	chartDir = filepath.Join(repoRoot, "charts", "privatellm")
)

// helmBinary returns $PRIVATELLM_HELM, or skips t when it is unset (fails it when
// $PRIVATELLM_REQUIRE_SIMCLUSTER is set, as in make test-helm).
func helmBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(HelmEnv)
	if bin == "" {
		if os.Getenv(simcluster.RequireEnv) != "" {
			t.Fatalf("%s is not set: run make test-helm", HelmEnv)
		}
		t.Skipf("%s is not set (make test-helm builds helm and sets it)", HelmEnv)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v", HelmEnv, err)
	}
	return bin
}

// helm runs the helm binary with its caches in a temporary folder and, when kubeconfig is set, against that
// cluster. It returns the combined output.
func helm(t testing.TB, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	bin := helmBinary(t)
	home := filepath.Join(os.TempDir(), "privatellm-helm-home")
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	if kubeconfig != "" {
		cmd.Env = append(cmd.Env, "KUBECONFIG="+kubeconfig)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render runs helm template with the values files and --set flags, and returns the manifest.
func render(t testing.TB, args ...string) string {
	t.Helper()
	out, err := helm(t, "", append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// objects splits a rendered manifest into objects.
func objects(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(manifest, "\n---") {
		u := &unstructured.Unstructured{}
		if err := yaml.UnmarshalStrict([]byte(doc), &u.Object); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// find returns the rendered objects of a kind, converted into T.
func find[T any](t testing.TB, objs []*unstructured.Unstructured, kind string) []*T {
	t.Helper()
	var out []*T
	for _, u := range objs {
		if u.GetKind() != kind {
			continue
		}
		raw, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		obj := new(T)
		if err := yaml.UnmarshalStrict(raw, obj); err != nil {
			t.Fatalf("%s %s: %v", kind, u.GetName(), err)
		}
		out = append(out, obj)
	}
	return out
}

// managerDeployment is the operator's Deployment among the rendered objects (the gateway has its own).
func managerDeployment(t testing.TB, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	for _, d := range find[appsv1.Deployment](t, objs, "Deployment") {
		if d.Name == release {
			return d
		}
	}
	t.Fatalf("no Deployment %s rendered", release)
	return nil
}

func one[T any](t testing.TB, objs []*unstructured.Unstructured, kind string) *T {
	t.Helper()
	found := find[T](t, objs, kind)
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s rendered, want 1", len(found), kind)
	}
	return found[0]
}

// valueSets are the values the golden files and the least-privilege checks cover.
var valueSets = []struct{ name, values string }{
	{"default", ""},
	{"ha-namespaced", "testdata/values-ha-namespaced.yaml"},
	{"minimal", "testdata/values-minimal.yaml"},
}

func valuesArgs(file string) []string {
	if file == "" {
		return nil
	}
	return []string{"--values", filepath.Join("test", "helm", file)}
}

func TestLint(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			out, err := helm(t, "", append([]string{"lint", "--strict", chartDir}, valuesArgs(vs.values)...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestTemplateGolden compares helm template with testdata/<values>.golden.yaml (without the CRD, which
// TestChartCRDIsConfigCRD checks). go test ./test/helm -run TestTemplateGolden -update rewrites them.
func TestTemplateGolden(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			got := render(t, append(valuesArgs(vs.values), "--set", "crds.enabled=false")...)
			golden := filepath.Join("testdata", vs.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./test/helm -run TestTemplateGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("helm template differs from %s (review, then rerun with -update):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// TestChartInSync runs hack/sync-chart.sh into a copy of the chart's generated files: the committed chart must
// be what config/ generates (make manifests runs the script).
func TestChartInSync(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "sync-chart.sh"), tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/sync-chart.sh: %v\n%s", err, out)
	}
	generated, err := filepath.Glob(filepath.Join(tmp, "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crds, err := filepath.Glob(filepath.Join(tmp, "templates", "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	generated = append(generated, crds...)
	committed, err := filepath.Glob(filepath.Join(chartDir, "templates", "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) == 0 || len(committed) != len(crds) {
		t.Errorf("the chart has %d CRD templates, config/crd/bases makes %d", len(committed), len(crds))
	}
	for _, g := range generated {
		rel, _ := filepath.Rel(tmp, g)
		want, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartDir, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("charts/privatellm/%s is out of sync with config/ (run make manifests or hack/sync-chart.sh): %v", rel, err)
		}
	}
}

// TestChartCRDIsConfigCRD checks the rendered CRDs against config/crd/bases: the same objects, each with the keep
// policy.
func TestChartCRDIsConfigCRD(t *testing.T) {
	rendered := map[string]*unstructured.Unstructured{}
	for _, o := range objects(t, render(t)) {
		if o.GetKind() == "CustomResourceDefinition" {
			rendered[o.GetName()] = o
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	if len(rendered) != len(files) {
		t.Errorf("%d CRDs rendered, config/crd/bases has %d", len(rendered), len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &want.Object); err != nil {
			t.Fatal(err)
		}
		got := rendered[want.GetName()]
		if got == nil {
			t.Errorf("the chart does not render CRD %s", want.GetName())
			continue
		}
		if a := got.GetAnnotations()["helm.sh/resource-policy"]; a != "keep" {
			t.Errorf("CRD %s annotation helm.sh/resource-policy = %q, want keep", want.GetName(), a)
		}
		if !reflect.DeepEqual(got.Object["spec"], want.Object["spec"]) {
			t.Errorf("the chart's CRD %s differs from config/crd/bases (run make manifests)", want.GetName())
		}
	}
	for _, o := range objects(t, render(t, "--set", "crds.enabled=false")) {
		if o.GetKind() == "CustomResourceDefinition" {
			t.Error("crds.enabled=false still renders a CRD")
		}
	}
}

// configRBAC reads config/rbac/role.yaml (controller-gen, from the code's markers): the rules of its ClusterRole
// and of its namespaced Role (objects of the operator's own namespace).
func configRBAC(t *testing.T) (cluster, self []rbacv1.PolicyRule) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var role struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := yaml.Unmarshal([]byte(doc), &role); err != nil {
			t.Fatal(err)
		}
		switch role.Kind {
		case "ClusterRole":
			cluster = append(cluster, role.Rules...)
		case "Role":
			self = append(self, role.Rules...)
		}
	}
	if len(cluster) == 0 {
		t.Fatal("config/rbac/role.yaml has no ClusterRole rules")
	}
	return cluster, self
}

// TestRBACIsConfigRBAC checks that the chart grants the manager exactly the rules of config/rbac/role.yaml:
// cluster-wide in one ClusterRole, or split between namespaced Roles and a ClusterRole for the cluster-scoped
// resources; the rules of its namespaced Role in a Role of the release namespace.
func TestRBACIsConfigRBAC(t *testing.T) {
	want, wantSelf := configRBAC(t)
	namespaced := map[string]bool{"pods": true, "services": true, "deployments": true, "events": true, "secrets": true,
		"configmaps": true, "llmdeployments": true, "llmdeployments/status": true, "llmdeployments/finalizers": true, "apikeys": true, "apikeys/status": true, "apikeys/finalizers": true, "networkpolicies": true, "endpointslices": true}

	objs := objects(t, render(t))
	var manager *rbacv1.ClusterRole
	for _, cr := range find[rbacv1.ClusterRole](t, objs, "ClusterRole") {
		if cr.Name == release+"-manager" {
			manager = cr
		}
	}
	if manager == nil || !reflect.DeepEqual(manager.Rules, want) {
		t.Errorf("the ClusterRole %s-manager does not carry the rules of config/rbac/role.yaml", release)
	}
	checkSelf := func(objs []*unstructured.Unstructured) {
		t.Helper()
		var self *rbacv1.Role
		for _, r := range find[rbacv1.Role](t, objs, "Role") {
			if r.Name == release+"-manager-self" && r.Namespace == namespace {
				self = r
			} else if r.Namespace == namespace && r.Name != release+"-leader-election" {
				t.Errorf("unexpected Role %s/%s", r.Namespace, r.Name)
			}
		}
		switch {
		case len(wantSelf) == 0 && self != nil:
			t.Errorf("Role %s-manager-self rendered, but config/rbac/role.yaml has no namespaced Role", release)
		case len(wantSelf) > 0 && (self == nil || !reflect.DeepEqual(self.Rules, wantSelf)):
			t.Errorf("Role %s-manager-self does not carry the rules of config/rbac/role.yaml's Role", release)
		}
	}
	checkSelf(objs)

	objs = objects(t, render(t, valuesArgs("testdata/values-ha-namespaced.yaml")...))
	checkSelf(objs)
	roles := map[string]*rbacv1.Role{}
	for _, r := range find[rbacv1.Role](t, objs, "Role") {
		roles[r.Namespace+"/"+r.Name] = r
	}
	var nsRules, clusterRules []rbacv1.PolicyRule
	for _, ns := range []string{"team-a", "team-b"} {
		r := roles[ns+"/"+release+"-manager"]
		if r == nil {
			t.Fatalf("no Role %s-manager in %s; rendered %v", release, ns, keys(roles))
		}
		nsRules = r.Rules
	}
	for _, cr := range find[rbacv1.ClusterRole](t, objs, "ClusterRole") {
		if cr.Name == release+"-manager" {
			clusterRules = cr.Rules
		}
	}
	for _, r := range clusterRules {
		for _, res := range r.Resources {
			if namespaced[res] {
				t.Errorf("with watchNamespaces the ClusterRole grants %s cluster-wide", res)
			}
		}
	}
	if got := append(append([]rbacv1.PolicyRule{}, nsRules...), clusterRules...); !sameRules(got, want) {
		t.Errorf("namespaced Roles + ClusterRole = %v, want the rules of config/rbac/role.yaml %v", got, want)
	}
	if roles[namespace+"/"+release+"-leader-election"] == nil {
		t.Error("replicaCount 2 renders no leader-election Role")
	}
	bindings := find[rbacv1.RoleBinding](t, objs, "RoleBinding")
	wantBindings := 3 // two namespaces, leader election
	if len(wantSelf) > 0 {
		wantBindings++
	}
	if len(bindings) != wantBindings {
		t.Errorf("%d RoleBindings, want %d", len(bindings), wantBindings)
	}
	for _, b := range bindings {
		if len(b.Subjects) != 1 || b.Subjects[0].Name != release || b.Subjects[0].Namespace != namespace {
			t.Errorf("RoleBinding %s/%s binds %v, want the chart's ServiceAccount", b.Namespace, b.Name, b.Subjects)
		}
	}
}

// TestLeastPrivilege: no wildcard, no deletes (but of unused ModelCaches), and no read of Secrets other than named ones (the admission
// webhook's own certificate) in anything the chart renders, for every value set. The APIKey controller may create
// and update Secrets (it writes keys it generated); a patch is a read, as its answer carries the whole Secret.
func TestLeastPrivilege(t *testing.T) {
	for _, vs := range valueSets {
		objs := objects(t, render(t, valuesArgs(vs.values)...))
		var rules []rbacv1.PolicyRule
		for _, r := range find[rbacv1.ClusterRole](t, objs, "ClusterRole") {
			rules = append(rules, r.Rules...)
		}
		for _, r := range find[rbacv1.Role](t, objs, "Role") {
			rules = append(rules, r.Rules...)
		}
		if vs.name != "minimal" && len(rules) == 0 {
			t.Errorf("%s: no RBAC rules rendered", vs.name)
		}
		for _, r := range rules {
			for _, s := range slices(r.APIGroups, r.Resources, r.Verbs, r.NonResourceURLs, r.ResourceNames) {
				if strings.Contains(s, "*") {
					t.Errorf("%s: wildcard in rule %v", vs.name, r)
				}
			}
			for _, res := range r.Resources {
				if res == "secrets" && len(r.ResourceNames) == 0 && !writeOnly(r.Verbs) {
					t.Errorf("%s: the chart grants read access to every Secret: %v", vs.name, r)
				}
			}
			for _, v := range r.Verbs {
				// The one delete: a ModelCache the operator itself created, once unused for its class's TTL
				// (everything else it removes goes through owner references and the garbage collector).
				if v == "delete" && len(r.Resources) == 1 && r.Resources[0] == "modelcaches" {
					continue
				}
				if v == "delete" || v == "deletecollection" || v == "escalate" || v == "bind" || v == "impersonate" {
					t.Errorf("%s: verb %s in rule %v", vs.name, v, r)
				}
			}
		}
	}
}

// writeOnly says whether verbs only write whole objects: create and update answer with what was sent.
func writeOnly(verbs []string) bool {
	for _, v := range verbs {
		if v != "create" && v != "update" {
			return false
		}
	}
	return true
}

// TestPodSecurityRestricted checks the manager's and the gateway's pods against the "restricted" Pod Security
// Standard; the install test also runs the manager in a namespace that enforces it.
func TestPodSecurityRestricted(t *testing.T) {
	for _, vs := range valueSets {
		for _, d := range find[appsv1.Deployment](t, objects(t, render(t, valuesArgs(vs.values)...)), "Deployment") {
			checkRestricted(t, vs.name+"/"+d.Name, d.Spec.Template.Spec)
		}
	}
}

func checkRestricted(t *testing.T, name string, pod corev1.PodSpec) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	sc, psc := c.SecurityContext, pod.SecurityContext
	switch {
	case psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Errorf("%s: pod runAsNonRoot not set", name)
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
	case sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: allowPrivilegeEscalation not false", name)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: root filesystem not read-only", name)
	case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities %v, want all dropped", name, sc.Capabilities)
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("%s: enableServiceLinks not false", name)
	}
}

// TestManagerArgs checks the flags each value set passes to the manager.
func TestManagerArgs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		want     []string
		wantNot  []string
		strategy appsv1.DeploymentStrategyType
	}{
		{"one replica", nil, []string{"--config=/etc/privatellm/operator-config.yaml", "--metrics-bind-address=:8443", "--metrics-secure"},
			[]string{"--leader-elect", "--watch-namespaces"}, appsv1.RecreateDeploymentStrategyType},
		{"two replicas", []string{"--set", "replicaCount=2"}, []string{"--leader-elect", "--leader-election-namespace=" + namespace},
			nil, ""},
		{"two replicas, leader election off", []string{"--set", "replicaCount=2", "--set", "leaderElection.enabled=false"}, nil,
			[]string{"--leader-elect"}, appsv1.RecreateDeploymentStrategyType},
		{"namespaced", valuesArgs("testdata/values-ha-namespaced.yaml"), []string{"--watch-namespaces=team-a,team-b"}, nil, ""},
		{"plain metrics", []string{"--set", "metrics.secure=false", "--set", "metrics.port=8080"}, []string{"--metrics-bind-address=:8080"},
			[]string{"--metrics-secure"}, appsv1.RecreateDeploymentStrategyType},
		{"no metrics", []string{"--set", "metrics.enabled=false"}, []string{"--metrics-bind-address=0"},
			[]string{"--metrics-secure"}, appsv1.RecreateDeploymentStrategyType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := managerDeployment(t, objects(t, render(t, tc.args...)))
			args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
			for _, w := range tc.want {
				if !strings.Contains(args, w) {
					t.Errorf("args %q lack %s", args, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(args, w) {
					t.Errorf("args %q contain %s", args, w)
				}
			}
			if d.Spec.Strategy.Type != tc.strategy {
				t.Errorf("strategy %q, want %q", d.Spec.Strategy.Type, tc.strategy)
			}
		})
	}
}

// TestOperatorConfig parses the rendered ConfigMap as the operator does (strictly) and checks the images.
func TestOperatorConfig(t *testing.T) {
	pinned := engine.DefaultImages()
	for _, tc := range []struct {
		values                 string
		vllm, tgi, llamacppCPU string
		stallGrace             string
		podAnnotations         bool
	}{
		{"", pinned["vllm"].GPU, pinned["tgi"].GPU, pinned["llamacpp"].CPU, "2m0s", true},
		{"testdata/values-ha-namespaced.yaml",
			"vllm/vllm-openai:v0.18.0@sha256:2222222222222222222222222222222222222222222222222222222222222222",
			"ghcr.io/huggingface/text-generation-inference@sha256:3333333333333333333333333333333333333333333333333333333333333333",
			"registry.local/llama.cpp:server-b8914", "5m0s", true},
	} {
		objs := objects(t, render(t, valuesArgs(tc.values)...))
		cm := named[corev1.ConfigMap](t, objs, "ConfigMap", release+"-config")
		cfg, err := config.Parse([]byte(cm.Data["operator-config.yaml"]))
		if err != nil {
			t.Fatalf("%s: the operator refuses the chart's config: %v", tc.values, err)
		}
		if cfg.Engines["vllm"].Image != tc.vllm || cfg.Engines["tgi"].Image != tc.tgi || cfg.Engines["llamacpp"].CPUImage != tc.llamacppCPU ||
			cfg.Engines["sglang"].Image != pinned["sglang"].GPU || cfg.StallGracePeriod.Duration.String() != tc.stallGrace {
			t.Errorf("%s: config %+v", tc.values, cfg)
		}
		if policy := cfg.Admission; tc.values != "" && (!policy.AllowsPriorityClass("gpu-serving") || policy.AllowsPriorityClass("gpu-batch") ||
			len(policy.RefusedEnvFor("vllm")) != 0) || tc.values == "" && (policy.AllowsPriorityClass("system-node-critical") || len(policy.RefusedEnvFor("vllm")) == 0) {
			t.Errorf("%s: config %+v", tc.values, cfg)
		}
	}
	// A config change rolls the operator: the pod template carries the config's checksum.
	a := managerDeployment(t, objects(t, render(t)))
	b := managerDeployment(t, objects(t, render(t, "--set", "operatorConfig.stallGracePeriod=3m")))
	if a.Spec.Template.Annotations["checksum/config"] == b.Spec.Template.Annotations["checksum/config"] {
		t.Error("a config change does not change the pod template")
	}
}

// TestSchemaRejectsBadValues: values.schema.json refuses what the operator or Kubernetes would refuse later.
func TestSchemaRejectsBadValues(t *testing.T) {
	for _, bad := range [][]string{
		{"--set", "operatorConfig.engines.vllm.image.repository=vllm/vllm-openai", "--set", "operatorConfig.engines.vllm.image.tag=latest"},
		{"--set", "operatorConfig.engines.tgi.image.repository=tgi", "--set", "operatorConfig.engines.tgi.image.tag="},
		{"--set", "operatorConfig.engines.vllm.image.repository=vllm/vllm-openai", "--set", "operatorConfig.engines.vllm.image.digest=sha256:short"},
		{"--set", "operatorConfig.engines.vllm.image.tag=v1"},
		{"--set", "operatorConfig.engines.vllm.imag.tag=v1"},
		{"--set", "operatorConfig.stallGracePeriod=two minutes"},
		{"--set", "manager.logLevel=verbose"},
		{"--set", "replicaCount=-1"},
		{"--set", "watchNamespaces={Team_A}"},
		{"--set", "unknownValue=1"},
		{"--set", "metrics.port=70000"},
		{"--set", "leaderElection.enabled=maybe"},
		{"--set", "gateway.enabled=true", "--set", "gateway.httpRoute.enabled=true"},
		{"--set", "gateway.ingress.tls[0].hosts={a}"},
		{"--set", "operatorConfig.inferencePool.enabled=true", "--set", "operatorConfig.inferencePool.endpointPicker.failureMode=Retry"},
		{"--set", "operatorConfig.inferencePool.endpointPicker.serviceSuffix=_EPP"},
		{"--set", "operatorConfig.cost.gpuHourly.NVIDIA-L4=-1"},
		{"--set", "operatorConfig.cost.refreshInterval=often"},
	} {
		args := append([]string{"template", release, chartDir, "--namespace", namespace}, bad...)
		if out, err := helm(t, "", args...); err == nil {
			t.Errorf("helm template %v succeeded, want a schema error:\n%.300s", bad, out)
		}
	}
}

func slices(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// sameRules compares rule lists regardless of order.
func sameRules(a, b []rbacv1.PolicyRule) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, r := range a {
		for i, s := range b {
			if !used[i] && reflect.DeepEqual(r, s) {
				used[i] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// TestGateway: with gateway.enabled the chart installs the gateway with the rules of config/gateway/role.yaml
// (nothing on Secrets), a Service with the API and metrics ports, a PodDisruptionBudget, and tells the operator
// where it is (gateway.url for the keys' Secrets, gateway.service for scale from zero, the NetworkPolicy peers).
func TestGateway(t *testing.T) {
	if objs := objects(t, render(t)); len(find[appsv1.Deployment](t, objs, "Deployment")) != 1 {
		t.Error("the gateway is installed by default")
	}
	objs := objects(t, render(t, valuesArgs("testdata/values-ha-namespaced.yaml")...))
	name := release + "-gateway"

	raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "gateway", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want rbacv1.ClusterRole
	if err := yaml.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	var role *rbacv1.ClusterRole
	for _, cr := range find[rbacv1.ClusterRole](t, objs, "ClusterRole") {
		if cr.Name == name {
			role = cr
		}
	}
	if role == nil || !reflect.DeepEqual(role.Rules, want.Rules) {
		t.Fatalf("the gateway's ClusterRole does not carry the rules of config/gateway/role.yaml: %+v", role)
	}
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			if res == "secrets" || res == "configmaps" {
				t.Errorf("the gateway may read %s: %v", res, r)
			}
		}
	}
	bound := false
	for _, b := range find[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding") {
		if b.Name == name && b.RoleRef.Name == name && len(b.Subjects) == 1 && b.Subjects[0].Name == name && b.Subjects[0].Namespace == namespace {
			bound = true
		}
	}
	if !bound {
		t.Error("the gateway's ClusterRole is not bound to its ServiceAccount")
	}

	var gw *appsv1.Deployment
	for _, d := range find[appsv1.Deployment](t, objs, "Deployment") {
		if d.Name == name {
			gw = d
		}
	}
	if gw == nil || *gw.Spec.Replicas != 3 || gw.Spec.Template.Spec.ServiceAccountName != name {
		t.Fatalf("gateway Deployment %+v", gw)
	}
	args := strings.Join(gw.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(args, "--replicas=3") || !strings.Contains(args, "--peers-service="+namespace+"/"+name) || gw.Spec.Template.Spec.Containers[0].Command[0] != "/gateway" {
		t.Errorf("gateway command %v %s: each replica must know its share of the limits", gw.Spec.Template.Spec.Containers[0].Command, args)
	}
	var svc *corev1.Service
	for _, s := range find[corev1.Service](t, objs, "Service") {
		if s.Name == name {
			svc = s
		}
	}
	if svc == nil || len(svc.Spec.Ports) != 2 || svc.Spec.Ports[1].Name != "metrics" || svc.Spec.Selector["app.kubernetes.io/component"] != "gateway" {
		t.Errorf("gateway Service %+v", svc)
	}
	if pdbs := find[policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget"); len(pdbs) != 1 || pdbs[0].Name != name {
		t.Errorf("gateway PodDisruptionBudget: %d", len(pdbs))
	}

	cfg, err := config.Parse([]byte(named[corev1.ConfigMap](t, objs, "ConfigMap", release+"-config").Data["operator-config.yaml"]))
	if err != nil {
		t.Fatalf("the operator refuses the chart's config: %v", err)
	}
	g := cfg.Gateway
	if g.URL != "http://"+name+"."+namespace+".svc:80/v1" || g.Service != namespace+"/"+name || g.NetworkPolicy == nil || len(g.NetworkPolicy.AllowFrom) != 2 {
		t.Fatalf("operator config gateway %+v", g)
	}
	if g.NetworkPolicy.AllowFrom[0].Labels["app.kubernetes.io/component"] != gw.Spec.Template.Labels["app.kubernetes.io/component"] {
		t.Errorf("the NetworkPolicy admits %v, the gateway pods have %v", g.NetworkPolicy.AllowFrom[0].Labels, gw.Spec.Template.Labels)
	}
	if c := cfg.Cost; c == nil || c.GPUHourly["NVIDIA-L4"] != 0.80 || len(c.APIs) != 1 || c.RefreshInterval.Duration != 10*time.Minute || c.ScrapeInterval.Duration != 30*time.Second {
		t.Errorf("operator config cost %+v, want the values' prices (scrape interval defaulted)", cfg.Cost)
	}
	if p := cfg.InferencePool; p == nil || p.EndpointPicker == nil || p.EndpointPicker.ServiceSuffix != "-picker" || p.EndpointPicker.Port != 9003 || p.EndpointPicker.FailureMode != "FailClose" {
		t.Errorf("operator config inferencePool %+v, want the values' endpoint picker (failureMode defaulted)", cfg.InferencePool)
	}

	// The API reaches clients through an Ingress or an HTTPRoute, both to the Service's http port under /v1.
	ing := one[networkingv1.Ingress](t, objs, "Ingress")
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.TLS) != 1 || len(ing.Spec.Rules) != 1 ||
		ing.Spec.Rules[0].Host != "llm.example.com" {
		t.Fatalf("gateway Ingress %+v", ing.Spec)
	}
	path := ing.Spec.Rules[0].HTTP.Paths[0]
	if path.Path != "/v1" || path.Backend.Service.Name != svc.Name || path.Backend.Service.Port.Name != svc.Spec.Ports[0].Name {
		t.Errorf("the Ingress sends %s to %+v, want the gateway Service's %s port", path.Path, path.Backend.Service, svc.Spec.Ports[0].Name)
	}
	var route *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "HTTPRoute" {
			route = o
		}
	}
	if route == nil || route.GetAPIVersion() != "gateway.networking.k8s.io/v1" {
		t.Fatal("no gateway.networking.k8s.io/v1 HTTPRoute")
	}
	parents, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	if len(parents) != 1 || len(rules) != 1 {
		t.Fatalf("HTTPRoute parents %v rules %v", parents, rules)
	}
	backends, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
	timeout, _, _ := unstructured.NestedString(rules[0].(map[string]any), "timeouts", "request")
	if len(backends) != 1 || backends[0].(map[string]any)["name"] != svc.Name || fmt.Sprint(backends[0].(map[string]any)["port"]) != fmt.Sprint(svc.Spec.Ports[0].Port) || timeout != "0s" {
		t.Errorf("HTTPRoute rule %v: want the gateway Service's API port and no request timeout", rules[0])
	}
}
