package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestEgressReadsAsWritten judges egress rules written the way people write
// them (the source is our asset that opens the connection, the destination
// the outside peer) and the old reversed way, which is now refused with
// advice to swap the fields.
func TestEgressReadsAsWritten(t *testing.T) {
	inv, err := NewInventory([]Zone{
		{Name: "edge", Classification: DMZ, CIDRs: []netip.Prefix{pfx("127.50.0.0/24")}},
		{Name: "apps", Classification: Medium, CIDRs: []netip.Prefix{pfx("127.40.0.0/24")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		source      string
		destination []string
		service     string
		// blocking: whether any finding blocks; egress: the egress
		// finding's severity; contains: words its message must hold.
		blocking bool
		egress   Severity
		contains []string
		// field: the resolve error's field, when the rule is refused before judging.
		field string
	}{
		{name: "asset to a peer address", source: "127.50.0.10/32", destination: []string{"203.0.113.5"}, service: "https",
			egress: SeverityMedium, contains: []string{"dmz zones open connections to 203.0.113.5/32 on tcp/443"}},
		{name: "bare asset address to a peer", source: "127.50.0.10", destination: []string{"203.0.113.5"}, service: "https",
			egress: SeverityMedium, contains: []string{"dmz zones open connections to 203.0.113.5/32"}},
		{name: "asset to the internet", source: "127.50.0.10/32", destination: []string{"internet"}, service: "https",
			egress: SeverityHigh, contains: []string{"open connections to any address (internet)", "the peer is any address"}},
		{name: "zone to the internet", source: "apps", destination: []string{"internet"},
			egress: SeverityHigh, contains: []string{"medium zones open connections to any address (internet)"}},
		{name: "several assets to several peers", source: "127.50.0.10, 127.40.0.7", destination: []string{"203.0.113.5", "198.51.100.0/28"},
			egress: SeverityMedium, contains: []string{"dmz and medium zones open connections to 203.0.113.5/32,198.51.100.0/28"}},
		// The old orientation: the peer as the source, our asset as the destination.
		{name: "reversed: peer as source", source: "203.0.113.5", destination: []string{"127.50.0.10"},
			blocking: true, egress: SeverityHigh, contains: []string{"source 203.0.113.5/32 of an egress rule lies outside every zone", "swap source and destination"}},
		{name: "reversed: internet as source", source: "internet", destination: []string{"127.50.0.10"}, field: "rules[0].source"},
		{name: "no such zone as peer", source: "127.50.0.10", destination: []string{"partners"}, field: "rules[0].destination"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := RuleSpec{Source: c.source, Destination: c.destination, Protocol: "tcp", Ports: "443", Service: c.service, Direction: "egress"}
			rules, err := inv.Resolve([]RuleSpec{spec}, testNow.Add(30*day))
			if c.field != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != c.field {
					t.Fatalf("Resolve: %v, want an error on %s", err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fs := DefaultPolicy().Evaluate(rules, nil, testNow)
			blocking := false
			for _, f := range fs {
				blocking = blocking || f.Blocking
			}
			if blocking != c.blocking {
				t.Errorf("blocking = %v, want %v: %v", blocking, c.blocking, fs)
			}
			eg := findingsWith(fs, CodeEgress)
			if len(eg) != 1 {
				t.Fatalf("egress findings: %v", fs)
			}
			if eg[0].Severity != c.egress {
				t.Errorf("severity %s, want %s", eg[0].Severity, c.egress)
			}
			for _, w := range c.contains {
				if !strings.Contains(eg[0].Message, w) {
					t.Errorf("message %q lacks %q", eg[0].Message, w)
				}
			}
		})
	}
}

// TestIngressToInternetPointsAtEgress: "internet" as an ingress rule's
// destination is refused with the way to write it.
func TestIngressToInternetPointsAtEgress(t *testing.T) {
	inv := testInventory(t)
	_, err := inv.Resolve([]RuleSpec{{Source: "web", Destination: []string{"internet"}, Protocol: "tcp", Ports: "443"}}, testNow)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "rules[0].destination[0]" || !strings.Contains(fe.Message, "egress rule with our assets as the source") {
		t.Fatalf("Resolve: %v", err)
	}
}
