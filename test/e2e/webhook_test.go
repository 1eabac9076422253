package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/privatellm/privatellm/internal/webhook"
	"github.com/privatellm/privatellm/test/testutil"
)

// The operator under test serves its admission webhook on loopback with a certificate made here; the
// ValidatingWebhookConfiguration pointing the API server at it is installed only by TestAdmissionWebhook, so the
// other tests (one kills the operator) are not subject to a webhook that fails closed.
var (
	webhookPort int
	webhookCA   []byte
)

// serveWebhookCert writes a self-signed certificate for 127.0.0.1 into dir and returns it (PEM) as the CA bundle.
func serveWebhookCert(dir string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "privatellm-e2e-webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), certPEM, 0o600); err != nil {
		return nil, err
	}
	return certPEM, os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// installWebhook registers the operator's webhook with the API server, as config/webhook does in a cluster but with
// a URL on loopback, and waits until it answers.
func installWebhook(t *testing.T) {
	t.Helper()
	cfg := &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "privatellm-e2e"},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:                    "validate.llmdeployments.serving.privatellm.dev",
			AdmissionReviewVersions: []string{"v1"},
			ClientConfig: admissionv1.WebhookClientConfig{
				URL:      ptr.To(fmt.Sprintf("https://127.0.0.1:%d%s", webhookPort, webhook.ValidatePath)),
				CABundle: webhookCA,
			},
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
				Rule: admissionv1.Rule{APIGroups: []string{"serving.privatellm.dev"}, APIVersions: []string{"v1alpha1"},
					Resources: []string{"llmdeployments"}, Scope: ptr.To(admissionv1.NamespacedScope)},
			}},
			MatchPolicy:    ptr.To(admissionv1.Equivalent),
			FailurePolicy:  ptr.To(admissionv1.Fail),
			SideEffects:    ptr.To(admissionv1.SideEffectClassNone),
			TimeoutSeconds: ptr.To(int32(5)),
		}},
	}
	if err := c.Create(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Delete(context.Background(), cfg); err != nil {
			t.Error(err)
		}
	})
}

const unfitManifest = `apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: llama-70b-on-a100
spec:
  model:
    uri: hf://meta-llama/Llama-3.3-70B-Instruct
  maxModelLen: 8192
  gpu:
    count: 1
    products: [NVIDIA-A100-SXM4-40GB]
`

const missingProductManifest = `apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: llama-8b-on-b200
spec:
  model:
    uri: hf://meta-llama/Llama-3.1-8B-Instruct
  maxModelLen: 8192
  gpu:
    count: 1
    products: [NVIDIA-B200]
    minMemory: 80Gi
`

func writeManifest(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "llm.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAdmissionWebhook applies bad manifests with kubectl, as a user would, and reads the webhook's answers.
func TestAdmissionWebhook(t *testing.T) {
	ns := namespace(t)
	installWebhook(t)
	unfit := writeManifest(t, unfitManifest)

	// The webhook may take a moment to be called by the API server after registration.
	var out string
	testutil.Eventually(t, 30*time.Second, func() error {
		var err error
		out, err = kubectl("-n", ns, "apply", "--dry-run=server", "-f", unfit)
		if err == nil {
			return fmt.Errorf("a 70B bf16 model on one A100 40GB was admitted: %s", out)
		}
		if !strings.Contains(out, "needs ≈") {
			return fmt.Errorf("not the webhook's answer yet: %s", out)
		}
		return nil
	})
	for _, want := range []string{"spec.gpu.count", "per replica", "NVIDIA-A100-SXM4-40GB", "try quantization none with 4 GPUs, or fp8 with 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run answer lacks %q:\n%s", want, out)
		}
	}
	t.Logf("kubectl apply --dry-run=server said:\n%s", out)

	if out, err := kubectl("-n", ns, "apply", "-f", unfit); err == nil || !strings.Contains(out, "needs ≈") {
		t.Errorf("plain apply must be refused with the fit message, got err %v:\n%s", err, out)
	}
	if _, err := kubectl("-n", ns, "get", "llmdeployment", "llama-70b-on-a100"); err == nil {
		t.Error("the refused LLMDeployment exists")
	}

	out = must(t)(kubectl("-n", ns, "apply", "-f", writeManifest(t, missingProductManifest)))
	if !strings.Contains(out, "Warning:") || !strings.Contains(out, "no node currently offers") || !strings.Contains(out, "NVIDIA-B200") {
		t.Errorf("applying for a product no node offers must be admitted with a warning naming it:\n%s", out)
	}
	t.Logf("kubectl apply with a missing product said:\n%s", out)

	// A manifest with spec.autoscaling may not also set spec.replicas: re-applying it would reset the autoscaler.
	withReplicas := writeManifest(t, strings.Replace(autoscaledManifest, "spec:\n", "spec:\n  replicas: 2\n", 1))
	for _, mode := range [][]string{{"apply", "--server-side"}, {"apply"}} {
		out, err := kubectl(append(append([]string{"-n", ns}, mode...), "-f", withReplicas)...)
		if err == nil || !strings.Contains(out, "sets spec.replicas together with spec.autoscaling") {
			t.Errorf("kubectl %v of an autoscaled manifest with replicas must be refused, got err %v:\n%s", mode, err, out)
		}
	}
	must(t)(kubectl("-n", ns, "apply", "--server-side", "-f", writeManifest(t, autoscaledManifest)))

	must(t)(kubectl("-n", ns, "apply", "-f", l4Sample))
	out, err := kubectl("-n", ns, "patch", "llmdeployment/llama-8b-awq", "--type=merge", "-p", `{"spec":{"engine":{"name":"tgi"}}}`)
	if err == nil || !strings.Contains(out, "spec.engine.name is immutable") {
		t.Errorf("changing the engine must be refused as immutable, got err %v:\n%s", err, out)
	}
}
