package modelcache

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cache"
	"github.com/privatellm/privatellm/internal/loader"
	"github.com/privatellm/privatellm/internal/render"
)

// observe reads the download Job and its pods into the status: the report once it ended, the progress while it
// runs. It returns how soon to look again.
func (r *Reconciler) observe(ctx context.Context, mc *v1.ModelCache, job *batchv1.Job, pods []corev1.Pod, claim string, now time.Time) time.Duration {
	if t := firstStart(pods); t != nil && (mc.Status.DownloadStarted == nil || t.Before(mc.Status.DownloadStarted)) {
		mc.Status.DownloadStarted = t
	}
	switch {
	case jobFinished(job, batchv1.JobComplete):
		r.completed(mc, pods, now)
		return 0
	case jobFinished(job, batchv1.JobFailed):
		r.failed(mc, job, pods)
		return 0
	}
	if len(pods) == 0 {
		setDownloading(mc, "waiting for the download Job "+job.Name+" to create its pod")
		return ProgressInterval
	}
	pod := &pods[0]
	attempt := ""
	if job.Status.Failed > 0 {
		attempt = fmt.Sprintf(" (attempt %d; the last one failed: %s)", job.Status.Failed+1, lastFailure(pods))
	}
	switch {
	case pod.Status.Phase == corev1.PodPending:
		setDownloading(mc, fmt.Sprintf("the download pod %s is Pending: %s%s", pod.Name, pendingReason(pod, claim), attempt))
	case pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "":
		if p := mc.Status.Progress; p == nil || now.Sub(p.UpdatedAt.Time) >= ProgressInterval {
			if got, err := r.readProgress(ctx, pod.Status.PodIP); err != nil {
				ctrl.LoggerFrom(ctx).V(1).Info("Reading the loader's progress failed", "pod", pod.Name, "error", err.Error())
			} else {
				prog := cache.Progress(got.FilesDone, got.FilesTotal, got.BytesDone, got.BytesTotal, got.BytesPerSecond, now)
				mc.Status.Progress = &prog
				if got.Commit != "" {
					mc.Status.Commit = got.Commit
				}
			}
		}
		setDownloading(mc, fmt.Sprintf("downloading %s at %s: %s%s", mc.Spec.Source, mc.Spec.Revision, cache.ProgressMessage(mc.Status.Progress), attempt))
	}
	return ProgressInterval
}

// completed records a finished download from its report.
func (r *Reconciler) completed(mc *v1.ModelCache, pods []corev1.Pod, now time.Time) {
	pod := newestIn(pods, corev1.PodSucceeded)
	rep, term, ok := reportOf(pod)
	if !ok || rep.Commit == "" && !cache.IsPVC(mc.Spec) {
		setStalled(mc, v1.ReasonCacheFailed, "the download Job completed, but its pod left no report (the loader's termination message): delete the Job to download again")
		return
	}
	mc.Status.Commit = rep.Commit
	mc.Status.Checkpoint = cache.CheckpointStatus(rep.Checkpoint, rep.Files, rep.Bytes, rep.ModelFile)
	speed := int64(0)
	if rep.Seconds > 0 {
		speed = int64(float64(rep.Downloaded) / rep.Seconds)
	}
	prog := cache.Progress(rep.Files, rep.Files, rep.Bytes, rep.Bytes, speed, now)
	mc.Status.Progress = &prog
	if !term.FinishedAt.IsZero() {
		t := term.FinishedAt
		mc.Status.DownloadFinished = &t
	}
	msg := fmt.Sprintf("%d files, %s, of %s at commit %s, verified (%s downloaded in %.0fs)", rep.Files, cache.SizeText(rep.Bytes),
		mc.Spec.Source, rep.Commit, cache.SizeText(rep.Downloaded), rep.Seconds)
	if cache.IsPVC(mc.Spec) {
		msg = fmt.Sprintf("%d files, %s, of %s: config.json and weights present (checked in place, nothing copied)", rep.Files, cache.SizeText(rep.Bytes), mc.Spec.Source)
	}
	if rep.Message != "" {
		msg += "; " + rep.Message
	}
	if !isReadyCondition(mc) {
		r.event(mc, corev1.EventTypeNormal, v1.ReasonCached, "%s", msg)
	}
	setConditions(mc, true, false, false, v1.ReasonCached, msg)
}

// failed records a download that cannot succeed: the loader's typed reason, or the Job's.
func (r *Reconciler) failed(mc *v1.ModelCache, job *batchv1.Job, pods []corev1.Pod) {
	reason, msg := v1.ReasonCacheFailed, "the download Job failed"
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			msg = fmt.Sprintf("the download Job failed (%s: %s)", c.Reason, c.Message)
		}
	}
	if rep, _, ok := reportOf(newestIn(pods, corev1.PodFailed)); ok && rep.Reason != "" {
		reason, msg = rep.Reason, rep.Message
	}
	msg += fmt.Sprintf("; once that is fixed, delete the Job %s/%s to download again", job.Namespace, job.Name)
	if !conditionIs(mc, v1.ConditionStalled, reason) {
		r.event(mc, corev1.EventTypeWarning, reason, "%s", msg)
	}
	setStalled(mc, reason, msg)
}

// readProgress asks a running loader how far it is (GET /progress).
func (r *Reconciler) readProgress(ctx context.Context, ip string) (loader.Progress, error) {
	hc := r.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 3 * time.Second}
	}
	u := "http://" + net.JoinHostPort(ip, strconv.Itoa(render.LoaderProgressPort)) + "/progress"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return loader.Progress{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return loader.Progress{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return loader.Progress{}, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return loader.Progress{}, fmt.Errorf("GET %s: %w", u, err)
	}
	p, err := loader.DecodeProgress(raw)
	if err != nil {
		return loader.Progress{}, fmt.Errorf("GET %s: %w", u, err)
	}
	return p, nil
}

// reportOf is the loader's report in a finished pod's termination message.
func reportOf(pod *corev1.Pod) (loader.Report, corev1.ContainerStateTerminated, bool) {
	if pod == nil {
		return loader.Report{}, corev1.ContainerStateTerminated{}, false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != "loader" || cs.State.Terminated == nil {
			continue
		}
		rep, err := loader.Decode([]byte(cs.State.Terminated.Message))
		return rep, *cs.State.Terminated, err == nil
	}
	return loader.Report{}, corev1.ContainerStateTerminated{}, false
}

// lastFailure is what the newest failed pod's report says.
func lastFailure(pods []corev1.Pod) string {
	rep, term, ok := reportOf(newestIn(pods, corev1.PodFailed))
	switch {
	case ok && rep.Reason != "":
		return rep.Reason + ": " + rep.Message
	case term.Reason != "":
		return fmt.Sprintf("%s, exit code %d", term.Reason, term.ExitCode)
	}
	return "no report"
}

// pendingReason says why the download pod has not started: unschedulable, its volume unbound, its Secret missing.
func pendingReason(pod *corev1.Pod, claim string) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
			return c.Message + " (the cache's claim is " + claim + ")"
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason + ": " + w.Message
		}
	}
	return "waiting to be scheduled and started"
}

func jobFinished(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func newestIn(pods []corev1.Pod, phase corev1.PodPhase) *corev1.Pod {
	for i := range pods {
		if pods[i].Status.Phase == phase {
			return &pods[i]
		}
	}
	return nil
}

// firstStart is when the first download pod started.
func firstStart(pods []corev1.Pod) *metav1.Time {
	var first *metav1.Time
	for i := range pods {
		if t := pods[i].Status.StartTime; t != nil && (first == nil || t.Before(first)) {
			first = t.DeepCopy()
		}
	}
	return first
}

func isReadyCondition(mc *v1.ModelCache) bool {
	return conditionIs(mc, v1.ConditionReady, v1.ReasonCached)
}

// conditionIs says whether the condition of type t is True with that reason.
func conditionIs(mc *v1.ModelCache, t, reason string) bool {
	for _, c := range mc.Status.Conditions {
		if c.Type == t {
			return c.Status == metav1.ConditionTrue && c.Reason == reason
		}
	}
	return false
}
