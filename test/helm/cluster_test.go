package helm_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/simcluster"
	"github.com/privatellm/privatellm/test/testutil"
)

const (
	l4Sample   = "config/samples/serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml"
	sampleName = "llama-8b-awq"
	timeout    = 90 * time.Second
	// leaseName is cmd/main.go's LeaderElectionID.
	leaseName = "privatellm.serving.privatellm.dev"
	// Leader election timings: controller-runtime's defaults, which cmd/main.go keeps.
	leaseDuration, renewDeadline, retryPeriod = 15 * time.Second, 10 * time.Second, 2 * time.Second
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
}

// env is the simulated cluster with the chart installed, shared by the ordered steps of
// TestChartOnSimulatedCluster.
type env struct {
	cluster *simcluster.Cluster
	admin   client.Client
	manager string // the operator binary, built from ./cmd
	tmp     string
}

// kubectl runs the cluster's kubectl as its admin.
func (e *env) kubectl(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(e.cluster.BinDir(), "kubectl"), append([]string{"--kubeconfig", e.cluster.Kubeconfig()}, args...)...)
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

func (e *env) must(t *testing.T) func(string, error) string {
	return func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// namespace creates a namespace with the samples' token Secret.
func (e *env) namespace(t *testing.T, ns string) {
	t.Helper()
	e.must(t)(e.kubectl("create", "namespace", ns))
	e.must(t)(e.kubectl("-n", ns, "create", "secret", "generic", "hf-token", "--from-literal=token=hf_helm_placeholder"))
}

// deleteNamespace deletes a namespace and waits until its pods are gone, so that their GPUs are free again.
func (e *env) deleteNamespace(t *testing.T, ns string) {
	t.Helper()
	e.must(t)(e.kubectl("delete", "namespace", ns, "--wait=false"))
	testutil.Eventually(t, 2*timeout, func() error {
		pods := &corev1.PodList{}
		if err := e.admin.List(context.Background(), pods, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(pods.Items) > 0 {
			return fmt.Errorf("%d pods of namespace %s left", len(pods.Items), ns)
		}
		return nil
	})
}

// waitFor polls an LLMDeployment until check accepts it.
func (e *env) waitFor(t *testing.T, ns, name string, d time.Duration, check func(*v1.LLMDeployment) error) *v1.LLMDeployment {
	t.Helper()
	return testutil.WaitForLLM(t, e.admin, ns, name, d, check)
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as a ServiceAccount, with a token from the
// TokenRequest API, as the operator pod's projected token would.
func (e *env) serviceAccountKubeconfig(t *testing.T, ns, sa string) (string, *rest.Config) {
	t.Helper()
	cs := clientsetFor(t, e.cluster.RESTConfig())
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for ServiceAccount %s/%s: %v", ns, sa, err)
	}
	admin := e.cluster.RESTConfig()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sim"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts[sa] = &clientcmdapi.Context{Cluster: "sim", AuthInfo: sa}
	cfg.CurrentContext = sa
	path := filepath.Join(e.tmp, ns+"-"+sa+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	rc := &rest.Config{Host: admin.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData}}
	return path, rc
}

// operatorConfig writes the OperatorConfig of the installed chart's ConfigMap to a file, so the operator
// process reads what its pod would.
func (e *env) operatorConfig(t *testing.T) string {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := e.admin.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: release + "-config"}, cm); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.tmp, "operator-config.yaml")
	if err := os.WriteFile(path, []byte(cm.Data["operator-config.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// operator is one manager process (testutil.Operator) with a name for its log.
type operator struct {
	*testutil.Operator
	name string
}

// startOperator runs the manager with a kubeconfig and flags; the test's end stops it.
func (e *env) startOperator(t *testing.T, name, kubeconfig string, args ...string) *operator {
	t.Helper()
	o := &operator{name: name, Operator: &testutil.Operator{
		Bin: e.manager, Kubeconfig: kubeconfig, Log: filepath.Join(e.tmp, name+".log"),
		Args: append([]string{"--health-probe-bind-address=0", "--zap-log-level=debug"}, args...),
	}}
	if err := o.Start(); err != nil {
		t.Fatalf("starting operator %s: %v", name, err)
	}
	t.Cleanup(func() {
		o.stop()
		if t.Failed() {
			t.Logf("operator %s log (end):\n%s", name, o.LogTail(6000))
		}
	})
	return o
}

// kill ends the operator with SIGKILL, as a node failure or OOM kill would: no lease release.
func (o *operator) kill() { o.Kill() }

// stop ends the operator with SIGTERM (it releases its lease), then SIGKILL after 40s.
func (o *operator) stop() { o.Stop(40 * time.Second) }

func (o *operator) logContains(s string) bool {
	b, _ := os.ReadFile(o.Log)
	return bytes.Contains(b, []byte(s))
}

// TestChartOnSimulatedCluster installs the chart into the simulated GPU cluster and runs the operator with the
// chart's ServiceAccount: its RBAC must be enough to bring a sample to Ready and refuse anything else; then the
// no-drift contract, an upgrade to two replicas, a leader failover and an uninstall that keeps the CRD.
func TestChartOnSimulatedCluster(t *testing.T) {
	helmBinary(t)
	cluster := simcluster.StartForTest(t, simcluster.Options{
		NodesFile: filepath.Join(repoRoot, "hack", "simcluster", "nodes.yaml"), PodReadyDelay: 2 * time.Second,
	})
	e := &env{cluster: cluster, tmp: t.TempDir()}
	var err error
	if e.admin, err = client.New(cluster.RESTConfig(), client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	if e.manager, err = testutil.BuildManager(context.Background(), repoRoot, e.tmp); err != nil {
		t.Fatal(err)
	}
	// The release namespace enforces the "restricted" Pod Security Standard: the chart's pod must be admitted.
	e.must(t)(e.kubectl("create", "namespace", namespace))
	e.must(t)(e.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"))

	steps := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"install", testInstall},
		{"operator with the chart's ServiceAccount", testOperatorIdentity},
		{"upgrade to two replicas", testUpgrade},
		{"leader failover", testLeaderFailover},
		{"uninstall keeps the CRD", testUninstall},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, e) }) {
			t.Fatalf("step %q failed; the later steps depend on it", s.name)
		}
	}
}

func testInstall(t *testing.T, e *env) {
	out, err := helm(t, e.cluster.Kubeconfig(), "install", release, chartDir, "--namespace", namespace, "--wait", "--timeout", "3m",
		// kwok runs no container: the chart's manager pod cannot serve the webhook, which fails closed. The webhook
		// itself is tested in test/e2e against the real operator process.
		"--set", "webhook.enabled=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "STATUS: deployed") || !strings.Contains(out, "kubectl -n "+namespace+" rollout status") {
		t.Errorf("helm install output lacks the status or the notes:\n%s", out)
	}
	e.must(t)(e.kubectl("wait", "--for=condition=Established", "crd/llmdeployments.serving.privatellm.dev", "--timeout=60s"))
	ctx := context.Background()
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: release}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: release + "-config"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: release + "-metrics"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: release + "-manager"}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: release + "-manager"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: release + "-metrics-reader"}},
	} {
		if err := e.admin.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Errorf("after helm install: %v", err)
		}
	}
	// --wait saw the Deployment available: its pod passed the restricted admission and runs on the CPU node.
	d := &appsv1.Deployment{}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release}, d); err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 1 {
		t.Errorf("operator Deployment has %d available replicas, want 1", d.Status.AvailableReplicas)
	}
	pods := &corev1.PodList{}
	if err := e.admin.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/component": "manager"}); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Spec.NodeName != "cpu-0" || pods.Items[0].Status.Phase != corev1.PodRunning {
		t.Errorf("operator pods %v, want one Running on cpu-0", podSummary(pods.Items))
	}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release + "-leader-election"}, &rbacv1.Role{}); !apierrors.IsNotFound(err) {
		t.Errorf("one replica: leader-election Role: %v, want not found", err)
	}
}

func podSummary(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, fmt.Sprintf("%s on %q %s", p.Name, p.Spec.NodeName, p.Status.Phase))
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// rbacDenied is in the operator's log when the API server's RBAC authorizer refused its ServiceAccount
// something ("User \"system:serviceaccount:<ns>:<name>\" cannot …").
const rbacDenied = "system:serviceaccount:" + namespace + ":" + release

func testOperatorIdentity(t *testing.T, e *env) {
	ctx := context.Background()
	kubeconfig, saConfig := e.serviceAccountKubeconfig(t, namespace, release)
	metricsPort := freePort(t)
	op := e.startOperator(t, "operator-sa", kubeconfig, "--config", e.operatorConfig(t),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort), "--metrics-secure")

	const ns = "team-a"
	e.namespace(t, ns)
	e.must(t)(e.kubectl("-n", ns, "apply", "-f", l4Sample))
	l := e.waitFor(t, ns, sampleName, timeout, testutil.ReadyWith(1))
	if got := testutil.KStatus(t, l); got != kstatus.CurrentStatus {
		t.Errorf("kstatus %s, want Current", got)
	}
	if op.logContains(rbacDenied) {
		t.Error("the operator was refused something with the chart's RBAC (see its log)")
	}

	// The same identity is refused anything outside its role.
	sa, err := client.New(saConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		do   func() error
	}{
		{"list Secrets", func() error { return sa.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)) }},
		{"get the token Secret", func() error {
			return sa.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hf-token"}, &corev1.Secret{})
		}},
		{"delete a Deployment", func() error {
			return sa.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sampleName}})
		}},
		{"delete an LLMDeployment", func() error {
			return sa.Delete(ctx, &v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sampleName}})
		}},
		{"update an LLMDeployment's spec", func() error {
			l := &v1.LLMDeployment{}
			if err := sa.Get(ctx, client.ObjectKey{Namespace: ns, Name: sampleName}, l); err != nil {
				return err
			}
			l.Spec.Replicas = ptr.To[int32](3)
			return sa.Update(ctx, l)
		}},
		{"create a Pod", func() error {
			return sa.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "intruder"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1"}}}})
		}},
		{"list ConfigMaps", func() error { return sa.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns)) }},
		{"create a ClusterRoleBinding", func() error {
			return sa.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "escalate"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: release, Namespace: namespace}}})
		}},
	} {
		if err := tc.do(); !apierrors.IsForbidden(err) {
			t.Errorf("the operator's identity may %s: got %v, want 403 Forbidden", tc.what, err)
		}
	}

	// Secure metrics: TokenReview and SubjectAccessReview with the chart's rules; only scrapers bound to the
	// metrics-reader ClusterRole get an answer.
	metricsURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", metricsPort)
	if code, _ := scrape(t, metricsURL, saConfig.BearerToken); code != http.StatusForbidden {
		t.Errorf("scrape with the operator's own token (not a metrics reader): HTTP %d, want 403", code)
	}
	e.must(t)(e.kubectl("-n", namespace, "create", "serviceaccount", "scraper"))
	e.must(t)(e.kubectl("create", "clusterrolebinding", "scraper", "--clusterrole="+release+"-metrics-reader", "--serviceaccount="+namespace+":scraper"))
	_, scraper := e.serviceAccountKubeconfig(t, namespace, "scraper")
	testutil.Eventually(t, 30*time.Second, func() error {
		code, body := scrape(t, metricsURL, scraper.BearerToken)
		if code != http.StatusOK || !strings.Contains(body, "privatellm_llmdeployments") {
			return fmt.Errorf("scrape as a metrics reader: HTTP %d, %.200s", code, body)
		}
		return nil
	})

	t.Run("no drift", func(t *testing.T) { testNoDrift(t, e) })
	if op.logContains(rbacDenied) {
		t.Error("the operator was refused something with the chart's RBAC (see its log)")
	}
	op.stop()
}

// scrape GETs the metrics endpoint with a bearer token (the serving certificate is self-signed).
func scrape(t *testing.T, url, token string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback, self-signed
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func testUpgrade(t *testing.T, e *env) {
	ctx := context.Background()
	before := &appsv1.Deployment{}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release}, before); err != nil {
		t.Fatal(err)
	}
	out, err := helm(t, e.cluster.Kubeconfig(), "upgrade", release, chartDir, "--namespace", namespace, "--wait", "--timeout", "3m",
		"--set", "webhook.enabled=false", "--set", "replicaCount=2", "--set", "operatorConfig.stallGracePeriod=30s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "REVISION: 2") {
		t.Errorf("helm upgrade output lacks revision 2:\n%s", out)
	}
	d := &appsv1.Deployment{}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release}, d); err != nil {
		t.Fatal(err)
	}
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	if *d.Spec.Replicas != 2 || d.Status.AvailableReplicas != 2 || !strings.Contains(args, "--leader-elect --leader-election-namespace="+namespace) {
		t.Errorf("after upgrade: %d replicas (%d available), args %q", *d.Spec.Replicas, d.Status.AvailableReplicas, args)
	}
	if d.Spec.Template.Annotations["checksum/config"] == before.Spec.Template.Annotations["checksum/config"] {
		t.Error("the config changed but the pod template's checksum did not")
	}
	cm := &corev1.ConfigMap{}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release + "-config"}, cm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["operator-config.yaml"], `stallGracePeriod: "30s"`) {
		t.Errorf("ConfigMap after upgrade:\n%s", cm.Data["operator-config.yaml"])
	}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release + "-leader-election"}, &rbacv1.Role{}); err != nil {
		t.Errorf("two replicas: leader-election Role: %v", err)
	}
}

// testLeaderFailover runs two operators with the chart's identity and leader election, kills the leader with
// SIGKILL (no lease release) together with a spec change, and measures how long until the spec change is
// reconciled by the other one.
func testLeaderFailover(t *testing.T, e *env) {
	ctx := context.Background()
	kubeconfig, _ := e.serviceAccountKubeconfig(t, namespace, release)
	cfg := e.operatorConfig(t)
	args := []string{"--config", cfg, "--metrics-bind-address=0", "--leader-elect", "--leader-election-namespace=" + namespace}
	ops := []*operator{e.startOperator(t, "leader-a", kubeconfig, args...), e.startOperator(t, "leader-b", kubeconfig, args...)}

	const acquired = "Successfully acquired lease"
	var leader, follower *operator
	testutil.Eventually(t, timeout, func() error {
		for i, o := range ops {
			if o.logContains(acquired) {
				leader, follower = o, ops[1-i]
				return nil
			}
		}
		return fmt.Errorf("no operator acquired the lease %s/%s", namespace, leaseName)
	})
	if follower.logContains(acquired) {
		t.Fatal("both operators hold the lease")
	}
	const ns = "team-a"
	// The leader is working: the sample stays Ready under it.
	e.waitFor(t, ns, sampleName, timeout, testutil.ReadyWith(1))

	leader.kill()
	killed := time.Now()
	e.must(t)(e.kubectl("-n", ns, "patch", "llmdeployment", sampleName, "--type=merge", "-p", `{"spec":{"replicas":2}}`))
	l := &v1.LLMDeployment{}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: sampleName}, l); err != nil {
		t.Fatal(err)
	}
	generation := l.Generation
	// The lease expires leaseDuration after the follower last saw it renewed; the follower tries every
	// retryPeriod, then starts the controller and syncs its caches. Allow a loaded machine on top.
	bound := leaseDuration + renewDeadline + 2*retryPeriod + 5*time.Second
	e.waitFor(t, ns, sampleName, bound+5*time.Second, func(l *v1.LLMDeployment) error {
		if l.Status.ObservedGeneration < generation {
			return fmt.Errorf("generation %d not observed yet (observed %d)", generation, l.Status.ObservedGeneration)
		}
		return nil
	})
	failover := time.Since(killed)
	t.Logf("leader failover: the new leader reconciled the spec change %s after SIGKILL of the old one (lease duration %s, retry period %s)",
		failover.Round(100*time.Millisecond), leaseDuration, retryPeriod)
	if !follower.logContains(acquired) {
		t.Error("the follower reconciled without acquiring the lease")
	}
	if failover > bound {
		t.Errorf("failover took %s, want at most %s", failover.Round(100*time.Millisecond), bound)
	}
	e.waitFor(t, ns, sampleName, timeout, testutil.ReadyWith(2))
	follower.stop()
}

func testUninstall(t *testing.T, e *env) {
	ctx := context.Background()
	if out, err := helm(t, e.cluster.Kubeconfig(), "uninstall", release, "--namespace", namespace, "--wait"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := e.kubectl("get", "crd", "llmdeployments.serving.privatellm.dev"); err != nil {
		t.Errorf("helm uninstall deleted the CRD (it carries helm.sh/resource-policy: keep): %v", err)
	}
	if err := e.admin.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: sampleName}, &v1.LLMDeployment{}); err != nil {
		t.Errorf("the LLMDeployment is gone after helm uninstall: %v", err)
	}
	for _, obj := range []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: release}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: release + "-manager"}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: release + "-manager"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: release + "-leader-election"}},
	} {
		if err := e.admin.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s after helm uninstall: %v, want not found", obj, obj.GetName(), err)
		}
	}
}
