// Package webhook is the validating admission webhook of LLMDeployments: it turns away specs that cannot fit the
// GPUs they declare (and says what would fit), tensor parallel sizes the model cannot be split by, and changes of
// immutable fields, and warns about facts of the cluster that keep pods Pending. The checks are pure functions of
// the object and the Node list (Validate); the admission handler (Validator) only lists Nodes. Setup serves it,
// optionally with a self-signed certificate the operator manages itself (open-policy-agent/cert-controller).
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
)

// The operator reads Nodes for the fit check and warnings. With ManageCerts it reads and updates one Secret (its own
// serving certificate, by name, in its own namespace) and one ValidatingWebhookConfiguration (to inject the CA);
// list and watch of both are restricted by name too (see nameScopedConfig).
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,resourceNames=privatellm-validating-webhook,verbs=get;list;watch;update
// +kubebuilder:rbac:groups="",namespace=privatellm-system,resources=secrets,resourceNames=privatellm-webhook-cert,verbs=get;list;watch;update

// Defaults of Options, matching config/webhook.
const (
	// ValidatePath is the URL path the LLMDeployment validator is served at.
	ValidatePath = "/validate-serving-privatellm-dev-v1alpha1-llmdeployment"
	// DefaultPort is the port of the webhook server (the Service's targetPort).
	DefaultPort = 9443
	// DefaultCertDir is where the serving certificate (tls.crt, tls.key) is read from.
	DefaultCertDir = "/tmp/k8s-webhook-server/serving-certs"
	// DefaultSecretName is the Secret that holds the self-signed CA and serving certificate when ManageCerts is on.
	DefaultSecretName = "privatellm-webhook-cert"
	// DefaultWebhookConfigName is the ValidatingWebhookConfiguration the CA bundle is injected into.
	DefaultWebhookConfigName = "privatellm-validating-webhook"
	// DefaultServiceName is the Service in front of the webhook server; the certificate is issued for its DNS names.
	DefaultServiceName = "privatellm-webhook"
	// ReadyzCheckName is the name of the readiness check Setup adds: ready once the webhook server serves.
	ReadyzCheckName = "webhook"
)

// Options configure the webhook server and its certificates.
type Options struct {
	// CertDir holds tls.crt and tls.key. With ManageCerts it is where the certificate Secret is mounted.
	// Default DefaultCertDir.
	CertDir string
	// Host the server listens on; empty: all addresses.
	Host string
	// Port the server listens on. Default DefaultPort.
	Port int
	// Namespace of the operator: where the certificate Secret and the webhook Service live. Required with
	// ManageCerts.
	Namespace string
	// SecretName of the certificate Secret. Default DefaultSecretName.
	SecretName string
	// WebhookConfigName is the ValidatingWebhookConfiguration to inject the CA bundle into. Default
	// DefaultWebhookConfigName.
	WebhookConfigName string
	// ServiceName is the webhook Service; the certificate is valid for <ServiceName>.<Namespace>.svc.
	// Default DefaultServiceName.
	ServiceName string
	// ManageCerts makes the operator create a self-signed CA and serving certificate in the Secret, rotate them and
	// inject the CA into the webhook configuration. Off when cert-manager or a test provides the certificate.
	ManageCerts bool
	// Config is the operator's configuration: its engine images (the children are dry-run as the reconciler renders
	// them) and its admission policy. Zero: the built-in defaults.
	Config *config.OperatorConfig
}

func (o *Options) defaults() {
	if o.CertDir == "" {
		o.CertDir = DefaultCertDir
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.SecretName == "" {
		o.SecretName = DefaultSecretName
	}
	if o.WebhookConfigName == "" {
		o.WebhookConfigName = DefaultWebhookConfigName
	}
	if o.ServiceName == "" {
		o.ServiceName = DefaultServiceName
	}
}

// Setup adds the webhook server (its own, on opts.Host:opts.Port, not the manager's default one) with the
// LLMDeployment validator to mgr, and a readiness check named ReadyzCheckName that passes once it serves. With
// opts.ManageCerts it also adds the certificate rotator, and the server starts only once the certificate is mounted
// in opts.CertDir and the CA is injected into the webhook configuration. Nodes are read through mgr's cache, whose
// Node informer is registered here so that it syncs when the manager starts, before the first request.
func Setup(mgr ctrl.Manager, opts Options) error {
	opts.defaults()
	if opts.ManageCerts && opts.Namespace == "" {
		return errors.New("webhook: Options.Namespace is required with ManageCerts: the certificate Secret lives in the operator's namespace")
	}
	server := crwebhook.NewServer(crwebhook.Options{Host: opts.Host, Port: opts.Port, CertDir: opts.CertDir})
	cfg := config.Default()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	hook := admission.WithValidator[*v1.LLMDeployment](mgr.GetScheme(), &Validator{
		Nodes: mgr.GetClient(), Children: mgr.GetClient(), Images: cfg.EngineImages(), Policy: cfg.Admission,
		Gateway: cfg.Gateway.Enabled(), ModelCache: cfg.ModelCache,
	})
	hook.RecoverPanic = ptr.To(true)
	server.Register(ValidatePath, hook)

	if _, err := mgr.GetCache().GetInformer(context.Background(), &corev1.Node{}); err != nil {
		return fmt.Errorf("webhook: registering the Node informer: %w", err)
	}
	if err := mgr.AddReadyzCheck(ReadyzCheckName, server.StartedChecker()); err != nil {
		return fmt.Errorf("webhook: adding the readiness check: %w", err)
	}
	if !opts.ManageCerts {
		if err := mgr.Add(server); err != nil {
			return fmt.Errorf("webhook: adding the server: %w", err)
		}
		return nil
	}

	ready := make(chan struct{})
	svc := opts.ServiceName + "." + opts.Namespace + ".svc"
	scoped := &nameScopedManager{Manager: mgr, cfg: nameScopedConfig(mgr.GetConfig(), opts.Namespace, opts.SecretName, opts.WebhookConfigName)}
	if err := rotator.AddRotator(scoped, &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: opts.Namespace, Name: opts.SecretName},
		CertDir:        opts.CertDir,
		CAName:         "privatellm-webhook-ca",
		CAOrganization: "privatellm",
		DNSName:        svc,
		ExtraDNSNames:  []string{svc + ".cluster.local", opts.ServiceName + "." + opts.Namespace},
		IsReady:        ready,
		Webhooks:       []rotator.WebhookInfo{{Name: opts.WebhookConfigName, Type: rotator.Validating}},
		FieldOwner:     "privatellm",
		// Every replica serves the webhook, so every replica keeps its certificate current, leader or not.
		RequireLeaderElection: false,
		ControllerName:        "privatellm-webhook-cert",
	}); err != nil {
		return fmt.Errorf("webhook: adding the certificate rotator for Secret %s/%s: %w", opts.Namespace, opts.SecretName, err)
	}
	if err := mgr.Add(&gatedServer{Server: server, ready: ready}); err != nil {
		return fmt.Errorf("webhook: adding the server: %w", err)
	}
	return nil
}

// gatedServer starts the webhook server once the certificate is ready, so the manager does not fail on a
// certificate the kubelet has not mounted yet.
type gatedServer struct {
	crwebhook.Server
	ready <-chan struct{}
}

// Start waits for the certificate, then serves until ctx ends.
func (g *gatedServer) Start(ctx context.Context) error {
	select {
	case <-g.ready:
	case <-ctx.Done():
		return nil
	}
	ctrl.Log.WithName("webhook").Info("Serving certificate ready, starting the webhook server")
	return g.Server.Start(ctx)
}

// nameScopedManager is mgr with a rest.Config for the certificate rotator's own cache (the only user of
// GetConfig in rotator.AddRotator).
type nameScopedManager struct {
	manager.Manager
	cfg *rest.Config
}

// GetConfig returns the name-scoped config.
func (m *nameScopedManager) GetConfig() *rest.Config { return m.cfg }

// nameScopedConfig returns a copy of cfg whose list and watch requests of the Secrets of namespace and of
// ValidatingWebhookConfigurations select only the named objects (fieldSelector metadata.name=<name>). The API
// server authorizes such requests against RBAC resourceNames, so the rotator, whose cache lists and watches every
// Secret of the namespace otherwise, works with a Role restricted to its own Secret.
func nameScopedConfig(cfg *rest.Config, namespace, secretName, webhookConfigName string) *rest.Config {
	c := rest.CopyConfig(cfg)
	names := map[string]string{
		"/api/v1/namespaces/" + namespace + "/secrets":                          secretName,
		"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations": webhookConfigName,
	}
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &nameSelector{next: rt, names: names} })
	return c
}

// nameSelector adds a metadata.name field selector to GET requests of the collections it knows.
type nameSelector struct {
	next  http.RoundTripper
	names map[string]string // collection path suffix → object name
}

// RoundTrip scopes collection requests to one name and passes everything else on unchanged.
func (n *nameSelector) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return n.next.RoundTrip(req)
	}
	for suffix, name := range n.names {
		if !strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), suffix) {
			continue
		}
		req = req.Clone(req.Context())
		q := req.URL.Query()
		sel := "metadata.name=" + name
		if existing := q.Get("fieldSelector"); existing != "" {
			sel = existing + "," + sel
		}
		q.Set("fieldSelector", sel)
		req.URL.RawQuery = q.Encode()
		break
	}
	return n.next.RoundTrip(req)
}
