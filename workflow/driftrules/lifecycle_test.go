package driftrules

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/portcullis/portcullis/workflow/policy"
)

func keys(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	return out
}

func item(key string) Item { return Item{Key: key} }

func TestReconcile(t *testing.T) {
	const (
		a = "open-unapproved|10.0.0.5|tcp|6379"
		b = "approved-closed|10.0.0.5|tcp|8080"
		c = "tarpit|10.0.0.9"
	)
	all := func(Tracked) bool { return true }
	none := func(Tracked) bool { return false }
	later, earlier := testNow.Add(time.Hour), testNow.Add(-time.Hour)
	cases := []struct {
		name      string
		existing  []Tracked
		fresh     []Item
		scanned   func(Tracked) bool
		wantNew   []string
		wantStill []Tracked
		wantGone  []Tracked
	}{
		{
			name:    "first scan: everything is new",
			fresh:   []Item{item(a), item(b)},
			scanned: all,
			wantNew: []string{a, b},
		},
		{
			name:      "seen again: not new, still open",
			existing:  []Tracked{{Key: a, State: StateOpen}},
			fresh:     []Item{item(a), item(b)},
			scanned:   all,
			wantNew:   []string{b},
			wantStill: []Tracked{{Key: a, State: StateOpen}},
		},
		{
			name:    "a key twice in fresh is one new item",
			fresh:   []Item{item(a), item(a)},
			scanned: all,
			wantNew: []string{a},
		},
		{
			name:      "acknowledged stays acknowledged when seen again",
			existing:  []Tracked{{Key: a, State: StateAcknowledged}},
			fresh:     []Item{item(a)},
			scanned:   all,
			wantStill: []Tracked{{Key: a, State: StateAcknowledged}},
		},
		{
			name:     "gone from a scan that covered it: resolved, open or acknowledged",
			existing: []Tracked{{Key: a, State: StateOpen}, {Key: b, State: StateAcknowledged}},
			scanned:  all,
			wantGone: []Tracked{{Key: a, State: StateResolved}, {Key: b, State: StateResolved}},
		},
		{
			name:      "gone from a scan that did not cover it: still open",
			existing:  []Tracked{{Key: a, State: StateOpen}, {Key: b, State: StateAcknowledged}},
			scanned:   none,
			wantStill: []Tracked{{Key: a, State: StateOpen}, {Key: b, State: StateAcknowledged}},
		},
		{
			name:      "a nil scanned covers nothing",
			existing:  []Tracked{{Key: a, State: StateOpen}},
			wantStill: []Tracked{{Key: a, State: StateOpen}},
		},
		{
			name:      "coverage is asked per item",
			existing:  []Tracked{{Key: a, State: StateOpen}, {Key: c, State: StateOpen}},
			scanned:   func(t Tracked) bool { return t.Key == c },
			wantStill: []Tracked{{Key: a, State: StateOpen}},
			wantGone:  []Tracked{{Key: c, State: StateResolved}},
		},
		{
			name:      "suppressed in force, seen again: stays suppressed, not new",
			existing:  []Tracked{{Key: a, State: StateSuppressed, SuppressedUntil: later}},
			fresh:     []Item{item(a)},
			scanned:   all,
			wantStill: []Tracked{{Key: a, State: StateSuppressed, SuppressedUntil: later}},
		},
		{
			name:      "suppressed in force, gone: stays suppressed until it expires",
			existing:  []Tracked{{Key: a, State: StateSuppressed, SuppressedUntil: later}},
			scanned:   all,
			wantStill: []Tracked{{Key: a, State: StateSuppressed, SuppressedUntil: later}},
		},
		{
			name:     "suppression expired, seen again: reopens as a new item",
			existing: []Tracked{{Key: a, State: StateSuppressed, SuppressedUntil: earlier}},
			fresh:    []Item{item(a)},
			scanned:  all,
			wantNew:  []string{a},
		},
		{
			name:     "suppression expiring right now has expired",
			existing: []Tracked{{Key: a, State: StateSuppressed, SuppressedUntil: testNow}},
			fresh:    []Item{item(a)},
			scanned:  all,
			wantNew:  []string{a},
		},
		{
			name:     "a suppression without an expiry counts as expired",
			existing: []Tracked{{Key: a, State: StateSuppressed}},
			fresh:    []Item{item(a)},
			scanned:  all,
			wantNew:  []string{a},
		},
		{
			name:     "resolved, then seen again: a new item",
			existing: []Tracked{{Key: a, State: StateResolved}},
			fresh:    []Item{item(a)},
			scanned:  all,
			wantNew:  []string{a},
		},
		{
			name:     "history does not resolve twice",
			existing: []Tracked{{Key: a, State: StateResolved}, {Key: b, State: StateSuppressed, SuppressedUntil: earlier}, {Key: c, State: "bogus"}},
			scanned:  all,
		},
		{
			name:      "an old resolved record next to a live one",
			existing:  []Tracked{{Key: a, State: StateResolved}, {Key: a, State: StateAcknowledged}},
			fresh:     []Item{item(a)},
			scanned:   all,
			wantStill: []Tracked{{Key: a, State: StateAcknowledged}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newItems, still, gone := Reconcile(tc.existing, tc.fresh, tc.scanned, testNow)
			if diff := cmp.Diff(tc.wantNew, keys(newItems)); diff != "" {
				t.Errorf("new (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStill, still); diff != "" {
				t.Errorf("still open (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantGone, gone); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	good := map[string]KeyParts{
		"open-unapproved|10.0.0.5|tcp|6379":           {KindOpenUnapproved, netip.MustParseAddr("10.0.0.5"), policy.TCP, 6379, 6379},
		"approved-closed|2001:db8::1|udp|8000-8100":   {KindApprovedClosed, netip.MustParseAddr("2001:db8::1"), policy.UDP, 8000, 8100},
		"tarpit|10.0.0.9":                             {Kind: KindTarpit, Address: netip.MustParseAddr("10.0.0.9")},
		"approved-closed|10.0.0.5|tcp|443|request-17": {KindApprovedClosed, netip.MustParseAddr("10.0.0.5"), policy.TCP, 443, 443},
	}
	for key, want := range good {
		got, ok := ParseKey(key)
		if !ok || got != want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", key, got, ok, want)
		}
	}
	for _, key := range []string{
		"", "tarpit", "tarpit|10.0.0.9|tcp|1", "open-unapproved|10.0.0.5", "open-unapproved|10.0.0.5|tcp|0",
		"open-unapproved|10.0.0.5|TCP|22", "open-unapproved|10.0.0.5|sctp|22", "open-unapproved|nope|tcp|22",
		"open-unapproved|10.0.0.5|tcp|22-21", "open-unapproved|10.0.0.5|tcp|70000", "weird|10.0.0.5|tcp|22",
		"open-unapproved|10.0.0.5|tcp|22|request-1", "approved-closed|10.0.0.5|tcp|22|request-0", "approved-closed|10.0.0.5|tcp|22|rq-1",
		"tarpit|10.0.0.9|x|y|request-1",
	} {
		if got, ok := ParseKey(key); ok {
			t.Errorf("ParseKey(%q) = %+v, want refusal", key, got)
		}
	}
}

func TestCoverage(t *testing.T) {
	common := PortScope{TCP: mustPorts("1-1024"), UDP: mustPorts("161")}
	obs := []Observation{
		{Address: netip.MustParseAddr("10.0.0.5"), Scanned: common},
		{Address: netip.MustParseAddr("10.0.0.6"), Scanned: allPorts, Down: true},
		{Address: netip.MustParseAddr("10.0.0.9"), Scanned: allPorts, Tarpit: true, Ports: []ObservedPort{tcp(22, "ssh"), tcp(23, "unknown")}},
		{Address: netip.MustParseAddr("2001:db8::1"), Scanned: PortScope{TCP: mustPorts("8000-8050,8051-8100")}},
	}
	covered := Coverage(obs)
	for key, want := range map[string]bool{
		"open-unapproved|10.0.0.5|tcp|22":                true,
		"open-unapproved|10.0.0.5|tcp|8080":              false, // not in the common profile
		"open-unapproved|10.0.0.5|udp|161":               true,
		"open-unapproved|10.0.0.5|udp|53":                false,
		"approved-closed|10.0.0.5|tcp|1000-1100":         false, // in part
		"open-unapproved|10.0.0.6|tcp|22":                false, // down
		"open-unapproved|10.0.0.7|tcp|22":                false, // not scanned
		"tarpit|10.0.0.9":                                true,
		"tarpit|10.0.0.6":                                false,
		"open-unapproved|10.0.0.9|tcp|22":                true, // an application answered
		"open-unapproved|10.0.0.9|tcp|23":                false,
		"open-unapproved|10.0.0.9|tcp|8080":              false,
		"approved-closed|10.0.0.9|tcp|20-22":             false,
		"approved-closed|2001:db8::1|tcp|8000-8100":      true, // the scope need not be merged
		"approved-closed|2001:db8:0::1|tcp|8000":         true,
		"approved-closed|2001:db8::1|tcp|8000|request-3": true,
		"garbage": false,
	} {
		if got := covered(Tracked{Key: key}); got != want {
			t.Errorf("covered(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestLifecycleAcrossScans runs three scans of one host through Compare,
// Coverage and Reconcile, the way the server does.
func TestLifecycleAcrossScans(t *testing.T) {
	rules := []Rule{rule(1, "10.0.0.5", policy.TCP, "443", "")}
	var tracked []Tracked
	scan := func(ports ...ObservedPort) (newKeys []string, resolved []string) {
		t.Helper()
		obs := []Observation{host("10.0.0.5", policy.DMZ, ports...)}
		items := Compare(obs, rules, nil, testNow)
		newItems, still, gone := Reconcile(tracked, items, Coverage(obs), testNow)
		tracked = still
		for _, it := range newItems {
			tracked = append(tracked, Tracked{Key: it.Key, State: StateOpen})
			newKeys = append(newKeys, it.Key)
		}
		for _, g := range gone {
			resolved = append(resolved, g.Key)
		}
		return newKeys, resolved
	}
	newKeys, resolved := scan(withTLS(tcp(443, "http")), tcp(22, "ssh"))
	if diff := cmp.Diff([]string{"open-unapproved|10.0.0.5|tcp|22"}, newKeys); diff != "" || resolved != nil {
		t.Fatalf("first scan: new %v resolved %v", newKeys, resolved)
	}
	tracked[0].State = StateAcknowledged
	newKeys, resolved = scan(withTLS(tcp(443, "http")), tcp(22, "ssh"))
	if newKeys != nil || resolved != nil || tracked[0].State != StateAcknowledged {
		t.Fatalf("second scan: new %v resolved %v tracked %v", newKeys, resolved, tracked)
	}
	newKeys, resolved = scan()
	if diff := cmp.Diff([]string{"approved-closed|10.0.0.5|tcp|443|request-10"}, newKeys); diff != "" {
		t.Errorf("third scan new (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"open-unapproved|10.0.0.5|tcp|22"}, resolved); diff != "" {
		t.Errorf("third scan resolved (-want +got):\n%s", diff)
	}
}
