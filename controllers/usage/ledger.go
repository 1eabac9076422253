package usage

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/privatellm/privatellm/api/v1alpha1"
	"github.com/privatellm/privatellm/internal/cost"
)

// The ledger is one LLMDeployment's running account, kept in memory between passes and written to status.usage.
// It is pure: each pass gets the time and what was observed.

// observation is one pod as a pass saw it.
type observation struct {
	// UID identifies the pod; Created is its creation time.
	UID     string
	Created time.Time
	// Scheduled is when the pod was bound to a node (zero while pending: it holds no GPU yet), GPUs how many it
	// requests, Product the GPU product label of its node.
	Scheduled time.Time
	GPUs      int
	Product   string
	// Scraped is true when the engine's counters were read: Prompt and Generation tokens.
	Scraped            bool
	Prompt, Generation float64
}

// keyObservation is one API key's token counters for the model on one gateway replica's page.
type keyObservation struct {
	// Gateway is the replica's metrics URL; Key the APIKey, "namespace/name".
	Gateway, Key  string
	Input, Output float64
}

// delta is what one pass added, for the metrics.
type delta struct {
	GPUSeconds, Cost, Input, Output float64
	// Keys are the keys' tokens and attributed cost in this pass.
	Keys map[string]keyDelta
}

// keyDelta is what one key added in a pass.
type keyDelta struct {
	Input, Output, Cost float64
}

// maxKeys is how many keys status.usage.keys lists (those with the most tokens).
const maxKeys = 64

// figures are sums over a stretch of time.
type figures struct {
	GPUSeconds, Cost, Input, Output float64
}

func (f *figures) add(d delta) {
	f.GPUSeconds += d.GPUSeconds
	f.Cost += d.Cost
	f.Input += d.Input
	f.Output += d.Output
}

// bucket holds one hour of figures, for the last-24-hours window.
type bucket struct {
	hour time.Time
	figures
}

// span is a pod's hold on GPUs.
type span struct {
	start    time.Time
	gpus     int
	product  string
	lastSeen time.Time
}

// peakBucket is the stretch over which the peak token rate is measured (utilization's denominator).
const peakBucket = time.Minute

type ledger struct {
	// since is where the total window begins; started where this process began counting (the last-24h window
	// begins no earlier); accounted is how far GPU time has been added up.
	since, started, accounted time.Time
	// countFrom: pods created at or after it (to the second, as creation times go) are new, so their whole
	// counters count; older pods' counters are a baseline at first sight.
	countFrom time.Time
	total     figures
	hours     []bucket
	samples   []cost.Sample
	counters  cost.Counters
	pods      map[string]*span
	unpriced  []string
	// fresh is true when the account starts at the model's creation: every counter seen counts in full.
	fresh bool
	// keys are the API keys' totals through the gateway, by "namespace/name".
	keys map[string]*keyDelta
	// written is the last status written (without its time) and when.
	written   *v1.UsageStatus
	writtenAt time.Time
}

func newLedger(now time.Time) *ledger {
	return &ledger{since: now, started: now, accounted: now, countFrom: now, pods: map[string]*span{}, keys: map[string]*keyDelta{}}
}

// restore goes on from what a previous operator wrote: the totals, and GPU time from its last write on. Tokens
// that pods already running served between that write and now cannot be told apart from earlier ones: they are
// not counted (a pod created since counts in full).
func restore(u *v1.UsageStatus, now time.Time) *ledger {
	l := newLedger(now)
	if u == nil || u.UpdatedAt.IsZero() || u.UpdatedAt.Time.After(now) {
		return l
	}
	l.since = u.Total.WindowStart.Time
	l.accounted, l.countFrom = u.UpdatedAt.Time, u.UpdatedAt.Time
	l.total = figures{
		GPUSeconds: parse(u.Total.GPUHours) * 3600, Cost: parse(u.Total.Cost),
		Input: float64(u.Total.InputTokens), Output: float64(u.Total.OutputTokens),
	}
	for _, k := range u.Keys {
		l.keys[k.Key] = &keyDelta{Input: float64(k.InputTokens), Output: float64(k.OutputTokens), Cost: parse(k.Cost)}
	}
	l.written, l.writtenAt = withoutTime(u), u.UpdatedAt.Time
	return l
}

// pass adds what happened since the last pass: GPU time of the pods seen (a pod gone since is counted until it
// was last seen, so a pod's last interval is under- rather than over-counted), and the engines' new tokens.
func (l *ledger) pass(now time.Time, pods []observation, keys []keyObservation, prices cost.Prices) delta {
	if !now.After(l.accounted) {
		return delta{}
	}
	seen := map[string]bool{}
	for _, o := range pods {
		seen[o.UID] = true
		if o.GPUs <= 0 || o.Scheduled.IsZero() {
			continue
		}
		s := l.pods[o.UID]
		if s == nil {
			s = &span{start: o.Scheduled, gpus: o.GPUs}
			l.pods[o.UID] = s
		}
		if o.Product != "" {
			s.product = o.Product
		}
		s.lastSeen = now
	}
	spans := make([]cost.Span, 0, len(l.pods))
	for uid, s := range l.pods {
		sp := cost.Span{Pod: uid, GPUs: s.gpus, Product: s.product, Start: s.start}
		if !seen[uid] {
			sp.End = s.lastSeen
			delete(l.pods, uid)
		}
		spans = append(spans, sp)
	}
	var d delta
	d.GPUSeconds = cost.GPUSeconds(spans, l.accounted, now)
	var unpriced []string
	d.Cost, unpriced = cost.Cost(spans, prices, l.accounted, now)
	for _, p := range unpriced {
		if !slices.Contains(l.unpriced, p) && len(l.unpriced) < 16 {
			l.unpriced = append(l.unpriced, p)
			slices.Sort(l.unpriced)
		}
	}
	for _, o := range pods {
		if !o.Scraped {
			continue
		}
		start := cost.Baseline
		if !o.Created.Before(l.countFrom) {
			start = cost.FromZero
		}
		d.Input += l.counters.Observe(o.UID+"/prompt", o.Prompt, now, start)
		d.Output += l.counters.Observe(o.UID+"/generation", o.Generation, now, start)
	}
	d.Keys = l.passKeys(now, keys, d)
	// A pod or gateway replica not read for ten minutes is gone: its series go, so memory stays bounded.
	l.counters.Sweep(now.Add(-10 * time.Minute))

	l.total.add(d)
	hour := now.Truncate(time.Hour)
	if n := len(l.hours); n == 0 || !l.hours[n-1].hour.Equal(hour) {
		l.hours = append(l.hours, bucket{hour: hour})
	}
	l.hours[len(l.hours)-1].add(d)
	l.hours = slices.DeleteFunc(l.hours, func(b bucket) bool { return !b.hour.After(now.Add(-24 * time.Hour)) })
	if n := len(l.samples); n == 0 || now.Sub(l.samples[n-1].At) >= peakBucket {
		l.samples = append(l.samples, cost.Sample{At: now, Total: l.total.Input + l.total.Output})
	}
	l.samples = slices.DeleteFunc(l.samples, func(s cost.Sample) bool { return s.At.Before(now.Add(-24 * time.Hour)) })
	l.accounted = now
	return d
}

// passKeys adds the keys' new tokens and charges each its share of the pass's GPU cost: its tokens against the
// model's (the engines' count, which includes traffic that did not come through the gateway). The shares never
// add up to more than the whole.
func (l *ledger) passKeys(now time.Time, keys []keyObservation, d delta) map[string]keyDelta {
	start := cost.Baseline
	if l.fresh {
		start = cost.FromZero
	}
	out := map[string]keyDelta{}
	var keyTokens float64
	for _, o := range keys {
		series := "gateway/" + o.Gateway + "/" + o.Key
		kd := out[o.Key]
		kd.Input += l.counters.Observe(series+"/input", o.Input, now, start)
		kd.Output += l.counters.Observe(series+"/output", o.Output, now, start)
		out[o.Key] = kd
	}
	for _, kd := range out {
		keyTokens += kd.Input + kd.Output
	}
	whole := max(d.Input+d.Output, keyTokens)
	for k, kd := range out {
		if whole > 0 {
			kd.Cost = d.Cost * (kd.Input + kd.Output) / whole
		}
		out[k] = kd
		acc := l.keys[k]
		if acc == nil {
			if kd.Input+kd.Output == 0 {
				continue
			}
			acc = &keyDelta{}
			l.keys[k] = acc
		}
		acc.Input += kd.Input
		acc.Output += kd.Output
		acc.Cost += kd.Cost
	}
	return out
}

// keyUsage renders the keys' totals, most tokens first, at most maxKeys.
func (l *ledger) keyUsage(prices cost.Prices) []v1.KeyUsage {
	names := make([]string, 0, len(l.keys))
	for k := range l.keys {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		ta, tb := l.keys[a].Input+l.keys[a].Output, l.keys[b].Input+l.keys[b].Output
		switch {
		case ta > tb:
			return -1
		case ta < tb:
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(names) > maxKeys {
		names = names[:maxKeys]
	}
	var out []v1.KeyUsage
	for _, k := range names {
		acc := l.keys[k]
		ku := v1.KeyUsage{Key: k, InputTokens: int64(acc.Input), OutputTokens: int64(acc.Output), Cost: decimal(acc.Cost)}
		for _, a := range prices.APIs {
			api := acc.Input/1e6*a.InputPerMTok + acc.Output/1e6*a.OutputPerMTok
			v := "Dearer"
			switch {
			case acc.Input+acc.Output == 0:
				v = "NoTraffic"
			case acc.Cost < api:
				v = "Cheaper"
			}
			ku.APIs = append(ku.APIs, v1.APIComparison{Name: a.Name, Cost: decimal(api), Verdict: v})
		}
		out = append(out, ku)
	}
	return out
}

// gpusNow is what the pods hold at the last pass, and their mean hourly price.
func (l *ledger) gpusNow(prices cost.Prices) (int, float64) {
	gpus, dollars := 0, 0.0
	for _, s := range l.pods {
		gpus += s.gpus
		if h, ok := prices.HourlyFor(s.product); ok {
			dollars += h * float64(s.gpus)
		}
	}
	if gpus == 0 {
		return 0, 0
	}
	return gpus, dollars / float64(gpus)
}

// status renders the ledger as status.usage at now.
func (l *ledger) status(now time.Time, prices cost.Prices, currency string) *v1.UsageStatus {
	gpus, hourly := l.gpusNow(prices)
	peak := cost.PeakRate(l.samples, peakBucket)
	u := &v1.UsageStatus{
		UpdatedAt: metav1.NewTime(now), Currency: currency,
		Total:    figuresOf(l.total, l.since, now, prices, gpus, hourly, peak),
		Unpriced: slices.Clone(l.unpriced),
		Keys:     l.keyUsage(prices),
	}
	from := now.Add(-24 * time.Hour)
	if l.started.After(from) {
		from = l.started
	}
	var day figures
	for _, b := range l.hours {
		day.GPUSeconds += b.GPUSeconds
		day.Cost += b.Cost
		day.Input += b.Input
		day.Output += b.Output
	}
	last := figuresOf(day, from, now, prices, gpus, hourly, peak)
	u.Last24h = &last
	return u
}

// due says whether the status should be written now: the first time, and then when a figure changed and the
// refresh interval has passed since the last write.
func (l *ledger) due(u *v1.UsageStatus, now time.Time, refresh time.Duration) bool {
	if l.written == nil {
		return true
	}
	if now.Sub(l.writtenAt) < refresh {
		return false
	}
	return !equality.Semantic.DeepEqual(withoutTime(u), l.written)
}

func (l *ledger) wrote(u *v1.UsageStatus) {
	l.written, l.writtenAt = withoutTime(u), u.UpdatedAt.Time
}

func figuresOf(f figures, from, to time.Time, prices cost.Prices, gpus int, hourly, peak float64) v1.UsageFigures {
	sum := cost.Summarize(cost.Usage{
		GPUSeconds: f.GPUSeconds, Dollars: f.Cost, InputTokens: f.Input, OutputTokens: f.Output, Window: to.Sub(from),
	}, prices, gpus, hourly, peak)
	out := v1.UsageFigures{
		WindowStart: metav1.NewTime(from),
		GPUHours:    decimal(f.GPUSeconds / 3600), Cost: decimal(f.Cost),
		InputTokens: int64(f.Input), OutputTokens: int64(f.Output),
		UtilizationPercent: int32(math.Round(sum.Utilization * 100)),
	}
	if !sum.NoTokens {
		// A price per million tokens needs no more than four decimals (kubectl get -o wide shows it).
		out.CostPerMTok = strconv.FormatFloat(math.Round(sum.DollarsPerMTok*1e4)/1e4, 'f', -1, 64)
	}
	for i, a := range sum.APIEquivalent {
		c := v1.APIComparison{Name: a.Name, Cost: decimal(a.Dollars), Verdict: verdict(a.Verdict)}
		if i < len(sum.BreakEvenTokensPerDay) && !sum.BreakEvenTokensPerDay[i].Never {
			c.BreakEvenTokensPerDay = int64(sum.BreakEvenTokensPerDay[i].TokensPerDay)
		}
		out.APIs = append(out.APIs, c)
	}
	return out
}

func verdict(v cost.Verdict) string {
	switch v {
	case cost.VerdictCheaper:
		return "Cheaper"
	case cost.VerdictDearer:
		return "Dearer"
	default:
		return "NoTraffic"
	}
}

// decimal writes an amount with at most six decimals (a GPU-hour to 3.6ms, a dollar to a ten-thousandth of a
// cent), so that a short window's figures are not rounded away.
func decimal(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

func parse(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// withoutTime is u with the times that change on every write (UpdatedAt, the last-24h window start) cleared, for
// comparing figures.
func withoutTime(u *v1.UsageStatus) *v1.UsageStatus {
	c := u.DeepCopy()
	c.UpdatedAt = metav1.Time{}
	if c.Last24h != nil {
		c.Last24h.WindowStart = metav1.Time{}
	}
	return c
}
