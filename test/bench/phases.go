package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/config"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/render"
	"github.com/privatellm/privatellm/test/simcluster"
)

const (
	// namespacesPerPhase spreads each phase's objects over this many namespaces.
	namespacesPerPhase = 4
	// createWorkers is how many create requests are in flight at once, in both phases.
	createWorkers = 16
	// warmUpObjects is the size of the warm-up round (plain Deployments).
	warmUpObjects = 20
	// settle is the pause before each measured phase, for the cluster to finish what the previous step left.
	settle = 5 * time.Second

	// labelPhase marks every object the benchmark creates (and the pods of plain Deployments) with its phase.
	labelPhase = "bench.privatellm.dev/phase"
	// labelPlain replaces render.LabelLLMDeployment as the pod selector of plain Deployments.
	labelPlain = "bench.privatellm.dev/plain"

	phaseLLM     = "llm"
	phasePlain   = "plain"
	phaseWithSvc = "plainsvc"
	phaseWarmUp  = "warmup"
)

// bench holds what the phases share.
type bench struct {
	c       client.WithWatch
	cluster *simcluster.Cluster
	// api is the cluster's core REST client, for the API server's /metrics and profiles.
	api     rest.Interface
	op      *operator
	n       int
	timeout time.Duration
	// profileDir, when set, gets an API server CPU profile of profileFor from the start of each measured phase.
	profileDir string
	profileFor time.Duration
	// plainSample is the live plain Deployment of object 0, kept to compare with the operator's.
	plainSample *appsv1.Deployment
}

// installCRD applies config/crd/bases with the cluster's kubectl, as a user would, and waits until it is served.
func installCRD(ctx context.Context, cluster *simcluster.Cluster, root string) error {
	kubectl := func(args ...string) error {
		cmd := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "kubectl"),
			append([]string{"--kubeconfig", cluster.Kubeconfig()}, args...)...)
		var out bytes.Buffer
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out.String())
		}
		return nil
	}
	if err := kubectl("apply", "--server-side", "-f", filepath.Join("config", "crd", "bases")); err != nil {
		return fmt.Errorf("installing the CRD: %w", err)
	}
	return kubectl("wait", "--for=condition=Established", "crd/llmdeployments.serving.privatellm.dev", "--timeout=60s")
}

// namespace returns the namespace of object i of a phase.
func namespace(phase string, i int) string {
	if phase == phaseWarmUp {
		return "bench-warmup"
	}
	return fmt.Sprintf("bench-%s-%d", phase, i%namespacesPerPhase)
}

func (b *bench) createNamespaces(ctx context.Context) error {
	names := []string{namespace(phaseWarmUp, 0)}
	for i := range namespacesPerPhase {
		names = append(names, namespace(phaseLLM, i), namespace(phasePlain, i), namespace(phaseWithSvc, i))
	}
	for _, name := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := b.c.Create(ctx, ns); err != nil {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	// Pods are refused until the namespace's default service account exists.
	return pollUntil(ctx, time.Minute, func() (bool, error) {
		for _, name := range names {
			if err := b.c.Get(ctx, client.ObjectKey{Namespace: name, Name: "default"}, &corev1.ServiceAccount{}); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// llmDeployment is object i of a phase: one NVIDIA L4, a vLLM model from the Hugging Face Hub, all else default.
// The engine is named although vllm is the default: spec.engine.name has no omitempty, so a Go client that leaves
// it out sends "" and is refused.
func llmDeployment(phase string, i int) *v1.LLMDeployment {
	return &v1.LLMDeployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("model-%d", i), Namespace: namespace(phase, i),
			Labels: map[string]string{labelPhase: phase},
		},
		Spec: v1.LLMDeploymentSpec{
			Model:  v1.ModelSpec{URI: fmt.Sprintf("hf://org/model-%d", i)},
			Engine: v1.EngineSpec{Name: v1.DefaultEngine},
			GPU:    v1.GPUSpec{Count: ptr.To(int32(1)), Products: []string{"NVIDIA-L4"}},
		},
	}
}

// plainObjects renders n plain Deployments of a phase exactly as the operator would render the LLMDeployments,
// and with withServices the Service of each as well: each LLMDeployment is first created as a dry run, so the
// server's defaults are in, then rendered with the operator's default configuration. The operator's labels and
// selector are replaced, and there is no owner, so the operator never sees them (its caches hold only objects
// labelled app.kubernetes.io/managed-by=privatellm).
func (b *bench) plainObjects(ctx context.Context, phase string, n int, withServices bool) ([]client.Object, error) {
	defaults := config.Default().EngineImages()
	deploys := make([]client.Object, n)
	svcs := make([]client.Object, n)
	err := forEach(ctx, n, func(ctx context.Context, i int) error {
		llm := llmDeployment(phase, i)
		if err := b.c.Create(ctx, llm, client.DryRunAll); err != nil {
			return fmt.Errorf("dry-run create of %s/%s: %w", llm.Namespace, llm.Name, err)
		}
		plan, err := engine.For(llm, defaults)
		if err != nil {
			return err
		}
		relabel := func(m map[string]string) {
			delete(m, render.LabelManagedBy)
			delete(m, render.LabelLLMDeployment)
			m[labelPlain] = llm.Name
		}
		d := render.Deployment(llm, plan)
		relabel(d.Labels)
		relabel(d.Spec.Selector.MatchLabels)
		relabel(d.Spec.Template.Labels)
		delete(d.Spec.Selector.MatchLabels, labelPhase)
		d.Labels[labelPhase] = phase
		d.Spec.Template.Labels[labelPhase] = phase
		deploys[i] = d

		if withServices {
			svc := render.Service(llm, plan)
			relabel(svc.Labels)
			relabel(svc.Spec.Selector)
			delete(svc.Spec.Selector, labelPhase)
			svc.Labels[labelPhase] = phase
			svcs[i] = svc
		}
		return nil
	})
	if !withServices {
		return deploys, err
	}
	// Each Service right before its Deployment, as the operator applies them.
	objs := make([]client.Object, 0, 2*n)
	for i := range n {
		objs = append(objs, svcs[i], deploys[i])
	}
	return objs, err
}

// warmUp creates a few plain Deployments, waits until they are Ready and deletes them again.
func (b *bench) warmUp(ctx context.Context) error {
	n := min(warmUpObjects, b.n)
	objs, err := b.plainObjects(ctx, phaseWarmUp, n, false)
	if err != nil {
		return err
	}
	logf("warm-up: %d plain Deployments", n)
	if _, err := b.measure(ctx, "warm-up", objs, n, &appsv1.DeploymentList{}, phaseWarmUp, deploymentReady); err != nil {
		return err
	}
	return b.deletePlain(ctx, phaseWarmUp)
}

// phaseB measures the floor: n plain Deployments to readyReplicas 1, then deletes them and waits for their pods.
func (b *bench) phaseB(ctx context.Context, r *result) error {
	return b.plainPhase(ctx, "phase B", phasePlain, false, &r.phaseB, &r.usageB)
}

// phaseC measures the floor with what the operator publishes too: n plain Deployments, each with the Service the
// operator would render for it, to readyReplicas 1; then deletes them and waits for their pods.
func (b *bench) phaseC(ctx context.Context, r *result) error {
	return b.plainPhase(ctx, "phase C", phaseWithSvc, true, &r.phaseC, &r.usageC)
}

// plainPhase creates a phase's plain objects, measures them to ready, and deletes them again.
func (b *bench) plainPhase(ctx context.Context, what, phase string, withServices bool, times *phaseTimes, u *usage) error {
	objs, err := b.plainObjects(ctx, phase, b.n, withServices)
	if err != nil {
		return err
	}
	pause(ctx, settle)
	desc := "plain Deployments"
	if withServices {
		desc += " with their Services"
	}
	logf("%s: %d %s", what, b.n, desc)
	if *u, err = b.observe(ctx, phase, func() (err error) {
		*times, err = b.measure(ctx, what, objs, b.n, &appsv1.DeploymentList{}, phase, deploymentReady)
		return err
	}); err != nil {
		return err
	}
	if b.plainSample == nil {
		b.plainSample = &appsv1.Deployment{}
		if err := b.c.Get(ctx, client.ObjectKey{Namespace: namespace(phase, 0), Name: "model-0"}, b.plainSample); err != nil {
			return err
		}
	}
	return b.deletePlain(ctx, phase)
}

// phaseA measures the operator: n LLMDeployments to Ready at their current generation. It also counts the
// operator's writes and reconciles during the phase.
func (b *bench) phaseA(ctx context.Context, r *result) error {
	op := b.op
	objs := make([]client.Object, b.n)
	for i := range objs {
		objs[i] = llmDeployment(phaseLLM, i)
	}
	pause(ctx, settle)
	before, err := op.scrape(ctx)
	if err != nil {
		return err
	}
	logf("phase A: %d LLMDeployments", b.n)
	if r.usageA, err = b.observe(ctx, phaseLLM, func() (err error) {
		r.phaseA, err = b.measure(ctx, "phase A", objs, b.n, &v1.LLMDeploymentList{}, phaseLLM, llmReady)
		return err
	}); err != nil {
		return err
	}
	after, err := op.scrape(ctx)
	if err != nil {
		return err
	}
	r.phaseAWrites = after.writes().minus(before.writes())
	r.phaseAReconciles = after.reconciles() - before.reconciles()
	r.phaseAReconcileErrors = after.reconcileErrors() - before.reconcileErrors()
	r.phaseAReconcileSeconds = after.reconcileSeconds() - before.reconcileSeconds()
	r.workers = int(after.workers())
	return nil
}

// observe runs a measured phase between two snapshots of the processes' CPU times and the API server's writes,
// and profiles the API server meanwhile when asked to.
func (b *bench) observe(ctx context.Context, phase string, measure func() error) (usage, error) {
	start, err := b.snapshot(ctx)
	if err != nil {
		return usage{}, err
	}
	var profiled []func() error
	if b.profileDir != "" {
		profiled = append(profiled,
			profileAPIServer(ctx, b.api, b.profileFor, filepath.Join(b.profileDir, "kube-apiserver-"+phase+".pprof")),
			b.op.profile(ctx, b.profileFor, filepath.Join(b.profileDir, "operator-"+phase+".pprof")))
	}
	if err := measure(); err != nil {
		return usage{}, err
	}
	end, err := b.snapshot(ctx)
	if err != nil {
		return usage{}, err
	}
	for _, wait := range profiled {
		if err := wait(); err != nil {
			return usage{}, err
		}
	}
	return end.since(start), nil
}

// compareTemplates checks that the operator's Deployment of object 0 has the same spec as the plain one, apart
// from the labels and selector the benchmark replaced. Both went through the API server's defaulting.
func (b *bench) compareTemplates(ctx context.Context, r *result) error {
	if b.plainSample == nil {
		return nil
	}
	ours := &appsv1.Deployment{}
	key := client.ObjectKey{Namespace: namespace(phaseLLM, 0), Name: b.plainSample.Name}
	if err := b.c.Get(ctx, key, ours); err != nil {
		return fmt.Errorf("reading the operator's Deployment %s: %w", key, err)
	}
	strip := func(d *appsv1.Deployment) appsv1.DeploymentSpec {
		s := *d.Spec.DeepCopy()
		s.Selector, s.Template.Labels = nil, nil
		return s
	}
	r.templatesCompared = true
	r.templatesIdentical = equality.Semantic.DeepEqual(strip(ours), strip(b.plainSample))
	return nil
}

// phaseTimes are the durations of one phase from its first create request.
type phaseTimes struct {
	created time.Duration // the last create request answered
	ready   time.Duration // the last object turned ready
}

// readyFunc says whether an object has reached the phase's goal, and if not, why (for a timeout's report).
type readyFunc func(client.Object) (bool, string)

// measure watches the phase's objects of one kind (list, label labelPhase=phase), then creates objs with
// createWorkers requests in flight and returns when n objects of that kind are ready. The clock starts at the first
// create.
func (b *bench) measure(ctx context.Context, what string, objs []client.Object, n int, list client.ObjectList, phase string, ready readyFunc) (phaseTimes, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	sel := client.MatchingLabels{labelPhase: phase}
	w, err := b.c.Watch(ctx, list, sel)
	if err != nil {
		return phaseTimes{}, fmt.Errorf("watching: %w", err)
	}
	defer func() { w.Stop() }()

	var t phaseTimes
	type createResult struct {
		took time.Duration
		err  error
	}
	start := time.Now()
	created := make(chan createResult, 1)
	go func() {
		err := forEach(ctx, len(objs), func(ctx context.Context, i int) error {
			if err := b.c.Create(ctx, objs[i]); err != nil {
				return fmt.Errorf("creating %s/%s: %w", objs[i].GetNamespace(), objs[i].GetName(), err)
			}
			return nil
		})
		created <- createResult{time.Since(start), err}
	}()
	allCreated := false
	onCreated := func(c createResult) error {
		allCreated, t.created = true, c.took
		if c.err != nil {
			return c.err
		}
		logf("%s: all %d created after %.2fs", what, len(objs), c.took.Seconds())
		return nil
	}

	latest := map[string]client.Object{} // the last state seen of each object
	isReady := map[string]bool{}
	nReady := 0
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	for nReady < n {
		select {
		case c := <-created:
			if err := onCreated(c); err != nil {
				return t, err
			}
		case <-progress.C:
			logf("%s: %d of %d ready after %.0fs", what, nReady, n, time.Since(start).Seconds())
		case <-ctx.Done():
			return t, fmt.Errorf("%d of %d ready after %s: %w%s", nReady, n, time.Since(start).Round(time.Second), ctx.Err(), notReady(latest, isReady, ready))
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				// The server ended the watch: start again, from the current state of every object.
				w.Stop()
				if w, err = b.c.Watch(ctx, list, sel); err != nil {
					return t, fmt.Errorf("watching again: %w", err)
				}
				clear(latest)
				clear(isReady)
				nReady = 0
				continue
			}
			obj, ok := ev.Object.(client.Object)
			if !ok || ev.Type == watch.Bookmark {
				continue
			}
			key := obj.GetNamespace() + "/" + obj.GetName()
			was := isReady[key]
			now := false
			if ev.Type == watch.Deleted {
				delete(latest, key)
			} else {
				latest[key] = obj
				now, _ = ready(obj)
			}
			isReady[key] = now
			switch {
			case now && !was:
				nReady++
			case was && !now:
				nReady--
			}
		}
	}
	t.ready = time.Since(start)
	if !allCreated { // every object is ready, so every create has returned
		if err := onCreated(<-created); err != nil {
			return t, err
		}
	}
	logf("%s: all %d ready after %.2fs", what, n, t.ready.Seconds())
	return t, nil
}

// notReady describes up to 5 objects that are not ready, for a timeout's error.
func notReady(latest map[string]client.Object, isReady map[string]bool, ready readyFunc) string {
	var lines []string
	for key, obj := range latest {
		if !isReady[key] {
			_, why := ready(obj)
			lines = append(lines, fmt.Sprintf("\n  %s: %s", key, why))
		}
	}
	sort.Strings(lines)
	if len(lines) > 5 {
		lines = append(lines[:5], fmt.Sprintf("\n  … and %d more", len(lines)-5))
	}
	return strings.Join(lines, "")
}

// llmReady: condition Ready=True, and the status describes the current generation.
func llmReady(o client.Object) (bool, string) {
	l := o.(*v1.LLMDeployment)
	c := meta.FindStatusCondition(l.Status.Conditions, v1.ConditionReady)
	if c == nil {
		return false, fmt.Sprintf("no Ready condition (generation %d, observed %d)", l.Generation, l.Status.ObservedGeneration)
	}
	ok := c.Status == metav1.ConditionTrue && l.Status.ObservedGeneration == l.Generation
	return ok, fmt.Sprintf("Ready=%s %s: %s (generation %d, observed %d)", c.Status, c.Reason, c.Message, l.Generation, l.Status.ObservedGeneration)
}

// deploymentReady: one ready replica, and the status describes the current generation.
func deploymentReady(o client.Object) (bool, string) {
	d := o.(*appsv1.Deployment)
	ok := d.Status.ReadyReplicas == 1 && d.Status.ObservedGeneration == d.Generation
	return ok, fmt.Sprintf("readyReplicas %d (generation %d, observed %d)", d.Status.ReadyReplicas, d.Generation, d.Status.ObservedGeneration)
}

// deletePlain deletes a phase's plain Deployments and Services and waits until their ReplicaSets, pods and
// EndpointSlices are gone.
func (b *bench) deletePlain(ctx context.Context, phase string) error {
	var svcs []client.Object
	for i := range namespacesPerPhase {
		ns := namespace(phase, i)
		if err := b.c.DeleteAllOf(ctx, &appsv1.Deployment{}, client.InNamespace(ns), client.MatchingLabels{labelPhase: phase},
			client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			return fmt.Errorf("deleting the Deployments of %s: %w", ns, err)
		}
		list := &corev1.ServiceList{}
		if err := b.c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{labelPhase: phase}); err != nil {
			return err
		}
		for j := range list.Items {
			svcs = append(svcs, &list.Items[j])
		}
		if phase == phaseWarmUp {
			break // one namespace
		}
	}
	// Services have no collection delete.
	if err := forEach(ctx, len(svcs), func(ctx context.Context, i int) error {
		return client.IgnoreNotFound(b.c.Delete(ctx, svcs[i]))
	}); err != nil {
		return fmt.Errorf("deleting the Services: %w", err)
	}
	start := time.Now()
	err := pollUntil(ctx, b.timeout, func() (bool, error) {
		for _, gvk := range []schema.GroupVersionKind{
			appsv1.SchemeGroupVersion.WithKind("ReplicaSetList"),
			corev1.SchemeGroupVersion.WithKind("PodList"),
			discoveryv1.SchemeGroupVersion.WithKind("EndpointSliceList"),
		} {
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(gvk)
			if err := b.c.List(ctx, list, client.MatchingLabels{labelPhase: phase}, client.Limit(1)); err != nil {
				return false, err
			}
			if len(list.Items) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the %s pods to go: %w", phase, err)
	}
	logf("%s: deleted, pods gone after %.1fs", phase, time.Since(start).Seconds())
	return nil
}

// forEach calls f for 0..n-1 with createWorkers calls in flight; the first error stops the rest and is returned.
func forEach(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(createWorkers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// pollUntil calls cond every 250ms until it returns true or an error, or d has passed.
func pollUntil(ctx context.Context, d time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(d)
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// pause waits d or until ctx is done.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
