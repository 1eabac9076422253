package enginesim_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/enginesim"
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

// TestRun serves TGI on two ports, as the command does, and stops when the context ends.
func TestRun(t *testing.T) {
	port, metricsPort := freePort(t), freePort(t)
	opts, err := enginesim.ParseArgs([]string{"--engine=tgi", "--hostname=127.0.0.1", fmt.Sprintf("--port=%d", port),
		fmt.Sprintf("--prometheus-port=%d", metricsPort), "--served-model-name=demo", "--unknown-flag=1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- enginesim.Run(ctx, opts, io.Discard) }()

	api, metrics := fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", metricsPort)
	eventually(t, 10*time.Second, "the API port", func() string {
		if _, _, err := send(context.Background(), "GET", api+"/health", ""); err != nil {
			return err.Error()
		}
		return ""
	})
	if code, body := do(t, context.Background(), "GET", api+"/info", ""); code != 200 {
		t.Fatalf("/info = %d %s", code, body)
	}
	if m := scrape(t, metrics); m["tgi_queue_size"] != 0 {
		t.Fatalf("exporter: %v", m)
	}
	// A second engine cannot bind the same port.
	if err := enginesim.Run(context.Background(), opts, io.Discard); err == nil {
		t.Fatal("a second Run on the same ports succeeded")
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
		t.Fatal("the API port still answers after Run returned")
	}
}
