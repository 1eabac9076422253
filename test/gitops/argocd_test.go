// Package gitops tests the GitOps contract of the LLMDeployment: the Argo CD health check shipped in
// config/argocd agrees with kstatus (what Flux and kpt use) on every status state, and re-applying an unchanged
// manifest, with client-side or server-side apply, changes nothing on the simulated cluster.
package gitops

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/test/testutil"
)

// healthScript is the Argo CD health check users install in argocd-cm.
var healthScript = filepath.Join("..", "..", "config", "argocd", "llmdeployment-health.lua")

// Argo CD health statuses (github.com/argoproj/gitops-engine/pkg/health).
const (
	healthy     = "Healthy"
	progressing = "Progressing"
	degraded    = "Degraded"
)

// TestArgoCDHealthAgreesWithKStatus runs the Lua health check as Argo CD does (the object as the global obj,
// the returned table's status and message) on a fixture of each state, and checks that kstatus says the same.
func TestArgoCDHealthAgreesWithKStatus(t *testing.T) {
	script, err := os.ReadFile(healthScript)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fixture, health string
		kstatus         kstatus.Status
		message         string
	}{
		{"created.yaml", progressing, kstatus.InProgressStatus, "Waiting for the privatellm operator to observe the LLMDeployment"},
		{"loading.yaml", progressing, kstatus.InProgressStatus, "ModelLoading: 0 of 1 replicas serve the model; the engine is downloading and loading it"},
		{"stale.yaml", progressing, kstatus.InProgressStatus, "Waiting for the privatellm operator to observe generation 2 (it last observed 1)"},
		{"ready-false-not-reconciling.yaml", progressing, kstatus.InProgressStatus, "Progressing: 0 of 1 replicas serve the model"},
		{"ready.yaml", healthy, kstatus.CurrentStatus, "Available: 1 of 1 replicas serve the model"},
		{"stalled.yaml", degraded, kstatus.FailedStatus, "Unschedulable: needs 1 x NVIDIA-L4 per replica; no node offers that product"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			obj := fixture(t, tc.fixture)
			status, message, err := argoHealth(string(script), obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.health || message != tc.message {
				t.Errorf("Argo CD health = %s %q, want %s %q", status, message, tc.health, tc.message)
			}
			// kstatus on the typed object, as the integration and end-to-end suites compute it.
			typed := &v1.LLMDeployment{}
			raw, err := os.ReadFile(filepath.Join("testdata", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.UnmarshalStrict(raw, typed); err != nil {
				t.Fatalf("fixture is no valid LLMDeployment: %v", err)
			}
			if got := testutil.KStatus(t, typed); got != tc.kstatus {
				t.Errorf("kstatus = %s, want %s", got, tc.kstatus)
			}
			if got, want := kstatusToArgo(tc.kstatus), status; got != want {
				t.Errorf("kstatus %s means Argo CD %s, but the health check says %s", tc.kstatus, got, want)
			}
		})
	}
}

// TestArgoCDHealthWithoutStatus covers an object read before the API server defaulted its status (a dry run,
// a diff): it must never be reported Healthy.
func TestArgoCDHealthWithoutStatus(t *testing.T) {
	script, err := os.ReadFile(healthScript)
	if err != nil {
		t.Fatal(err)
	}
	obj := fixture(t, "created.yaml")
	delete(obj.Object, "status")
	status, _, err := argoHealth(string(script), obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	if status != progressing {
		t.Errorf("Argo CD health without status = %s, want %s", status, progressing)
	}
}

// kstatusToArgo is the Argo CD health that matches a kstatus status.
func kstatusToArgo(s kstatus.Status) string {
	switch s {
	case kstatus.CurrentStatus:
		return healthy
	case kstatus.FailedStatus:
		return degraded
	default:
		return progressing
	}
}

func fixture(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &obj.Object); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return obj
}

// argoHealth runs a health script the way Argo CD's lua VM does: obj is a global table, the script returns a
// table with status and message.
func argoHealth(script string, obj map[string]any) (status, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	// Argo CD opens only these libraries.
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		l.Push(l.NewFunction(lib.open))
		l.Push(lua.LString(lib.name))
		if err := l.PCall(1, 0, nil); err != nil {
			return "", "", fmt.Errorf("opening %s: %w", lib.name, err)
		}
	}
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", fmt.Errorf("running the health script: %w", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the health script returned %s, want a table", l.Get(-1).Type())
	}
	return lua.LVAsString(ret.RawGetString("status")), lua.LVAsString(ret.RawGetString("message")), nil
}

// toLua converts decoded JSON into Lua values as Argo CD does: objects and arrays become tables (arrays
// 1-based), numbers become numbers.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for _, e := range v {
			t.Append(toLua(l, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	default:
		return lua.LString(fmt.Sprint(v))
	}
}
