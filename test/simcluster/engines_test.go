package simcluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/privatellm/privatellm/test/simcluster"
)

// TestEngineSim runs engine-sim processes for the LLMDeployment pods of a cluster with Options.EngineSim, with the
// engine container's own command line, environment and user: a vLLM pod answers on its IP with the served name
// of its args, a TGI pod serves /info and /metrics on its port and honours the ready-delay annotation, a pod
// whose engine refuses its command line crash-loops with the engine's exit code and message, other pods get no
// engine, and deleting a Deployment stops its engine.
func TestEngineSim(t *testing.T) {
	binDir := simcluster.BinariesForTest(t)
	bin, err := simcluster.BuildEngineSim(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := simcluster.StartForTest(t, simcluster.Options{BinDir: binDir, EngineSim: bin, PodReadyDelay: time.Second,
		Nodes: []simcluster.NodePool{{Name: "cpu", CPU: "32", Memory: "128Gi"}}})
	ctx := t.Context()
	cl := c.Client()
	hc := &http.Client{Timeout: 5 * time.Second}

	engine := func(name string, annotations map[string]string, uid int64, command ...string) *appsv1.Deployment {
		d := deployment(name, 1, annotations)
		d.Spec.Template.Labels[simcluster.LabelLLMDeployment] = name
		ctr := &d.Spec.Template.Spec.Containers[0]
		ctr.Command, ctr.Args = command[:1], command[1:]
		ctr.Env = []corev1.EnvVar{{Name: "HOME", Value: "/home/engine"}}
		ctr.SecurityContext = &corev1.SecurityContext{RunAsUser: &uid}
		return d
	}
	vllm := engine("vllm-demo", nil, 1000, "vllm", "serve", "org/model", "--host=0.0.0.0", "--port=8000",
		"--served-model-name=demo", "--max-model-len=8192")
	tgi := engine("tgi-demo", map[string]string{simcluster.AnnotationReadyDelay: "1h"}, 0,
		"text-generation-launcher", "--model-id=org/model", "--hostname=0.0.0.0", "--port=8080", "--prometheus-port=9000")
	// vLLM 0.18 has no such flag: the real container exits 2, and so does engine-sim.
	refused := engine("refused", nil, 1000, "vllm", "serve", "org/model", "--host=0.0.0.0", "--no-such-flag")
	other := deployment("not-an-engine", 1, nil)
	for _, d := range []*appsv1.Deployment{vllm, tgi, refused, other} {
		if err := cl.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	podIP := func(app string) string {
		var ip string
		eventually(t, time.Minute, app+" Running with an IP", func() error {
			pods, err := podsOf(ctx, cl, app)
			if err != nil {
				return err
			}
			if len(pods) != 1 || pods[0].Status.Phase != corev1.PodRunning || pods[0].Status.PodIP == "" {
				return fmt.Errorf("%d pods, not one Running with an IP", len(pods))
			}
			ip = pods[0].Status.PodIP
			return nil
		})
		return ip
	}
	vllmIP, tgiIP := podIP("vllm-demo"), podIP("tgi-demo")
	podIP("not-an-engine")

	t.Run("vllm pod serves its model", func(t *testing.T) {
		base := "http://" + net.JoinHostPort(vllmIP, "8000")
		eventually(t, 30*time.Second, "/v1/models to list demo", func() error {
			body, err := get(ctx, hc, base+"/v1/models", http.StatusOK)
			if err != nil {
				return err
			}
			var models struct{ Data []struct{ ID string } }
			if err := json.Unmarshal([]byte(body), &models); err != nil {
				return fmt.Errorf("decode %q: %w", body, err)
			}
			if len(models.Data) != 1 || models.Data[0].ID != "demo" {
				return fmt.Errorf("models = %s", body)
			}
			return nil
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(
			`{"model":"demo","messages":[{"role":"user","content":"Hello!"}],"max_tokens":4}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("chat completion: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var chat struct {
			Model   string
			Choices []struct{ Message struct{ Content string } }
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &chat) != nil || chat.Model != "demo" ||
			len(chat.Choices) != 1 || chat.Choices[0].Message.Content != "token token token token" {
			t.Fatalf("chat completion = %s %s", resp.Status, b)
		}
		if _, err := get(ctx, hc, base+"/metrics", http.StatusOK); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("tgi pod: listens only once its model is loaded (the ready-delay annotation)", func(t *testing.T) {
		addr := net.JoinHostPort(tgiIP, "8080")
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Fatalf("a TGI pod with a 1h load delay answers on %s: TGI listens only after warmup", addr)
		}
	})

	t.Run("an engine that refuses its command line crash-loops with its exit code and message", func(t *testing.T) {
		eventually(t, time.Minute, "refused in CrashLoopBackOff", func() error {
			pods, err := podsOf(ctx, cl, "refused")
			if err != nil || len(pods) != 1 {
				return fmt.Errorf("%d pods (%v)", len(pods), err)
			}
			p := pods[0]
			if len(p.Status.ContainerStatuses) != 1 {
				return fmt.Errorf("container statuses %v", p.Status.ContainerStatuses)
			}
			cs := p.Status.ContainerStatuses[0]
			last := cs.LastTerminationState.Terminated
			if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || last == nil || cs.Ready {
				return fmt.Errorf("state %+v, last %+v", cs.State, cs.LastTerminationState)
			}
			if last.ExitCode != 2 || !strings.Contains(last.Message, "unrecognized arguments: --no-such-flag") {
				return fmt.Errorf("last termination: exit %d, message %q", last.ExitCode, last.Message)
			}
			return nil
		})
	})

	t.Run("only engine pods get an engine", func(t *testing.T) {
		got := c.EngineSims()
		slices.Sort(got)
		if len(got) != 2 || !strings.HasPrefix(got[0], "default/tgi-demo-") || !strings.HasPrefix(got[1], "default/vllm-demo-") {
			t.Fatalf("running engine-sim processes for %v, want one tgi-demo and one vllm-demo pod (the refused one exited)", got)
		}
	})

	t.Run("deleting the Deployment stops the engine", func(t *testing.T) {
		if err := cl.Delete(ctx, vllm, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort(vllmIP, "8000")
		eventually(t, time.Minute, "the pod gone and "+addr+" closed", func() error {
			if pods, err := podsOf(ctx, cl, "vllm-demo"); err != nil || len(pods) > 0 {
				return fmt.Errorf("%d pods left (%v)", len(pods), err)
			}
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				return fmt.Errorf("%s still answers", addr)
			}
			return nil
		})
		if got := c.EngineSims(); len(got) != 1 || !strings.HasPrefix(got[0], "default/tgi-demo-") {
			t.Fatalf("engine-sim processes for %v after the delete, want only tgi-demo", got)
		}
	})

	t.Run("Stop ends the remaining engines", func(t *testing.T) {
		if err := c.Stop(); err != nil { // idempotent: the cleanup of StartForTest calls it again
			t.Fatal(err)
		}
		if got := c.EngineSims(); len(got) != 0 {
			t.Errorf("engine-sim processes after Stop: %v", got)
		}
		if got := c.EngineSims(); len(got) != 0 {
			t.Errorf("engine-sim processes after Stop: %v", got)
		}
	})
}

// get GETs url and returns the body, or an error when it fails or the status is not want.
func get(ctx context.Context, hc *http.Client, url string, want int) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != want {
		return string(b), fmt.Errorf("GET %s: %s, want %d: %s", url, resp.Status, want, b)
	}
	return string(b), nil
}
