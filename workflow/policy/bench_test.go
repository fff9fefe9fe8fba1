package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// benchRules builds a reproducible estate: active approved rules spread
// over a pool of hosts (with some zone-wide and IPv6 rules), and proposed
// rules half of which land on hosts that already have rules, so that the
// overlap check does real work.
func benchRules(activeCount, proposedCount int) ([]ActiveRule, []ProposedRule) {
	rng := rand.New(rand.NewPCG(1, 2))
	const hosts = 20000
	common := []uint16{22, 25, 53, 80, 123, 161, 443, 3306, 5432, 6379, 8080, 8443, 9200}
	classes := Classifications()
	host := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16 & 3), byte(i >> 8), byte(i)}), 32)
	}
	v6host := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)}), 128)
	}
	rule := func(hostPool int) ProposedRule {
		r := ProposedRule{Protocol: TCP, Direction: Ingress, Expires: testNow.Add(time.Duration(30+rng.IntN(335)) * day)}
		if rng.IntN(100) < 15 {
			r.Protocol = UDP
		}
		if rng.IntN(100) < 5 {
			r.Direction = Egress
		}
		switch n := rng.IntN(100); {
		case n < 60:
			r.Ports = PortSet{{common[rng.IntN(len(common))], 0}}
			r.Ports[0].Last = r.Ports[0].First
		case n < 85:
			p := uint16(1024 + rng.IntN(64000))
			r.Ports = PortSet{{p, p}}
		default:
			p := uint16(1024 + rng.IntN(60000))
			r.Ports = PortSet{{p, p + uint16(rng.IntN(200))}}
		}
		switch n := rng.IntN(100); {
		case n < 60:
			bits := 24 + rng.IntN(9)
			p, _ := netip.AddrFrom4([4]byte{10, byte(64 + rng.IntN(64)), byte(rng.IntN(256)), byte(rng.IntN(256))}).Prefix(bits)
			r.Source = Source{Kind: SourceCIDRs, CIDRs: []netip.Prefix{p}}
			r.SourceClassifications = []Classification{classes[1+rng.IntN(len(classes)-1)]}
		case n < 80:
			z := rng.IntN(50)
			r.Source = Source{Kind: SourceZone, Zone: fmt.Sprintf("zone-%d", z)}
			r.SourceClassifications = []Classification{classes[1+z%(len(classes)-1)]}
			r.SourceZonePrefixes = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(64 + z), 0, 0}), 16)}
		case n < 90:
			r.Source = Source{Kind: SourceInternet}
			r.SourceClassifications = []Classification{Internet}
		default:
			p, _ := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 6: byte(rng.IntN(256)), 15: byte(rng.IntN(256))}).Prefix(48 + rng.IntN(81))
			r.Source = Source{Kind: SourceCIDRs, CIDRs: []netip.Prefix{p}}
			r.SourceClassifications = []Classification{Transit}
		}
		destClass := classes[1+rng.IntN(len(classes)-1)]
		switch n := rng.IntN(100); {
		case n < 5:
			p, _ := host(rng.IntN(hostPool)).Addr().Prefix(24)
			r.Destinations = []Destination{{Prefix: p, Classification: destClass}}
		case n < 8:
			r.Destinations = []Destination{{Prefix: v6host(rng.IntN(hostPool)), Classification: destClass}}
		case n < 15:
			r.Destinations = []Destination{{Prefix: host(rng.IntN(hostPool)), Classification: destClass}, {Prefix: host(rng.IntN(hostPool)), Classification: destClass}}
		default:
			r.Destinations = []Destination{{Prefix: host(rng.IntN(hostPool)), Classification: destClass}}
		}
		r.Service = [...]string{"", "https", "ssh", "postgresql", "redis", "http", "snmp", "rdp", "frobnicator"}[rng.IntN(9)]
		return r
	}
	active := make([]ActiveRule, activeCount)
	for i := range active {
		active[i] = ActiveRule{ProposedRule: rule(hosts), ID: int64(i + 1), RequestID: int64(i/3 + 1), Label: fmt.Sprintf("request %d", i/3+1)}
	}
	proposed := make([]ProposedRule, proposedCount)
	for i := range proposed {
		if i%2 == 0 {
			proposed[i] = rule(hosts)
		} else {
			proposed[i] = rule(hosts * 4) // mostly hosts without rules yet
		}
	}
	// Some exact repeats of active rules.
	for i := 0; i < proposedCount; i += 50 {
		proposed[i] = active[rng.IntN(activeCount)].ProposedRule
	}
	return active, proposed
}

// BenchmarkEvaluate10kAgainst100k measures one `evaluate` of 10,000 proposed
// rules against 100,000 active rules, index build included ("build+evaluate"),
// and the evaluation alone against a prebuilt index ("evaluate").
func BenchmarkEvaluate10kAgainst100k(b *testing.B) {
	active, proposed := benchRules(100_000, 10_000)
	p := DefaultPolicy()
	b.Run("build+evaluate", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			idx := NewActiveIndex(active)
			n = len(p.Evaluate(proposed, idx, testNow))
		}
		b.ReportMetric(float64(n), "findings")
	})
	b.Run("evaluate", func(b *testing.B) {
		idx := NewActiveIndex(active)
		b.ReportAllocs()
		var overlaps int
		for b.Loop() {
			overlaps = 0
			for _, f := range p.Evaluate(proposed, idx, testNow) {
				switch f.Code {
				case CodeOverlapDuplicate, CodeOverlapCovered, CodeOverlapPartial:
					overlaps++
				}
			}
		}
		b.ReportMetric(float64(overlaps), "overlaps")
	})
}

// TestBenchRulesFindOverlaps keeps the benchmark honest: its data must make
// the overlap check find something.
func TestBenchRulesFindOverlaps(t *testing.T) {
	active, proposed := benchRules(5000, 500)
	fs := DefaultPolicy().Evaluate(proposed, NewActiveIndex(active), testNow)
	if len(findingsWith(fs, CodeOverlapDuplicate)) == 0 || len(findingsWith(fs, CodeOverlapPartial))+len(findingsWith(fs, CodeOverlapCovered)) == 0 {
		t.Fatalf("no overlaps in the benchmark data: %v", codes(fs))
	}
}
