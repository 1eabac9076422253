package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
func serveWebhookCert(dir string) ([]byte, error) { return testutil.WriteLoopbackCert(dir) }

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
	cfg := testutil.LoopbackWebhookConfiguration("privatellm-e2e", webhookPort, webhookCA)
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

// The rig repeats the webhook's path so that it need not import what ships; both must agree.
func TestWebhookPathAgrees(t *testing.T) {
	if testutil.WebhookPath != webhook.ValidatePath {
		t.Fatalf("testutil.WebhookPath %q, the webhook serves %q", testutil.WebhookPath, webhook.ValidatePath)
	}
}
