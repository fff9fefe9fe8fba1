package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testInventory(t *testing.T) *Inventory {
	t.Helper()
	inv, err := NewInventory([]Zone{
		{Name: "web", Classification: DMZ, CIDRs: []netip.Prefix{pfx("10.1.0.0/16"), pfx("2001:db8:1::/48")}},
		{Name: "office", Classification: Low, CIDRs: []netip.Prefix{pfx("10.3.0.0/16")}},
		{Name: "jump", Classification: Transit, CIDRs: []netip.Prefix{pfx("10.2.0.0/24")}},
		{Name: "datacentre", Classification: Medium, CIDRs: []netip.Prefix{pfx("10.8.0.0/13")}},
		{Name: "payments", Classification: High, CIDRs: []netip.Prefix{pfx("10.9.0.0/16")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestResolve(t *testing.T) {
	inv := testInventory(t)
	specs, err := ParseRuleFile([]byte(`
- {source: internet, destination: [10.1.2.3], protocol: tcp, ports: 443, service: https}
- {source: Office, destination: payments, protocol: tcp, ports: 5432, expires_at: 2027-01-01}
- {source: ["2001:db8:1::5", 10.9.1.1], destination: [10.2.0.5, 198.51.100.0/24, "10.9.0.0/17"], protocol: udp, ports: 53, direction: egress}
- {source: 10.0.0.0/8, destination: [192.0.2.1], protocol: tcp, ports: 22}
`))
	if err != nil {
		t.Fatal(err)
	}
	defaultExpiry := testNow.Add(90 * day)
	rules, err := inv.Resolve(specs, defaultExpiry)
	if err != nil {
		t.Fatal(err)
	}
	want := []ProposedRule{
		{
			Source: Source{Kind: SourceInternet}, SourceClassifications: []Classification{Internet},
			Destinations: []Destination{{Prefix: pfx("10.1.2.3/32"), Zone: "web", Classification: DMZ}},
			Protocol:     TCP, Ports: portSet("443"), Service: "https", Direction: Ingress, Expires: defaultExpiry,
		},
		{
			Source: Source{Kind: SourceZone, Zone: "office"}, SourceClassifications: []Classification{Low},
			SourceZonePrefixes: []netip.Prefix{pfx("10.3.0.0/16")},
			Destinations:       []Destination{{Prefix: pfx("10.9.0.0/16"), Zone: "payments", Classification: High}},
			Protocol:           TCP, Ports: portSet("5432"), Direction: Ingress, Expires: specs[1].ExpiresAt,
		},
		{
			// Egress reads as written (our assets open connections to the
			// peers) and is kept with the peers as Source, our assets as
			// Destinations, like ingress.
			Source:                Source{Kind: SourceCIDRs, CIDRs: []netip.Prefix{pfx("10.2.0.5/32"), pfx("198.51.100.0/24"), pfx("10.9.0.0/17")}},
			SourceClassifications: []Classification{Internet, Transit, High},
			Destinations: []Destination{
				{Prefix: pfx("2001:db8:1::5/128"), Zone: "web", Classification: DMZ},
				{Prefix: pfx("10.9.1.1/32"), Zone: "payments", Classification: High},
			},
			Protocol: UDP, Ports: portSet("53"), Direction: Egress, Expires: defaultExpiry,
		},
		{
			// A /8 spans zones of several classifications and the internet between them.
			Source:                Source{Kind: SourceCIDRs, CIDRs: []netip.Prefix{pfx("10.0.0.0/8")}},
			SourceClassifications: []Classification{Internet, DMZ, Transit, Low, Medium, High},
			Destinations:          []Destination{{Prefix: pfx("192.0.2.1/32"), Classification: Internet}},
			Protocol:              TCP, Ports: portSet("22"), Direction: Ingress, Expires: defaultExpiry,
		},
	}
	if diff := cmp.Diff(want, rules, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatalf("Resolve (-want +got):\n%s", diff)
	}
	// Resolved rules evaluate: the office → payments rule is refused by the matrix.
	fs := DefaultPolicy().Evaluate(rules, nil, testNow)
	if len(findingsWith(fs, CodeZonePath)) == 0 {
		t.Fatalf("office → payments: %v", codes(fs))
	}
}

func TestResolveErrors(t *testing.T) {
	inv := testInventory(t)
	cases := []struct {
		spec  RuleSpec
		field string
		msg   string
	}{
		{RuleSpec{Source: "nowhere", Destination: []string{"10.1.0.1"}, Protocol: "tcp", Ports: "1"}, "rules[0].source", `no zone "nowhere"`},
		{RuleSpec{Source: "internet", Destination: []string{"10.1.0.1", "nowhere"}, Protocol: "tcp", Ports: "1"}, "rules[0].destination[1]", `no zone "nowhere"`},
		{RuleSpec{Source: "internet", Protocol: "tcp", Ports: "1"}, "rules[0].destination", "required"},
		{RuleSpec{Source: "internet", Destination: []string{"10.1.0.1"}, Protocol: "sctp", Ports: "1"}, "rules[0].protocol", "not tcp or udp"},
		{RuleSpec{Source: "internet", Destination: []string{"10.1.0.1"}, Protocol: "tcp", Ports: "x"}, "rules[0].ports", "not a number"},
		{RuleSpec{Source: "", Destination: []string{"10.1.0.1"}, Protocol: "tcp", Ports: "1"}, "rules[0].source", "required"},
		{RuleSpec{Source: "internet", Destination: []string{"10.1.0.1"}, Protocol: "tcp", Ports: "1", Direction: "out"}, "rules[0].direction", "not ingress or egress"},
		// Egress: the source is ours, the destination the peer.
		{RuleSpec{Source: "internet", Destination: []string{"203.0.113.5"}, Protocol: "tcp", Ports: "443", Direction: "egress"}, "rules[0].source", "not internet"},
		{RuleSpec{Source: "nowhere", Destination: []string{"internet"}, Protocol: "tcp", Ports: "443", Direction: "egress"}, "rules[0].source", `no zone "nowhere"`},
		{RuleSpec{Source: "10.1.0.1", Destination: []string{"nowhere"}, Protocol: "tcp", Ports: "443", Direction: "egress"}, "rules[0].destination", `no zone "nowhere"`},
		{RuleSpec{Source: "10.1.0.1", Protocol: "tcp", Ports: "443", Direction: "egress"}, "rules[0].destination", "destination is required"},
		{RuleSpec{Source: "internet", Destination: []string{"internet"}, Protocol: "tcp", Ports: "443"}, "rules[0].destination[0]", "egress rule"},
	}
	for _, c := range cases {
		_, err := inv.Resolve([]RuleSpec{c.spec}, testNow)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%+v: %v", c.spec, err)
		}
	}
}

func TestNewInventoryValidates(t *testing.T) {
	for name, zones := range map[string][]Zone{
		"bad name":       {{Name: "1st", Classification: Low}},
		"duplicate name": {{Name: "web", Classification: DMZ}, {Name: "WEB", Classification: Low}},
		"bad class":      {{Name: "web", Classification: "public"}},
		"invalid prefix": {{Name: "web", Classification: DMZ, CIDRs: []netip.Prefix{{}}}},
		"prefix twice":   {{Name: "a", Classification: DMZ, CIDRs: []netip.Prefix{pfx("10.0.0.0/24")}}, {Name: "b", Classification: Low, CIDRs: []netip.Prefix{pfx("10.0.0.0/24")}}},
	} {
		if _, err := NewInventory(zones); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	inv := testInventory(t)
	if z, ok := inv.ZoneOf(pfx("10.9.3.4")); !ok || z.Name != "payments" {
		t.Errorf("ZoneOf: %+v %v", z, ok)
	}
	if _, ok := inv.ZoneOf(pfx("192.0.2.1")); ok {
		t.Error("an outside address has a zone")
	}
	if z, ok := inv.Zone("PAYMENTS"); !ok || z.Classification != High {
		t.Errorf("Zone: %+v %v", z, ok)
	}
}
