package limit

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Window is the length of the sliding window over which limits hold.
const Window = time.Minute

const (
	// slotCount one-second slots cover a window: the slots of the seconds S-60 to S, where S is the current one.
	slotCount = 61
	// unused marks a slot that holds no charge.
	unused = math.MinInt64
	// shardCount is the number of independently locked parts of the bucket map.
	shardCount = 32
)

// Limiter enforces the limits of any number of buckets. It is safe for concurrent use; calls contend only on the
// buckets they name. The zero Limiter is not usable; call New.
type Limiter struct {
	now   func() time.Time
	epoch time.Time
	seed  maphash.Seed
	// lastSweep is when the last sweep started, in nanoseconds since epoch.
	lastSweep atomic.Int64
	shards    [shardCount]shard
}

type shard struct {
	mu      sync.RWMutex
	buckets map[string]*bucket
}

// New returns a Limiter that reads the time from now (time.Now when nil). now must be safe for concurrent use; it
// is called with buckets locked, so it must not call the Limiter. The clock should not go backwards (time.Now's
// monotonic reading does not); a reading older than one a bucket has already seen counts as that one.
func New(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now, epoch: now(), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*bucket)
	}
	return l
}

// Reservation is the charge of one admitted request. Call Settle or Cancel once the request is done (until then,
// and if neither is ever called, the estimate stays charged); only the first of these calls counts. The methods
// are safe for concurrent use and do nothing on a nil Reservation.
type Reservation struct {
	l      *Limiter
	tokens int64
	// at is when the reservation was made, in nanoseconds since l.epoch.
	at   int64
	done atomic.Bool
	// The charges, one per bucket: inline[:n], or more when there are more than fit inline.
	n      int
	inline [2]charge
	more   []charge
}

// charge is where a reservation was charged: the bucket and the slot's second.
type charge struct {
	b   *bucket
	sec int64
}

func (r *Reservation) charges() []charge {
	if r.more != nil {
		return r.more
	}
	return r.inline[:r.n]
}

// Settle records that the request used actualTokens in all: the tokens reserved beyond that are given back, and
// tokens used beyond the reservation are charged as debt, at the time of the call. The request itself stays
// charged.
func (r *Reservation) Settle(actualTokens int64) {
	if r == nil || !r.done.CompareAndSwap(false, true) {
		return
	}
	actual := max(actualTokens, 0)
	switch {
	case actual < r.tokens:
		for _, c := range r.charges() {
			c.b.mu.Lock()
			c.b.giveBack(c.sec, 0, r.tokens-actual)
			c.b.mu.Unlock()
		}
	case actual > r.tokens:
		for _, c := range r.charges() {
			r.l.chargeDebt(c.b, actual-r.tokens)
		}
	}
}

// Cancel gives back the request and all its reserved tokens, for a request that was never served.
func (r *Reservation) Cancel() {
	if r == nil || !r.done.CompareAndSwap(false, true) {
		return
	}
	for _, c := range r.charges() {
		c.b.mu.Lock()
		c.b.giveBack(c.sec, 1, r.tokens)
		c.b.mu.Unlock()
	}
}

// ref is a bucket named in a Reserve call.
type ref struct {
	b   *bucket
	lim Limit
}

// Reserve admits a request of one request and tokens tokens (the estimate; less than zero counts as zero) if every
// bucket has room for it, and then charges it to all of them; otherwise it charges none. A bucket named twice is
// charged once, under the stricter of its limits. It returns the reservation, nil when refused, and the decision.
// With no buckets the request is admitted and nothing is charged.
func (l *Limiter) Reserve(buckets []Bucket, tokens int64) (*Reservation, Decision) {
	tokens = max(tokens, 0)
	var scratch [4]ref
	refs := scratch[:0]
	for _, bk := range buckets {
		refs = append(refs, ref{b: l.bucket(bk.ID), lim: bk.Limit})
	}
	refs = sortRefs(refs)

	// Lock every bucket, in ID order so that concurrent calls cannot deadlock. A bucket that a sweep forgot
	// between the lookup and the lock must not be charged: its ID has, or will get, a new bucket.
	for {
		for _, r := range refs {
			r.b.mu.Lock()
		}
		stale := false
		for _, r := range refs {
			stale = stale || r.b.dead
		}
		if !stale {
			break
		}
		for i := range refs {
			refs[i].b.mu.Unlock()
		}
		for i := range refs {
			if refs[i].b.dead {
				refs[i].b = l.bucket(refs[i].b.id)
			}
		}
	}

	t := l.clock()
	d := Decision{Allowed: true}
	var wait int64
	for _, r := range refs {
		r.b.advance(t)
		if r.lim.TokensPerMinute > 0 && tokens > r.lim.TokensPerMinute && !d.TooLarge {
			d.Allowed, d.TooLarge, d.Bucket = false, true, r.b.id
		}
	}
	if !d.TooLarge {
		for _, r := range refs {
			if r.b.fits(r.lim, tokens) {
				continue
			}
			if w := r.b.wait(r.lim, tokens); d.Allowed || w > wait {
				d.Allowed, d.Bucket, wait = false, r.b.id, w
			}
		}
	}

	var res *Reservation
	if d.Allowed {
		res = &Reservation{l: l, tokens: tokens, at: t, n: len(refs)}
		cs := res.inline[:0]
		if len(refs) > len(res.inline) {
			res.more = make([]charge, 0, len(refs))
			cs = res.more
		}
		for _, r := range refs {
			cs = append(cs, charge{b: r.b, sec: r.b.charge(1, tokens)})
		}
		if res.more != nil {
			res.more = cs
		}
	} else if !d.TooLarge {
		d.RetryAfter = max(ceil(time.Duration(wait), time.Second), time.Second)
	}
	for _, r := range refs {
		d.observe(r.b, r.lim)
	}
	for _, r := range refs {
		r.b.mu.Unlock()
	}

	if last := l.lastSweep.Load(); t-last >= int64(Window) && l.lastSweep.CompareAndSwap(last, t) {
		l.sweep(t)
	}
	return res, d
}

// Sweep forgets the buckets whose window is empty and returns how many it forgot. Reserve calls it by itself at
// most once a minute; call it to free memory sooner.
func (l *Limiter) Sweep() int {
	t := l.clock()
	l.lastSweep.Store(t)
	return l.sweep(t)
}

func (l *Limiter) sweep(t int64) int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for id, b := range sh.buckets {
			b.mu.Lock()
			b.advance(t)
			if b.requests == 0 && b.tokens == 0 {
				b.dead = true
				delete(sh.buckets, id)
				n++
			}
			b.mu.Unlock()
		}
		sh.mu.Unlock()
	}
	return n
}

// clock returns the time in nanoseconds since l.epoch.
func (l *Limiter) clock() int64 {
	return int64(l.now().Sub(l.epoch))
}

// bucket returns the bucket named id, creating it if needed.
func (l *Limiter) bucket(id string) *bucket {
	sh := &l.shards[maphash.String(l.seed, id)%shardCount]
	sh.mu.RLock()
	b := sh.buckets[id]
	sh.mu.RUnlock()
	if b != nil {
		return b
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if b = sh.buckets[id]; b == nil {
		b = newBucket(id)
		sh.buckets[id] = b
	}
	return b
}

// chargeDebt charges tokens to b, or to the bucket that replaced b if a sweep forgot it, at the current time.
func (l *Limiter) chargeDebt(b *bucket, tokens int64) {
	for {
		b.mu.Lock()
		if !b.dead {
			b.advance(l.clock())
			b.charge(0, tokens)
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b = l.bucket(b.id)
	}
}

// sortRefs sorts refs by bucket ID (insertion sort: there are few) and merges refs to the same bucket.
func sortRefs(refs []ref) []ref {
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && refs[j].b.id < refs[j-1].b.id; j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
		}
	}
	out := refs[:0]
	for _, r := range refs {
		if n := len(out); n > 0 && out[n-1].b.id == r.b.id {
			out[n-1].lim = Limit{
				RequestsPerMinute: stricter(out[n-1].lim.RequestsPerMinute, r.lim.RequestsPerMinute),
				TokensPerMinute:   stricter(out[n-1].lim.TokensPerMinute, r.lim.TokensPerMinute),
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func stricter(a, b int64) int64 {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// bucket is one sliding window: the charges of the seconds sec-60 to sec in slots[s mod slotCount]. A slot counts
// until Window after its latest charge; requests and tokens are the sums over the slots.
type bucket struct {
	id string

	mu sync.Mutex
	// dead is set when a sweep has removed the bucket from the map.
	dead bool
	// now is the latest time the bucket has seen, in nanoseconds since the limiter's epoch, and sec its second.
	now, sec         int64
	requests, tokens int64
	slots            [slotCount]slot
}

type slot struct {
	// at is the time of the latest charge, in nanoseconds since the limiter's epoch; unused when none.
	at               int64
	requests, tokens int64
}

func newBucket(id string) *bucket {
	b := &bucket{id: id, now: math.MinInt64, sec: math.MinInt64}
	for i := range b.slots {
		b.slots[i].at = unused
	}
	return b
}

// advance moves the bucket's time to t, unless it has seen a later time, and drops the charges that have left the
// window.
func (b *bucket) advance(t int64) {
	if t > b.now {
		b.now = t
	}
	if sec := floorSec(b.now); sec > b.sec {
		if b.sec <= sec-slotCount {
			for i := range b.slots {
				b.clear(i)
			}
		} else {
			// Moving to second s reuses the slot of s-61, which has left the window.
			for s := b.sec + 1; s <= sec; s++ {
				b.clear(index(s))
			}
		}
		b.sec = sec
	}
	// The slots of sec-59 to sec hold charges made after now-60s; the slot of sec-60 may hold older ones only.
	if oldest := index(b.sec + 1); b.slots[oldest].at != unused && b.slots[oldest].at <= b.now-int64(Window) {
		b.clear(oldest)
	}
}

func (b *bucket) clear(i int) {
	s := &b.slots[i]
	if s.at == unused {
		return
	}
	b.requests -= s.requests
	b.tokens -= s.tokens
	*s = slot{at: unused}
}

// charge adds requests and tokens at the bucket's time and returns the second of the slot charged.
func (b *bucket) charge(requests, tokens int64) int64 {
	s := &b.slots[index(b.sec)]
	s.at = b.now
	s.requests += requests
	s.tokens += tokens
	b.requests += requests
	b.tokens += tokens
	return b.sec
}

// giveBack takes back requests and tokens charged in the slot of second sec, unless they have left the window.
func (b *bucket) giveBack(sec, requests, tokens int64) {
	s := &b.slots[index(sec)]
	if s.at == unused || floorSec(s.at) != sec {
		return
	}
	s.requests -= requests
	s.tokens -= tokens
	b.requests -= requests
	b.tokens -= tokens
}

// fits reports whether one more request of tokens tokens fits in the window now.
func (b *bucket) fits(lim Limit, tokens int64) bool {
	return fitsIn(lim, b.requests, b.tokens, tokens)
}

func fitsIn(lim Limit, usedRequests, usedTokens, tokens int64) bool {
	return (lim.RequestsPerMinute <= 0 || usedRequests < lim.RequestsPerMinute) &&
		(lim.TokensPerMinute <= 0 || tokens <= lim.TokensPerMinute-usedTokens)
}

// wait returns how long, in nanoseconds, until a request of tokens tokens would fit, if nothing else changed.
func (b *bucket) wait(lim Limit, tokens int64) int64 {
	requests, used := b.requests, b.tokens
	for s := b.sec - (slotCount - 1); s <= b.sec; s++ {
		sl := &b.slots[index(s)]
		if sl.at == unused {
			continue
		}
		requests -= sl.requests
		used -= sl.tokens
		if fitsIn(lim, requests, used, tokens) {
			return sl.at + int64(Window) - b.now
		}
	}
	return int64(Window) // not reached: an empty window fits any request that is not too large
}

// reset returns how long until the newest charge with requests (tokens when ofTokens) leaves the window.
func (b *bucket) reset(ofTokens bool) time.Duration {
	for s := b.sec; s > b.sec-slotCount; s-- {
		sl := &b.slots[index(s)]
		if sl.at != unused && (!ofTokens && sl.requests > 0 || ofTokens && sl.tokens > 0) {
			return time.Duration(sl.at + int64(Window) - b.now)
		}
	}
	return 0
}

// observe folds b into the header fields of d where b is the tightest bucket so far.
func (d *Decision) observe(b *bucket, lim Limit) {
	if rpm := lim.RequestsPerMinute; rpm > 0 {
		remaining := max(rpm-b.requests, 0)
		if d.LimitRequests == 0 || remaining < d.RemainingRequests {
			d.LimitRequests, d.RemainingRequests, d.ResetRequests = rpm, remaining, b.reset(false)
		}
	}
	if tpm := lim.TokensPerMinute; tpm > 0 {
		remaining := max(tpm-b.tokens, 0)
		if d.LimitTokens == 0 || remaining < d.RemainingTokens {
			d.LimitTokens, d.RemainingTokens, d.ResetTokens = tpm, remaining, b.reset(true)
		}
	}
}

func floorSec(ns int64) int64 {
	s := ns / int64(time.Second)
	if ns%int64(time.Second) < 0 {
		s--
	}
	return s
}

func index(sec int64) int {
	i := sec % slotCount
	if i < 0 {
		i += slotCount
	}
	return int(i)
}
