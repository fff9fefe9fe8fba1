package policy

import (
	"strings"
	"testing"
)

func activeRule(id, request int64, label string, r ProposedRule) ActiveRule {
	return ActiveRule{ProposedRule: r, ID: id, RequestID: request, Label: label}
}

func testIndex() *ActiveIndex {
	return NewActiveIndex([]ActiveRule{
		// Exactly the baseline rule.
		activeRule(12, 40, "Web to payments", newRule()),
		// The internet to the whole web /24 on 80 and 443.
		activeRule(3, 7, "Public web", newRule(from("internet"), on(TCP, "80,443"), func(r *ProposedRule) {
			r.Destinations = []Destination{{Prefix: pfx("10.1.0.0/24"), Zone: "web", Classification: DMZ}}
		})),
		// An application range from a /24 to one host.
		activeRule(5, 9, "App range", newRule(from("10.2.0.0/24", Transit), to(DMZ, "10.1.0.9"), on(TCP, "8000-8100"), service(""))),
		// IPv6 ssh from a /64.
		activeRule(8, 11, "Admin v6", newRule(from("2001:db8::/64", Transit), to(DMZ, "2001:db8:1::5"), on(TCP, "22"), service("ssh"))),
		// The same host, udp: must never match tcp.
		activeRule(9, 11, "DNS", newRule(to(DMZ, "10.1.0.9"), on(UDP, "53"), service("dns"))),
		// A zone source.
		activeRule(10, 12, "Office to intranet", newRule(from("office", Low), to(DMZ, "10.1.0.20"), on(TCP, "443"))),
		// Egress from the host.
		activeRule(11, 13, "Updates", newRule(from("198.51.100.10/32", Internet), to(DMZ, "10.1.5.9"), egress(), on(TCP, "8443"))),
		// The same range to a second host.
		activeRule(6, 9, "App range 2", newRule(from("10.2.0.0/24", Transit), to(DMZ, "10.1.0.30"), on(TCP, "8000-8100"), service(""))),
	})
}

func TestOverlap(t *testing.T) {
	p := DefaultPolicy()
	idx := testIndex()
	cases := []struct {
		name     string
		rule     ProposedRule
		code     string // "" for no overlap finding
		contains []string
	}{
		{"exact duplicate", newRule(), CodeOverlapDuplicate, []string{`rule #12 of request #40 "Web to payments"`}},
		{"covered by the zone-wide public rule", newRule(from("203.0.113.5/32", Internet), to(DMZ, "10.1.0.7")), CodeOverlapCovered, []string{`rule #3 of request #7 "Public web"`}},
		{"covered: single port inside a range", newRule(to(DMZ, "10.1.0.9"), on(TCP, "8050"), service("")), CodeOverlapCovered, []string{"rule #5"}},
		{"covered: /32 source inside the /24", newRule(from("10.2.0.77/32", Transit), to(DMZ, "10.1.0.9"), on(TCP, "8000-8100"), service("")), CodeOverlapCovered, []string{"rule #5"}},
		{"partial: range runs past", newRule(to(DMZ, "10.1.0.9"), on(TCP, "8090-8200"), service("")), CodeOverlapPartial, []string{"rule #5"}},
		{"partial: source wider than the active one", newRule(from("10.2.0.0/23", Transit), to(DMZ, "10.1.0.9"), on(TCP, "8050"), service("")), CodeOverlapPartial, nil},
		{"covered by two rules, one per destination", newRule(to(DMZ, "10.1.0.9", "10.1.0.30"), on(TCP, "8050"), service("")), CodeOverlapCovered, []string{"rule #5", "rule #6"}},
		{"one destination covered, the other not", newRule(to(DMZ, "10.1.0.9", "10.1.0.31"), on(TCP, "8050"), service("")), CodeOverlapPartial, []string{"rule #5"}},
		{"zone-wide request over host rules", newRule(func(r *ProposedRule) {
			r.Destinations = []Destination{{Prefix: pfx("10.1.0.0/16"), Zone: "web", Classification: DMZ}}
		}, on(TCP, "8050"), service("")), CodeOverlapPartial, []string{"rule #5"}},
		{"v6 covered", newRule(from("2001:db8::7/128", Transit), to(DMZ, "2001:db8:1::5"), on(TCP, "22"), service("ssh")), CodeOverlapCovered, []string{"rule #8"}},
		{"v6 other host", newRule(from("2001:db8::7/128", Transit), to(DMZ, "2001:db8:1::6"), on(TCP, "22"), service("ssh")), "", nil},
		{"v6 /128 vs v4 rules", newRule(from("2001:db8::7/128", Transit), to(DMZ, "::ffff:10.1.0.9"), on(TCP, "8050"), service("")), "", nil},
		{"same zone source covers", newRule(from("office", Low), to(DMZ, "10.1.0.20")), CodeOverlapDuplicate, []string{"rule #10"}},
		{"other protocol", newRule(to(DMZ, "10.1.0.9"), on(UDP, "8050"), service("")), "", nil},
		{"other direction", newRule(from("198.51.100.10/32", Internet), to(DMZ, "10.1.5.9"), on(TCP, "8443")), "", nil},
		{"egress duplicate", newRule(from("198.51.100.10/32", Internet), to(DMZ, "10.1.5.9"), egress(), on(TCP, "8443")), CodeOverlapDuplicate, []string{"rule #11"}},
		{"disjoint source", newRule(from("10.3.0.1/32", Transit), to(DMZ, "10.1.0.9"), on(TCP, "8050"), service("")), "", nil},
		{"other port", newRule(to(DMZ, "10.1.0.9"), on(TCP, "9000"), service("")), "", nil},
		{"port just below the range", newRule(to(DMZ, "10.1.0.9"), on(TCP, "7999"), service("")), "", nil},
		{"port just above the range", newRule(to(DMZ, "10.1.0.9"), on(TCP, "8101"), service("")), "", nil},
		{"ports either side", newRule(to(DMZ, "10.1.0.9"), on(TCP, "7999,8101"), service("")), "", nil},
	}
	overlapCodes := []string{CodeOverlapDuplicate, CodeOverlapCovered, CodeOverlapPartial}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := p.Evaluate([]ProposedRule{c.rule}, idx, testNow)
			var got []Finding
			for _, code := range overlapCodes {
				got = append(got, findingsWith(fs, code)...)
			}
			if c.code == "" {
				if len(got) > 0 {
					t.Fatalf("unexpected overlap: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Code != c.code {
				t.Fatalf("want one %s, got %+v", c.code, got)
			}
			for _, word := range c.contains {
				if !strings.Contains(got[0].Message, word) {
					t.Errorf("message %q lacks %q", got[0].Message, word)
				}
			}
			if got[0].Blocking {
				t.Errorf("overlap must not block")
			}
		})
	}
}

func TestActiveIndexIgnoresBrokenRules(t *testing.T) {
	idx := NewActiveIndex([]ActiveRule{
		activeRule(1, 1, "no ports", newRule(func(r *ProposedRule) { r.Ports = nil })),
		activeRule(2, 1, "bad destination", newRule(func(r *ProposedRule) { r.Destinations = []Destination{{}} })),
	})
	if idx.Len() != 2 {
		t.Fatalf("Len = %d", idx.Len())
	}
	fs := DefaultPolicy().Evaluate([]ProposedRule{newRule()}, idx, testNow)
	if len(fs) != 0 {
		t.Fatalf("broken active rules matched: %+v", fs)
	}
}

func TestActiveRuleName(t *testing.T) {
	a := ActiveRule{ID: 12, RequestID: 40, Label: "Web to payments"}
	if got := a.Name(); got != `rule #12 of request #40 "Web to payments"` {
		t.Fatal(got)
	}
	b := ActiveRule{ID: 3}
	if got := b.Name(); got != "rule #3" {
		t.Fatal(got)
	}
	// With its place in the request, the rule is named as its page shows it.
	c := ActiveRule{ID: 12, RequestID: 6, Number: 1, Label: "Web to payments"}
	if got := c.Name(); got != `rule 1 of request #6 "Web to payments"` {
		t.Fatal(got)
	}
}
