package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cli"
	"github.com/privatellm/privatellm/test/hubsim"
)

// runCmd runs the plugin and returns its exit code and output.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestFitCommand(t *testing.T) {
	sample, err := os.ReadFile("../../config/samples/serving_v1alpha1_llmdeployment_vllm_fp8_h100.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantSample, err := cli.FitManifests(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    string // a part of stdout, or all of it when wantExact
		wantExact  bool
		wantStderr string
	}{
		{name: "flags after the model", args: []string{"fit", "hf://meta-llama/Llama-3.3-70B-Instruct", "--quantization", "fp8", "--gpu", "NVIDIA-L4", "--context", "8192"},
			wantOut: "Fits on 4 × NVIDIA-L4 per replica"},
		{name: "flags before the model", args: []string{"fit", "--gpu=NVIDIA-L4", "-quantization=fp8", "--context=8192", "hf://meta-llama/Llama-3.3-70B-Instruct"},
			wantOut: "Fits on 4 × NVIDIA-L4 per replica"},
		{name: "a fixed count", args: []string{"fit", "hf://meta-llama/Llama-3.3-70B-Instruct", "--quantization", "fp8", "--gpu", "NVIDIA-L4", "--context", "8192", "--gpus", "2"},
			wantOut: "Does not fit on 2 × NVIDIA-L4 with quantization fp8; the smallest count that fits is 4"},
		{name: "another engine", args: []string{"fit", "hf://Qwen/Qwen2.5-72B-Instruct-AWQ", "--engine", "sglang", "--quantization", "awq", "--gpu", "NVIDIA-H100-80GB-HBM3", "--context", "16384"},
			wantOut: "Engine    sglang, quantization awq"},
		{name: "a manifest", args: []string{"fit", "-f", "../../config/samples/serving_v1alpha1_llmdeployment_vllm_fp8_h100.yaml"},
			wantOut: wantSample, wantExact: true},
		{name: "a manifest on stdin", stdin: string(sample), args: []string{"fit", "-f", "-"}, wantOut: wantSample, wantExact: true},
		{name: "an unknown GPU", args: []string{"fit", "hf://meta-llama/Llama-3.3-70B-Instruct", "--gpu", "H100"}, wantCode: exitError,
			wantStderr: `error: unknown GPU product "H100"; the known products are NVIDIA-A100-80GB-PCIe,`},
		{name: "a missing manifest", args: []string{"fit", "-f", "no-such-file.yaml"}, wantCode: exitError, wantStderr: "no-such-file.yaml"},
		{name: "a manifest and flags", args: []string{"fit", "-f", "x.yaml", "--gpu", "NVIDIA-L4"}, wantCode: exitUsage,
			wantStderr: "-f takes its models from the manifest: leave out --gpu"},
		{name: "two models", args: []string{"fit", "hf://a/b", "hf://c/d", "--gpu", "NVIDIA-L4"}, wantCode: exitUsage, wantStderr: "fit takes one model URI"},
		{name: "an unknown flag", args: []string{"fit", "--gpu-count", "2"}, wantCode: exitUsage, wantStderr: "flag provided but not defined: -gpu-count"},
		{name: "help of a command", args: []string{"fit", "-h"}, wantCode: exitOK, wantStderr: "Known GPU products: NVIDIA-A100-80GB-PCIe"},
		{name: "no command", args: nil, wantCode: exitUsage, wantStderr: "Usage:"},
		{name: "an unknown command", args: []string{"logs"}, wantCode: exitUsage, wantStderr: `unknown command "logs"`},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantOut: "kubectl privatellm fit MODEL-URI"},
		{name: "a wrong window", args: []string{"cost", "--window", "7d"}, wantCode: exitUsage, wantStderr: `--window "7d": use 24h or total`},
		{name: "by key over 24h", args: []string{"cost", "--by-key", "--window", "24h"}, wantCode: exitUsage,
			wantStderr: "--by-key shows the totals since counting began (status.usage.keys has no 24h window): leave out --window 24h, or use --window total"},
		{name: "help of cost", args: []string{"cost", "-h"}, wantCode: exitOK, wantStderr: "kubectl privatellm cost [-n NAMESPACE | -A] [--window 24h|total] [--by-key]"},
		{name: "two names", args: []string{"status", "a", "b"}, wantCode: exitUsage, wantStderr: "status takes at most one name"},
		{name: "a name with -A", args: []string{"status", "a", "-A"}, wantCode: exitUsage, wantStderr: "no name with -A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.wantCode, errOut)
			}
			if tc.wantExact && out != tc.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tc.wantOut)
			}
			if !tc.wantExact && !strings.Contains(out, tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, out)
			}
			if !strings.Contains(errOut, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, errOut)
			}
		})
	}
}

// requests are the paths a fake API server was asked for.
type requests struct {
	mu    sync.Mutex
	paths []string
}

func (r *requests) add(p string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths = append(r.paths, p)
}

// take returns the paths asked for and forgets them.
func (r *requests) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.paths
	r.paths = nil
	return p
}

// fakeAPIServer serves discovery and the LLMDeployments of a cluster, and records the paths asked for.
func fakeAPIServer(t *testing.T, items []v1.LLMDeployment) (*httptest.Server, *requests) {
	t.Helper()
	paths := &requests{}
	gv := v1.GroupVersion.String()
	write := func(w http.ResponseWriter, code int, obj any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(obj)
	}
	list := func(namespace string) v1.LLMDeploymentList {
		l := v1.LLMDeploymentList{TypeMeta: metav1.TypeMeta{APIVersion: gv, Kind: "LLMDeploymentList"}}
		for _, it := range items {
			if namespace == "" || it.Namespace == namespace {
				it.APIVersion, it.Kind = gv, "LLMDeployment"
				l.Items = append(l.Items, it)
			}
		}
		return l
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.add(r.URL.Path)
		prefix := "/apis/" + gv
		switch p := r.URL.Path; {
		case p == "/api":
			write(w, 200, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
		case p == "/apis":
			gvd := metav1.GroupVersionForDiscovery{GroupVersion: gv, Version: v1.GroupVersion.Version}
			write(w, 200, metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
				Groups: []metav1.APIGroup{{Name: v1.GroupVersion.Group, Versions: []metav1.GroupVersionForDiscovery{gvd}, PreferredVersion: gvd}}})
		case p == prefix:
			write(w, 200, metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv,
				APIResources: []metav1.APIResource{{Name: "llmdeployments", Namespaced: true, Kind: "LLMDeployment", Verbs: metav1.Verbs{"get", "list"}}}})
		case p == prefix+"/llmdeployments":
			write(w, 200, list(""))
		case strings.HasPrefix(p, prefix+"/namespaces/"):
			parts := strings.Split(strings.TrimPrefix(p, prefix+"/namespaces/"), "/")
			if len(parts) == 2 && parts[1] == "llmdeployments" {
				write(w, 200, list(parts[0]))
				return
			}
			if len(parts) == 3 {
				for _, it := range list(parts[0]).Items {
					if it.Name == parts[2] {
						write(w, 200, it)
						return
					}
				}
			}
			write(w, 404, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure",
				Reason: metav1.StatusReasonNotFound, Code: 404, Message: "not found",
				Details: &metav1.StatusDetails{Group: v1.GroupVersion.Group, Kind: "llmdeployments", Name: parts[len(parts)-1]}})
		default:
			write(w, 404, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure",
				Reason: metav1.StatusReasonNotFound, Code: 404})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, paths
}

// writeKubeconfig writes a kubeconfig with two contexts on server: ctx-a (namespace team-a, current) and ctx-b
// (namespace team-b).
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: %q}
users:
- name: me
  user: {token: not-a-secret}
contexts:
- name: ctx-a
  context: {cluster: fake, user: me, namespace: team-a}
- name: ctx-b
  context: {cluster: fake, user: me, namespace: team-b}
current-context: ctx-a
`, server)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func clusterFixtures() []v1.LLMDeployment {
	mk := func(ns, name string, ready bool) v1.LLMDeployment {
		l := v1.LLMDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}}
		l.Status.ObservedGeneration = 1
		c := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1.ReasonAvailable,
			Message: "1 of 1 replicas serve model " + name, LastTransitionTime: metav1.Now()}
		if !ready {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, v1.ReasonModelLoading, "1 of 1 replicas are downloading and loading the model"
		}
		l.Status.Conditions = []metav1.Condition{c}
		return l
	}
	a := mk("team-a", "llama-8b", true)
	a.Status.Usage = &v1.UsageStatus{Total: v1.UsageFigures{GPUHours: "10", Cost: "20", InputTokens: 3_000_000, OutputTokens: 1_000_000,
		CostPerMTok: "5.00", APIs: []v1.APIComparison{{Name: "gpt-4o", Cost: "17.50", Verdict: "Dearer"}}},
		Keys: []v1.KeyUsage{
			{Key: "team-a/chat", InputTokens: 2_000_000, OutputTokens: 500_000, Cost: "12.50",
				APIs: []v1.APIComparison{{Name: "gpt-4o", Cost: "10.00", Verdict: "Dearer"}}},
			{Key: "team-b/batch", InputTokens: 1_000_000, OutputTokens: 500_000, Cost: "7.50",
				APIs: []v1.APIComparison{{Name: "gpt-4o", Cost: "7.50", Verdict: "Dearer"}}},
		}}
	return []v1.LLMDeployment{a, mk("team-b", "mistral-7b", false)}
}

// TestClusterCommands reads the cluster with kubectl's loading rules: the kubeconfig from --kubeconfig or
// $KUBECONFIG, the context's namespace unless -n or --context say otherwise, every namespace with -A.
func TestClusterCommands(t *testing.T) {
	srv, paths := fakeAPIServer(t, clusterFixtures())
	kubeconfig := writeKubeconfig(t, srv.URL)
	t.Setenv("KUBECONFIG", "")
	t.Setenv("COLUMNS", "")
	for _, tc := range []struct {
		name     string
		env      string // $KUBECONFIG
		args     []string
		wantCode int
		want     []string
		notWant  []string
		wantPath string
	}{
		{name: "status in the context's namespace", args: []string{"status", "--kubeconfig", kubeconfig},
			want: []string{"llama-8b: ready (Available)\n"}, notWant: []string{"mistral-7b"},
			wantPath: "/apis/serving.privatellm.dev/v1alpha1/namespaces/team-a/llmdeployments"},
		{name: "$KUBECONFIG", env: kubeconfig, args: []string{"status"}, want: []string{"llama-8b: ready (Available)\n"}},
		{name: "-n", args: []string{"status", "--kubeconfig", kubeconfig, "-n", "team-b"},
			want: []string{"mistral-7b: not ready (ModelLoading)\n  1 of 1 replicas are downloading"}, notWant: []string{"llama-8b"}},
		{name: "--context", args: []string{"status", "--kubeconfig", kubeconfig, "--context", "ctx-b"}, want: []string{"mistral-7b: not ready"}},
		{name: "one by name", args: []string{"status", "llama-8b", "--kubeconfig", kubeconfig},
			want:     []string{"llama-8b: ready (Available)\n  1 of 1 replicas serve model llama-8b\n"},
			wantPath: "/apis/serving.privatellm.dev/v1alpha1/namespaces/team-a/llmdeployments/llama-8b"},
		{name: "a name that is not there", args: []string{"status", "gone", "--kubeconfig", kubeconfig}, wantCode: exitError,
			want: []string{"LLMDeployment gone not found in namespace team-a"}},
		{name: "status of all namespaces", args: []string{"status", "-A", "--kubeconfig", kubeconfig},
			want: []string{"team-a/llama-8b: ready", "team-b/mistral-7b: not ready"}, wantPath: "/apis/serving.privatellm.dev/v1alpha1/llmdeployments"},
		{name: "an empty namespace", args: []string{"status", "-n", "team-c", "--kubeconfig", kubeconfig},
			want: []string{"No LLMDeployments found in namespace team-c.\n"}},
		{name: "cost", args: []string{"cost", "--kubeconfig", kubeconfig},
			want: []string{"llama-8b*  10.0       20.00  3M         1M          5.00    17.50         Dearer"}},
		{name: "cost of all namespaces", args: []string{"cost", "-A", "--window", "total", "--kubeconfig", kubeconfig},
			want: []string{"NAMESPACE  NAME", "team-b     mistral-7b  -", "- team-b/mistral-7b: no status.usage"}},
		{name: "cost by key", args: []string{"cost", "--by-key", "--kubeconfig", kubeconfig},
			want: []string{
				"Usage by API key since the operator began counting (status.usage.keys): keys have no 24h window.\n" +
					"KEY           MODELS  TOKENS IN  TOKENS OUT  COST   gpt-4o EQUIV  VERDICT\n" +
					"team-a/chat   1       2M         500k        12.50  10.00         Dearer\n" +
					"team-b/batch  1       1M         500k        7.50   7.50          Dearer\n" +
					"TOTAL         1       3M         1M          20.00  17.50         Dearer\n"},
			notWant:  []string{"mistral-7b"},
			wantPath: "/apis/serving.privatellm.dev/v1alpha1/namespaces/team-a/llmdeployments"},
		{name: "cost by key of all namespaces", args: []string{"cost", "-A", "--by-key", "--window", "total", "--kubeconfig", kubeconfig},
			want:     []string{"team-a/chat   1", "- team-b/mistral-7b: no status.usage:"},
			wantPath: "/apis/serving.privatellm.dev/v1alpha1/llmdeployments"},
		{name: "a context that is not there", args: []string{"cost", "--kubeconfig", kubeconfig, "--context", "nope"}, wantCode: exitError,
			want: []string{"context was not found for specified context: nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			paths.take()
			code, out, errOut := runCmd(t, "", tc.args...)
			asked := paths.take()
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.wantCode, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("the output lacks %q:\n%s%s", w, out, errOut)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("the output has %q:\n%s", w, out)
				}
			}
			if tc.wantPath != "" && !slices.Contains(asked, tc.wantPath) {
				t.Errorf("no request for %s; requests: %v", tc.wantPath, asked)
			}
		})
	}
}

// TestFitCheckpointCommand: fit --checkpoint sizes a model from its directory, taking a pre-quantized
// checkpoint's method unless --quantization says otherwise.
func TestFitCheckpointCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), hubsim.ModelConfig(hubsim.Config{Quantization: hubsim.AWQ()}), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(5_700_000_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"fit", "--checkpoint", dir, "--gpu", "NVIDIA-L4", "--context", "8192"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "quantization awq") || !strings.Contains(out.String(), "Fits on 1 × NVIDIA-L4") {
		t.Errorf("report:\n%s", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"fit", "--checkpoint", t.TempDir(), "--gpu", "NVIDIA-L4"}, nil, &out, &errOut); code != 1 {
		t.Errorf("a directory without config.json: exit %d, want 1", code)
	}
}
