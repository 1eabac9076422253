package helm_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/privatellm/privatellm/controllers/llmdeployment"
	"github.com/privatellm/privatellm/controllers/modelcache"
	"github.com/privatellm/privatellm/controllers/usage"
	"github.com/privatellm/privatellm/internal/engine"
	"github.com/privatellm/privatellm/internal/gateway/proxy"
)

// The chart's observability objects: the Grafana dashboard ConfigMap, the PrometheusRule and the PodMonitors. The
// PromQL in them must name only metrics something exports: the gateway, the operator or an engine.

// operatorCollectors are the operator's collectors whose metrics the dashboard and the alerts may use.
func operatorCollectors() []prometheus.Collector {
	var cs []prometheus.Collector
	cs = append(cs, llmdeployment.Collectors()...)
	cs = append(cs, modelcache.Collectors()...)
	cs = append(cs, usage.Collectors()...)
	return cs
}

// exportedMetric is a metric some component exports; labels is nil when they are not known (engine metrics).
type exportedMetric struct {
	by     string
	labels map[string]bool
}

// recordingRegisterer keeps what is registered with it, so that metric vectors without children can be described.
type recordingRegisterer struct{ collectors []prometheus.Collector }

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
}

func (r *recordingRegisterer) Unregister(prometheus.Collector) bool { return false }

var (
	descName        = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)
	descConstLabels = regexp.MustCompile(`constLabels: \{([^}]*)\}, variableLabels`)
	descVarLabels   = regexp.MustCompile(`variableLabels: \{([^}]*)\}\}$`)
	constLabelName  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
)

// describe adds the metrics of collectors to known, by their fqName and labels read from Desc.String().
func describe(t *testing.T, known map[string]exportedMetric, by string, collectors []prometheus.Collector) {
	t.Helper()
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	for d := range ch {
		s := d.String()
		m := descName.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%s: cannot read the metric name of %s", by, s)
		}
		labels := map[string]bool{}
		if v := descVarLabels.FindStringSubmatch(s); v != nil && v[1] != "" {
			for _, l := range strings.Split(v[1], ",") {
				labels[strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")")] = true
			}
		}
		if c := descConstLabels.FindStringSubmatch(s); c != nil {
			for _, l := range constLabelName.FindAllStringSubmatch(c[1], -1) {
				labels[l[1]] = true
			}
		}
		known[m[1]] = exportedMetric{by: by, labels: labels}
	}
}

// exportedMetrics are the metrics the gateway, the operator and the engines export.
func exportedMetrics(t *testing.T) map[string]exportedMetric {
	t.Helper()
	known := map[string]exportedMetric{}
	reg := &recordingRegisterer{}
	if _, err := proxy.NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	describe(t, known, "gateway", reg.collectors)
	describe(t, known, "operator", operatorCollectors())
	for _, n := range engine.Names() {
		e, ok := engine.Lookup(n)
		if !ok {
			t.Fatalf("engine %s is named but not registered", n)
		}
		// Every []string field of Metrics names metrics: new signals are covered without a change here.
		m := reflect.ValueOf(e.Facts().Metrics)
		for i := 0; i < m.NumField(); i++ {
			if names, ok := m.Field(i).Interface().([]string); ok {
				for _, name := range names {
					known[name] = exportedMetric{by: "engine " + string(n)}
				}
			}
		}
	}
	return known
}

// promqlFunctions are PromQL's functions and aggregations (and Grafana's label_values): identifiers followed by
// a parenthesis that are not metrics.
var promqlFunctions = setOf(
	// Aggregations.
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
	"limitk", "limit_ratio",
	// Functions.
	"abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
	"day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_avg",
	"histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev", "histogram_stdvar",
	"histogram_sum", "double_exponential_smoothing", "holt_winters", "hour", "idelta", "increase", "irate",
	"label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate", "resets",
	"round", "scalar", "sgn", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "sqrt", "time",
	"timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
	"count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
	"present_over_time", "mad_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin",
	"sinh", "tan", "tanh", "deg", "rad", "pi",
	// Grafana's variable query.
	"label_values",
)

// promqlKeywords are PromQL's binary operators and modifiers; the grouping ones are followed by a label list.
var (
	promqlKeywords  = setOf("and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan")
	groupingKeyword = setOf("by", "without", "on", "ignoring", "group_left", "group_right")
)

func setOf(names ...string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

// labelValuesLabel is the label argument at the end of a label_values query.
var labelValuesLabel = regexp.MustCompile(`,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*$`)

// selector is one metric named in a PromQL expression, with the label names of its matchers.
type selector struct {
	metric string
	labels []string
}

// metricSelectors tokenizes a PromQL expression (or a Grafana label_values query) and returns the metrics it
// names. Strings, durations in brackets and label lists after by/without/on/ignoring/group_* are skipped; label
// names in braces are returned with the metric they follow. An identifier followed by a parenthesis must be a
// known function.
func metricSelectors(expr string) ([]selector, error) {
	var out []selector
	isIdentStart := func(r byte) bool { return r == '_' || r == ':' || unicode.IsLetter(rune(r)) }
	isIdent := func(r byte) bool { return isIdentStart(r) || unicode.IsDigit(rune(r)) }
	skipSpace := func(i int) int {
		for i < len(expr) && unicode.IsSpace(rune(expr[i])) {
			i++
		}
		return i
	}
	// closing returns the index after the bracket that closes the one at i, skipping strings.
	closing := func(i int) (int, error) {
		open, shut := expr[i], map[byte]byte{'(': ')', '[': ']', '{': '}'}[expr[i]]
		depth := 0
		for j := i; j < len(expr); j++ {
			switch c := expr[j]; {
			case c == '"' || c == '\'' || c == '`':
				k := strings.IndexByte(expr[j+1:], c)
				if k < 0 {
					return 0, fmt.Errorf("unterminated string in %q", expr)
				}
				j += k + 1
			case c == open:
				depth++
			case c == shut:
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unbalanced %c in %q", open, expr)
	}
	matcherLabels := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '"' || c == '\'' || c == '`':
			k := strings.IndexByte(expr[i+1:], c)
			if k < 0 {
				return nil, fmt.Errorf("unterminated string in %q", expr)
			}
			i += k + 2
		case c == '[' || c == '{':
			// A range or subquery duration, or a selector without a metric name before it.
			j, err := closing(i)
			if err != nil {
				return nil, err
			}
			if c == '{' {
				return nil, fmt.Errorf("a selector without a metric name at %d of %q", i, expr)
			}
			i = j
		case unicode.IsDigit(rune(c)) || (c == '.' && i+1 < len(expr) && unicode.IsDigit(rune(expr[i+1]))):
			// A number, with an exponent (1e6) or a duration unit (5m).
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.' ||
				((expr[i] == '+' || expr[i] == '-') && (expr[i-1] == 'e' || expr[i-1] == 'E'))) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			next := skipSpace(j)
			lower := strings.ToLower(word)
			switch {
			case promqlKeywords[lower]:
				i = next
				if groupingKeyword[lower] && next < len(expr) && expr[next] == '(' {
					end, err := closing(next)
					if err != nil {
						return nil, err
					}
					i = end
				}
			case next < len(expr) && expr[next] == '(' && word == "label_values":
				// Grafana's label_values(selector, label): the label is no metric.
				end, err := closing(next)
				if err != nil {
					return nil, err
				}
				inner, err := metricSelectors(labelValuesLabel.ReplaceAllString(expr[next+1:end-1], ""))
				if err != nil {
					return nil, err
				}
				out, i = append(out, inner...), end
			case promqlFunctions[word]:
				// A function, or an aggregation before its by or without clause.
				i = next
			case next < len(expr) && expr[next] == '(':
				if !promqlFunctions[word] {
					return nil, fmt.Errorf("unknown function %s in %q", word, expr)
				}
				i = next
			default:
				s := selector{metric: word}
				i = j
				if next < len(expr) && expr[next] == '{' {
					end, err := closing(next)
					if err != nil {
						return nil, err
					}
					for _, m := range matcherLabels.FindAllStringSubmatch(withoutStrings(expr[next+1:end-1]), -1) {
						s.labels = append(s.labels, m[1])
					}
					i = end
				}
				out = append(out, s)
			}
		default:
			// Operators, parentheses and commas.
			i++
		}
	}
	return out, nil
}

// withoutStrings blanks the quoted strings of matchers, so that a value cannot read as a label name.
func withoutStrings(s string) string {
	return regexp.MustCompile(`"(\\.|[^"\\])*"|'(\\.|[^'\\])*'|`+"`[^`]*`").ReplaceAllString(s, `""`)
}

// TestDashboardPromQLTokenizer checks the tokenizer of the metric-name test on expressions of the kinds the chart
// uses (and that it can fail: an unknown function is refused).
func TestDashboardPromQLTokenizer(t *testing.T) {
	for expr, want := range map[string][]string{
		`max by (namespace, name) (privatellm_llmdeployment_replicas{namespace=~"$namespace", name=~"a,b"})`:                    {"privatellm_llmdeployment_replicas{namespace,name}"},
		`histogram_quantile(0.95, sum by (le, model) (rate(gen_ai_server_time_to_first_token_seconds_bucket{model=~"x"}[5m])))`: {"gen_ai_server_time_to_first_token_seconds_bucket{model}"},
		`sum by (a, api) (rate(x_total[1h])) / on (a) group_left sum by (a) (rate(y_total[1h])) * 1e6 > 2.5e-3`:                 {"x_total", "y_total"},
		`a > 0 and on (namespace, name) b == 0 unless ignoring(pod) vllm:num_requests_waiting offset 5m`:                        {"a", "b", "vllm:num_requests_waiting"},
		`label_values(privatellm_llmdeployment_replicas{namespace=~"$namespace"}, name)`:                                        {"privatellm_llmdeployment_replicas{namespace}"},
	} {
		sels, err := metricSelectors(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		var got []string
		for _, s := range sels {
			if len(s.labels) > 0 {
				got = append(got, s.metric+"{"+strings.Join(s.labels, ",")+"}")
			} else {
				got = append(got, s.metric)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: metrics %v, want %v", expr, got, want)
		}
	}
	if _, err := metricSelectors(`sum(rate_of(x[5m]))`); err == nil {
		t.Error("an unknown function is not refused")
	}
}

// TestDashboardAndAlertsNameOnlyExportedMetrics extracts every metric the dashboard and the PrometheusRule use and
// checks that the gateway, the operator or an engine exports it, and that the labels of its matchers are its own.
func TestDashboardAndAlertsNameOnlyExportedMetrics(t *testing.T) {
	objs := objects(t, render(t, valuesArgs("testdata/values-ha-namespaced.yaml")...))
	dash := dashboardOf(t, objs)
	exprs := map[string]string{} // expression -> where
	for _, p := range dashboardPanels(dash) {
		for i, target := range p.Targets {
			exprs[target.Expr] = fmt.Sprintf("dashboard panel %q target %d", p.Title, i)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			exprs[v.Definition] = fmt.Sprintf("dashboard variable %s", v.Name)
		}
	}
	for _, r := range alertRules(t, objs) {
		exprs[r.Expr] = "alert " + r.Alert
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found in the dashboard and the rules", len(exprs))
	}

	known := exportedMetrics(t)
	unknown := map[string]map[string]bool{} // metric -> where
	used := map[string]bool{}
	for expr, where := range exprs {
		sels, err := metricSelectors(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if len(sels) == 0 {
			t.Errorf("%s names no metric: %s", where, expr)
		}
		for _, s := range sels {
			name := s.metric
			m, ok := known[name]
			if !ok {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base := strings.TrimSuffix(name, suffix); base != name {
						if m, ok = known[base]; ok {
							if suffix == "_bucket" && m.labels != nil {
								m.labels = copyWith(m.labels, "le")
							}
							break
						}
					}
				}
			}
			used[name] = true
			if !ok {
				if unknown[name] == nil {
					unknown[name] = map[string]bool{}
				}
				unknown[name][where] = true
				continue
			}
			for _, l := range s.labels {
				if m.labels != nil && !m.labels[l] {
					t.Errorf("%s: %s (%s) has no label %s (its labels: %v)", where, name, m.by, l, sortedKeys(m.labels))
				}
			}
		}
	}
	t.Logf("metrics used: %s", strings.Join(sortedKeys(used), ", "))
	for _, name := range sortedKeys(unknown) {
		t.Errorf("metric %s is exported by nothing (not the gateway, the operator or an engine); used in %s",
			name, strings.Join(sortedKeys(unknown[name]), "; "))
	}
}

func copyWith(s map[string]bool, extra string) map[string]bool {
	out := map[string]bool{extra: true}
	for k := range s {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := keys(m)
	sort.Strings(out)
	return out
}

// grafanaDashboard is the part of a Grafana dashboard the tests read.
type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr       string `json:"expr"`
		RefID      string `json:"refId"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// dashboardPanels are the dashboard's panels that show data: rows left out, their nested panels included.
func dashboardPanels(d *grafanaDashboard) []grafanaPanel {
	var out []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// named returns the rendered object of a kind and name, converted into T.
func named[T any](t testing.TB, objs []*unstructured.Unstructured, kind, name string) *T {
	t.Helper()
	var match []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			match = append(match, o)
		}
	}
	if len(match) != 1 {
		t.Fatalf("%d objects %s %s rendered, want 1", len(match), kind, name)
	}
	return find[T](t, match, kind)[0]
}

// dashboardOf parses the dashboard out of the rendered ConfigMap <release>-dashboard.
func dashboardOf(t *testing.T, objs []*unstructured.Unstructured) *grafanaDashboard {
	t.Helper()
	cm := named[corev1.ConfigMap](t, objs, "ConfigMap", release+"-dashboard")
	raw, ok := cm.Data["privatellm.json"]
	if !ok || len(cm.Data) != 1 {
		t.Fatalf("ConfigMap %s holds %v, want privatellm.json", cm.Name, keys(cm.Data))
	}
	if !json.Valid([]byte(raw)) {
		t.Fatalf("the dashboard in ConfigMap %s is not valid JSON", cm.Name)
	}
	d := &grafanaDashboard{}
	if err := json.Unmarshal([]byte(raw), d); err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	return d
}

// TestDashboardJSON checks the dashboard: valid JSON, labelled for Grafana's sidecar, the datasource, namespace
// and llmdeployment variables, and a datasource and a query on every panel.
func TestDashboardJSON(t *testing.T) {
	objs := objects(t, render(t, valuesArgs("testdata/values-ha-namespaced.yaml")...))
	for _, c := range find[corev1.ConfigMap](t, objs, "ConfigMap") {
		if c.Name == release+"-dashboard" && (c.Labels["grafana_dashboard"] != "1" || c.Namespace != "monitoring") {
			t.Errorf("dashboard ConfigMap in %q with labels %v: want namespace monitoring, grafana_dashboard: \"1\"", c.Namespace, c.Labels)
		}
	}
	d := dashboardOf(t, objs)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("dashboard uid %q, title %q, schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type == "query" {
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil || q.Query != v.Definition || !strings.HasPrefix(v.Definition, "label_values(") {
				t.Errorf("variable %s: query %s, definition %q: want label_values", v.Name, v.Query, v.Definition)
			}
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s does not query the datasource variable", v.Name)
			}
		}
	}
	for name, typ := range map[string]string{"datasource": "datasource", "namespace": "query", "llmdeployment": "query"} {
		if vars[name] != typ {
			t.Errorf("template variable %s is %q, want type %s (variables %v)", name, vars[name], typ, vars)
		}
	}
	panels := dashboardPanels(d)
	if len(panels) < 8 {
		t.Errorf("%d panels, want at least 8", len(panels))
	}
	ids := map[int]bool{}
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d is taken", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q has no datasource (want uid ${datasource})", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no target", p.Title)
		}
		for i, target := range p.Targets {
			if strings.TrimSpace(target.Expr) == "" || target.RefID == "" {
				t.Errorf("panel %q target %d: expr %q, refId %q", p.Title, i, target.Expr, target.RefID)
			}
			if !strings.Contains(target.Expr, "$namespace") || !strings.Contains(target.Expr, "$llmdeployment") {
				t.Errorf("panel %q target %d does not filter on $namespace and $llmdeployment: %s", p.Title, i, target.Expr)
			}
		}
	}
}

// alertRule is one alerting rule of the PrometheusRule.
type alertRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// alertRules are the alerting rules of the one rendered PrometheusRule.
func alertRules(t *testing.T, objs []*unstructured.Unstructured) []alertRule {
	t.Helper()
	type prometheusRule struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Groups []struct {
				Name  string      `json:"name"`
				Rules []alertRule `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	pr := one[prometheusRule](t, objs, "PrometheusRule")
	if pr.APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("PrometheusRule apiVersion %s", pr.APIVersion)
	}
	var rules []alertRule
	for _, g := range pr.Spec.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// TestAlertsAnnotated checks the PrometheusRule's alerts: the expected ones, each with a severity, a duration, a
// summary and a description that name the LLMDeployment (or the ModelCache), and a runbook hint with a kubectl
// command.
func TestAlertsAnnotated(t *testing.T) {
	rules := alertRules(t, objects(t, render(t, valuesArgs("testdata/values-ha-namespaced.yaml")...)))
	want := setOf("PrivateLLMModelStalled", "PrivateLLMModelCacheStalled", "PrivateLLMNoReadyReplica",
		"PrivateLLMQueueGrowing", "PrivateLLMScaleFromZeroTimeouts", "PrivateLLMDearerThanAPI")
	got := map[string]bool{}
	for _, r := range rules {
		got[r.Alert] = true
		if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.For == "" {
			t.Errorf("rule %+v: want an alert name, an expression and a duration", r)
		}
		switch r.Labels["severity"] {
		case "critical", "warning", "info":
		default:
			t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
		}
		for _, a := range []string{"summary", "description"} {
			v := r.Annotations[a]
			named := (strings.Contains(v, "$labels.namespace") && strings.Contains(v, "$labels.name")) ||
				(strings.Contains(v, "$labels.model_namespace") && strings.Contains(v, "$labels.model"))
			if !named {
				t.Errorf("%s: the %s %q does not name the object's namespace and name", r.Alert, a, v)
			}
		}
		if !strings.Contains(r.Annotations["runbook"], "kubectl ") {
			t.Errorf("%s: the runbook %q names no kubectl command", r.Alert, r.Annotations["runbook"])
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alerts %v, want %v", sortedKeys(got), sortedKeys(want))
	}
}

// TestDashboardAlertsPodMonitorsOffByDefault: with the default values none of the dashboard, the PrometheusRule
// and the PodMonitors render; each switch renders its object.
func TestDashboardAlertsPodMonitorsOffByDefault(t *testing.T) {
	count := func(objs []*unstructured.Unstructured) map[string]int {
		n := map[string]int{}
		for _, o := range objs {
			switch {
			case o.GetKind() == "ConfigMap" && strings.HasSuffix(o.GetName(), "-dashboard"):
				n["dashboard"]++
			case o.GetKind() == "PrometheusRule", o.GetKind() == "PodMonitor":
				n[o.GetKind()]++
			}
		}
		return n
	}
	for _, c := range []struct {
		name string
		args []string
		want map[string]int
	}{
		{"default", nil, map[string]int{}},
		{"minimal", valuesArgs("testdata/values-minimal.yaml"), map[string]int{}},
		{"dashboard", []string{"--set", "metrics.grafanaDashboard.enabled=true"}, map[string]int{"dashboard": 1}},
		{"rule", []string{"--set", "metrics.prometheusRule.enabled=true"}, map[string]int{"PrometheusRule": 1}},
		{"podmonitor", []string{"--set", "metrics.podMonitor.enabled=true"}, map[string]int{"PodMonitor": 1}},
		{"podmonitor-gateway", []string{"--set", "metrics.podMonitor.enabled=true", "--set", "gateway.enabled=true"}, map[string]int{"PodMonitor": 2}},
		{"ha-namespaced", valuesArgs("testdata/values-ha-namespaced.yaml"), map[string]int{"dashboard": 1, "PrometheusRule": 1, "PodMonitor": 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := count(objects(t, render(t, c.args...))); !reflect.DeepEqual(got, c.want) {
				t.Errorf("rendered %v, want %v", got, c.want)
			}
		})
	}
}

// TestDashboardPodMonitorSelectsEngines checks the engines' PodMonitor: the operator's label on the engine pods,
// the http port, every namespace unless some are listed.
func TestDashboardPodMonitorSelectsEngines(t *testing.T) {
	type podMonitor struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			NamespaceSelector struct {
				Any        bool     `json:"any"`
				MatchNames []string `json:"matchNames"`
			} `json:"namespaceSelector"`
			PodMetricsEndpoints []map[string]any `json:"podMetricsEndpoints"`
		} `json:"spec"`
	}
	engines := func(args ...string) *podMonitor {
		return named[podMonitor](t, objects(t, render(t, args...)), "PodMonitor", release+"-engines")
	}
	all := engines("--set", "metrics.podMonitor.enabled=true")
	if all.Spec.Selector.MatchLabels["app.kubernetes.io/managed-by"] != "privatellm" {
		t.Errorf("the engines' PodMonitor selects %v, not the operator's engine pods", all.Spec.Selector.MatchLabels)
	}
	if len(all.Spec.PodMetricsEndpoints) != 1 || all.Spec.PodMetricsEndpoints[0]["port"] != "http" || all.Spec.PodMetricsEndpoints[0]["path"] != "/metrics" {
		t.Errorf("the engines' PodMonitor scrapes %v, want port http, path /metrics", all.Spec.PodMetricsEndpoints)
	}
	if !all.Spec.NamespaceSelector.Any || len(all.Spec.NamespaceSelector.MatchNames) != 0 {
		t.Errorf("without namespaces the PodMonitor selects %+v, want any", all.Spec.NamespaceSelector)
	}
	some := engines(valuesArgs("testdata/values-ha-namespaced.yaml")...)
	if some.Spec.NamespaceSelector.Any || !reflect.DeepEqual(some.Spec.NamespaceSelector.MatchNames, []string{"team-a", "team-b"}) {
		t.Errorf("with namespaces the PodMonitor selects %+v, want team-a and team-b", some.Spec.NamespaceSelector)
	}
}

// TestDashboardAlertsPodMonitorValuesSchema: values.schema.json refuses bad values of the three switches.
func TestDashboardAlertsPodMonitorValuesSchema(t *testing.T) {
	for _, bad := range [][]string{
		{"--set", "metrics.grafanaDashboard.enabled=maybe"},
		{"--set", "metrics.grafanaDashboard.folder=LLM"},
		{"--set", "metrics.grafanaDashboard.namespace=Monitoring_NS"},
		{"--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.severity=page"},
		{"--set", "metrics.podMonitor.namespaces={Team_A}"},
		{"--set", "metrics.podMonitor.interval=often"},
		{"--set-json", `metrics.podMonitor.labels={"release":1}`},
	} {
		args := append([]string{"template", release, chartDir, "--namespace", namespace}, bad...)
		if out, err := helm(t, "", args...); err == nil {
			t.Errorf("helm template %v succeeded, want a schema error:\n%.300s", bad, out)
		}
	}
}
