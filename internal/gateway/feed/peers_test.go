package feed_test

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/privatellm/privatellm/internal/gateway/feed"
)

// TestCountPeers: a pod listed in two slices counts once, a terminating one not at all, a not-ready one does
// (it is about to take traffic).
func TestCountPeers(t *testing.T) {
	a, b, c := endpoint("10.1.0.1", false), endpoint("10.1.0.2", false), endpoint("10.1.0.3", true)
	b.Conditions.Ready = new(bool)
	slices := []discoveryv1.EndpointSlice{
		*slice("ns", "s1", "gw", nil, a, b),
		*slice("ns", "s2", "gw", nil, a, c),
	}
	if n := feed.CountPeers(slices); n != 2 {
		t.Errorf("CountPeers = %d, want 2 (a once, b though not ready, c terminating not)", n)
	}
	if n := feed.CountPeers(nil); n != 0 {
		t.Errorf("CountPeers(nil) = %d", n)
	}
}
