package driftrules

import (
	"net/netip"
	"testing"
)

// TestCompareExternal: what the internet vantage sees on an asset's public
// address against the rules in force on the asset itself.
func TestCompareExternal(t *testing.T) {
	const asset, public = "10.40.0.15", "203.0.113.15"
	fromInternet := func(r Rule) Rule { r.FromInternet = true; return r }
	seen := func(ports ...ObservedPort) External {
		o := host(public, "internet", ports...)
		o.Zone = "internet"
		return External{Observation: o, Asset: netip.MustParseAddr(asset)}
	}
	cases := []struct {
		name     string
		obs      External
		rules    []Rule
		severity Severity // "" when no item is wanted
	}{
		{"approved for internal sources only", seen(tcp(8080, "http")), []Rule{rule(1, asset+"/32", "tcp", "8080", "http")}, SeverityHigh},
		{"approved from the internet", seen(tcp(443, "http")), []Rule{fromInternet(rule(1, asset+"/32", "tcp", "443", "http"))}, ""},
		{"internal and internet approvals", seen(tcp(443, "http")), []Rule{rule(1, asset+"/32", "tcp", "443", "http"), fromInternet(rule(2, asset+"/32", "tcp", "443", "http"))}, ""},
		{"approved from the internet through the zone", seen(tcp(443, "http")), []Rule{fromInternet(rule(1, "10.40.0.0/24", "tcp", "443", "http"))}, ""},
		{"nothing approves it", seen(tcp(3306, "mysql")), nil, SeverityCritical},
		{"the internet approval is for another port", seen(tcp(22, "ssh")), []Rule{fromInternet(rule(1, asset+"/32", "tcp", "443", "http"))}, SeverityCritical},
		{"the internet approval was revoked", seen(tcp(443, "http")), []Rule{inState(fromInternet(rule(1, asset+"/32", "tcp", "443", "http")), RuleRevoked)}, SeverityCritical},
		{"the internet approval has lapsed", seen(tcp(443, "http")), []Rule{expiring(fromInternet(rule(1, asset+"/32", "tcp", "443", "http")), testNow.Add(-1))}, SeverityCritical},
		{"closed from the internet", seen(withState(tcp(8080, "http"), PortClosed)), nil, ""},
		{"filtered from the internet", seen(withState(tcp(8080, "http"), PortFiltered)), nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items := CompareExternal([]External{tc.obs}, tc.rules, testNow)
			if tc.severity == "" {
				if len(items) != 0 {
					t.Fatalf("items %+v, want none", items)
				}
				return
			}
			if len(items) != 1 {
				t.Fatalf("items %+v, want one", items)
			}
			it := items[0]
			if it.Kind != KindExposedExternally || it.Severity != tc.severity || it.Address.String() != public || it.Port != tc.obs.Ports[0].Port {
				t.Errorf("item %s %s on %s port %d, want %s %s on %s port %d", it.Kind, it.Severity, it.Address, it.Port,
					KindExposedExternally, tc.severity, public, tc.obs.Ports[0].Port)
			}
		})
	}
	down := seen(tcp(8080, "http"))
	down.Down = true
	if items := CompareExternal([]External{down}, nil, testNow); len(items) != 0 {
		t.Errorf("a public address that is down: items %+v, want none", items)
	}
}
