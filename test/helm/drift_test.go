package helm_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/testutil"
)

func clientsetFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// testNoDrift is the GitOps contract on a running operator: re-applying an unchanged manifest, client-side or
// server-side, after the operator has written status changes nothing (a GitOps tool sees no drift and the
// operator no new generation); and replicas set with `kubectl scale` survive a re-apply of a manifest that
// leaves them out. docs/gitops.md explains the rules this checks.
func testNoDrift(t *testing.T, e *env) {
	for _, mode := range []struct {
		name  string
		apply []string
	}{
		{"client-side apply", []string{"apply"}},
		{"server-side apply", []string{"apply", "--server-side"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ns := "drift-" + strings.ReplaceAll(strings.Fields(mode.name)[0], "-", "")
			e.namespace(t, ns)
			defer e.deleteNamespace(t, ns)
			apply := func() string {
				t.Helper()
				return e.must(t)(e.kubectl(append(append([]string{"-n", ns}, mode.apply...), "-f", l4Sample)...))
			}
			apply()
			before := e.waitFor(t, ns, sampleName, timeout, testutil.ReadyWith(1))

			out := apply()
			after := get(t, e, ns)
			if after.ResourceVersion != before.ResourceVersion || after.Generation != before.Generation {
				t.Errorf("re-applying the same manifest changed the object: resourceVersion %s -> %s, generation %d -> %d (kubectl: %s)",
					before.ResourceVersion, after.ResourceVersion, before.Generation, after.Generation, strings.TrimSpace(out))
			}
			if !reflect.DeepEqual(after.Status, before.Status) {
				t.Errorf("re-applying changed the status:\n%+v\n%+v", before.Status, after.Status)
			}

			// The sample leaves spec.replicas out: kubectl scale (or an HPA) owns it, a re-apply keeps it.
			if before.Spec.Replicas == nil || *before.Spec.Replicas != 1 {
				t.Fatalf("sample replicas %v, want the default 1", before.Spec.Replicas)
			}
			e.must(t)(e.kubectl("-n", ns, "scale", "llmdeployment/"+sampleName, "--replicas=2"))
			scaled := e.waitFor(t, ns, sampleName, timeout, testutil.ReadyWith(2))
			apply()
			after = get(t, e, ns)
			if after.Spec.Replicas == nil || *after.Spec.Replicas != 2 {
				t.Errorf("re-applying a manifest without replicas reset them to %v, want 2 (set by kubectl scale)", after.Spec.Replicas)
			}
			if after.Generation != scaled.Generation {
				t.Errorf("re-applying after kubectl scale bumped the generation %d -> %d", scaled.Generation, after.Generation)
			}
		})
	}
}

func get(t *testing.T, e *env, ns string) *v1.LLMDeployment {
	t.Helper()
	l := &v1.LLMDeployment{}
	if err := e.admin.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: sampleName}, l); err != nil {
		t.Fatal(fmt.Errorf("get LLMDeployment %s/%s: %w", ns, sampleName, err))
	}
	return l
}
