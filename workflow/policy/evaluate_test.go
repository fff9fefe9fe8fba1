package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAnyAny(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeAnyAny, []codeCase{
		{name: "internet all ports", rule: newRule(from("internet"), on(TCP, "1-65535")), want: true, severity: SeverityCritical, blocking: yes, contains: []string{"permit-any-any"}},
		{name: "0.0.0.0/0 as CIDR", rule: newRule(from("0.0.0.0/0", Internet), on(TCP, "1-1024")), want: true},
		{name: "::/0 IPv6", rule: newRule(from("::/0", Internet), to(DMZ, "2001:db8:1::5"), on(TCP, "1-65535")), want: true},
		{name: "/0 among other CIDRs", rule: newRule(from("203.0.113.7/32,0.0.0.0/0", Internet), on(UDP, "1-65535")), want: true},
		{name: "egress to any peer", rule: newRule(from("internet"), egress(), on(TCP, "1-65535")), want: true},
		{name: "one more than the limit", rule: newRule(from("internet"), on(TCP, "1000-1100")), want: true},
		{name: "exactly the limit", rule: newRule(from("internet"), on(TCP, "1000-1099")), want: false},
		{name: "internet single port", rule: newRule(from("internet"), on(TCP, "443")), want: false},
		{name: "internet 80,443", rule: newRule(from("internet"), on(TCP, "80,443")), want: false},
		{name: "/0 single port", rule: newRule(from("0.0.0.0/0", Internet), on(TCP, "443")), want: false},
		{name: "/1 is broad but not any", rule: newRule(from("0.0.0.0/1", Internet), on(TCP, "1-65535")), want: false},
		{name: "zone source all ports", rule: newRule(from("transit-a", Transit), on(TCP, "1-65535")), want: false},
		{name: "/32 all ports", rule: newRule(from("10.2.0.10/32", Transit), on(TCP, "1-65535")), want: false},
		{name: "/128 all ports", rule: newRule(from("2001:db8::10/128", Transit), to(DMZ, "2001:db8:1::5"), on(TCP, "1-65535")), want: false},
	})
}

func TestInternetExposure(t *testing.T) {
	withUDP443 := DefaultPolicy()
	withUDP443.Settings.PublicUDPPorts = portSet("443")
	runCodeTable(t, DefaultPolicy(), CodeInternetExposure, []codeCase{
		{name: "internet non-web port", rule: newRule(from("internet"), on(TCP, "8081"), service("")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"tcp/8081", "tcp/80,443"}},
		{name: "internet 443 and 8443", rule: newRule(from("internet"), on(TCP, "443,8443")), want: true, contains: []string{"tcp/8443"}},
		{name: "0.0.0.0/0 is no whitelist", rule: newRule(from("0.0.0.0/0", Internet), on(TCP, "8081"), service("")), want: true},
		{name: "::/0 is no whitelist", rule: newRule(from("::/0", Internet), to(DMZ, "2001:db8:1::5"), on(TCP, "8081"), service("")), want: true},
		{name: "a /16 is too broad to whitelist", rule: newRule(from("198.51.0.0/16", Internet), on(TCP, "8081"), service("")), want: true},
		{name: "a v6 /32 is too broad to whitelist", rule: newRule(from("2001:db8::/32", Internet), to(DMZ, "2001:db8:1::5"), on(TCP, "8081"), service("")), want: true},
		{name: "udp 443 without HTTP/3 allowed", rule: newRule(from("internet"), on(UDP, "443")), want: true, contains: []string{"no port"}},
		{name: "internet 443", rule: newRule(from("internet"), on(TCP, "443")), want: false},
		{name: "internet 80", rule: newRule(from("internet"), on(TCP, "80"), service("http")), want: false},
		{name: "internet 80,443", rule: newRule(from("internet"), on(TCP, "80,443"), service("http")), want: false},
		{name: "whitelisted /28", rule: newRule(from("203.0.113.0/28", Internet), on(TCP, "8081"), service("")), want: false},
		{name: "whitelisted /32", rule: newRule(from("203.0.113.7/32", Internet), on(TCP, "8000-8100"), service("")), want: false},
		{name: "whitelisted /24 (the limit)", rule: newRule(from("203.0.113.0/24", Internet), on(TCP, "8081"), service("")), want: false},
		{name: "whitelisted v6 /64", rule: newRule(from("2001:db8:5::/64", Internet), to(DMZ, "2001:db8:1::5"), on(TCP, "8081"), service("")), want: false},
		{name: "whitelisted v6 /128", rule: newRule(from("2001:db8:5::1/128", Internet), to(DMZ, "2001:db8:1::5"), on(TCP, "8081"), service("")), want: false},
		{name: "internal source", rule: newRule(from("10.2.0.0/24", Transit), on(TCP, "8081"), service("")), want: false},
		{name: "internet into low is refused otherwise", rule: newRule(from("internet"), to(Low, "10.5.0.1"), on(TCP, "8081"), service("")), want: false},
	})
	runCodeTable(t, withUDP443, CodeInternetExposure, []codeCase{
		{name: "udp 443 with HTTP/3 allowed", rule: newRule(from("internet"), on(UDP, "443")), want: false},
	})
	whitelistOnly := DefaultPolicy()
	if err := whitelistOnly.Matrix.Set(Internet, Medium, AccessWhitelist); err != nil {
		t.Fatal(err)
	}
	runCodeTable(t, whitelistOnly, CodeInternetExposure, []codeCase{
		{name: "whitelist cell, internet source", rule: newRule(from("internet"), to(Medium, "10.6.0.1")), want: true, blocking: yes},
		{name: "whitelist cell, whitelisted source", rule: newRule(from("203.0.113.7", Internet), to(Medium, "10.6.0.1")), want: false},
	})
}

func TestInternetHighRisk(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeInternetHighRisk, []codeCase{
		{name: "ssh from internet", rule: newRule(from("internet"), on(TCP, "22"), service("ssh")), want: true, severity: SeverityCritical, blocking: yes, contains: []string{"ssh", "exception"}},
		{name: "telnet by port alone", rule: newRule(from("internet"), on(TCP, "23"), service("")), want: true, contains: []string{"telnet"}},
		{name: "mysql even whitelisted", rule: newRule(from("203.0.113.5/32", Internet), on(TCP, "3306"), service("mysql")), want: true},
		{name: "rdp on 33890", rule: newRule(from("internet"), on(TCP, "33890"), service("rdp")), want: true, contains: []string{"rdp"}},
		{name: "ssh on 2222 from whitelisted v6", rule: newRule(from("2001:db8:9::5/128", Internet), to(DMZ, "2001:db8:1::5"), on(TCP, "2222"), service("ssh")), want: true},
		{name: "snmp", rule: newRule(from("internet"), on(UDP, "161"), service("snmp")), want: true},
		{name: "ntp", rule: newRule(from("internet"), on(UDP, "123"), service("ntp")), want: true},
		{name: "dns", rule: newRule(from("internet"), on(UDP, "53"), service("dns")), want: true},
		{name: "range through postgresql and vnc", rule: newRule(from("internet"), on(TCP, "5000-6000"), service("")), want: true, contains: []string{"postgresql", "vnc"}},
		{name: "mixed internal and internet source", rule: newRule(from("10.2.0.0/24,198.51.100.0/24", Transit, Internet), on(TCP, "5432"), service("postgresql")), want: true},
		{name: "https from internet", rule: newRule(from("internet"), on(TCP, "443")), want: false},
		{name: "ssh from transit", rule: newRule(from("10.2.0.10/32", Transit), on(TCP, "22"), service("ssh")), want: false},
		{name: "unassigned port", rule: newRule(from("internet"), on(TCP, "8081"), service("")), want: false},
		{name: "outbound ssh is egress, not exposure", rule: newRule(from("198.51.100.7/32", Internet), egress(), on(TCP, "22"), service("ssh")), want: false},
	})
}

// matrixExpectation is the default matrix as the practice states it, written
// out by hand: for each from → to, the code an ingress rule raises with a
// whitelisted source and with a whole-zone source ("" for none).
var matrixExpectation = map[[2]Classification][2]string{
	{Internet, Internet}: {CodeInternetInternal, CodeInternetInternal},
	{Internet, DMZ}:      {"", ""},
	{Internet, Transit}:  {CodeInternetInternal, CodeInternetInternal},
	{Internet, Low}:      {CodeInternetInternal, CodeInternetInternal},
	{Internet, Medium}:   {CodeInternetInternal, CodeInternetInternal},
	{Internet, High}:     {CodeInternetInternal, CodeInternetInternal},
	{DMZ, Internet}:      {CodeEgress, CodeEgress},
	{DMZ, DMZ}:           {"", ""},
	{DMZ, Transit}:       {"", ""},
	{DMZ, Low}:           {"", CodeZonePath},
	{DMZ, Medium}:        {"", CodeZonePath},
	{DMZ, High}:          {CodeZonePath, CodeZonePath},
	{Transit, Internet}:  {CodeEgress, CodeEgress},
	{Transit, DMZ}:       {"", ""},
	{Transit, Transit}:   {"", ""},
	{Transit, Low}:       {"", ""},
	{Transit, Medium}:    {"", ""},
	{Transit, High}:      {"", ""},
	{Low, Internet}:      {CodeEgress, CodeEgress},
	{Low, DMZ}:           {"", ""},
	{Low, Transit}:       {"", ""},
	{Low, Low}:           {"", ""},
	{Low, Medium}:        {"", CodeZonePath},
	{Low, High}:          {CodeZonePath, CodeZonePath},
	{Medium, Internet}:   {CodeEgress, CodeEgress},
	{Medium, DMZ}:        {"", ""},
	{Medium, Transit}:    {"", ""},
	{Medium, Low}:        {"", ""},
	{Medium, Medium}:     {"", ""},
	{Medium, High}:       {CodeZonePath, CodeZonePath},
	{High, Internet}:     {CodeEgress, CodeEgress},
	{High, DMZ}:          {"", ""},
	{High, Transit}:      {"", ""},
	{High, Low}:          {"", ""},
	{High, Medium}:       {"", ""},
	{High, High}:         {"", ""},
}

// TestZoneMatrixEveryPair runs an ingress and an egress rule through every
// ordered pair of classifications, from a named host and from a whole zone.
func TestZoneMatrixEveryPair(t *testing.T) {
	p := DefaultPolicy()
	zoneCodes := []string{CodeZonePath, CodeInternetInternal, CodeEgress, CodeInternetExposure}
	for _, fromClass := range Classifications() {
		for _, toClass := range Classifications() {
			want := matrixExpectation[[2]Classification{fromClass, toClass}]
			for k, src := range []string{"10.2.0.10/32", "some-zone"} {
				// Ingress: the source opens connections to the destination.
				in := newRule(from(src, fromClass), to(toClass, "10.1.0.5"))
				// Egress: the destination (fromClass) opens connections to the peer (toClass).
				out := newRule(from(src, toClass), to(fromClass, "10.1.0.5"), egress())
				for _, c := range []struct {
					dir  string
					rule ProposedRule
					want string
				}{{"ingress", in, want[k]}, {"egress", out, egressExpectation(want[k])}} {
					name := fmt.Sprintf("%s %s→%s from %s", c.dir, fromClass, toClass, src)
					fs := p.Evaluate([]ProposedRule{c.rule}, nil, testNow)
					var got []string
					for _, f := range fs {
						for _, code := range zoneCodes {
							if f.Code == code {
								got = append(got, code)
							}
						}
					}
					var wantCodes []string
					if c.want != "" {
						wantCodes = []string{c.want}
					}
					if c.dir == "egress" && c.want != CodeEgress {
						wantCodes = append(wantCodes, CodeEgress) // egress is always reviewed
					}
					if diff := cmp.Diff(sortedStrings(wantCodes), sortedStrings(got)); diff != "" {
						t.Errorf("%s: zone codes (-want +got):\n%s\n%v", name, diff, fs)
					}
					for _, f := range fs {
						if (f.Code == CodeZonePath || f.Code == CodeInternetInternal) && !f.Blocking {
							t.Errorf("%s: %s must block", name, f.Code)
						}
						if f.Code == CodeEgress && c.dir == "ingress" && !f.Blocking {
							t.Errorf("%s: undeclared egress must block", name)
						}
						// Declared egress is reviewed, not refused, unless our side
						// (the egress source) lies outside every zone.
						if f.Code == CodeEgress && c.dir == "egress" && f.Blocking != (fromClass == Internet) {
							t.Errorf("%s: declared egress blocking = %v", name, f.Blocking)
						}
					}
				}
			}
		}
	}
}

// egressExpectation: declared egress along a flow the matrix marks egress
// raises only the egress review, which the caller adds.
func egressExpectation(code string) string {
	if code == CodeEgress {
		return ""
	}
	return code
}

func sortedStrings(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

func TestZonePathMessages(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeZonePath, []codeCase{
		{name: "low to high names transit", rule: newRule(from("10.3.0.5/32", Low), to(High, "10.9.0.5")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"transit"}},
		{name: "medium to high v6", rule: newRule(from("2001:db8:3::5/128", Medium), to(High, "2001:db8:9::5")), want: true, contains: []string{"medium", "high"}},
		{name: "whole low zone to medium", rule: newRule(from("office", Low), to(Medium, "10.6.0.5")), want: true, severity: SeverityMedium, blocking: yes, contains: []string{"listed addresses"}},
		{name: "low /16 to medium is no whitelist", rule: newRule(from("10.3.0.0/16", Low), to(Medium, "10.6.0.5")), want: true, severity: SeverityMedium},
		{name: "low /24 to medium", rule: newRule(from("10.3.0.0/24", Low), to(Medium, "10.6.0.5")), want: false},
		{name: "transit to high", rule: newRule(from("transit-a", Transit), to(High, "10.9.0.5")), want: false},
		{name: "one of several destinations in high", rule: newRule(from("10.3.0.5/32", Low), to(DMZ, "10.1.0.5"), func(r *ProposedRule) {
			r.Destinations = append(r.Destinations, Destination{Prefix: pfx("10.9.0.5/32"), Classification: High})
		}), want: true},
	})
	runCodeTable(t, DefaultPolicy(), CodeInternetInternal, []codeCase{
		{name: "internet to high", rule: newRule(from("internet"), to(High, "10.9.0.5")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"DMZ"}},
		{name: "whitelisted internet CIDR to low", rule: newRule(from("198.51.100.7/32", Internet), to(Low, "10.3.0.5")), want: true},
		{name: "internet to dmz", rule: newRule(from("internet"), to(DMZ, "10.1.0.5")), want: false},
	})
}

func TestCleartext(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeCleartext, []codeCase{
		{name: "telnet names ssh", rule: newRule(on(TCP, "23"), service("telnet"), to(Medium, "10.6.0.5")), want: true, severity: SeverityHigh, blocking: no, contains: []string{"telnet → ssh"}},
		{name: "ftp names sftp/ftps", rule: newRule(on(TCP, "21"), service("ftp")), want: true, severity: SeverityMedium, contains: []string{"sftp or ftps"}},
		{name: "http names https", rule: newRule(on(TCP, "80"), service("http")), want: true, severity: SeverityLow, blocking: no, contains: []string{"http → https"}},
		{name: "snmp names SNMPv3", rule: newRule(on(UDP, "161"), service("snmp"), from("10.2.0.10/32", Transit)), want: true, contains: []string{"SNMPv3"}},
		{name: "rsh names ssh", rule: newRule(on(TCP, "514"), service("rsh")), want: true, contains: []string{"rsh → ssh"}},
		{name: "rlogin names ssh", rule: newRule(on(TCP, "513"), service("")), want: true, contains: []string{"rlogin → ssh"}},
		{name: "ldap names LDAPS/StartTLS", rule: newRule(on(TCP, "389"), service("ldap")), want: true, contains: []string{"LDAPS or LDAP with StartTLS"}},
		{name: "telnet on odd port", rule: newRule(on(TCP, "2323"), service("telnet")), want: true},
		{name: "http into a high zone blocks", rule: newRule(on(TCP, "80"), service("http"), to(High, "10.9.0.5")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"high zone"}},
		{name: "telnet into high v6 blocks", rule: newRule(from("2001:db8:2::5", Transit), on(TCP, "23"), to(High, "2001:db8:9::5")), want: true, blocking: yes},
		{name: "https", rule: newRule(), want: false},
		{name: "ssh", rule: newRule(on(TCP, "22"), service("ssh")), want: false},
		{name: "http on 443 is https", rule: newRule(on(TCP, "443"), service("http")), want: false},
		{name: "ldap on 636 is ldaps", rule: newRule(on(TCP, "636"), service("ldap")), want: false},
		{name: "imaps", rule: newRule(on(TCP, "993"), service("imap")), want: false},
		{name: "unassigned port, no service", rule: newRule(on(TCP, "8081"), service("")), want: false},
	})
}

func TestAuthRequired(t *testing.T) {
	p := DefaultPolicy()
	runCodeTable(t, p, CodeAuthRequired, []codeCase{
		{name: "redis", rule: newRule(on(TCP, "6379"), service("redis")), want: true, severity: SeverityMedium, blocking: no},
		{name: "mongodb", rule: newRule(on(TCP, "27017"), service("mongodb")), want: true},
		{name: "memcached udp", rule: newRule(on(UDP, "11211"), service("memcached")), want: true},
		{name: "elasticsearch", rule: newRule(on(TCP, "9200"), service("elasticsearch")), want: true},
		{name: "redis on an odd port", rule: newRule(on(TCP, "16379"), service("redis")), want: true},
		{name: "redis by port alone, v6", rule: newRule(from("2001:db8:2::5", Transit), to(DMZ, "2001:db8:1::5"), on(TCP, "6379"), service("")), want: true},
		{name: "https", rule: newRule(), want: false},
		{name: "ssh", rule: newRule(on(TCP, "22"), service("ssh")), want: false},
		{name: "outbound to someone else's redis", rule: newRule(from("198.51.100.7/32", Internet), egress(), on(TCP, "6379"), service("redis")), want: false},
	})
	fs := p.Evaluate([]ProposedRule{newRule(on(TCP, "6379"), service("redis"))}, nil, testNow)
	got := findingsWith(fs, CodeAuthRequired)
	if len(got) != 1 || !cmp.Equal(got[0].RequiredControls, []string{"Authentication enabled on redis"}) {
		t.Fatalf("auth-required controls: %+v", got)
	}
}

func TestWhitelistRequired(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeWhitelistRequired, []codeCase{
		{name: "snmp from a zone", rule: newRule(from("mgmt", Transit), on(UDP, "161"), service("snmp")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"named devices"}},
		{name: "ntp from a /24", rule: newRule(from("10.2.0.0/24", Transit), on(UDP, "123"), service("ntp")), want: true},
		{name: "rsync from internet", rule: newRule(from("internet"), on(TCP, "873"), service("rsync")), want: true},
		{name: "ntp from a v6 /64", rule: newRule(from("2001:db8:2::/64", Transit), to(DMZ, "2001:db8:1::5"), on(UDP, "123"), service("ntp")), want: true},
		{name: "one broad prefix among hosts", rule: newRule(from("10.2.0.5/32,10.2.0.0/28", Transit), on(UDP, "161"), service("snmp")), want: true},
		{name: "snmp from a /32", rule: newRule(from("10.2.0.5/32", Transit), on(UDP, "161"), service("snmp")), want: false},
		{name: "snmp from a /29", rule: newRule(from("10.2.0.8/29", Transit), on(UDP, "161"), service("snmp")), want: false},
		{name: "ntp from a /128", rule: newRule(from("2001:db8:2::5/128", Transit), to(DMZ, "2001:db8:1::5"), on(UDP, "123"), service("ntp")), want: false},
		{name: "ntp from a /125", rule: newRule(from("2001:db8:2::8/125", Transit), to(DMZ, "2001:db8:1::5"), on(UDP, "123"), service("ntp")), want: false},
		{name: "https from a zone", rule: newRule(from("mgmt", Transit)), want: false},
	})
	fs := DefaultPolicy().Evaluate([]ProposedRule{newRule(from("mgmt", Transit), on(UDP, "161"), service("snmp"))}, nil, testNow)
	if got := findingsWith(fs, CodeWhitelistRequired); len(got) != 1 || !cmp.Equal(got[0].RequiredControls, []string{"Source restricted to named snmp peers"}) {
		t.Fatalf("whitelist-required controls: %+v", got)
	}
}

func TestAmplification(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeAmplification, []codeCase{
		{name: "dns udp from internet", rule: newRule(from("internet"), on(UDP, "53"), service("dns")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"reflector"}},
		{name: "memcached udp from internet", rule: newRule(from("internet"), on(UDP, "11211"), service("memcached")), want: true},
		{name: "ssdp from internet", rule: newRule(from("internet"), on(UDP, "1900"), service("")), want: true},
		{name: "dns from a whitelisted resolver", rule: newRule(from("198.51.100.53/32", Internet), on(UDP, "53"), service("dns")), want: true, blocking: no},
		{name: "dns over tcp", rule: newRule(from("internet"), on(TCP, "53"), service("dns")), want: false},
		{name: "dns udp internally", rule: newRule(on(UDP, "53"), service("dns")), want: false},
		{name: "memcached over tcp", rule: newRule(from("internet"), on(TCP, "11211"), service("memcached")), want: false},
	})
}

func TestEgress(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeEgress, []codeCase{
		{name: "to a named peer", rule: newRule(from("198.51.100.7/32", Internet), egress()), want: true, severity: SeverityMedium, blocking: no, contains: []string{"reverse shells"}},
		{name: "to any address", rule: newRule(from("internet"), egress()), want: true, severity: SeverityHigh, blocking: no, contains: []string{"name the peers"}},
		{name: "outbound ssh is a reverse channel", rule: newRule(from("198.51.100.7/32", Internet), egress(), on(TCP, "22"), service("ssh")), want: true, severity: SeverityHigh, contains: []string{"reverse connection"}},
		{name: "outbound v6", rule: newRule(from("2001:db8:ff::1/128", Internet), to(High, "2001:db8:9::5"), egress()), want: true},
		{name: "between internal zones", rule: newRule(from("10.3.0.5/32", Low), to(High, "10.9.0.5"), egress()), want: true},
		{name: "undeclared egress blocks", rule: newRule(from("10.3.0.5/32", Low), to(Internet, "198.51.100.7")), want: true, severity: SeverityHigh, blocking: yes, contains: []string{"direction egress"}},
		{name: "ingress", rule: newRule(), want: false},
	})
}

func TestSourceBreadth(t *testing.T) {
	narrow := DefaultPolicy()
	narrow.Settings.MaxSourcePrefixV4 = 16
	runCodeTable(t, DefaultPolicy(), CodeSourceBreadth, []codeCase{
		{name: "a /16", rule: newRule(from("10.2.0.0/16", Transit)), want: true, severity: SeverityMedium, blocking: no, contains: []string{"/24", "65536"}},
		{name: "a /23", rule: newRule(from("10.2.0.0/23", Transit)), want: true},
		{name: "a /0", rule: newRule(from("0.0.0.0/0", Internet)), want: true, severity: SeverityHigh},
		{name: "a v6 /32", rule: newRule(from("2001:db8::/32", Transit), to(DMZ, "2001:db8:1::5")), want: true, contains: []string{"/48"}},
		{name: "::/0", rule: newRule(from("::/0", Internet), to(DMZ, "2001:db8:1::5")), want: true},
		{name: "from the internet is high", rule: newRule(from("198.51.0.0/16", Internet)), want: true, severity: SeverityHigh},
		{name: "a /24", rule: newRule(from("10.2.0.0/24", Transit)), want: false},
		{name: "a /32", rule: newRule(from("10.2.0.1/32", Transit)), want: false},
		{name: "a v6 /48", rule: newRule(from("2001:db8:2::/48", Transit), to(DMZ, "2001:db8:1::5")), want: false},
		{name: "a /128", rule: newRule(from("2001:db8:2::1/128", Transit), to(DMZ, "2001:db8:1::5")), want: false},
		{name: "a zone", rule: newRule(from("office", Low)), want: false},
		{name: "the internet keyword", rule: newRule(from("internet")), want: false},
	})
	runCodeTable(t, narrow, CodeSourceBreadth, []codeCase{
		{name: "a /16 under a /16 limit", rule: newRule(from("10.2.0.0/16", Transit)), want: false},
		{name: "a /15 under a /16 limit", rule: newRule(from("10.2.0.0/15", Transit)), want: true, contains: []string{"/16"}},
	})
}

func TestExpiry(t *testing.T) {
	var zero ProposedRule
	permanent := newRule(expires(zero.Expires))
	runCodeTable(t, DefaultPolicy(), CodePermanent, []codeCase{
		{name: "no expiry", rule: permanent, want: true, severity: SeverityHigh, blocking: yes, contains: []string{"365 days", "90 days"}},
		{name: "90 days", rule: newRule(), want: false},
	})
	runCodeTable(t, DefaultPolicy(), CodeExpiryTooLong, []codeCase{
		{name: "two years", rule: newRule(expires(testNow.AddDate(2, 0, 0))), want: true, severity: SeverityMedium, blocking: yes, contains: []string{"2028-11-25", "365 days"}},
		{name: "367 days", rule: newRule(expires(testNow.Add(367 * day))), want: true},
		{name: "exactly 365 days", rule: newRule(expires(testNow.Add(365 * day))), want: false},
		{name: "within the day of grace", rule: newRule(expires(testNow.Add(365*day + 23*time.Hour))), want: false},
		{name: "no expiry is permanent, not too long", rule: permanent, want: false},
	})
	short := DefaultPolicy()
	short.Settings.MaxExpiry = 30 * day
	short.Settings.DefaultExpiry = 7 * day
	runCodeTable(t, short, CodeExpiryTooLong, []codeCase{
		{name: "60 days under a 30-day maximum", rule: newRule(expires(testNow.Add(60 * day))), want: true, contains: []string{"30 days"}},
		{name: "20 days under a 30-day maximum", rule: newRule(expires(testNow.Add(20 * day))), want: false},
	})
	runCodeTable(t, DefaultPolicy(), CodeExpiryPast, []codeCase{
		{name: "an hour ago", rule: newRule(expires(testNow.Add(-time.Hour))), want: true, severity: SeverityMedium, blocking: yes},
		{name: "right now", rule: newRule(expires(testNow)), want: true},
		{name: "in a minute", rule: newRule(expires(testNow.Add(time.Minute))), want: false},
	})
}

func TestNonStandardPort(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeNonStandardPort, []codeCase{
		{name: "rdp on 33890", rule: newRule(on(TCP, "33890"), service("rdp")), want: true, severity: SeverityLow, blocking: no, contains: []string{"judged as rdp", "tcp/3389"}},
		{name: "ssh on 2222", rule: newRule(on(TCP, "2222"), service("ssh")), want: true},
		{name: "ssh on 22 and 2222", rule: newRule(on(TCP, "22,2222"), service("ssh")), want: true, contains: []string{"tcp/2222"}},
		{name: "http on rdp's port", rule: newRule(on(TCP, "3389"), service("http")), want: true, contains: []string{"standard port of rdp"}},
		{name: "ntp over tcp", rule: newRule(on(TCP, "123"), service("ntp")), want: true, contains: []string{"does not run over tcp"}},
		{name: "http on 443 (scanner's name for https)", rule: newRule(on(TCP, "443"), service("http")), want: false},
		{name: "http on 80,443", rule: newRule(on(TCP, "80,443"), service("http")), want: false},
		{name: "https on 8443", rule: newRule(on(TCP, "8443"), service("https")), want: false},
		{name: "https on 80 (its cleartext twin)", rule: newRule(on(TCP, "80"), service("https")), want: false},
		{name: "mongodb range", rule: newRule(on(TCP, "27017-27019"), service("mongodb")), want: false},
		{name: "x11 display 10", rule: newRule(on(TCP, "6010"), service("x11")), want: false},
		{name: "no service", rule: newRule(on(TCP, "33890"), service("")), want: false},
	})
	// The risk follows the service, not the number.
	fs := DefaultPolicy().Evaluate([]ProposedRule{newRule(from("internet"), on(TCP, "33890"), service("RDP"))}, nil, testNow)
	if len(findingsWith(fs, CodeInternetHighRisk)) != 1 || len(findingsWith(fs, CodeAuthRequired)) != 1 {
		t.Fatalf("RDP on 33890 from the internet is not judged as RDP: %v", codes(fs))
	}
}

func TestUnknownService(t *testing.T) {
	runCodeTable(t, DefaultPolicy(), CodeUnknownService, []codeCase{
		{name: "made-up name", rule: newRule(service("frobnicator")), want: true, severity: SeverityLow, blocking: no, contains: []string{"frobnicator"}},
		{name: "empty", rule: newRule(service("")), want: false},
		{name: "the scanner's unknown", rule: newRule(service("unknown")), want: false},
		{name: "alias in capitals", rule: newRule(on(TCP, "22"), service("SFTP")), want: false},
	})
}

func TestServiceControls(t *testing.T) {
	fs := DefaultPolicy().Evaluate([]ProposedRule{newRule(from("10.2.0.5/32", Transit), on(UDP, "161"), service("snmp"))}, nil, testNow)
	got := findingsWith(fs, CodeServiceControls)
	if len(got) != 1 || !strings.Contains(strings.Join(got[0].RequiredControls, "|"), "'public'") {
		t.Fatalf("snmp service controls: %+v", got)
	}
	if fs := DefaultPolicy().Evaluate([]ProposedRule{newRule()}, nil, testNow); len(findingsWith(fs, CodeServiceControls)) != 0 {
		t.Fatalf("https needs no controls: %+v", fs)
	}
}

func TestInvalidRules(t *testing.T) {
	cases := map[string]ProposedRule{
		"no ports":              newRule(func(r *ProposedRule) { r.Ports = nil }),
		"port 0":                newRule(func(r *ProposedRule) { r.Ports = PortSet{{0, 10}} }),
		"backwards range":       newRule(func(r *ProposedRule) { r.Ports = PortSet{{10, 5}} }),
		"bad protocol":          newRule(func(r *ProposedRule) { r.Protocol = "icmp" }),
		"bad direction":         newRule(func(r *ProposedRule) { r.Direction = "sideways" }),
		"no destination":        newRule(func(r *ProposedRule) { r.Destinations = nil }),
		"unclassified dest":     newRule(func(r *ProposedRule) { r.Destinations[0].Classification = "" }),
		"invalid dest":          newRule(func(r *ProposedRule) { r.Destinations[0].Prefix = netipPrefixZero }),
		"zone unresolved":       newRule(from("office")),
		"empty cidr source":     newRule(func(r *ProposedRule) { r.Source = Source{Kind: SourceCIDRs} }),
		"unknown source kind":   newRule(func(r *ProposedRule) { r.Source = Source{Kind: "elsewhere"} }),
		"unknown source class":  newRule(from("10.2.0.5/32", "secret")),
		"invalid source prefix": newRule(func(r *ProposedRule) { r.Source.CIDRs = append(r.Source.CIDRs, netipPrefixZero) }),
	}
	for name, r := range cases {
		fs := DefaultPolicy().Evaluate([]ProposedRule{r}, nil, testNow)
		if len(fs) != 1 || fs[0].Code != CodeInvalid || !fs[0].Blocking {
			t.Errorf("%s: %+v", name, fs)
		}
	}
	// Unsorted, overlapping ranges from a caller that skipped ParsePorts are
	// judged as their union.
	r := newRule(func(r *ProposedRule) { r.Ports = PortSet{{443, 443}, {80, 80}, {80, 80}} }, service("http"))
	if fs := DefaultPolicy().Evaluate([]ProposedRule{r}, nil, testNow); len(findingsWith(fs, CodeInvalid)) != 0 || len(findingsWith(fs, CodeCleartext)) != 1 {
		t.Fatalf("unsorted ports: %+v", fs)
	}
}

func TestFindingsOrderAndDeterminism(t *testing.T) {
	rules := []ProposedRule{
		newRule(from("internet"), on(TCP, "1-65535"), service("")),
		newRule(),
		newRule(from("office", Low), to(High, "10.9.0.5"), on(TCP, "23"), service("telnet")),
	}
	p := DefaultPolicy()
	first := p.Evaluate(rules, nil, testNow)
	second := p.Evaluate(rules, nil, testNow)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("two evaluations differ:\n%s", diff)
	}
	for i := 1; i < len(first); i++ {
		a, b := first[i-1], first[i]
		if a.Rule > b.Rule || a.Rule == b.Rule && a.Severity.Rank() < b.Severity.Rank() {
			t.Fatalf("findings out of order at %d: %+v then %+v", i, a, b)
		}
	}
	if first[0].Rule != 0 || first[0].Severity != SeverityCritical {
		t.Fatalf("first finding: %+v", first[0])
	}
}

func TestNeedsSecondApproval(t *testing.T) {
	medium := []Finding{{Code: CodeAuthRequired, Severity: SeverityMedium}}
	high := []Finding{{Code: CodeSourceBreadth, Severity: SeverityHigh}}
	critical := []Finding{{Code: CodeAnyAny, Severity: SeverityCritical, Blocking: true}}
	blockingMedium := []Finding{{Code: CodeExpiryPast, Severity: SeverityMedium, Blocking: true}}
	cases := []struct {
		name      string
		findings  []Finding
		exception bool
		want      bool
	}{
		{"nothing", nil, false, false},
		{"medium", medium, false, false},
		{"high", high, false, true},
		{"critical", critical, false, true},
		{"blocking medium needs an exception", blockingMedium, false, true},
		{"exception alone", nil, true, true},
		{"exception with medium", medium, true, true},
	}
	for _, c := range cases {
		if got := NeedsSecondApproval(c.findings, c.exception); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
	if HasBlocking(medium) || !HasBlocking(critical) {
		t.Fatal("HasBlocking")
	}
}

func TestPartialSettingsFallBackToDefaults(t *testing.T) {
	p := Policy{Matrix: DefaultMatrix()} // nil catalog, zero settings
	if fs := p.Evaluate([]ProposedRule{newRule()}, nil, testNow); len(fs) != 0 {
		t.Fatalf("zero settings must behave as the defaults: %+v", fs)
	}
}

var netipPrefixZero netip.Prefix
