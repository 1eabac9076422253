package cli

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
)

// The windows of the cost table.
const (
	// Window24h is status.usage.last24h, falling back to total while the operator has not written it.
	Window24h = "24h"
	// WindowTotal is status.usage.total: since the operator began counting the model.
	WindowTotal = "total"
)

// The verdicts of status.usage APIs.
const (
	verdictCheaper   = "Cheaper"
	verdictDearer    = "Dearer"
	verdictNoTraffic = "NoTraffic"
)

// sortedItems sorts LLMDeployments by namespace and name, on a copy.
func sortedItems(list []v1.LLMDeployment) []v1.LLMDeployment {
	items := slices.Clone(list)
	slices.SortFunc(items, func(a, b v1.LLMDeployment) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return items
}

// figuresOf picks the figures of a window; fellBack says that last24h was asked for but only total is there.
func figuresOf(u *v1.UsageStatus, window string) (f *v1.UsageFigures, fellBack bool) {
	if u == nil {
		return nil, false
	}
	if window == Window24h {
		if u.Last24h != nil {
			return u.Last24h, false
		}
		return &u.Total, true
	}
	return &u.Total, false
}

// money writes an amount with two decimals, or two significant digits below 0.1 (e.g. 0.0042).
func money(v float64) string {
	if v == 0 || v >= 0.1 || v <= -0.1 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return twoSignificant(v)
}

// hoursText is GPU-hours with one decimal, or two significant digits below 0.1 (a short window's minutes).
func hoursText(v float64) string {
	if v == 0 || v >= 0.1 {
		return oneDecimal(v)
	}
	return twoSignificant(v)
}

// twoSignificant writes a small amount with two significant digits, in plain decimals (0.000011, not 1.1e-05).
func twoSignificant(v float64) string {
	decimals := 1 - int(math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// decimalCell formats a decimal string of the status with format, or shows it as it is when it does not parse;
// ok says it parsed.
func decimalCell(s string, format func(float64) string) (cell string, v float64, ok bool) {
	if s == "" {
		return "-", 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s, 0, false
	}
	return format(v), v, true
}

// apiSum adds up one reference API's column.
type apiSum struct {
	equiv, cost float64
	tokens      int64
	models      int
}

// CostTable is the usage and cost of LLMDeployments from their status.usage over a window (Window24h or
// WindowTotal): GPU-hours, self-hosted cost, tokens, cost per million tokens, and for each reference API of their
// status what the same tokens would have cost there and the verdict; then the sum over the models and footnotes
// for models without usage, with only total figures, or with unpriced GPUs. allNamespaces adds a NAMESPACE column.
func CostTable(list []v1.LLMDeployment, window string, allNamespaces bool) (string, error) {
	if window != Window24h && window != WindowTotal {
		return "", fmt.Errorf("unknown window %q: use %s or %s", window, Window24h, WindowTotal)
	}
	if len(list) == 0 {
		return "No LLMDeployments found.\n", nil
	}
	items := sortedItems(list)

	var apis []string
	for i := range items {
		if f, _ := figuresOf(items[i].Status.Usage, window); f != nil {
			apis = addAPIs(apis, f.APIs)
		}
	}

	t := newTable()
	header := []string{"NAME", "GPU-HOURS", "COST", "TOKENS IN", "TOKENS OUT", currencyOf(items) + "/MTOK"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	for _, a := range apis {
		header = append(header, a+" EQUIV", "VERDICT")
	}
	t.row(header...)

	var (
		hours, cost         float64
		in, out             int64
		counted             int
		noUsage, fellBackOn []string
		unpriced            = map[string][]string{}
		sums                = make([]apiSum, len(apis))
	)
	for i := range items {
		llm := &items[i]
		name := llm.Name
		qualified := name
		if allNamespaces {
			qualified = llm.Namespace + "/" + name
		}
		f, fellBack := figuresOf(llm.Status.Usage, window)
		var cells []string
		if f == nil {
			noUsage = append(noUsage, qualified)
			cells = []string{name, "-", "-", "-", "-", "-"}
			for range apis {
				cells = append(cells, "-", "-")
			}
		} else {
			counted++
			if fellBack {
				name += "*"
				fellBackOn = append(fellBackOn, qualified)
			}
			for _, p := range llm.Status.Usage.Unpriced {
				unpriced[p] = append(unpriced[p], qualified)
			}
			hoursCell, h, _ := decimalCell(f.GPUHours, hoursText)
			costCell, c, _ := decimalCell(f.Cost, money)
			perMTok, _, _ := decimalCell(f.CostPerMTok, money)
			hours, cost, in, out = hours+h, cost+c, in+f.InputTokens, out+f.OutputTokens
			cells = []string{name, hoursCell, costCell, humanCount(f.InputTokens), humanCount(f.OutputTokens), perMTok}
			for j, a := range apis {
				k := slices.IndexFunc(f.APIs, func(x v1.APIComparison) bool { return x.Name == a })
				if k < 0 {
					cells = append(cells, "-", "-")
					continue
				}
				equivCell, e, _ := decimalCell(f.APIs[k].Cost, money)
				cells = append(cells, equivCell, f.APIs[k].Verdict)
				sums[j].equiv += e
				sums[j].cost += c
				sums[j].tokens += f.InputTokens + f.OutputTokens
				sums[j].models++
			}
		}
		if allNamespaces {
			cells = append([]string{llm.Namespace}, cells...)
		}
		t.row(cells...)
	}

	total := []string{"TOTAL", "-", "-", "-", "-", "-"}
	if counted > 0 {
		perMTok := "-"
		if in+out > 0 {
			perMTok = money(cost / float64(in+out) * 1e6)
		}
		total = []string{"TOTAL", hoursText(hours), money(cost), humanCount(in), humanCount(out), perMTok}
	}
	for _, s := range sums {
		if s.models == 0 {
			total = append(total, "-", "-")
			continue
		}
		total = append(total, money(s.equiv), s.verdict())
	}
	if allNamespaces {
		total = append([]string{""}, total...)
	}
	t.row(total...)

	var b strings.Builder
	if window == Window24h {
		b.WriteString("Usage over the last 24 hours (status.usage.last24h).\n")
	} else {
		b.WriteString("Usage since the operator began counting each model (status.usage.total).\n")
	}
	b.WriteString(t.String())
	var notes []string
	if len(fellBackOn) > 0 {
		notes = append(notes, fmt.Sprintf("* %s: no last-24-hours figures yet, the total is shown (and summed).",
			strings.Join(fellBackOn, ", ")))
	}
	if len(noUsage) > 0 {
		notes = append(notes, fmt.Sprintf("- %s: no status.usage: the operator's config has no cost section, or the "+
			"operator has not counted %s yet.", strings.Join(noUsage, ", "), pronoun(len(noUsage))))
	}
	products := make([]string, 0, len(unpriced))
	for p := range unpriced {
		products = append(products, p)
	}
	slices.Sort(products)
	for _, p := range products {
		notes = append(notes, fmt.Sprintf("GPU time on %s (%s) has no price in the operator's config: it counts in "+
			"GPU-HOURS but not in COST.", p, strings.Join(unpriced[p], ", ")))
	}
	if len(apis) > 0 {
		notes = append(notes, "<API> EQUIV is what the same tokens would have cost at that API's price; VERDICT "+
			"compares it with COST.")
	}
	writeNotes(&b, notes)
	return b.String(), nil
}

// addAPIs appends the names of the reference APIs of cs that apis lacks: the columns, in order of appearance.
func addAPIs(apis []string, cs []v1.APIComparison) []string {
	for _, a := range cs {
		if !slices.Contains(apis, a.Name) {
			apis = append(apis, a.Name)
		}
	}
	return apis
}

// verdict compares a sum of self-hosted cost with the sum of an API's equivalents, as the operator does.
func (s apiSum) verdict() string {
	switch {
	case s.tokens == 0:
		return verdictNoTraffic
	case s.cost < s.equiv:
		return verdictCheaper
	}
	return verdictDearer
}

// writeNotes writes the footnotes after an empty line, wrapped.
func writeNotes(b *strings.Builder, notes []string) {
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range notes {
		b.WriteString(wrap(n, "", "  ", reportWidth))
	}
}

// keyRow is one API key's usage, summed over the models it used.
type keyRow struct {
	key     string
	models  int
	in, out int64
	cost    float64
	apis    []apiSum // by column
}

// KeyCostTable is the usage and cost of LLMDeployments by API key, from their status.usage.keys: one row per key,
// summed over the models of list that it used (how many, its tokens, its share of their GPU cost, and for each
// reference API what its tokens would have cost there and the verdict), most tokens first; then the sum over the
// keys, and footnotes for models without usage or without keys. The figures are totals since counting began: keys
// have no 24-hour window. The KEY column names each key with its namespace; allNamespaces names the models of the
// footnotes with theirs.
func KeyCostTable(list []v1.LLMDeployment, allNamespaces bool) (string, error) {
	if len(list) == 0 {
		return "No LLMDeployments found.\n", nil
	}
	items := sortedItems(list)

	var apis []string
	for i := range items {
		if u := items[i].Status.Usage; u != nil {
			for _, k := range u.Keys {
				apis = addAPIs(apis, k.APIs)
			}
		}
	}

	byKey := map[string]*keyRow{}
	var (
		noUsage, noKeys []string
		withKeys        int
	)
	for i := range items {
		llm := &items[i]
		qualified := llm.Name
		if allNamespaces {
			qualified = llm.Namespace + "/" + llm.Name
		}
		u := llm.Status.Usage
		switch {
		case u == nil:
			noUsage = append(noUsage, qualified)
			continue
		case len(u.Keys) == 0:
			noKeys = append(noKeys, qualified)
			continue
		}
		withKeys++
		for _, k := range u.Keys {
			r := byKey[k.Key]
			if r == nil {
				r = &keyRow{key: k.Key, apis: make([]apiSum, len(apis))}
				byKey[k.Key] = r
			}
			_, c, _ := decimalCell(k.Cost, money)
			r.models++
			r.in, r.out, r.cost = r.in+k.InputTokens, r.out+k.OutputTokens, r.cost+c
			for j, a := range apis {
				n := slices.IndexFunc(k.APIs, func(x v1.APIComparison) bool { return x.Name == a })
				if n < 0 {
					continue
				}
				_, e, _ := decimalCell(k.APIs[n].Cost, money)
				r.apis[j].equiv += e
				r.apis[j].cost += c
				r.apis[j].tokens += k.InputTokens + k.OutputTokens
				r.apis[j].models++
			}
		}
	}
	rows := make([]*keyRow, 0, len(byKey))
	for _, r := range byKey {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *keyRow) int {
		if ta, tb := a.in+a.out, b.in+b.out; ta != tb {
			if ta > tb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})

	t := newTable()
	header := []string{"KEY", "MODELS", "TOKENS IN", "TOKENS OUT", "COST"}
	for _, a := range apis {
		header = append(header, a+" EQUIV", "VERDICT")
	}
	t.row(header...)
	var (
		in, out int64
		cost    float64
		sums    = make([]apiSum, len(apis))
	)
	for _, r := range rows {
		in, out, cost = in+r.in, out+r.out, cost+r.cost
		cells := []string{r.key, strconv.Itoa(r.models), humanCount(r.in), humanCount(r.out), money(r.cost)}
		for j, s := range r.apis {
			if s.models == 0 {
				cells = append(cells, "-", "-")
				continue
			}
			cells = append(cells, money(s.equiv), s.verdict())
			sums[j].equiv += s.equiv
			sums[j].cost += s.cost
			sums[j].tokens += s.tokens
			sums[j].models += s.models
		}
		t.row(cells...)
	}
	total := []string{"TOTAL", "-", "-", "-", "-"}
	if withKeys > 0 {
		total = []string{"TOTAL", strconv.Itoa(withKeys), humanCount(in), humanCount(out), money(cost)}
	}
	for _, s := range sums {
		if s.models == 0 {
			total = append(total, "-", "-")
			continue
		}
		total = append(total, money(s.equiv), s.verdict())
	}
	t.row(total...)

	var b strings.Builder
	b.WriteString("Usage by API key since the operator began counting (status.usage.keys): keys have no 24h window.\n")
	b.WriteString(t.String())
	var notes []string
	if len(noUsage) > 0 {
		notes = append(notes, fmt.Sprintf("- %s: no status.usage: the operator's config has no cost section, or the "+
			"operator has not counted %s yet.", strings.Join(noUsage, ", "), pronoun(len(noUsage))))
	}
	if len(noKeys) > 0 {
		notes = append(notes, fmt.Sprintf("- %s: no status.usage.keys: no API key has sent %s tokens through the "+
			"gateway yet, or the operator's config does not say where the gateway's metrics are (gateway.service or "+
			"gateway.metricsURLs).", strings.Join(noKeys, ", "), pronoun(len(noKeys))))
	}
	if len(rows) > 0 {
		notes = append(notes, "COST is the key's share of its models' GPU cost, by its share of their tokens in "+
			"each interval; GPU time in which no key sent tokens is charged to none, so the keys' costs can add up "+
			"to less than the models'.")
	}
	if len(apis) > 0 {
		notes = append(notes, "<API> EQUIV is what the key's tokens would have cost at that API's price; VERDICT "+
			"compares it with COST.")
	}
	writeNotes(&b, notes)
	return b.String(), nil
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// currencyOf is the currency the models' status.usage is in: "$" for USD or when none says, the code when all
// agree on another, "COST" when they differ (the operator config names one currency for all).
func currencyOf(items []v1.LLMDeployment) string {
	cur := ""
	for i := range items {
		u := items[i].Status.Usage
		if u == nil || u.Currency == "" {
			continue
		}
		if cur != "" && cur != u.Currency {
			return "COST"
		}
		cur = u.Currency
	}
	if cur == "" || cur == "USD" {
		return "$"
	}
	return cur
}
