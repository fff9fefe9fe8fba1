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
