package balance

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

const (
	// DefaultLoadFactor is the c of consistent hashing with bounded loads: a keyed request goes to an endpoint only
	// while that endpoint has fewer than ceil(c*(total+1)/n) outstanding requests.
	DefaultLoadFactor = 1.25
	// DefaultVirtualNodes is how many points each endpoint has on the hash ring.
	DefaultVirtualNodes = 128
)

// Config tunes a Pool. The zero Config means the defaults.
type Config struct {
	// LoadFactor is c, the most a keyed pick lets an endpoint's load exceed the average (1.25: 25% above it).
	// Zero means DefaultLoadFactor; values below 1 mean 1 (perfect balance, no stickiness beyond it).
	LoadFactor float64
	// VirtualNodes is the number of ring points per endpoint; zero or less means DefaultVirtualNodes. More points
	// spread keys more evenly over the endpoints at the cost of a larger ring (16 bytes a point).
	VirtualNodes int
}

// PickOptions says what a request wants from Pick.
type PickOptions struct {
	// Exclude lists the addresses already tried for this request; Pick chooses none of them.
	Exclude []string
	// Key is the request's prefix key (see PrefixKey); it is used only when HasKey is true.
	Key uint64
	// HasKey makes Pick use consistent hashing with bounded load on Key instead of fewest outstanding requests.
	HasKey bool
}

// Pool is the set of endpoints of one model and the requests outstanding on each. It is safe for concurrent use.
// The zero Pool is empty, uses the default Config and is ready to use; NewPool sets a Config.
type Pool struct {
	loadFactor float64
	vnodes     int

	// updateMu serializes Update, so the ring can be built without holding mu.
	updateMu sync.Mutex

	mu       sync.Mutex
	members  []*member          // the current endpoints, sorted by address
	byAddr   map[string]*member // the current endpoints by address
	draining map[string]*member // removed endpoints with requests still running
	ring     []ringPoint        // sorted by hash; rebuilt by Update when the set of addresses changes
	live     int                // outstanding requests on current endpoints
	total    int                // outstanding requests on all endpoints, draining ones included
	waiting  int                // callers in WaitReady
	ready    chan struct{}      // while empty: nil or open, closed when an endpoint arrives
	next     uint64             // tie-breaking counter of least-loaded picks
	walk     uint64             // generation of ring walks, to visit each endpoint once per walk
}

// member is an endpoint and its count. Its fields are guarded by Pool.mu.
type member struct {
	ep          Endpoint
	outstanding int
	current     bool   // in the pool now; false once Update removed it
	walk        uint64 // the last ring walk that visited it
}

// ringPoint is one virtual node: a position on the ring and the index of its endpoint in Pool.members.
type ringPoint struct {
	hash uint64
	idx  int32
}

// Lease is one request's use of an endpoint. Call Done when the request has finished (or failed); it is safe to
// call Done more than once and after the endpoint left the pool.
type Lease struct {
	// Endpoint is where the request goes.
	Endpoint Endpoint

	pool *Pool
	m    *member
	done atomic.Bool
}

// NewPool returns an empty pool tuned by cfg.
func NewPool(cfg Config) *Pool {
	p := &Pool{loadFactor: cfg.LoadFactor, vnodes: cfg.VirtualNodes}
	if math.IsNaN(p.loadFactor) || math.IsInf(p.loadFactor, 0) || p.loadFactor == 0 {
		p.loadFactor = 0
	} else if p.loadFactor < 1 {
		p.loadFactor = 1
	}
	return p
}

func (p *Pool) c() float64 {
	if p.loadFactor == 0 {
		return DefaultLoadFactor
	}
	return p.loadFactor
}

func (p *Pool) virtualNodes() int {
	if p.vnodes <= 0 {
		return DefaultVirtualNodes
	}
	return p.vnodes
}

// Update replaces the pool's endpoints with eps (duplicates by address count once). An endpoint that stays keeps
// its outstanding requests; a removed one is never picked again, while the requests running on it finish normally
// and still count in Outstanding until their Done. An endpoint that comes back while requests still run on it
// gets its count back. When the pool goes from empty to non-empty, every WaitReady returns.
func (p *Pool) Update(eps []Endpoint) {
	p.updateMu.Lock()
	defer p.updateMu.Unlock()

	eps = slices.Clone(eps)
	slices.SortStableFunc(eps, func(a, b Endpoint) int { return cmp.Compare(a.Address, b.Address) })
	eps = slices.CompactFunc(eps, func(a, b Endpoint) bool { return a.Address == b.Address })

	// Only Update writes members, and Updates are serialized, so it can be read here without mu.
	changed := len(eps) != len(p.members)
	for i := 0; !changed && i < len(eps); i++ {
		changed = eps[i].Address != p.members[i].ep.Address
	}
	var ring []ringPoint
	if changed {
		ring = buildRing(eps, p.virtualNodes())
	}

	members := make([]*member, len(eps))
	byAddr := make(map[string]*member, len(eps))

	p.mu.Lock()
	defer p.mu.Unlock()
	live := 0
	for i, ep := range eps {
		m := p.byAddr[ep.Address]
		if m == nil {
			if m = p.draining[ep.Address]; m != nil {
				delete(p.draining, ep.Address)
			} else {
				m = &member{}
			}
		}
		m.ep, m.current = ep, true
		members[i], byAddr[ep.Address] = m, m
		live += m.outstanding
	}
	for addr, m := range p.byAddr {
		if byAddr[addr] == m {
			continue
		}
		m.current = false
		if m.outstanding > 0 {
			if p.draining == nil {
				p.draining = make(map[string]*member)
			}
			p.draining[addr] = m
		}
	}
	p.members, p.byAddr, p.live = members, byAddr, live
	if changed {
		p.ring = ring
	}
	if len(members) > 0 && p.ready != nil {
		close(p.ready)
		p.ready = nil
	}
}

// Pick chooses an endpoint for a request and counts the request on it until the Lease's Done. It returns false
// when the pool has no endpoint outside opts.Exclude.
//
// Without a key it picks the endpoint with the fewest outstanding requests, taking turns among equals. With a key
// it uses consistent hashing with bounded load: see the package documentation.
func (p *Pool) Pick(opts PickOptions) (*Lease, bool) {
	p.mu.Lock()
	var m *member
	if opts.HasKey {
		m = p.pickRing(opts.Key, opts.Exclude)
	}
	if m == nil {
		m = p.pickLeast(opts.Exclude)
	}
	if m == nil {
		p.mu.Unlock()
		return nil, false
	}
	m.outstanding++
	p.live++
	p.total++
	ep := m.ep
	p.mu.Unlock()
	return &Lease{Endpoint: ep, pool: p, m: m}, true
}

// pickLeast returns the current endpoint outside exclude with the fewest outstanding requests; among several, each
// in turn. p.mu is held.
func (p *Pool) pickLeast(exclude []string) *member {
	least, ties := math.MaxInt, 0
	for _, m := range p.members {
		switch {
		case m.outstanding > least || excluded(m, exclude):
		case m.outstanding < least:
			least, ties = m.outstanding, 1
		default:
			ties++
		}
	}
	if ties == 0 {
		return nil
	}
	k := int(p.next % uint64(ties))
	p.next++
	for _, m := range p.members {
		if m.outstanding != least || excluded(m, exclude) {
			continue
		}
		if k == 0 {
			return m
		}
		k--
	}
	return nil // unreachable
}

// pickRing walks the ring clockwise from key's point and returns the first endpoint outside exclude whose load is
// under the bound, or nil when there is none. p.mu is held.
func (p *Pool) pickRing(key uint64, exclude []string) *member {
	n := len(p.members)
	if n == 0 || len(p.ring) == 0 {
		return nil
	}
	bound := p.bound()
	ring := p.ring
	i := ringSearch(ring, mix64(key))
	p.walk++
	seen := 0
	for range ring {
		m := p.members[ring[i].idx]
		if i++; i == len(ring) {
			i = 0
		}
		if m.walk == p.walk {
			continue
		}
		m.walk = p.walk
		if !excluded(m, exclude) && m.outstanding < bound {
			return m
		}
		if seen++; seen == n {
			break
		}
	}
	return nil
}

// bound is ceil(c*(live+1)/n), the load under which an endpoint may take a keyed request. p.mu is held and the
// pool is not empty.
func (p *Pool) bound() int {
	return int(math.Ceil(p.c() * float64(p.live+1) / float64(len(p.members))))
}

// ringSearch returns the index of the first point at or after h, wrapping to 0 past the last.
func ringSearch(ring []ringPoint, h uint64) int {
	lo, hi := 0, len(ring)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ring[mid].hash < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(ring) {
		return 0
	}
	return lo
}

func excluded(m *member, exclude []string) bool {
	for _, a := range exclude {
		if a == m.ep.Address {
			return true
		}
	}
	return false
}

// buildRing places vnodes points for each endpoint. A point depends only on the endpoint's address and the point's
// number, so every gateway replica (and every restart) with the same endpoints builds the same ring and sends a
// key to the same endpoint while loads allow.
func buildRing(eps []Endpoint, vnodes int) []ringPoint {
	ring := make([]ringPoint, 0, len(eps)*vnodes)
	for i, ep := range eps {
		base := fnv1a(fnvOffset, ep.Address)
		for v := range vnodes {
			// The splitmix64 sequence seeded by the address' hash.
			ring = append(ring, ringPoint{hash: mix64(base + uint64(v+1)*0x9e3779b97f4a7c15), idx: int32(i)})
		}
	}
	slices.SortFunc(ring, func(a, b ringPoint) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx) // eps is sorted by address, so ties break the same everywhere
	})
	return ring
}

// mix64 is the splitmix64 finalizer: it spreads the bits of x over the whole word.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Done ends the lease's request: the endpoint's outstanding count goes down by one. Later calls do nothing.
func (l *Lease) Done() {
	if l == nil || l.pool == nil || !l.done.CompareAndSwap(false, true) {
		return
	}
	p, m := l.pool, l.m
	p.mu.Lock()
	m.outstanding--
	p.total--
	if m.current {
		p.live--
	} else if m.outstanding == 0 && p.draining[m.ep.Address] == m {
		delete(p.draining, m.ep.Address)
	}
	p.mu.Unlock()
}

// WaitReady returns nil as soon as the pool has an endpoint (at once if it has one now), or ctx.Err() when ctx
// ends first. While it waits it counts in Waiting. An endpoint can leave again before the caller picks, so a
// caller loops: WaitReady, then Pick, and WaitReady again if Pick found nothing.
func (p *Pool) WaitReady(ctx context.Context) error {
	p.mu.Lock()
	if len(p.members) > 0 {
		p.mu.Unlock()
		return nil
	}
	if p.ready == nil {
		p.ready = make(chan struct{})
	}
	ready := p.ready
	p.waiting++
	p.mu.Unlock()

	defer func() {
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
	}()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Waiting returns how many callers are in WaitReady now: requests held for a model with no endpoint, which the
// gateway reports to the autoscaler as pending.
func (p *Pool) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}

// Outstanding returns how many leases are not Done yet, on all endpoints, removed ones included.
func (p *Pool) Outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Len returns the number of endpoints Pick can choose from.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.members)
}

// Endpoints returns the current endpoints, sorted by address.
func (p *Pool) Endpoints() []Endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Endpoint, len(p.members))
	for i, m := range p.members {
		out[i] = m.ep
	}
	return out
}
