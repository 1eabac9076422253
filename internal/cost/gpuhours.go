package cost

import (
	"slices"
	"sort"
	"time"
)

// Span is the time one pod held GPUs: from the moment it was scheduled (its GPUs were taken from other
// work) until it was gone, whether or not it was ready or serving in between.
type Span struct {
	// Pod is the pod's UID. Spans with the same UID are one pod seen more than once and are merged; an
	// empty UID marks a span that is counted on its own.
	Pod string
	// GPUs is how many GPUs the pod holds; spans with 0 or fewer hold nothing and are ignored.
	GPUs int
	// Product is the GPU product label of the node, e.g. "NVIDIA-L4", used to price the span.
	Product string
	// Start is when the pod was scheduled.
	Start time.Time
	// End is when the pod was gone; zero means it is still running. A non-zero End before Start is an
	// impossible record and the span is ignored.
	End time.Time
}

// piece is a stretch of time during which one pod held gpus GPUs of one product.
type piece struct {
	gpus    int
	product string
	seconds float64
}

// GPUSeconds is the GPU-seconds held inside the window [from, to): each span is clipped to the window, a
// zero End runs until to, and different pods add up. Records of the same pod UID are merged (the union of
// their intervals), so a pod reported twice, say once running and once finished, is not counted twice over
// the same time. It is 0 for an empty or inverted window.
func GPUSeconds(spans []Span, from, to time.Time) float64 {
	var total float64
	for _, p := range pieces(spans, from, to) {
		total += float64(p.gpus) * p.seconds
	}
	return total
}

// Cost is the dollars of the GPUs held inside the window [from, to), each stretch priced by its product
// (see Prices.HourlyFor). Products with no price are left out of dollars and returned, sorted and unique,
// so that the report can say its figure is incomplete instead of showing those GPUs as free. Only products
// that held GPUs inside the window are reported.
func Cost(spans []Span, prices Prices, from, to time.Time) (dollars float64, unpriced []string) {
	missing := map[string]bool{}
	for _, p := range pieces(spans, from, to) {
		hourly, ok := prices.HourlyFor(p.product)
		if !ok {
			missing[p.product] = true
			continue
		}
		dollars += float64(p.gpus) * p.seconds / 3600 * hourly
	}
	for product := range missing {
		unpriced = append(unpriced, product)
	}
	sort.Strings(unpriced)
	return dollars, unpriced
}

// pieces clips the spans to [from, to) and merges the records of each pod UID. Pieces come in the order
// pods first appear, so that sums are reproducible to the last bit; only pieces with time in the window
// are returned.
func pieces(spans []Span, from, to time.Time) []piece {
	if !from.Before(to) {
		return nil
	}
	first := make(map[string]int, len(spans)) // UID → index of its first span
	var repeated map[string][]int             // UID → indexes of all its spans, for UIDs listed more than once
	for i, s := range spans {
		if s.GPUs <= 0 || s.Pod == "" {
			continue
		}
		j, seen := first[s.Pod]
		if !seen {
			first[s.Pod] = i
			continue
		}
		if repeated == nil {
			repeated = map[string][]int{}
		}
		if _, ok := repeated[s.Pod]; !ok {
			repeated[s.Pod] = []int{j}
		}
		repeated[s.Pod] = append(repeated[s.Pod], i)
	}
	out := make([]piece, 0, len(first))
	for i, s := range spans {
		if s.GPUs <= 0 {
			continue
		}
		if idx, ok := repeated[s.Pod]; ok {
			if first[s.Pod] == i {
				out = append(out, union(spans, idx, from, to)...)
			}
			continue
		}
		if start, end, ok := clip(s, from, to); ok {
			out = append(out, piece{gpus: s.GPUs, product: s.Product, seconds: end.Sub(start).Seconds()})
		}
	}
	return out
}

// clip is the part of the span inside [from, to), and false when there is none or the span is impossible.
func clip(s Span, from, to time.Time) (time.Time, time.Time, bool) {
	end := s.End
	if end.IsZero() {
		end = to
	} else if end.Before(s.Start) {
		return time.Time{}, time.Time{}, false
	}
	start := s.Start
	if start.Before(from) {
		start = from
	}
	if end.After(to) {
		end = to
	}
	return start, end, start.Before(end)
}

// union merges several records of one pod into pieces covering the union of their clipped intervals. A
// pod's GPU count and product do not change, so its records should agree; where overlapping records
// disagree, the one with the most GPUs (then the first listed) is taken for the overlap, so that the merge
// never counts more than one record's worth at any moment.
func union(spans []Span, idx []int, from, to time.Time) []piece {
	type interval struct {
		start, end time.Time
		span       int
	}
	var ivs []interval
	var cuts []time.Time
	for _, i := range idx {
		if start, end, ok := clip(spans[i], from, to); ok {
			ivs = append(ivs, interval{start, end, i})
			cuts = append(cuts, start, end)
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	var out []piece
	for k := 0; k+1 < len(cuts); k++ {
		a, b := cuts[k], cuts[k+1]
		if !a.Before(b) {
			continue
		}
		best := -1
		for _, iv := range ivs {
			if iv.start.After(a) || !iv.end.After(a) {
				continue // does not cover [a, b)
			}
			if best < 0 || spans[iv.span].GPUs > spans[best].GPUs {
				best = iv.span
			}
		}
		if best < 0 {
			continue // a gap between records
		}
		s := spans[best]
		// Extend the previous piece when it holds the same GPUs: only the sum of its seconds matters.
		if n := len(out); n > 0 && out[n-1].gpus == s.GPUs && out[n-1].product == s.Product {
			out[n-1].seconds += b.Sub(a).Seconds()
			continue
		}
		out = append(out, piece{gpus: s.GPUs, product: s.Product, seconds: b.Sub(a).Seconds()})
	}
	return out
}
