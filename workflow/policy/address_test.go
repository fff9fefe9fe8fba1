package policy

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCheckAssetAddress(t *testing.T) {
	strict := AssetAddressRules{}
	demo := AssetAddressRules{AllowLoopback: true}
	allowed := AssetAddressRules{Allowed: []netip.Prefix{netip.MustParsePrefix("169.254.10.0/24")}}
	for _, tc := range []struct {
		rules AssetAddressRules
		addr  string
		want  string // part of the refusal, "" for accepted
	}{
		{strict, "10.0.0.5", ""},
		{strict, "2001:db8::5", ""},
		{strict, "0.0.0.0", "unspecified"},
		{strict, "::", "unspecified"},
		{strict, "255.255.255.255", "broadcast"},
		{strict, "224.0.0.1", "multicast"},
		{strict, "ff02::1", "multicast"},
		{strict, "169.254.169.254", "metadata"},
		{strict, "::ffff:169.254.169.254", "metadata"},
		{strict, "fd00:ec2::254", "metadata"},
		{strict, "169.254.3.4", "link-local"},
		{strict, "fe80::1", "link-local"},
		{strict, "127.0.0.1", "loopback"},
		{strict, "::1", "loopback"},
		{demo, "127.40.0.15", ""},
		{demo, "169.254.169.254", "metadata"},
		{allowed, "169.254.10.7", ""},
		{allowed, "169.254.11.7", "link-local"},
		// IPv6 forms that carry an IPv4 address reach that address: judged by it.
		{strict, "64:ff9b::a9fe:a9fe", "metadata"},   // NAT64 to 169.254.169.254
		{strict, "64:ff9b:1::a9fe:a9fe", "metadata"}, // local-use NAT64 prefix
		{strict, "::a9fe:a9fe", "metadata"},          // IPv4-compatible (deprecated)
		{strict, "64:ff9b::e000:1", "multicast"},     // NAT64 to 224.0.0.1
		{strict, "64:ff9b::a00:5", ""},               // NAT64 to 10.0.0.5: a host
		{strict, "0.1.2.3", "this network"},          // 0.0.0.0/8
		{strict, "240.0.0.1", "reserved"},            // 240.0.0.0/4
		{strict, "2001:db8::a9fe:a9fe", ""},          // not a translation prefix
		{allowed, "64:ff9b::a9fe:a07", ""},           // the admin's range, reached by NAT64
	} {
		got := tc.rules.CheckAssetAddress(netip.MustParseAddr(tc.addr))
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s (%+v): %q, want %q", tc.addr, tc.rules, got, tc.want)
		}
	}
}

func TestCheckHostname(t *testing.T) {
	for h, ok := range map[string]bool{
		"": true, "db-1.payments.example": true, "host_2": true, "bücher.example": true,
		"a\nb": false, "<script>": false, "a b": false, "x\"y": false, "a/b": false, strings.Repeat("a", 254): false,
	} {
		if got := CheckHostname(h) == ""; got != ok {
			t.Errorf("%q: accepted %v, want %v", h, got, ok)
		}
	}
}

func FuzzCheckHostname(f *testing.F) {
	f.Add("db-1.example")
	f.Add("a\n<b>")
	f.Fuzz(func(t *testing.T, h string) {
		if CheckHostname(h) == "" && strings.ContainsAny(h, "<>\"'\n\r ") {
			t.Fatalf("%q accepted", h)
		}
	})
}
