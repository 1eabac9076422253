package webhook

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// TestManagedCertificates runs Setup with ManageCerts as a user that holds exactly the RBAC of the kubebuilder
// markers in setup.go (Nodes; one Secret and one ValidatingWebhookConfiguration, by name): the rotator fills the
// Secret, injects the CA into the webhook configuration, and once the certificate is "mounted" (the test plays the
// kubelet) the server serves it for the Service's DNS name. The same user cannot read any other Secret.
func TestManagedCertificates(t *testing.T) {
	requireEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t)
	const secretName, hookName, svcName = "privatellm-webhook-cert", "privatellm-rotation-test", "privatellm-webhook"

	// The operator's user and its least-privilege RBAC.
	user, err := testEnv.AddUser(envtest.User{Name: "privatellm-operator-" + ns}, restCfg)
	if err != nil {
		t.Fatal(err)
	}
	userName := "privatellm-operator-" + ns
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: userName}}
	objs := []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: userName}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"validatingwebhookconfigurations"},
				ResourceNames: []string{hookName}, Verbs: []string{"get", "list", "watch", "update"}},
		}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: userName}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: userName}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook-cert"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{secretName},
				Verbs: []string{"get", "list", "watch", "update"}},
		}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook-cert"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "webhook-cert"}},
		// What config/webhook installs: the empty Secret and a webhook configuration (this one matches nothing).
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName}, Type: corev1.SecretTypeOpaque},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "someone-elses"}, StringData: map[string]string{"k": "v"}},
		&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: hookName},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name:                    "nothing.rotation.test.invalid",
				AdmissionReviewVersions: []string{"v1"},
				ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
					Namespace: ns, Name: svcName, Path: ptr.To(ValidatePath)}},
				Rules: []admissionregistrationv1.RuleWithOperations{{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{"rotation.test.invalid"},
						APIVersions: []string{"v1"}, Resources: []string{"nothings"}},
				}},
				FailurePolicy: ptr.To(admissionregistrationv1.Ignore),
				SideEffects:   ptr.To(admissionregistrationv1.SideEffectClassNone),
			}}},
	}
	for _, o := range objs {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := k8sClient.Delete(context.Background(), o); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		})
	}

	// The operator's manager, as that user.
	certDir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(user.Config(), ctrl.Options{Scheme: testScheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Setup(mgr, Options{CertDir: certDir, Host: "127.0.0.1", Port: port, Namespace: ns, SecretName: secretName,
		WebhookConfigName: hookName, ServiceName: svcName, ManageCerts: true}); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	// The rotator fills the Secret.
	secret := &corev1.Secret{}
	eventually(t, 60*time.Second, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: secretName}, secret); err != nil {
			return err
		}
		for _, k := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
			if len(secret.Data[k]) == 0 {
				return fmt.Errorf("secret has no %s yet", k)
			}
		}
		return nil
	})
	// The kubelet mounts it.
	for _, k := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(certDir, k), secret.Data[k], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The CA lands in the webhook configuration.
	eventually(t, 60*time.Second, func() error {
		hook := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: hookName}, hook); err != nil {
			return err
		}
		if got := hook.Webhooks[0].ClientConfig.CABundle; !bytes.Equal(got, secret.Data["ca.crt"]) {
			return fmt.Errorf("caBundle is %d bytes, not the Secret's CA", len(got))
		}
		return nil
	})
	// The server starts and serves a certificate of that CA for the Service's DNS name.
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(secret.Data["ca.crt"]) {
		t.Fatal("ca.crt is not a PEM certificate")
	}
	if err := waitForTLS(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), roots, svcName+"."+ns+".svc", 60*time.Second); err != nil {
		t.Fatal(err)
	}

	// Least privilege: the operator's user reads its own Secret and no other.
	uc, err := client.New(user.Config(), client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := uc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "someone-elses"}, &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("the operator's user must not read other Secrets, got %v", err)
	}
	if err := uc.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("the operator's user must not list Secrets, got %v", err)
	}
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
