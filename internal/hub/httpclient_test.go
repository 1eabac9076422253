package hub

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewHTTPClientProxyFromEnvironment(t *testing.T) {
	// http.ProxyFromEnvironment reads the variables once per process; no other test in this package uses it.
	t.Setenv("HTTPS_PROXY", "http://proxy.corp.test:3128")
	t.Setenv("NO_PROXY", "hf-mirror.corp.test")
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*http.Transport)
	req, _ := http.NewRequest(http.MethodGet, DefaultEndpoint+"/api/models/a/b", nil)
	u, err := tr.Proxy(req)
	if err != nil || u == nil || u.Host != "proxy.corp.test:3128" {
		t.Errorf("proxy for the Hub = %v, %v; want proxy.corp.test:3128", u, err)
	}
	req, _ = http.NewRequest(http.MethodGet, "https://hf-mirror.corp.test/api/models/a/b", nil)
	if u, _ := tr.Proxy(req); u != nil {
		t.Errorf("NO_PROXY host went through %v", u)
	}
	if hc.Timeout != 0 {
		t.Errorf("an overall timeout of %v would cut large downloads", hc.Timeout)
	}
}

func TestNewHTTPClientCABundle(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}

	plain, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the bundle: %v, want a certificate error", err)
	}
	withCA, err := NewHTTPClient(bundle)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := withCA.Get(srv.URL)
	if err != nil {
		t.Fatalf("with the bundle: %v", err)
	}
	resp.Body.Close()

	notPEM := filepath.Join(t.TempDir(), "bad.pem")
	_ = os.WriteFile(notPEM, []byte("not a certificate"), 0o644)
	if _, err := NewHTTPClient(notPEM); err == nil {
		t.Errorf("a bundle without certificates was accepted")
	}
	if _, err := NewHTTPClient(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Errorf("a missing bundle was accepted")
	}
}

func TestTokenOnlyToTheEndpoint(t *testing.T) {
	c := NewClient("https://huggingface.co/", "hf_secret", nil)
	for u, want := range map[string]bool{
		"https://huggingface.co/api/models/a/b":       true,
		"https://cdn-lfs.hf.co/repos/x?Signature=s":   false,
		"http://huggingface.co/api/models/a/b":        false,
		"https://huggingface.co.evil.test/api/models": false,
	} {
		req, err := c.newRequest(t.Context(), http.MethodGet, u)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("Authorization") == "Bearer hf_secret"; got != want {
			t.Errorf("%s: token sent = %v, want %v", u, got, want)
		}
		if !strings.Contains(req.Header.Get("User-Agent"), "privatellm") {
			t.Errorf("User-Agent %q does not name privatellm", req.Header.Get("User-Agent"))
		}
	}
}
