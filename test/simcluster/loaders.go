package simcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The model cache's download Job (docs/model-cache.md, "How the pieces meet"): with Options.Loader the pod agent
// runs the real loader for its pod, against whatever Hub the container's HF_ENDPOINT names (test/hubsim in the
// tests), writing to the folder behind the cache's claim, and reports its exit as the kubelet does for a
// restartPolicy Never pod, so that the real Job controller of kube-controller-manager applies the Job's
// podFailurePolicy to the loader's own exit status.

// LabelModelCache marks the pod of a ModelCache's download Job: the agent runs the loader in it.
const LabelModelCache = "serving.privatellm.dev/modelcache"

// maxTerminationMessage is how much of the termination-log file the kubelet keeps (4096 bytes).
const maxTerminationMessage = 4096

// logTailLines and logTailBytes bound the log tail that becomes the message with FallbackToLogsOnError, as the
// kubelet's.
const (
	logTailLines = 80
	logTailBytes = 2048
)

// loaderContainer is the container the loader runs in: the one named "loader", else the first.
func loaderContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == "loader" {
			return &pod.Spec.Containers[i]
		}
	}
	return &pod.Spec.Containers[0]
}

// loaderFor returns the loader process of a download Job's Running pod, or false when it needs none (or the
// agent runs no loader). The command is the loader binary with the container's args (its command is the image's
// path of the same binary), every mount path mapped to the folder behind it, the progress endpoint bound to the
// pod's IP, and the termination log in the pod's folder; the environment is the container's literal one, mapped
// too, and PATH.
func (a *podAgent) loaderFor(pod *corev1.Pod) (procSpec, []func() error, bool, error) {
	if a.loader == "" || !runningWithIP(pod) {
		return procSpec{}, nil, false, nil
	}
	ctr := loaderContainer(pod)
	paths, fills, err := a.sources.containerMounts(a.dir, pod, ctr)
	if err != nil {
		return procSpec{}, nil, false, err
	}
	termLog := filepath.Join(podDir(a.dir, pod.Namespace, pod.Name), "termination-log")
	args := append(bindProgress(paths.mapArgs(ctr.Args), pod.Status.PodIP), "--termination-log="+termLog)
	env := paths.literalEnv(ctr.Env)
	if !hasEnv(env, "PATH") {
		env = append(env, "PATH="+os.Getenv("PATH"))
	}
	return procSpec{kind: kindLoader, uid: pod.UID, args: strings.Join(args, "\x00"), env: strings.Join(env, "\x00"),
		termLog: termLog, logsOnError: ctr.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError}, fills, true, nil
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// bindProgress rewrites the loader's --progress-addr (":8081", "0.0.0.0:8081": every address of the pod) to the
// pod's IP: here every pod shares this machine's addresses, and the operator reaches the pod at <pod IP>:8081.
// Both of Go's flag spellings are understood: -progress-addr=:8081 and -progress-addr :8081, with one or two dashes.
func bindProgress(args []string, podIP string) []string {
	out := append([]string{}, args...)
	rebind := func(addr string) string {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || (host != "" && host != "0.0.0.0" && host != "::") {
			return addr
		}
		return net.JoinHostPort(podIP, port)
	}
	for i := 0; i < len(out); i++ {
		name, value, hasValue := strings.Cut(out[i], "=")
		if name != "--progress-addr" && name != "-progress-addr" {
			continue
		}
		switch {
		case hasValue:
			out[i] = name + "=" + rebind(value)
		case i+1 < len(out):
			out[i+1] = rebind(out[i+1])
			i++
		}
	}
	return out
}

// watchLoader waits for a loader process to end and, unless the agent stopped it (the pod was deleted), reports
// the container terminated as the kubelet does for a restartPolicy Never pod: phase Succeeded for exit 0, else
// Failed; the exit code, reason Completed or Error, the termination message (the termination-log file, at most
// 4096 bytes, else with FallbackToLogsOnError the log's tail for a failure), the start and end times; the
// container and the pod no longer Ready.
func (a *podAgent) watchLoader(ns, name string, pp *podProc) {
	<-pp.proc.done
	finished := time.Now()
	a.mu.Lock()
	stopped := pp.stopped || a.stopping
	a.mu.Unlock()
	if stopped {
		return
	}
	code := exitCode(pp.proc.waitErr)
	msg := readLimited(pp.spec.termLog, maxTerminationMessage)
	if msg == "" && code != 0 && pp.spec.logsOnError {
		msg = logTail(pp.proc.output(), logTailLines, logTailBytes)
	}
	phase, reason := corev1.PodSucceeded, "Completed"
	if code != 0 {
		phase, reason = corev1.PodFailed, "Error"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := a.reportTerminated(ctx, ns, name, pp, phase, corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, Message: msg,
			StartedAt: metav1.NewTime(pp.started), FinishedAt: metav1.NewTime(finished),
		})
		if err == nil || apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "simcluster: reporting the loader of pod %s/%s terminated: %v\n", ns, name, err)
			return
		case <-time.After(200 * time.Millisecond): // retry interval after a failed update (a conflict, say)
		}
	}
}

// reportTerminated writes the terminated container to the pod's status (a strategic merge patch: the Ready
// conditions by type, the container statuses whole).
func (a *podAgent) reportTerminated(ctx context.Context, ns, name string, pp *podProc, phase corev1.PodPhase,
	term corev1.ContainerStateTerminated) error {
	pod, err := a.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pod.UID != pp.spec.uid || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil // another pod of that name, or already reported
	}
	ctr := loaderContainer(pod)
	statuses := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		st := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: false, Started: new(bool)}
		st.State.Terminated = &term
		if c.Name != ctr.Name { // a second container of such a pod has nothing to run here: it ends with the pod
			st.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed",
				StartedAt: term.StartedAt, FinishedAt: term.FinishedAt}
		}
		statuses = append(statuses, st)
	}
	now := metav1.Now()
	notReady := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: "PodCompleted", LastTransitionTime: now}
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": pod.UID, "resourceVersion": pod.ResourceVersion},
		"status": map[string]any{
			"phase":             phase,
			"conditions":        []corev1.PodCondition{notReady(corev1.PodReady), notReady(corev1.ContainersReady)},
			"containerStatuses": statuses,
		},
	})
	if err != nil {
		return err
	}
	_, err = a.cs.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// exitCode is a process's exit status as the kubelet reports it: 128+n for a process killed by signal n.
func exitCode(err error) int32 {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int32(ws.Signal())
		}
		return int32(exit.ExitCode())
	}
	return 128 // could not be waited for: no status to report
}

// readLimited reads at most n bytes of a file ("" when there is none).
func readLimited(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, n))
	return string(b)
}

// logTail is the last lines of a log, at most maxBytes, as the kubelet's FallbackToLogsOnError keeps them.
func logTail(log string, lines, maxBytes int) string {
	tail := lastLines(log, lines)
	if len(tail) > maxBytes {
		tail = tail[len(tail)-maxBytes:]
	}
	return tail
}

// BuildLoader builds cmd/loader of this module into dir and returns the binary's path (Options.Loader). It needs
// the go command and runs inside the module (tests do).
func BuildLoader(ctx context.Context, dir string) (string, error) {
	return build(ctx, dir, "loader", "github.com/privatellm/privatellm/cmd/loader")
}
