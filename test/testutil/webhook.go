package testutil

import (
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
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// An operator run on this machine (e2e, make demo) serves its admission webhook on loopback with a self-signed
// certificate; the API server reaches it by URL instead of through a Service.

// WebhookPath is the operator's validation path (internal/webhook.ValidatePath; repeated here so the test rig does
// not import what ships).
const WebhookPath = "/validate-serving-privatellm-dev-v1alpha1-llmdeployment"

// WriteLoopbackCert writes a self-signed serving certificate for 127.0.0.1 (tls.crt, tls.key) into dir and returns
// it (PEM) as the CA bundle.
func WriteLoopbackCert(dir string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "privatellm-loopback-webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(7 * 24 * time.Hour),
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

// LoopbackWebhookConfiguration registers the operator's webhook as config/webhook does in a cluster, but at
// https://127.0.0.1:<port>, trusting ca. It fails closed, as the shipped configuration does.
func LoopbackWebhookConfiguration(name string, port int, ca []byte) *admissionv1.ValidatingWebhookConfiguration {
	return &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:                    "validate.llmdeployments.serving.privatellm.dev",
			AdmissionReviewVersions: []string{"v1"},
			ClientConfig: admissionv1.WebhookClientConfig{
				URL:      ptr.To(fmt.Sprintf("https://127.0.0.1:%d%s", port, WebhookPath)),
				CABundle: ca,
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
}
