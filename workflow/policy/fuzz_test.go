package policy

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fuzzClass maps a byte to a classification, including ones the engine must
// refuse rather than trust.
func fuzzClass(b byte) Classification {
	all := append(Classifications(), "", "secret")
	return all[int(b)%len(all)]
}

// fuzzRule builds a rule from arbitrary input. Where the parsers refuse the
// text, raw values go in unchecked, the way a careless caller might pass them.
func fuzzRule(source string, classes []byte, dest string, proto string, ports string, raw []byte, svc string, dir string, expiry int64) ProposedRule {
	r := ProposedRule{Service: svc, Direction: Direction(dir), Protocol: Protocol(proto)}
	if s, err := ParseSource(source); err == nil {
		r.Source = s
	} else {
		r.Source = Source{Kind: SourceKind(source)}
	}
	for i, b := range classes {
		if i >= 4 {
			break
		}
		r.SourceClassifications = append(r.SourceClassifications, fuzzClass(b))
		if b%3 == 0 {
			r.SourceZonePrefixes = append(r.SourceZonePrefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 0, 0}), int(b%33)))
		}
	}
	if prefixes, err := ParseCIDRs(dest); err == nil {
		for i, p := range prefixes {
			var c byte
			if i < len(classes) {
				c = classes[len(classes)-1-i]
			}
			r.Destinations = append(r.Destinations, Destination{Prefix: p, Classification: fuzzClass(c)})
		}
	} else if dest != "" {
		r.Destinations = []Destination{{Classification: fuzzClass(byte(len(dest)))}}
	}
	if set, err := ParsePorts(ports); err == nil {
		r.Ports = set
	} else {
		for i := 0; i+3 < len(raw) && i < 32; i += 4 {
			r.Ports = append(r.Ports, PortRange{uint16(raw[i])<<8 | uint16(raw[i+1]), uint16(raw[i+2])<<8 | uint16(raw[i+3])})
		}
	}
	if expiry != 0 {
		r.Expires = testNow.Add(time.Duration(expiry) * time.Minute)
	}
	return r
}

func FuzzEvaluate(f *testing.F) {
	f.Add("internet", []byte{0}, "10.1.0.5", "tcp", "443", []byte{}, "https", "ingress", int64(60*24*90))
	f.Add("10.2.0.0/24", []byte{2, 5}, "10.9.0.5,2001:db8::1", "udp", "161", []byte{}, "snmp", "egress", int64(-5))
	f.Add("0.0.0.0/0", []byte{0, 3}, "::/0", "tcp", "1-65535", []byte{}, "", "", int64(0))
	f.Add("office", []byte{3}, "10.1.0.0/16", "tcp", "x", []byte{0, 0, 0, 10, 1, 0, 0, 5}, "rdp", "sideways", int64(1e9))
	f.Add("2001:db8::/32", []byte{7, 6, 1}, "2001:db8:1::/64", "TCP", "33890", []byte{}, "RDP", "ingress", int64(1))
	active := NewActiveIndex([]ActiveRule{
		activeRule(1, 1, "public web", newRule(from("internet"), on(TCP, "80,443"), func(r *ProposedRule) {
			r.Destinations = []Destination{{Prefix: pfx("10.1.0.0/16"), Classification: DMZ}}
		})),
		activeRule(2, 1, "v6 admin", newRule(from("2001:db8::/48", Transit), to(DMZ, "2001:db8:1::5"), on(TCP, "22"))),
		activeRule(3, 2, "app", newRule(from("10.2.0.0/24", Transit), to(High, "10.9.0.5"), on(UDP, "100-200"))),
	})
	p := DefaultPolicy()
	stricter := DefaultPolicy()
	stricter.Matrix = Matrix{}
	f.Fuzz(func(t *testing.T, source string, classes []byte, dest, proto, ports string, raw []byte, svc, dir string, expiry int64) {
		r := fuzzRule(source, classes, dest, proto, ports, raw, svc, dir, expiry)
		rules := []ProposedRule{r, newRule()}
		first := p.Evaluate(rules, active, testNow)
		second := p.Evaluate(rules, active, testNow)
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("two evaluations differ:\n%s", diff)
		}
		for _, f := range first {
			if f.Rule < 0 || f.Rule >= len(rules) || f.Severity.Rank() < 0 || f.Message == "" || f.Code == "" || f.RequiredControls == nil {
				t.Fatalf("malformed finding %+v", f)
			}
		}
		// The rule indexed as active must not break the index either.
		idx := NewActiveIndex([]ActiveRule{{ProposedRule: r, ID: 1}})
		p.Evaluate(rules, idx, testNow)
		WhatIf(p, stricter, []ActiveRule{{ProposedRule: r, ID: 1}}, testNow)
	})
}

func FuzzParseRuleFile(f *testing.F) {
	f.Add([]byte(`- {source: internet, destination: [10.1.2.3], protocol: tcp, ports: "443", service: http}`))
	f.Add([]byte(`{"rules": [{"source": ["203.0.113.0/28"], "destination": "payments", "protocol": "udp", "ports": 161, "expires_at": "2027-02-22"}]}`))
	f.Add([]byte(`[{"source": "10.0.0.0/24,2001:db8::/48", "destination": "10.1.2.3, 10.1.2.4", "protocol": "tcp", "ports": [80, "8000-8100"], "direction": "egress"}]`))
	f.Add([]byte("- source: office\n  destination: web\n  protocol: tcp\n  ports: 70000\n"))
	f.Add([]byte("- &a {source: internet}\n- *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := ParseRuleFile(data)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("error %v is %T, not *FieldError", err, err)
			}
			return
		}
		// What was accepted is written in canonical form and reads back the same.
		out, err := json.Marshal(specs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseRuleFile(out)
		if err != nil {
			t.Fatalf("canonical form refused: %v\n%s", err, out)
		}
		if diff := cmp.Diff(specs, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
