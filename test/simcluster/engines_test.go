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

// TestEngineSim runs engine-sim processes for the engine pods of a cluster with Options.EngineSim: a vLLM pod
// answers on its IP with the served name of its args, a TGI pod serves /info and its exporter port and honours
// the ready-delay annotation, other pods get no engine, and deleting a Deployment stops its engine.
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

	vllm := deployment("vllm-demo", 1, nil)
	ctr := &vllm.Spec.Template.Spec.Containers[0]
	ctr.Name = simcluster.EngineContainerVLLM
	ctr.Args = []string{"serve", "org/model", "--host=0.0.0.0", "--port=8000", "--served-model-name=demo", "--max-model-len=8192"}
	ctr.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}}

	tgi := deployment("tgi-demo", 1, map[string]string{simcluster.AnnotationReadyDelay: "1h"})
	tgi.Spec.Template.Labels[simcluster.LabelLLMDeployment] = "mistral"
	ctr = &tgi.Spec.Template.Spec.Containers[0]
	ctr.Name = simcluster.EngineContainerTGI
	ctr.Args = []string{"--model-id=org/model", "--hostname=0.0.0.0", "--port=8080", "--prometheus-port=9000"}
	ctr.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9000}}

	other := deployment("not-an-engine", 1, nil)
	for _, d := range []*appsv1.Deployment{vllm, tgi, other} {
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

	t.Run("tgi pod: label as the name, exporter port, ready-delay as the load delay", func(t *testing.T) {
		base := "http://" + net.JoinHostPort(tgiIP, "8080")
		eventually(t, 30*time.Second, "/info of mistral", func() error {
			body, err := get(ctx, hc, base+"/info", http.StatusOK)
			if err != nil {
				return err
			}
			if !strings.Contains(body, `"model_id":"mistral"`) {
				return fmt.Errorf("info = %s", body)
			}
			return nil
		})
		if _, err := get(ctx, hc, base+"/health", http.StatusServiceUnavailable); err != nil {
			t.Fatalf("a pod with a 1h ready delay: %v", err)
		}
		body, err := get(ctx, hc, "http://"+net.JoinHostPort(tgiIP, "9000")+"/metrics", http.StatusOK)
		if err != nil || !strings.Contains(body, "tgi_queue_size 0") {
			t.Fatalf("exporter: %v %s", err, body)
		}
	})

	t.Run("only engine pods get an engine", func(t *testing.T) {
		got := c.EngineSims()
		slices.Sort(got)
		if len(got) != 2 || !strings.HasPrefix(got[0], "default/tgi-demo-") || !strings.HasPrefix(got[1], "default/vllm-demo-") {
			t.Fatalf("engine-sim processes for %v, want one tgi-demo and one vllm-demo pod", got)
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
		for _, port := range []string{"8080", "9000"} {
			if conn, err := net.DialTimeout("tcp", net.JoinHostPort(tgiIP, port), time.Second); err == nil {
				conn.Close()
				t.Errorf("the TGI engine-sim still answers on %s:%s after Stop", tgiIP, port)
			}
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
