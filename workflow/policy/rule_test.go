package policy

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
		count         int
	}{
		{in: "443", want: "443", count: 1},
		{in: "80,443", want: "80,443", count: 2},
		{in: " 8000-8100 , 22", want: "22,8000-8100", count: 102},
		{in: "1-65535", want: "1-65535", count: 65535},
		{in: "80,81,82-90,85", want: "80-90", count: 11},
		{in: "443,443", want: "443", count: 1},
		{in: "0", err: "out of range"},
		{in: "70000", err: "out of range"},
		{in: "65536", err: "out of range"},
		{in: "9000-8000", err: "backwards"},
		{in: "", err: "required"},
		{in: "80,,443", err: "empty entry"},
		{in: "http", err: "not a number"},
		{in: "-5", err: "not a number"},
		{in: "80-", err: "not a number"},
	} {
		got, err := ParsePorts(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePorts(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want || got.Count() != tc.count {
			t.Errorf("ParsePorts(%q) = %q (%d ports), %v; want %q (%d)", tc.in, got, got.Count(), err, tc.want, tc.count)
		}
	}
}

func TestPortSetRelations(t *testing.T) {
	p := func(s string) PortSet {
		ps, err := ParsePorts(s)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	if !p("1-1024").Covers(p("22,80,443")) || p("1-1024").Covers(p("22,8080")) {
		t.Error("Covers")
	}
	if !p("80,443").Overlaps(p("443-500")) || p("80,443").Overlaps(p("81-442")) {
		t.Error("Overlaps")
	}
	if !p("8000-8100").Contains(8050) || p("8000-8100").Contains(8101) {
		t.Error("Contains")
	}
}

func TestParseCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "203.0.113.7", want: "203.0.113.7/32"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "0.0.0.0/0, ::/0", want: "0.0.0.0/0 ::/0"},
		{in: "10.1.0.0/16\n10.2.0.0/16", want: "10.1.0.0/16 10.2.0.0/16"},
		{in: "10.0.0.1/24", err: "host bits"},
		{in: "10.0.0.0/33", err: "not a valid CIDR"},
		{in: "300.1.1.1", err: "not an IP address"},
		{in: "fe80::1%eth0", err: "not an IP address"},
		{in: "::ffff:10.0.0.0/104", err: "mixes IPv4 and IPv6"},
		{in: " , ", err: "at least one"},
	} {
		got, err := ParseCIDRs(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCIDRs(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		var parts []string
		for _, p := range got {
			parts = append(parts, p.String())
		}
		if err != nil || strings.Join(parts, " ") != tc.want {
			t.Errorf("ParseCIDRs(%q) = %v, %v; want %s", tc.in, parts, err, tc.want)
		}
	}
}

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind SourceKind
		err  bool
	}{
		{"internet", SourceInternet, false},
		{"ANY", SourceInternet, false},
		{"office", SourceZone, false},
		{"10.0.0.0/8", SourceCIDRs, false},
		{"2001:db8::/32", SourceCIDRs, false},
		{"10.0.0.0/8 office", "", true},
		{"", "", true},
		{"bad zone!", "", true},
	} {
		got, err := ParseSource(tc.in)
		if (err != nil) != tc.err || (!tc.err && got.Kind != tc.kind) {
			t.Errorf("ParseSource(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// FuzzParsePorts: never panics, and what it accepts prints back to an equal set.
func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"443", "80,443", "8000-8100", "1-65535", "0", "9000-8000", ",", "1-2,3-4,2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePorts(s)
		if err != nil {
			return
		}
		if ps.Count() < 1 || ps.Count() > 65535 {
			t.Fatalf("%q: count %d", s, ps.Count())
		}
		again, err := ParsePorts(ps.String())
		if err != nil || again.String() != ps.String() {
			t.Fatalf("%q: round trip %q -> %q, %v", s, ps, again, err)
		}
		for i := 1; i < len(ps); i++ {
			if int(ps[i].First) <= int(ps[i-1].Last)+1 {
				t.Fatalf("%q: ranges not merged: %v", s, ps)
			}
		}
	})
}

// FuzzParseCIDRs: never panics, and accepted prefixes are canonical.
func FuzzParseCIDRs(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "2001:db8::/32", "1.2.3.4", "0.0.0.0/0", "::/0", "10.0.0.1/24", "a,b", "::ffff:1.2.3.4/128"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseCIDRs(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() {
				t.Fatalf("%q gave non-canonical %v", s, p)
			}
			if back, err := netip.ParsePrefix(p.String()); err != nil || back != p {
				t.Fatalf("%q: %v does not round-trip", s, p)
			}
		}
		if _, err := ParseSource(s); err != nil && len(ps) > 0 && strings.ContainsAny(s, "/:") {
			t.Fatalf("%q parses as CIDRs but not as a source: %v", s, err)
		}
	})
}
