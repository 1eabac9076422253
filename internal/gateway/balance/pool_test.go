package balance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// testEndpoints returns n endpoints 10.0.0.1:8000 … 10.0.0.n:8000.
func testEndpoints(n int) []Endpoint {
	eps := make([]Endpoint, n)
	for i := range eps {
		eps[i] = Endpoint{Address: fmt.Sprintf("10.0.%d.%d:8000", (i+1)/256, (i+1)%256), Pod: fmt.Sprintf("engine-%d", i)}
	}
	return eps
}

func newTestPool(n int) *Pool {
	p := NewPool(Config{})
	p.Update(testEndpoints(n))
	return p
}

// load returns the outstanding count the pool keeps for addr, current or draining.
func load(p *Pool, addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.byAddr[addr]; m != nil {
		return m.outstanding
	}
	if m := p.draining[addr]; m != nil {
		return m.outstanding
	}
	return 0
}

// hold takes k leases on addr, by excluding every other endpoint.
func hold(t *testing.T, p *Pool, addr string, k int) []*Lease {
	t.Helper()
	var others []string
	for _, e := range p.Endpoints() {
		if e.Address != addr {
			others = append(others, e.Address)
		}
	}
	var ls []*Lease
	for range k {
		l, ok := p.Pick(PickOptions{Exclude: others})
		if !ok || l.Endpoint.Address != addr {
			t.Fatalf("hold %s: got %v, %v", addr, l, ok)
		}
		ls = append(ls, l)
	}
	return ls
}

func pick(t *testing.T, p *Pool, opts PickOptions) *Lease {
	t.Helper()
	l, ok := p.Pick(opts)
	if !ok {
		t.Fatalf("Pick(%+v) found nothing", opts)
	}
	return l
}

func doneAll(ls []*Lease) {
	for _, l := range ls {
		l.Done()
	}
}

func TestPickEmpty(t *testing.T) {
	var zero Pool
	if l, ok := zero.Pick(PickOptions{}); ok || l != nil {
		t.Fatalf("zero Pool: Pick = %v, %v", l, ok)
	}
	p := newTestPool(2)
	all := addresses(p.Endpoints())
	for _, opts := range []PickOptions{{Exclude: all}, {Exclude: all, HasKey: true, Key: 42}} {
		if l, ok := p.Pick(opts); ok {
			t.Fatalf("Pick(%+v) with everything excluded = %v", opts, l.Endpoint)
		}
	}
	p.Update(nil)
	if _, ok := p.Pick(PickOptions{HasKey: true}); ok {
		t.Fatal("Pick after Update(nil) found an endpoint")
	}
	if p.Outstanding() != 0 {
		t.Fatalf("Outstanding = %d after failed picks", p.Outstanding())
	}
}

func TestPickLeastLoaded(t *testing.T) {
	p := newTestPool(4)
	eps := addresses(p.Endpoints())
	// Loads 3, 1, 2, 5: the least loaded is eps[1].
	hold(t, p, eps[0], 3)
	hold(t, p, eps[1], 1)
	hold(t, p, eps[2], 2)
	hold(t, p, eps[3], 5)
	if got := pick(t, p, PickOptions{}).Endpoint.Address; got != eps[1] {
		t.Fatalf("Pick = %s, want the least loaded %s", got, eps[1])
	}
	// Loads 3, 2, 2, 5: the next two picks go to eps[1] and eps[2], one each.
	a, b := pick(t, p, PickOptions{}).Endpoint.Address, pick(t, p, PickOptions{}).Endpoint.Address
	if !(a == eps[1] && b == eps[2] || a == eps[2] && b == eps[1]) {
		t.Fatalf("picks at loads 3,2,2,5 = %s, %s; want %s and %s", a, b, eps[1], eps[2])
	}
	// Loads 3, 3, 3, 5: never eps[3] until the others reach 5.
	for i := range 6 {
		if got := pick(t, p, PickOptions{}).Endpoint.Address; got == eps[3] {
			t.Fatalf("pick %d went to %s, the most loaded", i, got)
		}
	}
	for _, e := range eps {
		if got := load(p, e); got != 5 {
			t.Fatalf("load(%s) = %d, want 5 everywhere", e, got)
		}
	}
	if got := p.Outstanding(); got != 20 {
		t.Fatalf("Outstanding = %d, want 20", got)
	}
}

func TestPickLeastTiesSpread(t *testing.T) {
	p := newTestPool(5)
	eps := addresses(p.Endpoints())
	busy := hold(t, p, eps[2], 1) // eps[2] is not among the least loaded
	counts := map[string]int{}
	const picks = 4000
	for range picks {
		l := pick(t, p, PickOptions{})
		counts[l.Endpoint.Address]++
		l.Done()
	}
	if counts[eps[2]] != 0 {
		t.Fatalf("the loaded endpoint got %d of %d picks", counts[eps[2]], picks)
	}
	for _, e := range []string{eps[0], eps[1], eps[3], eps[4]} {
		if c := counts[e]; c < picks/4*9/10 || c > picks/4*11/10 {
			t.Fatalf("tied endpoints got %v; want about %d each", counts, picks/4)
		}
	}
	doneAll(busy)
}

func TestPickExclude(t *testing.T) {
	p := newTestPool(3)
	eps := addresses(p.Endpoints())
	for _, keyed := range []bool{false, true} {
		for k := range 200 {
			opts := PickOptions{Exclude: []string{eps[k%3], eps[(k+1)%3]}, HasKey: keyed, Key: uint64(k)}
			l := pick(t, p, opts)
			if want := eps[(k+2)%3]; l.Endpoint.Address != want {
				t.Fatalf("Pick(%+v) = %s, want the only one not excluded, %s", opts, l.Endpoint.Address, want)
			}
			l.Done()
		}
	}
	// The least loaded endpoint, excluded, is passed over for the next least loaded.
	hold(t, p, eps[0], 2)
	hold(t, p, eps[1], 1)
	if got := pick(t, p, PickOptions{Exclude: []string{eps[2]}}).Endpoint.Address; got != eps[1] {
		t.Fatalf("Pick excluding the least loaded = %s, want %s", got, eps[1])
	}
}

func TestLeaseDoneIdempotent(t *testing.T) {
	p := newTestPool(2)
	l1 := pick(t, p, PickOptions{})
	l2 := pick(t, p, PickOptions{Exclude: []string{l1.Endpoint.Address}})
	l3 := pick(t, p, PickOptions{Exclude: []string{l2.Endpoint.Address}}) // on l1's endpoint
	for range 3 {
		l1.Done()
	}
	if got := load(p, l1.Endpoint.Address); got != 1 {
		t.Fatalf("load after Done three times = %d, want 1 (l3 still running)", got)
	}
	if got := p.Outstanding(); got != 2 {
		t.Fatalf("Outstanding = %d, want 2", got)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { l2.Done(); l3.Done() })
	}
	wg.Wait()
	if got := p.Outstanding(); got != 0 {
		t.Fatalf("Outstanding = %d after all Done, want 0", got)
	}
	var nilLease *Lease
	nilLease.Done() // does not panic
	(&Lease{}).Done()
}

func TestUpdateKeepsCountsAndDrains(t *testing.T) {
	p := newTestPool(3)
	eps := testEndpoints(3)
	a, b, c := eps[0].Address, eps[1].Address, eps[2].Address
	la := hold(t, p, a, 2)
	lb := hold(t, p, b, 3)
	lc := hold(t, p, c, 1)

	// c leaves, d arrives, a and b stay (with new pod metadata for a).
	d := Endpoint{Address: "10.0.9.9:8000", Pod: "engine-new"}
	kept := Endpoint{Address: a, Pod: "engine-a-renamed"}
	p.Update([]Endpoint{d, eps[1], kept, eps[1]})
	if got, want := addresses(p.Endpoints()), []string{a, b, d.Address}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Endpoints = %v, want %v", got, want)
	}
	if load(p, a) != 2 || load(p, b) != 3 || load(p, d.Address) != 0 {
		t.Fatalf("loads after Update: a=%d b=%d d=%d, want 2 3 0", load(p, a), load(p, b), load(p, d.Address))
	}
	if got := p.Outstanding(); got != 6 {
		t.Fatalf("Outstanding = %d, want 6 (c's request still running)", got)
	}
	for k := range 300 {
		for _, opts := range []PickOptions{{}, {HasKey: true, Key: uint64(k) * 0x9e3779b97f4a7c15}, {Exclude: []string{a, b, d.Address}}} {
			if l, ok := p.Pick(opts); ok {
				if l.Endpoint.Address == c {
					t.Fatalf("Pick(%+v) chose the removed endpoint", opts)
				}
				if l.Endpoint.Address == a && l.Endpoint.Pod != "engine-a-renamed" {
					t.Fatalf("lease on a has pod %q, want the updated name", l.Endpoint.Pod)
				}
				l.Done()
			}
		}
	}

	// The removed endpoint's request finishes; its count goes, nothing else changes.
	lc[0].Done()
	lc[0].Done()
	if p.Outstanding() != 5 || load(p, a) != 2 || load(p, b) != 3 {
		t.Fatalf("after the removed endpoint's Done: Outstanding=%d a=%d b=%d, want 5 2 3", p.Outstanding(), load(p, a), load(p, b))
	}

	// b leaves with requests running, and comes back before they end: it gets its count back.
	p.Update([]Endpoint{kept, d})
	lb[0].Done()
	if got := load(p, b); got != 2 {
		t.Fatalf("draining b: load = %d, want 2", got)
	}
	p.Update([]Endpoint{kept, eps[1], d})
	if got := load(p, b); got != 2 {
		t.Fatalf("b back: load = %d, want 2", got)
	}
	if got := pick(t, p, PickOptions{}).Endpoint.Address; got != d.Address {
		t.Fatalf("Pick = %s, want the idle %s", got, d.Address)
	}
	doneAll(la)
	doneAll(lb)
	p.Update(nil)
	if got := p.Outstanding(); got != 1 {
		t.Fatalf("Outstanding = %d, want 1 (the lease on d)", got)
	}
	p.mu.Lock()
	live, draining := p.live, len(p.draining)
	p.mu.Unlock()
	if live != 0 || draining != 1 {
		t.Fatalf("live=%d draining=%d, want 0 and 1", live, draining)
	}
}

// ringOrder returns the distinct endpoints in the order a walk from key's point meets them, found by a linear scan
// of the ring rather than Pick's binary search.
func ringOrder(p *Pool, key uint64) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := mix64(key)
	start := 0
	for start < len(p.ring) && p.ring[start].hash < h {
		start++
	}
	var order []string
	seen := map[string]bool{}
	for i := range p.ring {
		a := p.members[p.ring[(start+i)%len(p.ring)].idx].ep.Address
		if !seen[a] {
			seen[a] = true
			order = append(order, a)
		}
	}
	return order
}

func bound(c float64, total, n int) int { return int(math.Ceil(c * float64(total+1) / float64(n))) }

func TestPickKeyBounded(t *testing.T) {
	p := newTestPool(4)
	const key = 0xfeedface
	order := ringOrder(p, key)
	home, next := order[0], order[1]

	// An idle pool: the key always lands on its home endpoint.
	for range 50 {
		l := pick(t, p, PickOptions{HasKey: true, Key: key})
		if l.Endpoint.Address != home {
			t.Fatalf("idle pool: key went to %s, want its home %s", l.Endpoint.Address, home)
		}
		l.Done()
	}

	// Background load of 4 on the three others, then the key's own requests pile up on home until it reaches the
	// bound; the request that would put it over goes to the next endpoint on the ring.
	var held []*Lease
	for _, a := range order[1:] {
		held = append(held, hold(t, p, a, 4)...)
	}
	onHome, onNext := 0, 0
	for range 8 {
		total := p.Outstanding()
		b := bound(DefaultLoadFactor, total, 4)
		want := home
		if load(p, home) >= b {
			want = next
		}
		l := pick(t, p, PickOptions{HasKey: true, Key: key})
		if l.Endpoint.Address != want {
			t.Fatalf("total %d, bound %d, home load %d: key went to %s, want %s", total, b, load(p, home), l.Endpoint.Address, want)
		}
		if want == home {
			onHome++
		} else {
			onNext++
		}
		held = append(held, l)
	}
	if onHome == 0 || onNext == 0 {
		t.Fatalf("the test did not reach the bound: %d picks on home, %d on next", onHome, onNext)
	}
	// Home is over the bound; excluding the next endpoint sends the key to the third in ring order.
	if got := pick(t, p, PickOptions{HasKey: true, Key: key, Exclude: []string{next}}); got.Endpoint.Address != order[2] {
		t.Fatalf("home full, next excluded: key went to %s, want %s", got.Endpoint.Address, order[2])
	} else {
		got.Done()
	}

	// Once home's load falls under the bound, the key is back home.
	for _, l := range held {
		if l.Endpoint.Address == home {
			l.Done()
		}
	}
	if got := pick(t, p, PickOptions{HasKey: true, Key: key}).Endpoint.Address; got != home {
		t.Fatalf("after home drained: key went to %s, want %s", got, home)
	}
}

// TestPickKeyBoundIgnoresDraining: requests still running on a removed endpoint do not raise the bound of the
// current ones.
func TestPickKeyBoundIgnoresDraining(t *testing.T) {
	p := newTestPool(3)
	eps := testEndpoints(3)
	gone := hold(t, p, eps[2].Address, 10)
	p.Update(eps[:2])
	const key = 77
	home := ringOrder(p, key)[0]
	var got []string
	for range 4 {
		got = append(got, pick(t, p, PickOptions{HasKey: true, Key: key}).Endpoint.Address)
	}
	// Bounds ceil(1.25*(T+1)/2) for T = 0, 1, 2, 3: 1, 2, 2, 3. Home takes the first two, then is at the bound.
	if got[0] != home || got[1] != home || got[2] == home {
		t.Fatalf("keyed picks went to %v; want %s twice, then the other endpoint", got, home)
	}
	doneAll(gone)
}

// TestPickKeyBoundRandomized checks the bounded-load guarantee with independent accounting: over a random mix of
// keyed picks, unkeyed picks and Dones, a keyed pick goes to the first endpoint in ring order under the bound, so
// no endpoint that takes a keyed request has more than ceil(c*(total+1)/n) requests after it.
func TestPickKeyBoundRandomized(t *testing.T) {
	for _, c := range []float64{1, 1.25, 2} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(c*100)))
			const n = 7
			p := NewPool(Config{LoadFactor: c})
			p.Update(testEndpoints(n))
			loads := map[string]int{}
			var running []*Lease
			keys := make([]uint64, 5) // few keys, many requests each: hot keys
			for i := range keys {
				keys[i] = rng.Uint64()
			}
			maxSeen, spilled := 0.0, 0
			for step := range 20000 {
				// About 60 requests run at a time: a Done is likelier the more run.
				switch r := rng.IntN(120); {
				case r < len(running):
					i := rng.IntN(len(running))
					l := running[i]
					running[i] = running[len(running)-1]
					running = running[:len(running)-1]
					loads[l.Endpoint.Address]--
					l.Done()
				case r < len(running)+10:
					l := pick(t, p, PickOptions{})
					loads[l.Endpoint.Address]++
					running = append(running, l)
				default:
					key := keys[rng.IntN(len(keys))]
					if rng.IntN(5) == 0 {
						key = rng.Uint64()
					}
					total := len(running)
					b := bound(c, total, n)
					want := ""
					for i, a := range ringOrder(p, key) {
						if loads[a] < b {
							want = a
							if i > 0 {
								spilled++
							}
							break
						}
					}
					l := pick(t, p, PickOptions{HasKey: true, Key: key})
					a := l.Endpoint.Address
					if a != want {
						t.Fatalf("step %d: key %x went to %s, want %s (first under bound %d)", step, key, a, want, b)
					}
					loads[a]++
					running = append(running, l)
					if loads[a] > b {
						t.Fatalf("step %d: %s has %d requests, over the bound ceil(%g*(%d+1)/%d) = %d", step, a, loads[a], c, total, n, b)
					}
					if avg := float64(total+1) / n; avg >= 5 {
						maxSeen = max(maxSeen, float64(loads[a])/avg)
					}
				}
				if got := p.Outstanding(); got != len(running) {
					t.Fatalf("step %d: Outstanding = %d, want %d", step, got, len(running))
				}
			}
			if spilled < 100 {
				t.Fatalf("only %d keyed picks went past their home endpoint; the test does not exercise the bound", spilled)
			}
			t.Logf("c=%g: %d keyed picks past their home endpoint; highest load of a keyed pick's endpoint over the average: %.2f", c, spilled, maxSeen)
		})
	}
}

// keysOn picks every key on an idle pool and returns where each went.
func keysOn(t *testing.T, p *Pool, keys []uint64) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		l := pick(t, p, PickOptions{HasKey: true, Key: k})
		out[i] = l.Endpoint.Address
		l.Done()
	}
	return out
}

func TestRingConsistency(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	keys := make([]uint64, 10000)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	eps := testEndpoints(11)
	p := NewPool(Config{})
	p.Update(eps[:10])
	before := keysOn(t, p, keys)

	// Spread: each of 10 endpoints gets its share of keys, within 40%.
	counts := map[string]int{}
	for _, a := range before {
		counts[a]++
	}
	for _, e := range eps[:10] {
		if c := counts[e.Address]; c < 600 || c > 1400 {
			t.Fatalf("keys per endpoint %v; want about 1000 each", counts)
		}
	}

	// One endpoint more: only about 1/11 of the keys move, all of them to the new endpoint.
	p.Update(eps)
	after := keysOn(t, p, keys)
	moved := 0
	for i := range keys {
		if before[i] != after[i] {
			moved++
			if after[i] != eps[10].Address {
				t.Fatalf("key %x moved from %s to %s, not to the new endpoint", keys[i], before[i], after[i])
			}
		}
	}
	if frac := float64(moved) / float64(len(keys)); frac > 0.2 || frac < 0.03 {
		t.Fatalf("%.1f%% of the keys moved when an 11th endpoint came; want about 9%%", 100*frac)
	} else {
		t.Logf("%.1f%% of the keys moved", 100*frac)
	}

	// Removing it again moves them back: the same endpoints make the same ring.
	p.Update(eps[:10])
	if again := keysOn(t, p, keys); fmt.Sprint(again) != fmt.Sprint(before) {
		t.Fatal("keys did not return to their endpoints when the 11th endpoint left")
	}
}

func TestRingDeterministic(t *testing.T) {
	// Two gateway replicas that list the same endpoints in different orders send each key to the same endpoint.
	eps := testEndpoints(9)
	rev := make([]Endpoint, len(eps))
	for i := range eps {
		rev[len(eps)-1-i] = eps[i]
	}
	p1, p2 := NewPool(Config{}), NewPool(Config{})
	p1.Update(eps)
	p2.Update(rev)
	keys := make([]uint64, 1000)
	for i := range keys {
		keys[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	if a, b := keysOn(t, p1, keys), keysOn(t, p2, keys); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("pools with the same endpoints disagree on keys")
	}
	// A fixed key on fixed endpoints lands on a fixed endpoint in every build: the ring has no random seed.
	if got := keysOn(t, p1, []uint64{12345})[0]; got != "10.0.0.4:8000" {
		t.Fatalf("key 12345 went to %s; the ring's placement changed", got)
	}
}

func TestUpdateRebuildsRingOnlyOnChange(t *testing.T) {
	p := newTestPool(3)
	p.mu.Lock()
	ring := p.ring
	p.mu.Unlock()
	if len(ring) != 3*DefaultVirtualNodes {
		t.Fatalf("ring has %d points, want %d", len(ring), 3*DefaultVirtualNodes)
	}
	eps := testEndpoints(3)
	eps[0].Node = "moved" // metadata only
	p.Update(eps)
	p.mu.Lock()
	same := &p.ring[0] == &ring[0]
	p.mu.Unlock()
	if !same {
		t.Fatal("Update with the same addresses rebuilt the ring")
	}
	p.Update(testEndpoints(4))
	p.mu.Lock()
	n := len(p.ring)
	p.mu.Unlock()
	if n != 4*DefaultVirtualNodes {
		t.Fatalf("ring has %d points after a new endpoint, want %d", n, 4*DefaultVirtualNodes)
	}
	q := NewPool(Config{VirtualNodes: 10})
	q.Update(testEndpoints(2))
	if len(q.ring) != 20 {
		t.Fatalf("VirtualNodes 10: ring has %d points", len(q.ring))
	}
}

func TestNewPoolLoadFactor(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 1.25}, {math.NaN(), 1.25}, {math.Inf(1), 1.25}, {0.5, 1}, {-3, 1}, {1.1, 1.1}, {3, 3}} {
		if got := NewPool(Config{LoadFactor: tt.in}).c(); got != tt.want {
			t.Errorf("LoadFactor %v: c = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func receive(t *testing.T, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

func TestWaitReady(t *testing.T) {
	p := NewPool(Config{})
	done := make(chan error, 1)
	go func() { done <- p.WaitReady(context.Background()) }()
	eventually(t, "one waiter", func() bool { return p.Waiting() == 1 })
	select {
	case err := <-done:
		t.Fatalf("WaitReady returned %v on an empty pool", err)
	default:
	}
	p.Update(nil) // still empty
	if p.Waiting() != 1 {
		t.Fatal("Update(nil) woke the waiter")
	}
	p.Update(testEndpoints(1))
	if err := receive(t, "WaitReady", done); err != nil {
		t.Fatalf("WaitReady = %v, want nil", err)
	}
	eventually(t, "no waiters", func() bool { return p.Waiting() == 0 })

	// Non-empty: returns at once, even with a done context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady on a non-empty pool = %v", err)
	}

	// Empty again: waits again.
	p.Update(nil)
	go func() { done <- p.WaitReady(context.Background()) }()
	eventually(t, "a waiter on the emptied pool", func() bool { return p.Waiting() == 1 })
	select {
	case err := <-done:
		t.Fatalf("WaitReady returned %v on an emptied pool", err)
	default:
	}
	p.Update(testEndpoints(2))
	if err := receive(t, "WaitReady", done); err != nil {
		t.Fatalf("WaitReady = %v, want nil", err)
	}
}

func TestWaitReadyCancel(t *testing.T) {
	var p Pool // the zero Pool works too
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.WaitReady(ctx) }()
	eventually(t, "one waiter", func() bool { return p.Waiting() == 1 })
	cancel()
	if err := receive(t, "WaitReady", done); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitReady = %v, want context.Canceled", err)
	}
	if got := p.Waiting(); got != 0 {
		t.Fatalf("Waiting = %d after cancel, want 0", got)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	if err := p.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady past its deadline = %v", err)
	}
}

func TestWaitReadyManyWaiters(t *testing.T) {
	p := NewPool(Config{})
	const waiters = 50
	done := make(chan error, waiters)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range waiters {
		c := context.Background()
		if i%10 == 0 {
			c = ctx // some give up
		}
		go func() { done <- p.WaitReady(c) }()
	}
	eventually(t, "all waiters", func() bool { return p.Waiting() == waiters })
	cancel()
	for range waiters / 10 {
		if err := receive(t, "a cancelled waiter", done); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled waiter: %v", err)
		}
	}
	eventually(t, "cancelled waiters gone", func() bool { return p.Waiting() == waiters-waiters/10 })
	p.Update(testEndpoints(1))
	for range waiters - waiters/10 {
		if err := receive(t, "a waiter", done); err != nil {
			t.Fatalf("waiter: %v", err)
		}
	}
	eventually(t, "no waiters", func() bool { return p.Waiting() == 0 })
}

// TestConcurrent runs picks, Dones, Updates and waits together (run it with -race) and checks the counts add up.
func TestConcurrent(t *testing.T) {
	p := NewPool(Config{})
	eps := testEndpoints(8)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []*Lease
			for i := 0; ; i++ {
				select {
				case <-stop:
					doneAll(mine)
					return
				default:
				}
				if err := p.WaitReady(context.Background()); err != nil {
					t.Error(err)
					return
				}
				opts := PickOptions{HasKey: w%2 == 0, Key: rng.Uint64() % 20}
				if l, ok := p.Pick(opts); ok {
					mine = append(mine, l)
				}
				if len(mine) > 5 {
					k := rng.IntN(len(mine))
					mine[k].Done()
					mine[k].Done()
					mine = append(mine[:k], mine[k+1:]...)
				}
				_ = p.Outstanding()
			}
		})
	}
	rng := rand.New(rand.NewPCG(99, 1))
	for range 300 {
		lo := rng.IntN(len(eps))
		hi := lo + 1 + rng.IntN(len(eps)-lo)
		p.Update(eps[lo:hi])
	}
	close(stop)
	wg.Wait()
	if got := p.Outstanding(); got != 0 {
		t.Fatalf("Outstanding = %d after every lease was done", got)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live != 0 || len(p.draining) != 0 {
		t.Fatalf("live = %d, draining = %d, want 0", p.live, len(p.draining))
	}
	for _, m := range p.members {
		if m.outstanding != 0 {
			t.Fatalf("%s has %d outstanding", m.ep.Address, m.outstanding)
		}
	}
}
