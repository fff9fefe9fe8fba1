package driftrules

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/portcullis/portcullis/workflow/policy"
)

func TestRequestFrom(t *testing.T) {
	obs := []Observation{host("10.0.0.5", policy.DMZ,
		withTLS(tcp(443, "http")),
		tcp(9000, "unknown"),
		tcp(80, "redis"),
		tcp(22, "ssh"),
		withWeak(tcp(6379, "redis"), WeakFinding{ID: "redis-no-auth", Severity: "high"}),
	)}
	rules := []Rule{
		rule(1, "10.0.0.5", policy.TCP, "80", "http"),
		inState(rule(2, "10.0.0.5", policy.TCP, "22", "ssh"), RuleExpired),
		rule(3, "10.0.0.5", policy.TCP, "6379", "redis"),
		rule(4, "10.0.0.5", policy.TCP, "8080", "http"),
	}
	items := map[string]Item{}
	for _, it := range Compare(obs, rules, nil, testNow) {
		items[it.Key] = it
	}
	dest := netip.MustParsePrefix("10.0.0.5/32")
	want := map[string]Prefill{
		"open-unapproved|10.0.0.5|tcp|443": {
			Title: "Approve tcp/443 (https) on 10.0.0.5", Destination: dest, Zone: "apps", Protocol: policy.TCP,
			Ports: mustPorts("443"), Service: "https", DriftKey: "open-unapproved|10.0.0.5|tcp|443",
		},
		"open-unapproved|10.0.0.5|tcp|9000": {
			Title: "Approve tcp/9000 on 10.0.0.5", Destination: dest, Zone: "apps", Protocol: policy.TCP,
			Ports: mustPorts("9000"), DriftKey: "open-unapproved|10.0.0.5|tcp|9000",
		},
		"service-mismatch|10.0.0.5|tcp|80": {
			Title: "Approve tcp/80 (redis) on 10.0.0.5", Destination: dest, Zone: "apps", Protocol: policy.TCP,
			Ports: mustPorts("80"), Service: "redis", DriftKey: "service-mismatch|10.0.0.5|tcp|80", RuleID: 1, RequestID: 10,
		},
		"expired-open|10.0.0.5|tcp|22": {
			Title: "Re-approve tcp/22 (ssh) on 10.0.0.5", Destination: dest, Zone: "apps", Protocol: policy.TCP,
			Ports: mustPorts("22"), Service: "ssh", DriftKey: "expired-open|10.0.0.5|tcp|22", RuleID: 2, RequestID: 20,
		},
		"weak-config|10.0.0.5|tcp|6379":                {},
		"approved-closed|10.0.0.5|tcp|8080|request-40": {},
	}
	if len(items) != len(want) {
		t.Fatalf("got items %v, want %d", keys(Compare(obs, rules, nil, testNow)), len(want))
	}
	for key, w := range want {
		it, ok := items[key]
		if !ok {
			t.Errorf("no item %s", key)
			continue
		}
		got := RequestFrom(it)
		if it.Kind.Requestable() != (got.Title != "") {
			t.Errorf("%s: Requestable is %v but the prefill is %+v", key, it.Kind.Requestable(), got)
		}
		if got.Title != "" && !strings.Contains(got.Justification, "10.0.0.5") {
			t.Errorf("%s: justification hint %q does not name the host", key, got.Justification)
		}
		if diff := cmp.Diff(w, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
			cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Justification" }, cmp.Ignore())); diff != "" {
			t.Errorf("%s (-want +got):\n%s", key, diff)
		}
	}
	if got := RequestFrom(items["service-mismatch|10.0.0.5|tcp|80"]).Justification; !strings.Contains(got, "approved for http (request #10)") {
		t.Errorf("mismatch hint %q does not say what was approved", got)
	}
	if got := RequestFrom(items["open-unapproved|10.0.0.5|tcp|443"]); policy.Protocol(got.Protocol) != policy.TCP || got.Destination.Bits() != 32 {
		t.Errorf("prefill %+v", got)
	}
	v6 := RequestFrom(Item{Kind: KindOpenUnapproved, Address: netip.MustParseAddr("2001:db8::7"), Protocol: policy.UDP, Port: 500, LastPort: 500, Service: "unknown"})
	if v6.Destination != netip.MustParsePrefix("2001:db8::7/128") || v6.Service != "" {
		t.Errorf("IPv6 prefill %+v", v6)
	}
}
