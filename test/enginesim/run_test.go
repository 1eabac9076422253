package enginesim_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/privatellm/privatellm/test/enginesim"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRun serves an engine on its port and stops when the context ends. vLLM and TGI listen only once the model
// is loaded; SGLang and llama.cpp answer 503 meanwhile.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		engine        string
		argv          []string
		listensEarly  bool
		extraPath     string
		extraPathCode int
	}{
		{"tgi", []string{"text-generation-launcher", "--model-id=org/m", "--hostname=127.0.0.1", "--port=%d", "--prometheus-port=9000"}, false, "/info", 200},
		{"sglang", []string{"python3", "-m", "sglang.launch_server", "--model-path=org/m", "--host=127.0.0.1", "--port=%d", "--enable-metrics"}, true, "/health_generate", 200},
		{"llamacpp", []string{"llama-server", "-hf", "org/m-GGUF:Q4_K_M", "--host", "127.0.0.1", "--port", "%d"}, true, "/metrics", 501},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			port := freePort(t)
			args := []string{"--uid=0", "--load-delay=600ms", "--"}
			for _, a := range tc.argv {
				if strings.Contains(a, "%d") {
					a = fmt.Sprintf(a, port)
				}
				args = append(args, a)
			}
			opts, err := enginesim.ParseArgs(args, io.Discard, []string{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- enginesim.Run(ctx, opts, io.Discard) }()

			api := fmt.Sprintf("http://127.0.0.1:%d", port)
			if tc.listensEarly {
				eventually(t, 10*time.Second, "503 while loading", func() string {
					code, _, err := send(context.Background(), "GET", api+"/health", "")
					if err != nil || code != 503 {
						return fmt.Sprintf("%d %v", code, err)
					}
					return ""
				})
			} else if _, _, err := send(context.Background(), "GET", api+"/health", ""); err == nil {
				t.Fatal("the engine answers before its model is loaded; it must not listen yet")
			}
			eventually(t, 10*time.Second, "200 once loaded", func() string {
				code, _, err := send(context.Background(), "GET", api+"/health", "")
				if err != nil || code != 200 {
					return fmt.Sprintf("%d %v", code, err)
				}
				return ""
			})
			if code, body := do(t, context.Background(), "GET", api+tc.extraPath, ""); code != tc.extraPathCode {
				t.Fatalf("%s = %d %s, want %d", tc.extraPath, code, body, tc.extraPathCode)
			}
			// A second engine cannot bind the same port.
			if err := enginesim.Run(context.Background(), opts, io.Discard); err == nil {
				t.Fatal("a second Run on the same port succeeded")
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run after cancel: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return 10s after its context ended")
			}
			if _, _, err := send(context.Background(), "GET", api+"/health", ""); err == nil {
				t.Fatal("the port still answers after Run returned")
			}
		})
	}
}
