package driftrules

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// benchEstate builds a reproducible estate: hosts × open ports each, spread
// over /24 zones, and rules of which most are asset rules on those hosts
// (some for ports that are open, some for ports that are not, some naming
// another service, some lapsed), the rest zone-wide rules and rules for
// addresses that were not scanned.
func benchEstate(hosts, portsPerHost, ruleCount int) ([]Observation, []Rule) {
	rng := rand.New(rand.NewPCG(1, 2))
	type svc struct {
		port uint16
		name string
	}
	common := []svc{{21, "ftp"}, {22, "ssh"}, {23, "telnet"}, {25, "smtp"}, {53, "dns"}, {80, "http"}, {443, "http"},
		{3306, "mysql"}, {3389, "rdp"}, {5432, "postgresql"}, {6379, "redis"}, {8080, "http"}, {8443, "http"},
		{9200, "elasticsearch"}, {11211, "memcached"}, {27017, "mongodb"}}
	classes := policy.Classifications()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }

	obs := make([]Observation, hosts)
	for i := range obs {
		zone := i >> 8
		o := Observation{Address: addr(i), Zone: "zone-" + itoa(int64(zone)), Classification: classes[zone%len(classes)], Scanned: allPorts}
		used := map[uint16]bool{}
		for len(o.Ports) < portsPerHost {
			var p ObservedPort
			if rng.IntN(100) < 50 {
				s := common[rng.IntN(len(common))]
				p = ObservedPort{Protocol: policy.TCP, Port: s.port, State: PortOpen, Service: s.name, TLS: s.port == 443 || s.port == 8443}
			} else {
				p = ObservedPort{Protocol: policy.TCP, Port: uint16(1024 + rng.IntN(60000)), State: PortOpen, Service: "unknown"}
				if rng.IntN(4) == 0 {
					p.Service = common[rng.IntN(len(common))].name // a service on a non-standard port
				}
			}
			if used[p.Port] {
				continue
			}
			used[p.Port] = true
			p.Banner = "banner of " + p.Service
			if rng.IntN(100) < 5 {
				p.Weak = []WeakFinding{{ID: "redis-no-auth", Severity: "high", Detail: "answers without AUTH"}}
			}
			o.Ports = append(o.Ports, p)
		}
		obs[i] = o
	}

	rules := make([]Rule, ruleCount)
	for i := range rules {
		r := Rule{ID: int64(i + 1), RequestID: int64(i/3 + 1), Label: "bench", Protocol: policy.TCP, State: RuleActive,
			Expires: testNow.Add(time.Duration(1+rng.IntN(365)) * 24 * time.Hour)}
		switch n := rng.IntN(100); {
		case n < 80: // an asset rule on a scanned host
			h := rng.IntN(hosts)
			r.Destination = netip.PrefixFrom(addr(h), 32)
			if rng.IntN(100) < 70 {
				p := obs[h].Ports[rng.IntN(portsPerHost)]
				r.Ports = policy.PortSet{{First: p.Port, Last: p.Port}}
				r.Service = p.Service
				if rng.IntN(10) == 0 {
					r.Service = "http"
				}
			} else {
				p := uint16(1024 + rng.IntN(60000))
				r.Ports = policy.PortSet{{First: p, Last: p + uint16(rng.IntN(3))}}
			}
		case n < 95: // a zone-wide rule
			bits := 24
			if rng.IntN(5) == 0 {
				bits = 16
			}
			r.Destination, _ = addr(rng.IntN(hosts)).Prefix(bits)
			p := uint16(1024 + rng.IntN(60000))
			r.Ports = policy.PortSet{{First: p, Last: p + uint16(rng.IntN(50))}}
		default: // addresses that were not scanned, IPv6 among them
			r.Destination = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}), 128)
			r.Ports = policy.PortSet{{First: 443, Last: 443}}
		}
		switch n := rng.IntN(100); {
		case n < 8:
			r.State = RuleExpired
		case n < 12:
			r.State = RuleRevoked
		case n < 15:
			r.Expires = testNow.Add(-time.Hour)
		}
		rules[i] = r
	}
	return obs, rules
}

// BenchmarkCompare10kAssetsAgainst100kRules compares observations of 10,000
// assets with 20 open ports each against 100,000 rules. The goal is under
// 2 s and under 500 MB.
func BenchmarkCompare10kAssetsAgainst100kRules(b *testing.B) {
	obs, rules := benchEstate(10_000, 20, 100_000)
	catalog := policy.DefaultCatalog()
	b.ReportAllocs()
	b.ResetTimer()
	var items []Item
	for b.Loop() {
		items = Compare(obs, rules, catalog, testNow)
	}
	b.ReportMetric(float64(len(items)), "items")
}

// TestBenchEstateMakesEveryKind keeps the benchmark honest: its estate must
// exercise every kind of drift Compare makes but the tarpit, not only the
// cheap path (exposed-externally comes from CompareExternal).
func TestBenchEstateMakesEveryKind(t *testing.T) {
	obs, rules := benchEstate(300, 20, 3000)
	counts := map[Kind]int{}
	for _, it := range Compare(obs, rules, nil, testNow) {
		counts[it.Kind]++
	}
	for _, k := range Kinds() {
		if k != KindTarpit && k != KindExposedExternally && counts[k] == 0 {
			t.Errorf("no %s item in the benchmark estate: %v", k, counts)
		}
	}
}
