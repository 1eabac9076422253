package balance

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func ptr[T any](v T) *T { return &v }

// slice builds an EndpointSlice with one TCP port named "http" (8000) and the given endpoints.
func slice(t discoveryv1.AddressType, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		AddressType: t,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("metrics"), Port: ptr[int32](9090)}, {Name: ptr("http"), Port: ptr[int32](8000), Protocol: ptr(corev1.ProtocolTCP)}},
		Endpoints:   eps,
	}
}

// ep builds an endpoint for pod on node node with the given conditions.
func ep(addr, pod string, c discoveryv1.EndpointConditions) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{addr},
		Conditions: c,
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod},
		NodeName:   ptr("node-" + pod),
	}
}

func TestFromSlicesConditions(t *testing.T) {
	T, F := ptr(true), ptr(false)
	tests := []struct {
		name                        string
		ready, serving, terminating *bool
		want                        bool
	}{
		{"all nil", nil, nil, nil, true},
		{"ready", T, nil, nil, true},
		{"ready serving", T, T, F, true},
		{"not ready", F, nil, nil, false},
		{"not ready, serving", F, T, nil, false},
		{"ready, not serving", T, F, nil, false},
		{"nil ready, not serving", nil, F, nil, false},
		{"ready, serving nil, not terminating", T, nil, F, true},
		{"terminating but serving", T, T, T, false},
		{"terminating, nil ready and serving", nil, nil, T, false},
		{"terminating, not ready, serving", F, T, T, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := discoveryv1.EndpointConditions{Ready: tt.ready, Serving: tt.serving, Terminating: tt.terminating}
			got := FromSlices([]discoveryv1.EndpointSlice{slice(discoveryv1.AddressTypeIPv4, ep("10.0.0.1", "a", c))}, "http")
			if (len(got) == 1) != tt.want {
				t.Fatalf("FromSlices = %v, want usable=%v", got, tt.want)
			}
		})
	}
}

func TestFromSlicesPorts(t *testing.T) {
	e := ep("10.0.0.1", "a", discoveryv1.EndpointConditions{})
	tests := []struct {
		name     string
		ports    []discoveryv1.EndpointPort
		portName string
		want     []string
	}{
		{"named port", []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8000)}}, "http", []string{"10.0.0.1:8000"}},
		{"other names only", []discoveryv1.EndpointPort{{Name: ptr("metrics"), Port: ptr[int32](9090)}}, "http", nil},
		{"no ports", nil, "http", nil},
		{"unnamed port asked by empty name", []discoveryv1.EndpointPort{{Port: ptr[int32](80)}}, "", []string{"10.0.0.1:80"}},
		{"unnamed port is not http", []discoveryv1.EndpointPort{{Port: ptr[int32](80)}}, "http", nil},
		{"nil port number", []discoveryv1.EndpointPort{{Name: ptr("http")}}, "http", nil},
		{"UDP", []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8000), Protocol: ptr(corev1.ProtocolUDP)}}, "http", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Ports: tt.ports, Endpoints: []discoveryv1.Endpoint{e}}
			if got := addresses(FromSlices([]discoveryv1.EndpointSlice{s}, tt.portName)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("addresses = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFromSlicesMerge(t *testing.T) {
	ok := discoveryv1.EndpointConditions{Ready: ptr(true)}
	notReady := discoveryv1.EndpointConditions{Ready: ptr(false)}
	term := discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}
	in := []discoveryv1.EndpointSlice{
		slice(discoveryv1.AddressTypeIPv4, ep("10.0.0.10", "p10", ok), ep("10.0.0.9", "p9", ok), ep("10.0.0.3", "p3", notReady)),
		// The same endpoint in a second slice, as during a move between slices; and the not-ready one ready here.
		slice(discoveryv1.AddressTypeIPv4, ep("10.0.0.9", "p9", ok), ep("10.0.0.3", "p3", ok)),
		slice(discoveryv1.AddressTypeIPv6, ep("fd00::2", "v6b", ok), ep("fd00::1", "v6a", ok), ep("FD00:0:0::3", "v6c", ok)),
		slice(discoveryv1.AddressTypeFQDN, ep("engine-0.example.com", "fqdn", ok)),
		// A pod listed as usable in one slice and terminating in another is terminating.
		slice(discoveryv1.AddressTypeIPv4, ep("10.0.0.20", "old", ok)),
		slice(discoveryv1.AddressTypeIPv4, ep("10.0.0.20", "old", term)),
		// The IP of a terminating pod reused by a new pod: the new pod counts.
		slice(discoveryv1.AddressTypeIPv4, ep("10.0.0.30", "gone", term), ep("10.0.0.30", "new", ok)),
		// Malformed entries.
		slice(discoveryv1.AddressTypeIPv4, discoveryv1.Endpoint{}, ep("not-an-ip", "x", ok), ep("fd00::9", "wrongfamily", ok)),
	}
	want := []Endpoint{
		{Address: "10.0.0.3:8000", Pod: "p3", Node: "node-p3"},
		{Address: "10.0.0.9:8000", Pod: "p9", Node: "node-p9"},
		{Address: "10.0.0.10:8000", Pod: "p10", Node: "node-p10"},
		{Address: "10.0.0.30:8000", Pod: "new", Node: "node-new"},
		{Address: "[fd00::1]:8000", Pod: "v6a", Node: "node-v6a"},
		{Address: "[fd00::2]:8000", Pod: "v6b", Node: "node-v6b"},
		{Address: "[fd00::3]:8000", Pod: "v6c", Node: "node-v6c"},
	}
	got := FromSlices(in, "http")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FromSlices =\n%v\nwant\n%v", got, want)
	}
	// The order of the slices does not matter.
	rev := make([]discoveryv1.EndpointSlice, len(in))
	for i := range in {
		rev[len(in)-1-i] = in[i]
	}
	if got := FromSlices(rev, "http"); !reflect.DeepEqual(got, want) {
		t.Fatalf("FromSlices of the reversed slices =\n%v\nwant\n%v", got, want)
	}
	if got := FromSlices(nil, "http"); len(got) != 0 {
		t.Fatalf("FromSlices(nil) = %v", got)
	}
}

func TestFromSlicesNoTargetRef(t *testing.T) {
	s := slice(discoveryv1.AddressTypeIPv4, discoveryv1.Endpoint{Addresses: []string{"10.1.2.3", "10.9.9.9"}})
	want := []Endpoint{{Address: "10.1.2.3:8000"}}
	if got := FromSlices([]discoveryv1.EndpointSlice{s}, "http"); !reflect.DeepEqual(got, want) {
		t.Fatalf("FromSlices = %v, want %v (first address only, no pod or node)", got, want)
	}
}

func addresses(eps []Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.Address)
	}
	return out
}
