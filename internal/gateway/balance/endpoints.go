package balance

import (
	"net"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Endpoint is one engine pod that can take requests for a model.
type Endpoint struct {
	// Address is host:port, as net.JoinHostPort writes it ("10.0.0.7:8000", "[fd00::7]:8000"). It identifies the
	// endpoint within a Pool.
	Address string
	// Pod is the name of the pod behind the endpoint (the slice's targetRef), empty when the slice names none.
	Pod string
	// Node is the name of the node the pod runs on, empty when the slice names none.
	Node string
}

// FromSlices returns the endpoints of a model's EndpointSlices that may be sent new requests, at the port named
// portName (the model Service names its port "http").
//
// An endpoint is usable when it is ready (a nil ready counts as true, as the API documents), serving (a nil serving
// takes the value of ready) and not terminating: a draining pod keeps its running requests but gets no new ones.
// Only the first address of an endpoint counts (the API defines no meaning for the others and kube-proxy ignores
// them). Slices of addressType FQDN (or any type other than IPv4 and IPv6) are ignored, as are slices without a
// port named portName, ports whose number is unset and ports whose protocol is not TCP.
//
// The same address can be listed by two slices while the EndpointSlice controller moves an endpoint between them;
// it appears once in the result. It is kept if any listing is usable, unless another listing of the same pod
// marks it terminating: termination is one-way, so the terminating listing is the newer one.
//
// The result is sorted by IP (IPv4 before IPv6) and then port, so equal inputs give equal outputs.
func FromSlices(endpointSlices []discoveryv1.EndpointSlice, portName string) []Endpoint {
	var all []listing
	for i := range endpointSlices {
		s := &endpointSlices[i]
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(s.Ports, portName)
		if !ok {
			continue
		}
		for j := range s.Endpoints {
			e := &s.Endpoints[j]
			if len(e.Addresses) == 0 {
				continue
			}
			ip, err := netip.ParseAddr(e.Addresses[0])
			if err != nil {
				continue
			}
			if (s.AddressType == discoveryv1.AddressTypeIPv4) != ip.Is4() {
				continue
			}
			ap := netip.AddrPortFrom(ip, port)
			l := listing{
				ep: Endpoint{
					Address: net.JoinHostPort(ip.String(), strconv.Itoa(int(port))),
					Pod:     podName(e.TargetRef),
					Node:    deref(e.NodeName),
				},
				ap: ap,
			}
			l.usable, l.terminating = usable(e.Conditions)
			all = append(all, l)
		}
	}

	// Group the listings of each address; the stable sort keeps the slices' order within a group.
	slices.SortStableFunc(all, func(a, b listing) int { return a.ap.Compare(b.ap) })
	var out []Endpoint
	for lo := 0; lo < len(all); {
		hi := lo + 1
		for hi < len(all) && all[hi].ap == all[lo].ap {
			hi++
		}
		group := all[lo:hi]
		lo = hi
		for _, l := range group {
			if !l.usable || terminatingElsewhere(group, l.ep.Pod) {
				continue
			}
			out = append(out, l.ep)
			break
		}
	}
	return out
}

// listing is one appearance of an endpoint in a slice.
type listing struct {
	ep          Endpoint
	ap          netip.AddrPort
	usable      bool
	terminating bool
}

// terminatingElsewhere reports whether a listing in group marks pod terminating.
func terminatingElsewhere(group []listing, pod string) bool {
	for _, l := range group {
		if l.terminating && l.ep.Pod == pod {
			return true
		}
	}
	return false
}

// usable reports whether conditions allow new requests, and whether they mark the endpoint terminating.
func usable(c discoveryv1.EndpointConditions) (ok, terminating bool) {
	ready := c.Ready == nil || *c.Ready
	serving := ready
	if c.Serving != nil {
		serving = *c.Serving
	}
	terminating = c.Terminating != nil && *c.Terminating
	return ready && serving && !terminating, terminating
}

// slicePort returns the number of the TCP port named name.
func slicePort(ports []discoveryv1.EndpointPort, name string) (uint16, bool) {
	for _, p := range ports {
		if deref(p.Name) != name {
			continue
		}
		if p.Port == nil || *p.Port <= 0 || *p.Port > 65535 {
			return 0, false
		}
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			return 0, false
		}
		return uint16(*p.Port), true
	}
	return 0, false
}

func podName(ref *corev1.ObjectReference) string {
	if ref == nil {
		return ""
	}
	return ref.Name
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
