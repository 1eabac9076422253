//go:build linux

package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// BuildManager builds the operator (./cmd of the repository at repoRoot) into dir and returns the binary's path.
func BuildManager(ctx context.Context, repoRoot, dir string) (string, error) {
	return build(ctx, repoRoot, "./cmd", dir+"/manager")
}

// BuildGateway builds the gateway (./cmd/gateway) into dir and returns the binary's path.
func BuildGateway(ctx context.Context, repoRoot, dir string) (string, error) {
	return build(ctx, repoRoot, "./cmd/gateway", dir+"/gateway")
}

func build(ctx context.Context, repoRoot, pkg, bin string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w: %s", pkg, err, out)
	}
	return bin, nil
}

// Operator is the manager (or the gateway) run as its own process against a cluster, as the end-to-end and Helm
// suites use it. It dies with the test process (parent-death signal) and appends its output to Log.
type Operator struct {
	// Bin is the manager binary; Kubeconfig the only identity it gets (no in-cluster fallback); Log its output.
	Bin, Kubeconfig, Log string
	// Args are its flags.
	Args []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start runs the process.
func (o *Operator) Start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	logf, err := os.OpenFile(o.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(o.Bin, o.Args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+o.Kubeconfig, "KUBERNETES_SERVICE_HOST=", "KUBERNETES_SERVICE_PORT=")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the operator: %w", err)
	}
	o.cmd = cmd
	return nil
}

// Kill ends the process with SIGKILL, as a node failure or OOM kill would: no lease release, no cleanup.
func (o *Operator) Kill() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd != nil {
		_ = o.cmd.Process.Kill()
		_ = o.cmd.Wait()
		o.cmd = nil
	}
}

// Stop ends the process with SIGTERM (it finishes reconciles and releases its lease), then SIGKILL after grace.
func (o *Operator) Stop(grace time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = o.cmd.Process.Kill()
		<-done
	}
	o.cmd = nil
}

// LogTail is the last n bytes of the process's output.
func (o *Operator) LogTail(n int) string {
	b, err := os.ReadFile(o.Log)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
