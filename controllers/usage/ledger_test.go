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
	d := l.pass(t0.Add(30*time.Minute), []observation{a, pending}, nil, prices)
	if !near(d.GPUSeconds, 3600) || !near(d.Cost, 0.80) {
		t.Fatalf("first pass %+v, want 3600 GPU-seconds and $0.80 (the pending pod holds nothing)", d)
	}
	// b is scheduled at 0:40 on an H100 node; at 1:00 both are there: a adds 1 GPU-hour, b 1/3 GPU-hour at $3.
	b := observation{UID: "b", Created: t0.Add(35 * time.Minute), Scheduled: t0.Add(40 * time.Minute), GPUs: 1, Product: "NVIDIA-H100-80GB-HBM3"}
	d = l.pass(t0.Add(time.Hour), []observation{a, b}, nil, prices)
	if !near(d.GPUSeconds, 3600+1200) || !near(d.Cost, 0.80+1.0) {
		t.Fatalf("second pass %+v, want 4800 GPU-seconds and $1.80", d)
	}
	// a is gone at 1:30: it is counted up to 1:00, when it was last seen; c sits on a node of an unpriced product.
	c := observation{UID: "c", Created: t0.Add(time.Hour), Scheduled: t0.Add(time.Hour), GPUs: 1, Product: "NVIDIA-B200"}
	d = l.pass(t0.Add(90*time.Minute), []observation{b, c}, nil, prices)
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
	d := l.pass(t0.Add(time.Minute), []observation{old}, nil, prices)
	if d.Input != 0 || d.Output != 0 {
		t.Fatalf("a pod from before counting began: %+v, want a baseline", d)
	}
	old.Prompt, old.Generation = 6000, 1500
	young := observation{UID: "young", Created: t0.Add(time.Minute), Scraped: true, Prompt: 300, Generation: 100}
	d = l.pass(t0.Add(2*time.Minute), []observation{old, young}, nil, prices)
	if d.Input != 1000+300 || d.Output != 500+100 {
		t.Fatalf("second pass %+v, want old's growth and young's whole counters", d)
	}
	old.Prompt, old.Generation = 200, 50 // the engine restarted
	d = l.pass(t0.Add(3*time.Minute), []observation{old, young}, nil, prices)
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
	first.pass(t0.Add(time.Minute), []observation{a}, nil, prices)
	a.Prompt, a.Generation = 1000, 200
	first.pass(t0.Add(time.Hour), []observation{a}, nil, prices)
	written := first.status(t0.Add(time.Hour), prices, "USD")

	next := restore(written, t0.Add(2*time.Hour))
	if !next.since.Equal(t0) || next.total.Input != 1000 || !near(next.total.GPUSeconds, 3600) {
		t.Fatalf("restored %+v since %s", next.total, next.since)
	}
	a.Prompt, a.Generation = 1500, 300
	b := observation{UID: "b", Created: t0.Add(90 * time.Minute), Scheduled: t0.Add(90 * time.Minute), GPUs: 1, Product: "NVIDIA-L4", Scraped: true, Prompt: 400, Generation: 40}
	d := next.pass(t0.Add(2*time.Hour), []observation{a, b}, nil, prices)
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
	l.pass(now, nil, nil, prices)
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
		l.pass(now, tc.pods, nil, prices)
		if got := l.due(l.status(now, prices, "USD"), now, 5*time.Minute); got != tc.want {
			t.Errorf("at +%s due = %v, want %v", tc.at, got, tc.want)
		}
	}
	idle := newLedger(t0)
	idle.pass(t0.Add(time.Minute), nil, nil, prices)
	idle.wrote(idle.status(t0.Add(time.Minute), prices, "USD"))
	later := t0.Add(20 * time.Minute)
	idle.pass(later, nil, nil, prices)
	if idle.due(idle.status(later, prices, "USD"), later, 5*time.Minute) {
		t.Error("an idle model with nothing new is not written again")
	}
}

// TestLedgerKeys: each key is charged the GPU cost of the passes in which it sent tokens, by its share of the
// model's tokens; idle GPU time is charged to no key; a gateway replica's counter reset counts what it metered
// since; the keys are listed with their API equivalents.
func TestLedgerKeys(t *testing.T) {
	l := newLedger(t0)
	l.fresh = true // the model was created while counting: every counter counts in full
	pod := observation{UID: "a", Created: t0, Scheduled: t0, GPUs: 1, Product: "NVIDIA-L4", Scraped: true}
	// First hour: the engine served 3000 tokens, 2000 of them for team-a/app and 1000 for team-b/bot, through two
	// gateway replicas. The hour's $0.80 is split 2:1.
	pod.Prompt, pod.Generation = 2400, 600
	keys := []keyObservation{
		{Gateway: "gw1", Key: "team-a/app", Input: 1000, Output: 200},
		{Gateway: "gw2", Key: "team-a/app", Input: 600, Output: 200},
		{Gateway: "gw1", Key: "team-b/bot", Input: 800, Output: 200},
	}
	d := l.pass(t0.Add(time.Hour), []observation{pod}, keys, prices)
	if a, b := d.Keys["team-a/app"], d.Keys["team-b/bot"]; a.Input != 1600 || a.Output != 400 || !near(a.Cost, 0.80*2/3) || !near(b.Cost, 0.80/3) {
		t.Fatalf("first hour: keys %+v", d.Keys)
	}
	// Second hour: no traffic. Its $0.80 is charged to no key.
	d = l.pass(t0.Add(2*time.Hour), []observation{pod}, keys, prices)
	if a := d.Keys["team-a/app"]; a.Cost != 0 || a.Input != 0 {
		t.Fatalf("an idle hour charged %+v", a)
	}
	// Third hour: gw2 restarted (its counter fell to 100 input); the engine served 150 more.
	pod.Prompt, pod.Generation = 2550, 600
	keys[1].Input, keys[1].Output = 100, 50
	d = l.pass(t0.Add(3*time.Hour), []observation{pod}, keys, prices)
	if a := d.Keys["team-a/app"]; a.Input != 100 || a.Output != 50 || !near(a.Cost, 0.80) {
		t.Fatalf("after a gateway restart: %+v, want its 150 tokens and the whole hour", a)
	}
	u := l.status(t0.Add(3*time.Hour), prices, "USD")
	if len(u.Keys) != 2 || u.Keys[0].Key != "team-a/app" || u.Keys[0].InputTokens != 1700 || u.Keys[0].OutputTokens != 450 {
		t.Fatalf("keys %+v, want team-a/app first with the most tokens", u.Keys)
	}
	// team-a/app: $0.8 × 2/3 + $0.8 = $1.333333; at the "big" API 1700 × $3/M + 450 × $15/M = $0.01185.
	if a := u.Keys[0]; a.Cost != "1.333333" || a.APIs[0].Name != "big" || a.APIs[0].Cost != "0.01185" || a.APIs[0].Verdict != "Dearer" {
		t.Errorf("team-a/app usage %+v", a)
	}
	// A restart goes on from the keys' totals.
	next := restore(u, t0.Add(4*time.Hour))
	if k := next.keys["team-b/bot"]; k == nil || k.Input != 800 || !near(k.Cost, 0.266667) {
		t.Errorf("restored key %+v", k)
	}
}
