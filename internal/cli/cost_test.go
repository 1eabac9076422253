package cli

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

var cellGap = regexp.MustCompile(`\s{2,}`)

// tableRows splits the table of a cost report into cells, from its header to its TOTAL row.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "NAME") || strings.HasPrefix(l, "NAMESPACE") {
			in = true
		}
		if in {
			rows = append(rows, cellGap.Split(strings.TrimRight(l, " "), -1))
		}
		if in && strings.Contains(l, "TOTAL") {
			return rows
		}
	}
	t.Fatalf("no table with a TOTAL row in:\n%s", out)
	return nil
}

func TestCostTableGolden(t *testing.T) {
	for _, tc := range []struct {
		name          string
		list          []v1.LLMDeployment
		window        string
		allNamespaces bool
	}{
		{"team-a-24h", only(costFixtures(), "team-a"), Window24h, false},
		{"team-a-total", only(costFixtures(), "team-a"), WindowTotal, false},
		{"all-24h", costFixtures(), Window24h, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := CostTable(tc.list, tc.window, tc.allNamespaces)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "cost", tc.name+".golden"), out)
		})
	}
}

// TestCostTableFigures checks the cells: one column pair per reference API in order of appearance, the 24h window
// falling back to total, "-" without usage, and the sums.
func TestCostTableFigures(t *testing.T) {
	out, err := CostTable(only(costFixtures(), "team-a"), Window24h, false)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	want := [][]string{
		{"NAME", "GPU-HOURS", "COST", "TOKENS IN", "TOKENS OUT", "$/MTOK", "gpt-4o EQUIV", "VERDICT", "claude-sonnet EQUIV", "VERDICT", "gpt-4o-mini EQUIV", "VERDICT"},
		{"llama-70b", "96.0", "288.00", "1.2M", "340.5k", "182.85", "6.49", "Dearer", "8.81", "Dearer", "-", "-"},
		{"llama-8b*", "12.5", "9.38", "50M", "12M", "0.15", "245.00", "Cheaper", "-", "-", "14.70", "Cheaper"},
		{"qwen-72b", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"},
		// $/MTOK 297.38 / 63.575067M tokens; gpt-4o: 297.38 against 251.49; claude-sonnet: 288 against 8.81;
		// gpt-4o-mini: 9.38 against 14.70.
		{"TOTAL", "108.5", "297.38", "51.2M", "12.3M", "4.68", "251.49", "Dearer", "8.81", "Dearer", "14.70", "Cheaper"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), out)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
	for _, note := range []string{
		"* llama-8b: no last-24-hours figures yet, the total is shown (and summed).",
		"- qwen-72b: no status.usage: the operator's config has no cost section, or the operator has not\n  counted it yet.",
	} {
		if !strings.Contains(out, note) {
			t.Errorf("no footnote %q in:\n%s", note, out)
		}
	}
}

func TestCostTableAllNamespaces(t *testing.T) {
	out, err := CostTable(costFixtures(), WindowTotal, true)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	if got := rows[0][:3]; !slices.Equal(got, []string{"NAMESPACE", "NAME", "GPU-HOURS"}) {
		t.Errorf("header %q, want NAMESPACE first", rows[0])
	}
	var order []string
	for _, r := range rows[1 : len(rows)-1] {
		order = append(order, r[0]+"/"+r[1])
	}
	if want := []string{"team-a/llama-70b", "team-a/llama-8b", "team-a/qwen-72b", "team-b/mistral-7b"}; !slices.Equal(order, want) {
		t.Errorf("rows %v, want %v (sorted by namespace and name)", order, want)
	}
	total := rows[len(rows)-1]
	// Totals: 768 + 12.5 + 48 GPU-hours; 2304 + 9.38 + 0; gpt-4o 51.50 + 245 + 0 against that cost.
	if want := []string{"", "TOTAL", "828.5", "2313.38", "59.8M", "14.7M"}; !slices.Equal(total[:6], want) {
		t.Errorf("TOTAL row %q, want it to start with %q", total, want)
	}
	if gpt := total[7:9]; !slices.Equal(gpt, []string{"296.50", "Dearer"}) {
		t.Errorf("gpt-4o total %q, want 296.50 Dearer", gpt)
	}
	if strings.Contains(out, "*") && strings.Contains(out, "no last-24-hours") {
		t.Errorf("the total window has no fallback, yet the report says so:\n%s", out)
	}
	if !strings.Contains(out, "GPU time on NVIDIA-A100-SXM4-40GB (team-b/mistral-7b) has no price in the operator's config") {
		t.Errorf("no footnote on the unpriced GPU:\n%s", out)
	}
}

func TestCostTableIdleModelsSayNoTraffic(t *testing.T) {
	out, err := CostTable(only(costFixtures(), "team-b"), Window24h, false)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	want := []string{"TOTAL", "24.0", "0.00", "0", "0", "-", "0.00", "NoTraffic"}
	if got := rows[len(rows)-1]; !slices.Equal(got, want) {
		t.Errorf("TOTAL row %q, want %q", got, want)
	}
}

func TestCostTableWithoutUsage(t *testing.T) {
	out, err := CostTable([]v1.LLMDeployment{llmd("default", "a"), llmd("default", "b")}, Window24h, false)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	if !slices.Equal(rows[0], []string{"NAME", "GPU-HOURS", "COST", "TOKENS IN", "TOKENS OUT", "$/MTOK"}) {
		t.Errorf("header %q: no API columns without usage", rows[0])
	}
	if !slices.Equal(rows[3], []string{"TOTAL", "-", "-", "-", "-", "-"}) {
		t.Errorf("TOTAL row %q, want dashes", rows[3])
	}
	if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, "- a, b: no status.usage: the operator's config has no cost section, or the operator has not counted them yet.") {
		t.Errorf("no footnote naming both models:\n%s", out)
	}
}

func TestCostTableErrors(t *testing.T) {
	if _, err := CostTable(costFixtures(), "7d", false); err == nil || !strings.Contains(err.Error(), "use 24h or total") {
		t.Errorf("window 7d: error %v", err)
	}
	if out, err := CostTable(nil, WindowTotal, false); err != nil || out != "No LLMDeployments found.\n" {
		t.Errorf("empty list: %q, %v", out, err)
	}
}

func TestMoney(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00", 1: "1.00", 0.5: "0.50", 0.0042: "0.0042", 0.04567: "0.046", 1234.567: "1234.57", 0.000011: "0.000011"} {
		if got := money(v); got != want {
			t.Errorf("money(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0.0", 12.46: "12.5", 0.1: "0.1", 0.0125: "0.013", 0.00047: "0.00047"} {
		if got := hoursText(v); got != want {
			t.Errorf("hoursText(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestCostTableCurrency: the cost-per-token column names the currency of the models' status.usage.
func TestCostTableCurrency(t *testing.T) {
	for _, tc := range []struct {
		currencies []string
		want       string
	}{
		{nil, "$/MTOK"}, {[]string{"USD"}, "$/MTOK"}, {[]string{"EUR", "EUR"}, "EUR/MTOK"}, {[]string{"EUR", "CHF"}, "COST/MTOK"},
	} {
		var list []v1.LLMDeployment
		for i, c := range tc.currencies {
			l := v1.LLMDeployment{}
			l.Name = fmt.Sprintf("m%d", i)
			l.Status.Usage = &v1.UsageStatus{Currency: c, Total: v1.UsageFigures{GPUHours: "1", Cost: "1"}}
			list = append(list, l)
		}
		if len(list) == 0 {
			list = []v1.LLMDeployment{{}}
			list[0].Name = "idle"
		}
		out, err := CostTable(list, WindowTotal, false)
		if err != nil {
			t.Fatal(err)
		}
		header := ""
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "NAME") {
				header = line
			}
		}
		if !strings.Contains(header, " "+tc.want) {
			t.Errorf("currencies %v: header %q, want %s\n%s", tc.currencies, header, tc.want, out)
		}
	}
}
