package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStateOf(t *testing.T) {
	want := map[string]struct{ state, message string }{
		"llama-8b":   {"ready (Available)", "2 of 2 replicas serve model llama-8b"},
		"llama-70b":  {"waiting (ModelLoading)", "1 of 2 replicas are downloading and loading the model"},
		"llama-405b": {"stalled, needs you to act (Unschedulable)", "1 of 1 pods cannot be scheduled"},
		"gemma-9b":   {"waiting for the operator", "it has not written a status yet"},
		"phi-3":      {"ready (Available)", "1 of 1 replicas serve model phi-3"},
		"mistral-7b": {"ready (ScaledToZero)", "scaled to zero while idle"},
		"old-model":  {"being deleted", "the operator removes its children"},
	}
	fixtures := statusFixtures()
	if len(fixtures) != len(want) {
		t.Fatalf("%d fixtures, %d expectations", len(fixtures), len(want))
	}
	for i := range fixtures {
		llm := &fixtures[i]
		state, message := stateOf(llm)
		w := want[llm.Name]
		if state != w.state || !strings.HasPrefix(message, w.message) {
			t.Errorf("%s: state %q, message %q; want %q, %q…", llm.Name, state, message, w.state, w.message)
		}
	}
}

func TestStatusReportGolden(t *testing.T) {
	golden(t, filepath.Join("testdata", "status", "team-a.golden"), StatusReport(only(statusFixtures(), "team-a"), false, 0))
	golden(t, filepath.Join("testdata", "status", "all.golden"), StatusReport(statusFixtures(), true, 0))
}

func TestStatusReportRows(t *testing.T) {
	out := StatusReport(statusFixtures(), true, 0)
	for _, want := range []string{
		"team-a/llama-70b: waiting (ModelLoading)\n",
		"  replicas  1/2 ready, 2 updated\n",
		"  endpoint  http://llama-70b.team-a.svc:8000/v1\n",
		"team-a/gemma-9b: waiting for the operator\n",
		"  endpoint  none yet\n",
		"  stale     the operator has not observed generation 3 yet: this status is of generation 2\n",
		"  fit       DoesNotFit: Llama 3.1 405B",
		"  replicas      0/0 ready, 0 updated; autoscaling 0 to 4 on InFlightRequests\n",
		"  autoscaler    scaled 1 to 0: nothing waiting or running for 15m0s\n",
		"  quantization  CheckpointUnknown: assumed that the checkpoint is quantized with awq",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Fits: Llama 3.x 8B") {
		t.Errorf("a True ModelFits condition is shown:\n%s", out)
	}
	if strings.Index(out, "team-a/gemma-9b") > strings.Index(out, "team-a/llama-405b") {
		t.Errorf("the report is not sorted by name:\n%s", out)
	}
	one := StatusReport(only(statusFixtures(), "team-a")[:1], false, 0)
	if !strings.HasPrefix(one, "phi-3: ready (Available)\n") {
		t.Errorf("without -A the name stands alone: %q", one)
	}
}

func TestStatusReportWrapsMessages(t *testing.T) {
	const width = 60
	out := StatusReport(statusFixtures(), true, width)
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > width && len(strings.Fields(l)) > 2 {
			t.Errorf("line of %d characters, over %d: %q", len([]rune(l)), width, l)
		}
	}
	if !strings.Contains(out, "\n  1 of 1 pods cannot be scheduled: no node offers 8\n  nvidia.com/gpu") {
		t.Errorf("the stalled message is not wrapped under its object:\n%s", out)
	}
	if StatusReport(nil, false, 0) != "No LLMDeployments found.\n" {
		t.Error("an empty list says nothing")
	}
}
