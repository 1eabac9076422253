package usage

import (
	"math"
	"testing"
	"time"

	"github.com/privatellm/privatellm/internal/cost"
)

var (
	t0     = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	prices = cost.Prices{GPUHourly: map[string]float64{"NVIDIA-L4": 0.80, "NVIDIA-H100-80GB-HBM3": 3.00},
		APIs: []cost.APIPrice{{Name: "big", InputPerMTok: 3, OutputPerMTok: 15}, {Name: "small", InputPerMTok: 0.15, OutputPerMTok: 0.60}}}
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestLedgerGPUTime: pods that come and go are counted while they are seen (a pending pod holds nothing; a pod gone
// counts until it was last seen), priced by their node's product, and an unpriced product is reported.
func TestLedgerGPUTime(t *testing.T) {
	l := newLedger(t0)
	a := observation{UID: "a", Created: t0.Add(-time.Hour), Scheduled: t0.Add(-time.Hour), GPUs: 2, Product: "NVIDIA-L4"}
	pending := observation{UID: "p", Created: t0, GPUs: 4}
	// 30 minutes with a (2 L4) and a pending pod: 1 GPU-hour, $0.80.
	d := l.pass(t0.Add(30*time.Minute), []observation{a, pending}, prices)
	if !near(d.GPUSeconds, 3600) || !near(d.Cost, 0.80) {
		t.Fatalf("first pass %+v, want 3600 GPU-seconds and $0.80 (the pending pod holds nothing)", d)
	}
	// b is scheduled at 0:40 on an H100 node; at 1:00 both are there: a adds 1 GPU-hour, b 1/3 GPU-hour at $3.
	b := observation{UID: "b", Created: t0.Add(35 * time.Minute), Scheduled: t0.Add(40 * time.Minute), GPUs: 1, Product: "NVIDIA-H100-80GB-HBM3"}
	d = l.pass(t0.Add(time.Hour), []observation{a, b}, prices)
	if !near(d.GPUSeconds, 3600+1200) || !near(d.Cost, 0.80+1.0) {
		t.Fatalf("second pass %+v, want 4800 GPU-seconds and $1.80", d)
	}
	// a is gone at 1:30: it is counted up to 1:00, when it was last seen; c sits on a node of an unpriced product.
	c := observation{UID: "c", Created: t0.Add(time.Hour), Scheduled: t0.Add(time.Hour), GPUs: 1, Product: "NVIDIA-B200"}
	d = l.pass(t0.Add(90*time.Minute), []observation{b, c}, prices)
	if !near(d.GPUSeconds, 1800+1800) || !near(d.Cost, 1.50) {
		t.Fatalf("third pass %+v, want b's and c's half hours and only b's $1.50", d)
	}
	if len(l.unpriced) != 1 || l.unpriced[0] != "NVIDIA-B200" {
		t.Errorf("unpriced %v", l.unpriced)
	}
	if gpus, _ := l.gpusNow(prices); gpus != 2 {
		t.Errorf("GPUs held now %d, want b's and c's", gpus)
	}
	u := l.status(t0.Add(90*time.Minute), prices, "USD")
	if u.Total.GPUHours != "3.333333" || u.Total.Cost != "4.1" || len(u.Unpriced) != 1 {
		t.Errorf("total %+v, want 1 + 4/3 + 1 GPU-hours and $4.10", u.Total)
	}
}

// TestLedgerTokens: a pod seen for the first time that existed before counting began is a baseline; a pod created
// later counts in full; a restarted engine's counter reset counts what it served since.
func TestLedgerTokens(t *testing.T) {
	l := newLedger(t0)
	old := observation{UID: "old", Created: t0.Add(-time.Hour), Scraped: true, Prompt: 5000, Generation: 1000}
	d := l.pass(t0.Add(time.Minute), []observation{old}, prices)
	if d.Input != 0 || d.Output != 0 {
		t.Fatalf("a pod from before counting began: %+v, want a baseline", d)
	}
	old.Prompt, old.Generation = 6000, 1500
	young := observation{UID: "young", Created: t0.Add(time.Minute), Scraped: true, Prompt: 300, Generation: 100}
	d = l.pass(t0.Add(2*time.Minute), []observation{old, young}, prices)
	if d.Input != 1000+300 || d.Output != 500+100 {
		t.Fatalf("second pass %+v, want old's growth and young's whole counters", d)
	}
	old.Prompt, old.Generation = 200, 50 // the engine restarted
	d = l.pass(t0.Add(3*time.Minute), []observation{old, young}, prices)
	if d.Input != 200 || d.Output != 50 {
		t.Fatalf("after a reset %+v, want what it counted since", d)
	}
	u := l.status(t0.Add(3*time.Minute), prices, "USD")
	if u.Total.InputTokens != 1500 || u.Total.OutputTokens != 650 || u.Total.CostPerMTok != "0" {
		t.Errorf("total %+v", u.Total)
	}
	big := u.Total.APIs[0]
	// 1500 in × $3/M + 650 out × $15/M = $0.0045 + $0.00975 = $0.01425; no GPU held, so self-hosting cost $0.
	if big.Name != "big" || big.Cost != "0.01425" || big.Verdict != "Cheaper" {
		t.Errorf("API comparison %+v", big)
	}
}

// TestLedgerRestore: a new operator goes on from status.usage: the totals, GPU time from the last write on, and
// pods created since then count in full.
func TestLedgerRestore(t *testing.T) {
	first := newLedger(t0)
	a := observation{UID: "a", Created: t0, Scheduled: t0, GPUs: 1, Product: "NVIDIA-L4", Scraped: true, Prompt: 0, Generation: 0}
	first.pass(t0.Add(time.Minute), []observation{a}, prices)
	a.Prompt, a.Generation = 1000, 200
	first.pass(t0.Add(time.Hour), []observation{a}, prices)
	written := first.status(t0.Add(time.Hour), prices, "USD")

	next := restore(written, t0.Add(2*time.Hour))
	if !next.since.Equal(t0) || next.total.Input != 1000 || !near(next.total.GPUSeconds, 3600) {
		t.Fatalf("restored %+v since %s", next.total, next.since)
	}
	a.Prompt, a.Generation = 1500, 300
	b := observation{UID: "b", Created: t0.Add(90 * time.Minute), Scheduled: t0.Add(90 * time.Minute), GPUs: 1, Product: "NVIDIA-L4", Scraped: true, Prompt: 400, Generation: 40}
	d := next.pass(t0.Add(2*time.Hour), []observation{a, b}, prices)
	// a: an hour since the last write (its tokens since then are a baseline); b: half an hour and all its tokens.
	if !near(d.GPUSeconds, 3600+1800) || d.Input != 400 || d.Output != 40 {
		t.Fatalf("first pass after restore %+v", d)
	}
	if next.due(next.status(t0.Add(2*time.Hour), prices, "USD"), t0.Add(2*time.Hour), 5*time.Minute) != true {
		t.Error("changed figures an hour after the last write are due")
	}
}

// TestLedgerDue: the first status is written at once; later ones only when a figure changed and the refresh
// interval has passed.
func TestLedgerDue(t *testing.T) {
	l := newLedger(t0)
	now := t0.Add(time.Minute)
	l.pass(now, nil, prices)
	u := l.status(now, prices, "USD")
	if !l.due(u, now, 5*time.Minute) {
		t.Fatal("the first status is due")
	}
	l.wrote(u)
	a := observation{UID: "a", Created: t0, Scheduled: t0, GPUs: 1, Product: "NVIDIA-L4"}
	for _, tc := range []struct {
		at   time.Duration
		pods []observation
		want bool
	}{
		{2 * time.Minute, []observation{a}, false}, // changed, but within the interval
		{7 * time.Minute, []observation{a}, true},  // changed, interval passed
	} {
		now := t0.Add(tc.at)
		l.pass(now, tc.pods, prices)
		if got := l.due(l.status(now, prices, "USD"), now, 5*time.Minute); got != tc.want {
			t.Errorf("at +%s due = %v, want %v", tc.at, got, tc.want)
		}
	}
	idle := newLedger(t0)
	idle.pass(t0.Add(time.Minute), nil, prices)
	idle.wrote(idle.status(t0.Add(time.Minute), prices, "USD"))
	later := t0.Add(20 * time.Minute)
	idle.pass(later, nil, prices)
	if idle.due(idle.status(later, prices, "USD"), later, 5*time.Minute) {
		t.Error("an idle model with nothing new is not written again")
	}
}
