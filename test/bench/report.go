package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Targets the report checks against.
const (
	targetRatio  = 1.2
	targetRSSMiB = 100 // at 1,000 objects
)

// result is everything the benchmark measured.
type result struct {
	n, nodes, gpus int
	readyDelay     time.Duration
	idle           time.Duration

	phaseA, phaseB, phaseC phaseTimes
	usageA, usageB, usageC usage
	phaseAWrites           counts
	phaseAReconciles       float64
	phaseAReconcileErrors  float64
	// phaseAReconcileSeconds is the time spent in Reconcile during phase A, over all workers.
	phaseAReconcileSeconds float64
	workers                int

	templatesCompared, templatesIdentical bool

	idleWrites     counts
	idleReconciles float64

	rssPeakKiB, rssKiB int64
}

// ratio is phase A's time over phase B's.
func (r *result) ratio() float64 { return r.phaseA.ready.Seconds() / r.phaseB.ready.Seconds() }

// ratioServices is phase A's time over phase C's: the operator against the same Deployments and Services made by
// hand.
func (r *result) ratioServices() float64 { return r.phaseA.ready.Seconds() / r.phaseC.ready.Seconds() }

// print writes the table for people, then the same figures as key=value lines.
func (r *result) print(w io.Writer) {
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	per := func(v float64) float64 { return v / float64(r.n) }

	fmt.Fprintln(w)
	fmt.Fprintln(w, "privatellm control-plane benchmark")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  objects (N)\t%d\t\n", r.n)
	fmt.Fprintf(tw, "  fake nodes / GPUs\t%d / %d NVIDIA-L4\t\n", r.nodes, r.gpus)
	fmt.Fprintf(tw, "  pod ready delay\t%s\t\n", r.readyDelay)
	fmt.Fprintf(tw, "  phase B: plain Deployments ready\t%.2f s\t(all created after %.2f s; the cluster's floor)\n", r.phaseB.ready.Seconds(), r.phaseB.created.Seconds())
	fmt.Fprintf(tw, "  phase C: plain Deployments + Services\t%.2f s\t(all created after %.2f s; the floor for what the operator makes)\n", r.phaseC.ready.Seconds(), r.phaseC.created.Seconds())
	fmt.Fprintf(tw, "  phase A: LLMDeployments Ready\t%.2f s\t(all created after %.2f s)\n", r.phaseA.ready.Seconds(), r.phaseA.created.Seconds())
	fmt.Fprintf(tw, "  ratio A/B\t%.2f\t(target ≤ %.1f: %s)\n", r.ratio(), targetRatio, verdict(r.ratio() <= targetRatio))
	fmt.Fprintf(tw, "  ratio A/C\t%.2f\t(the operator's own overhead; ≤ %.1f: %s)\n", r.ratioServices(), targetRatio, verdict(r.ratioServices() <= targetRatio))
	for _, ph := range []struct {
		name string
		u    usage
	}{{"B", r.usageB}, {"C", r.usageC}, {"A", r.usageA}} {
		cores := sum(ph.u.cpu) / ph.u.wall.Seconds()
		fmt.Fprintf(tw, "  CPU seconds in phase %s\t%.1f s\t(%.2f cores busy; per object ms: %s)\n", ph.name, sum(ph.u.cpu), cores,
			topEntries(ph.u.cpu, 6, float64(r.n)/1000, "%.1f"))
		fmt.Fprintf(tw, "  API writes in phase %s\t%d\t(%.1f per object: %s)\n", ph.name, int64(sum(ph.u.writes)), sum(ph.u.writes)/float64(r.n),
			topEntries(ph.u.writes, 30, float64(r.n), "%.2f"))
		fmt.Fprintf(tw, "  API reads in phase %s\t%d\t(%.1f per object: %s)\n", ph.name, int64(sum(ph.u.reads)), sum(ph.u.reads)/float64(r.n),
			topEntries(ph.u.reads, 12, float64(r.n), "%.2f"))
	}
	fmt.Fprintf(tw, "  operator writes in phase A\t%d\t(%s; %.1f per object)\n", int64(r.phaseAWrites.total()), r.phaseAWrites, per(r.phaseAWrites.total()))
	fmt.Fprintf(tw, "  operator reconciles in phase A\t%d\t(%.1f per object; %d errors)\n", int64(r.phaseAReconciles), per(r.phaseAReconciles), int64(r.phaseAReconcileErrors))
	fmt.Fprintf(tw, "  operator time in Reconcile, phase A\t%.2f s\t(%d worker(s); mean %.1f ms per reconcile)\n", r.phaseAReconcileSeconds, r.workers, 1000*r.phaseAReconcileSeconds/max(r.phaseAReconciles, 1))
	if r.templatesCompared {
		fmt.Fprintf(tw, "  Deployment specs identical (A vs B)\t%t\t\n", r.templatesIdentical)
	}
	if r.idle > 0 {
		fmt.Fprintf(tw, "  operator writes while idle (%s)\t%d\t(%s; target 0: %s)\n", r.idle, int64(r.idleWrites.total()), r.idleWrites, verdict(r.idleWrites.total() == 0))
		fmt.Fprintf(tw, "  operator reconciles while idle\t%d\t\n", int64(r.idleReconciles))
	}
	rssNote := fmt.Sprintf("target ≤ %d MiB at 1,000 objects", targetRSSMiB)
	if r.n >= 1000 {
		rssNote += ": " + verdict(mib(r.rssPeakKiB) <= targetRSSMiB)
	}
	fmt.Fprintf(tw, "  operator peak RSS (VmHWM)\t%.1f MiB\t(%s)\n", mib(r.rssPeakKiB), rssNote)
	fmt.Fprintf(tw, "  operator RSS at the end (VmRSS)\t%.1f MiB\t\n", mib(r.rssKiB))
	_ = tw.Flush()

	fmt.Fprintln(w)
	kv := func(k string, v any) { fmt.Fprintf(w, "%s=%v\n", k, v) }
	kv("n", r.n)
	kv("nodes", r.nodes)
	kv("gpus", r.gpus)
	kv("ready_delay_seconds", r.readyDelay.Seconds())
	kv("phase_a_seconds", fmt.Sprintf("%.3f", r.phaseA.ready.Seconds()))
	kv("phase_b_seconds", fmt.Sprintf("%.3f", r.phaseB.ready.Seconds()))
	kv("phase_c_seconds", fmt.Sprintf("%.3f", r.phaseC.ready.Seconds()))
	kv("ratio", fmt.Sprintf("%.3f", r.ratio()))
	kv("ratio_services", fmt.Sprintf("%.3f", r.ratioServices()))
	kv("phase_a_create_seconds", fmt.Sprintf("%.3f", r.phaseA.created.Seconds()))
	kv("phase_b_create_seconds", fmt.Sprintf("%.3f", r.phaseB.created.Seconds()))
	kv("phase_c_create_seconds", fmt.Sprintf("%.3f", r.phaseC.created.Seconds()))
	kv("phase_a_cpu_seconds", fmt.Sprintf("%.1f", sum(r.usageA.cpu)))
	kv("phase_b_cpu_seconds", fmt.Sprintf("%.1f", sum(r.usageB.cpu)))
	kv("phase_c_cpu_seconds", fmt.Sprintf("%.1f", sum(r.usageC.cpu)))
	kv("phase_a_api_writes", int64(sum(r.usageA.writes)))
	kv("phase_b_api_writes", int64(sum(r.usageB.writes)))
	kv("phase_c_api_writes", int64(sum(r.usageC.writes)))
	kv("phase_a_writes", int64(r.phaseAWrites.total()))
	for _, m := range writeMethods {
		kv("phase_a_writes_"+m, int64(r.phaseAWrites[m]))
	}
	kv("phase_a_reconciles", int64(r.phaseAReconciles))
	kv("phase_a_reconcile_errors", int64(r.phaseAReconcileErrors))
	kv("phase_a_reconcile_seconds", fmt.Sprintf("%.3f", r.phaseAReconcileSeconds))
	kv("workers", r.workers)
	if r.templatesCompared {
		kv("deployment_specs_identical", r.templatesIdentical)
	}
	if r.idle > 0 {
		kv("idle_seconds", r.idle.Seconds())
		kv("idle_writes", int64(r.idleWrites.total()))
		for _, m := range writeMethods {
			kv("idle_writes_"+m, int64(r.idleWrites[m]))
		}
		kv("idle_reconciles", int64(r.idleReconciles))
	}
	kv("rss_peak_mib", fmt.Sprintf("%.1f", mib(r.rssPeakKiB)))
	kv("rss_mib", fmt.Sprintf("%.1f", mib(r.rssKiB)))
}
