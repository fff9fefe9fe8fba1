package driftrules

import (
	"net/netip"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// allPorts is the scope of a full scan.
var allPorts = PortScope{TCP: policy.PortSet{{First: 1, Last: 65535}}, UDP: policy.PortSet{{First: 1, Last: 65535}}}

func mustPorts(s string) policy.PortSet {
	p, err := policy.ParsePorts(s)
	if err != nil {
		panic(err)
	}
	return p
}

// host is a fully scanned, up host in zone "apps" of the given
// classification.
func host(addr string, c policy.Classification, ports ...ObservedPort) Observation {
	return Observation{Address: netip.MustParseAddr(addr), Zone: "apps", Classification: c, Scanned: allPorts, Ports: ports}
}

func tcp(port uint16, service string) ObservedPort {
	return ObservedPort{Protocol: policy.TCP, Port: port, State: PortOpen, Service: service}
}

func udp(port uint16, state, service string) ObservedPort {
	return ObservedPort{Protocol: policy.UDP, Port: port, State: state, Service: service}
}

func withTLS(p ObservedPort) ObservedPort { p.TLS = true; return p }

func withState(p ObservedPort, state string) ObservedPort { p.State = state; return p }

func withWeak(p ObservedPort, findings ...WeakFinding) ObservedPort { p.Weak = findings; return p }

// rule is rule #id of request #id*10, in force, on dest.
func rule(id int64, dest string, proto policy.Protocol, ports, service string) Rule {
	p, err := policy.ParseCIDR(dest)
	if err != nil {
		panic(err)
	}
	return Rule{ID: id, RequestID: id * 10, Label: "test", Destination: p, Protocol: proto, Ports: mustPorts(ports), Service: service, State: RuleActive}
}

func inState(r Rule, state string) Rule { r.State = state; return r }

func requiringAuth(r Rule) Rule { r.RequiresAuth = true; return r }

func expiring(r Rule, t time.Time) Rule { r.Expires = t; return r }

// summary is what the table tests check of an item.
type summary struct {
	Key      string
	Severity Severity
	RuleID   int64
}

func summarise(items []Item) []summary {
	var out []summary
	for _, it := range items {
		out = append(out, summary{it.Key, it.Severity, it.RuleID})
	}
	return out
}

// checkItems asserts what every item must have whatever the case.
func checkItems(t *testing.T, items []Item) {
	t.Helper()
	keys := map[string]bool{}
	for i, it := range items {
		if keys[it.Key] {
			t.Errorf("key %q appears twice", it.Key)
		}
		keys[it.Key] = true
		if it.Key != keyOf(&it) {
			t.Errorf("item %d: key %q, want %q", i, it.Key, keyOf(&it))
		}
		if _, ok := ParseKey(it.Key); !ok {
			t.Errorf("item %d: key %q does not parse", i, it.Key)
		}
		if it.Severity.Rank() < 0 {
			t.Errorf("item %d: severity %q is not a severity", i, it.Severity)
		}
		if it.Detail == "" {
			t.Errorf("item %d (%s): no detail", i, it.Key)
		}
		if i > 0 && itemOrder(items[i-1], it) > 0 {
			t.Errorf("items %d and %d are out of order", i-1, i)
		}
	}
}

// ofRequest moves a rule into request id.
func ofRequest(r Rule, id int64) Rule {
	r.RequestID = id
	return r
}
