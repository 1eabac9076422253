package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
		if strings.HasPrefix(l, "NAME") || strings.HasPrefix(l, "NAMESPACE") || strings.HasPrefix(l, "KEY") {
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

// keyUsage is a key's status.usage.keys entry, compared with gpt-4o and claude-sonnet at the given costs.
func keyUsage(key string, in, out int64, cost, gpt4o, claude string) v1.KeyUsage {
	verdict := func(api string) string {
		c, _ := strconv.ParseFloat(cost, 64)
		e, _ := strconv.ParseFloat(api, 64)
		switch {
		case in+out == 0:
			return "NoTraffic"
		case c < e:
			return "Cheaper"
		}
		return "Dearer"
	}
	return v1.KeyUsage{Key: key, InputTokens: in, OutputTokens: out, Cost: cost, APIs: []v1.APIComparison{
		{Name: "gpt-4o", Cost: gpt4o, Verdict: verdict(gpt4o)},
		{Name: "claude-sonnet", Cost: claude, Verdict: verdict(claude)},
	}}
}

// keyFixtures: three models with keys at gpt-4o's ($2.50 in, $10 out per MTok) and claude-sonnet's ($3, $15)
// prices: team-a/support-bot on two models of team-a (cheaper than the APIs on the small one, dearer on the big
// one), team-b/analytics on a model of team-a and one of team-b, team-a/batch-eval on one, and a key of team-b that
// sent nothing.
func keyFixtures() []v1.LLMDeployment {
	big := llmd("team-a", "llama-70b")
	big.Status.Usage = &v1.UsageStatus{UpdatedAt: updated,
		Total: v1.UsageFigures{WindowStart: start, GPUHours: "96", Cost: "288", InputTokens: 1_300_000, OutputTokens: 360_000},
		Keys: []v1.KeyUsage{
			keyUsage("team-a/support-bot", 900_000, 250_000, "210.40", "4.75", "6.45"),
			keyUsage("team-b/analytics", 300_000, 90_000, "70.10", "1.65", "2.25"),
		}}
	small := llmd("team-a", "llama-8b")
	small.Status.Usage = &v1.UsageStatus{UpdatedAt: updated,
		Total: v1.UsageFigures{WindowStart: start, GPUHours: "12.5", Cost: "9.38", InputTokens: 50_000_000, OutputTokens: 12_000_000},
		Keys: []v1.KeyUsage{
			keyUsage("team-a/support-bot", 40_000_000, 9_000_000, "6.10", "190.00", "255.00"),
			keyUsage("team-a/batch-eval", 8_000_000, 2_000_000, "1.25", "40.00", "54.00"),
		}}
	mistral := llmd("team-b", "mistral-7b")
	mistral.Status.Usage = &v1.UsageStatus{UpdatedAt: updated,
		Total: v1.UsageFigures{WindowStart: start, GPUHours: "4", Cost: "3.60", InputTokens: 2_000_000, OutputTokens: 500_000},
		Keys: []v1.KeyUsage{
			keyUsage("team-b/analytics", 2_000_000, 500_000, "3.00", "10.00", "13.50"),
			keyUsage("team-b/idle-key", 0, 0, "0", "0", "0"),
		}}
	return []v1.LLMDeployment{mistral, small, big}
}

func TestKeyCostTableGolden(t *testing.T) {
	out, err := KeyCostTable(keyFixtures(), true)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "cost", "by-key-all.golden"), out)
}

// TestKeyCostTableFigures checks the sums over the models a key used, the verdicts on those sums (support-bot is
// cheaper than gpt-4o on llama-8b and dearer on llama-70b, and dearer in sum), and the order by tokens.
func TestKeyCostTableFigures(t *testing.T) {
	out, err := KeyCostTable(keyFixtures(), true)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	want := [][]string{
		{"KEY", "MODELS", "TOKENS IN", "TOKENS OUT", "COST", "gpt-4o EQUIV", "VERDICT", "claude-sonnet EQUIV", "VERDICT"},
		// 40.9M + 9.25M tokens (9.3M); 210.40 + 6.10 against 4.75 + 190 and 6.45 + 255.
		{"team-a/support-bot", "2", "40.9M", "9.3M", "216.50", "194.75", "Dearer", "261.45", "Cheaper"},
		{"team-a/batch-eval", "1", "8M", "2M", "1.25", "40.00", "Cheaper", "54.00", "Cheaper"},
		// 2.3M + 590k tokens; 70.10 + 3 against 1.65 + 10 and 2.25 + 13.50.
		{"team-b/analytics", "2", "2.3M", "590k", "73.10", "11.65", "Dearer", "15.75", "Dearer"},
		{"team-b/idle-key", "1", "0", "0", "0.00", "0.00", "NoTraffic", "0.00", "NoTraffic"},
		// 3 models; 216.50 + 1.25 + 73.10 against 194.75 + 40 + 11.65 and 261.45 + 54 + 15.75.
		{"TOTAL", "3", "51.2M", "11.8M", "290.85", "246.40", "Dearer", "331.20", "Cheaper"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), out)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
	if first := strings.SplitN(out, "\n", 2)[0]; !strings.Contains(first, "status.usage.keys") || !strings.Contains(first, "no 24h window") {
		t.Errorf("the first line %q does not say that the figures are totals", first)
	}
	if strings.Contains(out, "\n- ") {
		t.Errorf("a footnote on models without usage, yet all have keys:\n%s", out)
	}
}

// TestKeyCostTableTiesAndSingleNamespace: keys with as many tokens go by name; without -A the footnotes name the
// models without their namespace, and the keys keep theirs.
func TestKeyCostTableTiesAndSingleNamespace(t *testing.T) {
	m := llmd("team-a", "m")
	m.Status.Usage = &v1.UsageStatus{Keys: []v1.KeyUsage{
		keyUsage("team-b/zeta", 5, 5, "1", "2", "3"),
		keyUsage("team-a/alpha", 6, 4, "1", "2", "3"),
		keyUsage("team-a/most", 11, 0, "1", "2", "3"),
	}}
	out, err := KeyCostTable([]v1.LLMDeployment{m, llmd("team-a", "bare")}, false)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	rows := tableRows(t, out)
	for _, r := range rows[1 : len(rows)-1] {
		order = append(order, r[0])
	}
	if want := []string{"team-a/most", "team-a/alpha", "team-b/zeta"}; !slices.Equal(order, want) {
		t.Errorf("rows %v, want %v (most tokens first, then by key)", order, want)
	}
	if !strings.Contains(out, "- bare: no status.usage:") {
		t.Errorf("no footnote naming bare without its namespace:\n%s", out)
	}
}

// TestKeyCostTableWithoutKeys: models without usage, and with usage but no keys, have footnotes; the table has
// no API columns and a TOTAL of dashes.
func TestKeyCostTableWithoutKeys(t *testing.T) {
	counted := llmd("team-b", "counted")
	counted.Status.Usage = &v1.UsageStatus{Total: v1.UsageFigures{GPUHours: "1", Cost: "2", InputTokens: 10, OutputTokens: 10,
		APIs: []v1.APIComparison{{Name: "gpt-4o", Cost: "0.01", Verdict: "Dearer"}}}}
	list := []v1.LLMDeployment{llmd("team-a", "b"), counted, llmd("team-a", "a")}
	out, err := KeyCostTable(list, true)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	want := [][]string{{"KEY", "MODELS", "TOKENS IN", "TOKENS OUT", "COST"}, {"TOTAL", "-", "-", "-", "-"}}
	if len(rows) != len(want) || !slices.Equal(rows[0], want[0]) || !slices.Equal(rows[1], want[1]) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, note := range []string{
		"- team-a/a, team-a/b: no status.usage: the operator's config has no cost section, or the operator has not counted them yet.",
		"- team-b/counted: no status.usage.keys: no API key has sent it tokens through the gateway yet, or the operator's " +
			"config does not say where the gateway's metrics are (gateway.service or gateway.metricsURLs).",
	} {
		if !strings.Contains(flat, note) {
			t.Errorf("no footnote %q in:\n%s", note, out)
		}
	}
	if strings.Contains(out, "EQUIV") || strings.Contains(out, "COST is the key's share") {
		t.Errorf("notes on columns or rows that are not there:\n%s", out)
	}
	if out, err := KeyCostTable(nil, false); err != nil || out != "No LLMDeployments found.\n" {
		t.Errorf("empty list: %q, %v", out, err)
	}
}

// TestKeyCostTableAPIOfSomeModels: an API that only some of a key's models compare with is summed, and judged,
// over those models only, as in the per-model TOTAL.
func TestKeyCostTableAPIOfSomeModels(t *testing.T) {
	a, b := llmd("ns", "a"), llmd("ns", "b")
	a.Status.Usage = &v1.UsageStatus{Keys: []v1.KeyUsage{{Key: "ns/k", InputTokens: 1000, Cost: "1.00",
		APIs: []v1.APIComparison{{Name: "cheap-api", Cost: "2.00", Verdict: "Cheaper"}}}}}
	b.Status.Usage = &v1.UsageStatus{Keys: []v1.KeyUsage{{Key: "ns/k", InputTokens: 1000, Cost: "100.00"}}}
	out, err := KeyCostTable([]v1.LLMDeployment{a, b}, false)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(t, out)
	if want := []string{"ns/k", "2", "2k", "0", "101.00", "2.00", "Cheaper"}; !slices.Equal(rows[1], want) {
		t.Errorf("row %q, want %q (cheap-api against the cost of model a only)", rows[1], want)
	}
}

// TestDocsShowTheByKeyGolden: docs/kubectl-plugin.md shows the --by-key golden output as it is.
func TestDocsShowTheByKeyGolden(t *testing.T) {
	doc, err := os.ReadFile("../../docs/kubectl-plugin.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "cost", "by-key-all.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "\n"+string(want)+"```\n") {
		t.Errorf("docs/kubectl-plugin.md does not show testdata/cost/by-key-all.golden as it is: paste it into its example")
	}
}
