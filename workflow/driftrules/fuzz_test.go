package driftrules

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/portcullis/portcullis/workflow/policy"
)

// fuzzReader hands out values from the fuzzer's bytes, zero once they run
// out.
type fuzzReader struct{ data []byte }

func (r *fuzzReader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fuzzReader) u16() uint16 { return uint16(r.byte())<<8 | uint16(r.byte()) }

func (r *fuzzReader) pick(options []string) string { return options[int(r.byte())%len(options)] }

// port is mostly a small port, so that rules and observations meet, and
// sometimes anything at all, zero included.
func (r *fuzzReader) port() uint16 {
	if b := r.byte(); b < 200 {
		return uint16(b % 40)
	}
	return r.u16()
}

func (r *fuzzReader) ports() policy.PortSet {
	var set policy.PortSet
	for range 1 + int(r.byte()%3) {
		first := r.port()
		last := first + uint16(r.byte()%8)
		if r.byte()%16 == 0 {
			last = first - 1 // backwards, as a careless caller might pass it
		}
		set = append(set, policy.PortRange{First: first, Last: last})
	}
	return set
}

// addr comes from a small pool of IPv4, IPv6 and IPv4-mapped addresses.
func (r *fuzzReader) addr() netip.Addr {
	n := r.byte()
	switch n % 4 {
	case 0:
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: n % 8})
	case 1:
		return netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 10, 15: n % 8})
	case 2:
		if n > 250 {
			return netip.Addr{}
		}
	}
	return netip.AddrFrom4([4]byte{10, 0, 0, n % 8})
}

var (
	fuzzServices = []string{"", "unknown", "http", "HTTP", "https", "ssh", "sftp", "redis", "rdp", "snmp", "dns", "frobnicator"}
	fuzzStates   = []string{PortOpen, PortClosed, PortFiltered, PortOpenFiltered, "Open", "weird"}
	fuzzRules    = []string{RuleActive, RuleApproved, RuleImplemented, RuleVerified, RuleVerificationFailed, RuleExpired, RuleRevoked, "draft", ""}
	fuzzProtos   = []string{"tcp", "udp", "TCP", "sctp"}
	fuzzClasses  = []string{"internet", "dmz", "transit", "low", "medium", "high", "", "secret"}
	fuzzFindings = []string{"redis-no-auth", "ftp-anonymous", "snmp-default-community", "x"}
	fuzzSeverity = []string{"low", "medium", "high", "critical", "info", "?"}
	fuzzTracked  = []string{StateOpen, StateAcknowledged, StateResolved, StateSuppressed, "bogus"}
)

func fuzzInput(data []byte) ([]Observation, []Rule) {
	r := &fuzzReader{data}
	var obs []Observation
	for range int(r.byte() % 6) {
		o := Observation{
			Address:        r.addr(),
			Zone:           r.pick([]string{"", "edge", "core"}),
			Classification: policy.Classification(r.pick(fuzzClasses)),
			Scanned:        PortScope{TCP: r.ports(), UDP: r.ports()},
			Tarpit:         r.byte()%5 == 0,
			Down:           r.byte()%9 == 0,
		}
		if r.byte()%3 == 0 {
			o.Scanned = allPorts
		}
		for range int(r.byte() % 6) {
			p := ObservedPort{
				Protocol: policy.Protocol(r.pick(fuzzProtos)),
				Port:     r.port(),
				State:    r.pick(fuzzStates),
				Service:  r.pick(fuzzServices),
				TLS:      r.byte()%4 == 0,
				Banner:   r.pick([]string{"", "SSH-2.0-x"}),
			}
			for range int(r.byte() % 3) {
				p.Weak = append(p.Weak, WeakFinding{ID: r.pick(fuzzFindings), Severity: r.pick(fuzzSeverity)})
			}
			o.Ports = append(o.Ports, p)
		}
		obs = append(obs, o)
	}
	var rules []Rule
	for range int(r.byte() % 10) {
		a := r.addr()
		bits := -1
		if b := r.byte(); b%2 == 0 && a.IsValid() {
			bits = int(b) % (a.BitLen() + 1)
		}
		var dest netip.Prefix
		if a.IsValid() {
			if bits < 0 {
				bits = a.BitLen()
			}
			dest = netip.PrefixFrom(a, bits) // unmasked on purpose
		}
		rule := Rule{
			ID:           int64(r.byte() % 4),
			RequestID:    int64(r.byte() % 4),
			Destination:  dest,
			Protocol:     policy.Protocol(r.pick(fuzzProtos)),
			Ports:        r.ports(),
			Service:      r.pick(fuzzServices),
			State:        r.pick(fuzzRules),
			RequiresAuth: r.byte()%2 == 0,
		}
		if e := r.byte(); e%3 == 0 {
			rule.Expires = testNow.Add(time.Duration(int(e)-128) * time.Hour)
		}
		rules = append(rules, rule)
	}
	return obs, rules
}

func FuzzCompare(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 4, 1, 0, 2, 10, 3, 1, 22, 0, 0, 5, 0, 2, 0, 2, 4, 0, 22, 0, 0, 1, 2, 0, 7, 1, 1, 1, 8, 0, 0, 22, 1, 2, 3})
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice: the quick brown fox jumps over the lazy dog"))
	f.Add([]byte{5, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, rules := fuzzInput(data)
		items := Compare(obs, rules, nil, testNow)
		checkItems(t, items)

		// Deterministic, whatever the order of the input.
		o, r := slices.Clone(obs), slices.Clone(rules)
		slices.Reverse(o)
		slices.Reverse(r)
		again := Compare(o, r, nil, testNow)
		if diff := cmp.Diff(items, again, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Fatalf("reversed input changed the result (-first +reversed):\n%s", diff)
		}

		// The lifecycle accepts whatever Compare makes.
		var tracked []Tracked
		for i, it := range items {
			tracked = append(tracked, Tracked{Key: it.Key, State: fuzzTracked[i%len(fuzzTracked)], SuppressedUntil: testNow.Add(time.Duration(i%3-1) * time.Hour)})
		}
		newItems, still, resolved := Reconcile(tracked, items[:len(items)/2], Coverage(obs), testNow)
		accounted := map[string]bool{}
		for _, it := range newItems {
			accounted[it.Key] = true
		}
		for _, tr := range still {
			accounted[tr.Key] = true
		}
		for _, it := range items[:len(items)/2] {
			if !accounted[it.Key] {
				t.Errorf("fresh key %q is neither new nor still open", it.Key)
			}
		}
		for _, tr := range resolved {
			if tr.State != StateResolved {
				t.Errorf("resolved record in state %q", tr.State)
			}
		}
		for _, it := range items {
			if p := RequestFrom(it); it.Kind.Requestable() && (p.Title == "" || len(p.Ports) != 1 || !p.Destination.IsSingleIP()) {
				t.Errorf("prefill of %s: %+v", it.Key, p)
			}
		}
	})
}
