package driftrules

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/portcullis/portcullis/workflow/policy"
)

type compareCase struct {
	name  string
	obs   []Observation
	rules []Rule
	want  []summary // every item Compare must return, in order; nil for none
}

func runCompareCases(t *testing.T, cases []compareCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items := Compare(tc.obs, tc.rules, nil, testNow)
			checkItems(t, items)
			if diff := cmp.Diff(tc.want, summarise(items)); diff != "" {
				t.Errorf("items (-want +got):\n%s\ndetails:\n%s", diff, details(items))
			}
		})
	}
}

func details(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString("  " + it.Key + ": " + it.Detail + "\n")
	}
	return b.String()
}

func TestOpenUnapproved(t *testing.T) {
	runCompareCases(t, []compareCase{
		{
			name: "high-risk port on an internal host",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(6379, "redis"))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|6379", SeverityHigh, 0}},
		},
		{
			name: "high-risk port in the DMZ is critical",
			obs:  []Observation{host("10.0.0.5", policy.DMZ, tcp(6379, "redis"))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|6379", SeverityCritical, 0}},
		},
		{
			name: "web port in the DMZ",
			obs:  []Observation{host("10.0.0.5", policy.DMZ, tcp(80, "http"))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|80", SeverityHigh, 0}},
		},
		{
			name: "web port on an internal host",
			obs:  []Observation{host("10.0.0.5", policy.Low, tcp(80, "http"))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|80", SeverityLow, 0}},
		},
		{
			name: "web port in a high zone",
			obs:  []Observation{host("10.0.0.5", policy.High, withTLS(tcp(443, "http")))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|443", SeverityMedium, 0}},
		},
		{
			name: "RDP moved to 33890 is still high-risk",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(33890, "rdp"))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|33890", SeverityHigh, 0}},
		},
		{
			name: "an unidentified service is judged by the port",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(33890, "unknown"), tcp(3306, ""))},
			want: []summary{
				{"open-unapproved|10.0.0.5|tcp|3306", SeverityHigh, 0},
				{"open-unapproved|10.0.0.5|tcp|33890", SeverityLow, 0},
			},
		},
		{
			name: "a weak finding raises an unapproved port to its severity, with no weak-config item",
			obs: []Observation{host("10.0.0.5", policy.Low,
				withWeak(tcp(80, "http"), WeakFinding{ID: "x-critical", Severity: "critical"}))},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|80", SeverityCritical, 0}},
		},
		{
			name:  "approved by an asset rule: nothing",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(6379, "redis"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "6379", "redis")},
		},
		{
			name:  "approved by a zone-wide range: nothing",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(8000, "http"), tcp(8080, "http"), tcp(8100, "http"))},
			rules: []Rule{rule(1, "10.0.0.0/24", policy.TCP, "8000-8100", "")},
		},
		{
			name:  "just outside the range",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(7999, "http"), tcp(8101, "http"))},
			rules: []Rule{rule(1, "10.0.0.0/24", policy.TCP, "8000-8100", "")},
			want: []summary{
				{"open-unapproved|10.0.0.5|tcp|7999", SeverityLow, 0},
				{"open-unapproved|10.0.0.5|tcp|8101", SeverityLow, 0},
			},
		},
		{
			name:  "a rule for another zone or another host does not approve",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{rule(1, "10.0.1.0/24", policy.TCP, "443", ""), rule(2, "10.0.0.6", policy.TCP, "443", "")},
			want:  []summary{{"open-unapproved|10.0.0.5|tcp|443", SeverityLow, 0}},
		},
		{
			name:  "a TCP rule does not approve UDP",
			obs:   []Observation{host("10.0.0.5", policy.Medium, udp(53, PortOpen, "dns"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "53", "dns")},
			want: []summary{
				{"open-unapproved|10.0.0.5|udp|53", SeverityHigh, 0},
				{"approved-closed|10.0.0.5|tcp|53|request-10", SeverityLow, 1},
			},
		},
		{
			name: "UDP open|filtered is not open",
			obs:  []Observation{host("10.0.0.5", policy.DMZ, udp(161, PortOpenFiltered, "unknown"), withState(tcp(22, "unknown"), PortClosed))},
		},
		{
			name: "UDP that answered is open",
			obs:  []Observation{host("10.0.0.5", policy.Medium, udp(161, PortOpen, "snmp"))},
			want: []summary{{"open-unapproved|10.0.0.5|udp|161", SeverityHigh, 0}},
		},
		{
			name: "rules that never approved anything are ignored",
			obs:  []Observation{host("10.0.0.5", policy.Low, tcp(443, "http"))},
			rules: []Rule{
				inState(rule(1, "10.0.0.5", policy.TCP, "443", ""), "draft"),
				inState(rule(2, "10.0.0.5", policy.TCP, "443", ""), "rejected"),
				inState(rule(3, "10.0.0.5", policy.TCP, "443", ""), ""),
			},
			want: []summary{{"open-unapproved|10.0.0.5|tcp|443", SeverityLow, 0}},
		},
		{
			name: "IPv6 asset and zone rules",
			obs: []Observation{
				host("2001:db8::10", policy.Medium, tcp(443, "http")),
				host("2001:db8::11", policy.Medium, tcp(443, "http")),
				host("2001:db8:1::99", policy.Medium, tcp(22, "ssh")),
			},
			rules: []Rule{
				rule(1, "2001:db8::10", policy.TCP, "443", ""),
				rule(2, "2001:db8:1::/48", policy.TCP, "22", "ssh"),
			},
			want: []summary{{"open-unapproved|2001:db8::11|tcp|443", SeverityLow, 0}},
		},
		{
			name:  "an IPv4-mapped address meets the IPv4 rule",
			obs:   []Observation{host("::ffff:10.0.0.5", policy.Medium, tcp(443, "http"), tcp(80, "http"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "443", "")},
			want:  []summary{{"open-unapproved|10.0.0.5|tcp|80", SeverityLow, 0}},
		},
		{
			name:  "an IPv4 rule does not approve IPv6",
			obs:   []Observation{host("2001:db8::5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{rule(1, "0.0.0.0/0", policy.TCP, "443", "")},
			want:  []summary{{"open-unapproved|2001:db8::5|tcp|443", SeverityLow, 0}},
		},
	})
}

func TestApprovedClosed(t *testing.T) {
	common := PortScope{TCP: mustPorts("1-1024"), UDP: mustPorts("53,123,161")}
	runCompareCases(t, []compareCase{
		{
			name:  "asset port not listed in a full scan",
			obs:   []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080", "http")},
			want:  []summary{{"approved-closed|10.0.0.5|tcp|8080|request-10", SeverityInfo, 1}},
		},
		{
			name: "listed closed or filtered",
			obs: []Observation{host("10.0.0.5", policy.Medium,
				withState(tcp(8080, ""), PortClosed), withState(tcp(8082, ""), PortFiltered))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080,8082", "")},
			want: []summary{
				{"approved-closed|10.0.0.5|tcp|8080|request-10", SeverityInfo, 1},
				{"approved-closed|10.0.0.5|tcp|8082|request-10", SeverityInfo, 1},
			},
		},
		{
			name:  "internet-facing or high-risk stale rules are low",
			obs:   []Observation{host("10.0.0.5", policy.DMZ), host("10.0.0.6", policy.Medium)},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080", "http"), rule(2, "10.0.0.6", policy.TCP, "22", "")},
			want: []summary{
				{"approved-closed|10.0.0.5|tcp|8080|request-10", SeverityLow, 1},
				{"approved-closed|10.0.0.6|tcp|22|request-20", SeverityLow, 2},
			},
		},
		{
			name:  "two requests approving one port are two stale rules",
			obs:   []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "443", "http"), rule(2, "10.0.0.5", policy.TCP, "443", "http")},
			want: []summary{
				{"approved-closed|10.0.0.5|tcp|443|request-10", SeverityInfo, 1},
				{"approved-closed|10.0.0.5|tcp|443|request-20", SeverityInfo, 2},
			},
		},
		{
			name:  "a port the scan did not cover is not claimed",
			obs:   []Observation{{Address: netip.MustParseAddr("10.0.0.5"), Classification: policy.Medium, Scanned: common}},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080", ""), rule(2, "10.0.0.5", policy.UDP, "5060", "")},
		},
		{
			name:  "covered by the common profile",
			obs:   []Observation{{Address: netip.MustParseAddr("10.0.0.5"), Classification: policy.Medium, Scanned: common}},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "443", "")},
			want:  []summary{{"approved-closed|10.0.0.5|tcp|443|request-10", SeverityInfo, 1}},
		},
		{
			name:  "zone-wide rules are never stale on one host",
			obs:   []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{rule(1, "10.0.0.0/24", policy.TCP, "8080", "")},
		},
		{
			name:  "open: not stale",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(8080, "http"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080", "http")},
		},
		{
			name:  "UDP open|filtered may be open: not stale",
			obs:   []Observation{host("10.0.0.5", policy.Medium, udp(161, PortOpenFiltered, "unknown"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.UDP, "161", "snmp")},
		},
		{
			name:  "a range makes one item when nothing in it is open",
			obs:   []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8000-8100", "")},
			want:  []summary{{"approved-closed|10.0.0.5|tcp|8000-8100|request-10", SeverityInfo, 1}},
		},
		{
			name:  "a range with one port open is in use",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(8050, "http"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8000-8100", "")},
		},
		{
			name:  "a range the scan covered only in part is not claimed",
			obs:   []Observation{{Address: netip.MustParseAddr("10.0.0.5"), Classification: policy.Medium, Scanned: common}},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "1000-2000", "")},
		},
		{
			name: "lapsed rules are not stale rules",
			obs:  []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{
				inState(rule(1, "10.0.0.5", policy.TCP, "8080", ""), RuleExpired),
				inState(rule(2, "10.0.0.5", policy.TCP, "8081", ""), RuleRevoked),
				expiring(rule(3, "10.0.0.5", policy.TCP, "8082", ""), testNow.Add(-time.Hour)),
			},
		},
		{
			name: "every in-force state counts",
			obs:  []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{
				inState(rule(1, "10.0.0.5", policy.TCP, "8081", ""), RuleApproved),
				inState(rule(2, "10.0.0.5", policy.TCP, "8082", ""), RuleImplemented),
				inState(rule(3, "10.0.0.5", policy.TCP, "8083", ""), RuleVerified),
				inState(rule(4, "10.0.0.5", policy.TCP, "8084", ""), RuleVerificationFailed),
				expiring(rule(5, "10.0.0.5", policy.TCP, "8085", ""), testNow.Add(time.Hour)),
			},
			want: []summary{
				{"approved-closed|10.0.0.5|tcp|8081|request-10", SeverityInfo, 1},
				{"approved-closed|10.0.0.5|tcp|8082|request-20", SeverityInfo, 2},
				{"approved-closed|10.0.0.5|tcp|8083|request-30", SeverityInfo, 3},
				{"approved-closed|10.0.0.5|tcp|8084|request-40", SeverityInfo, 4},
				{"approved-closed|10.0.0.5|tcp|8085|request-50", SeverityInfo, 5},
			},
		},
		{
			name: "a tarpit's TCP silence proves nothing; its UDP does",
			obs: []Observation{{Address: netip.MustParseAddr("10.0.0.5"), Classification: policy.Medium, Scanned: allPorts, Tarpit: true,
				Ports: []ObservedPort{tcp(8080, "unknown")}}},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080,8443", ""), rule(2, "10.0.0.5", policy.UDP, "123", "ntp")},
			want: []summary{
				{"tarpit|10.0.0.5", SeverityLow, 0},
				{"approved-closed|10.0.0.5|udp|123|request-20", SeverityLow, 2},
			},
		},
		{
			name:  "a host that is down is not judged",
			obs:   []Observation{{Address: netip.MustParseAddr("10.0.0.5"), Classification: policy.Medium, Scanned: allPorts, Down: true}},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "8080", "")},
		},
		{
			name:  "IPv6 asset rule",
			obs:   []Observation{host("2001:db8::10", policy.Medium)},
			rules: []Rule{rule(1, "2001:db8::10", policy.TCP, "8443", "https")},
			want:  []summary{{"approved-closed|2001:db8::10|tcp|8443|request-10", SeverityInfo, 1}},
		},
		{
			name:  "two rules of one request on one port make one item, citing the first",
			obs:   []Observation{host("10.0.0.5", policy.Medium)},
			rules: []Rule{ofRequest(rule(2, "10.0.0.5", policy.TCP, "8080", ""), 10), rule(1, "10.0.0.5", policy.TCP, "8080", "")},
			want:  []summary{{"approved-closed|10.0.0.5|tcp|8080|request-10", SeverityInfo, 1}},
		},
	})
}

func TestServiceMismatch(t *testing.T) {
	runCompareCases(t, []compareCase{
		{
			name:  "approved http, now redis",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(80, "redis"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "80", "http")},
			want:  []summary{{"service-mismatch|10.0.0.5|tcp|80", SeverityHigh, 1}},
		},
		{
			name:  "approved ssh, now RDP, internet-facing",
			obs:   []Observation{host("10.0.0.5", policy.DMZ, tcp(22, "rdp"))},
			rules: []Rule{rule(1, "10.0.0.0/24", policy.TCP, "22", "ssh")},
			want:  []summary{{"service-mismatch|10.0.0.5|tcp|22", SeverityCritical, 1}},
		},
		{
			name:  "plain http where https was approved: TLS was dropped",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "443", "https")},
			want:  []summary{{"service-mismatch|10.0.0.5|tcp|443", SeverityLow, 1}},
		},
		{
			name:  "an unidentified service is not a mismatch",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(80, "unknown"), tcp(81, ""))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "80-81", "http")},
		},
		{
			name:  "http with TLS matches https and http approvals",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withTLS(tcp(443, "http")), withTLS(tcp(8443, "http")))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "443", "https"), rule(2, "10.0.0.5", policy.TCP, "8443", "http")},
		},
		{
			name:  "a rule without a service accepts any",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(80, "redis"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "80", "")},
		},
		{
			name:  "aliases and case meet through the catalog",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(22, "ssh"), tcp(80, "HTTP"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "22", "sftp"), rule(2, "10.0.0.5", policy.TCP, "80", "Http")},
		},
		{
			name:  "another rule in force approves what answers",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(8080, "redis"))},
			rules: []Rule{rule(1, "10.0.0.0/24", policy.TCP, "8000-9000", "http"), rule(2, "10.0.0.5", policy.TCP, "8080", "redis")},
		},
		{
			name:  "a service on a non-standard port is named by what answers",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(2222, "ssh"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "2222", "ssh")},
		},
		{
			name:  "a lapsed rule for the right service does not help",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(80, "redis"))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "80", "http"), inState(rule(2, "10.0.0.5", policy.TCP, "80", "redis"), RuleExpired)},
			want:  []summary{{"service-mismatch|10.0.0.5|tcp|80", SeverityHigh, 1}},
		},
	})
}

func TestExpiredOpen(t *testing.T) {
	runCompareCases(t, []compareCase{
		{
			name:  "expired: a notch below unapproved",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(6379, "redis"))},
			rules: []Rule{inState(rule(1, "10.0.0.5", policy.TCP, "6379", "redis"), RuleExpired)},
			want:  []summary{{"expired-open|10.0.0.5|tcp|6379", SeverityMedium, 1}},
		},
		{
			name:  "revoked: as severe as unapproved",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(6379, "redis"))},
			rules: []Rule{inState(rule(1, "10.0.0.5", policy.TCP, "6379", "redis"), RuleRevoked)},
			want:  []summary{{"expired-open|10.0.0.5|tcp|6379", SeverityHigh, 1}},
		},
		{
			name: "still marked active but past its expiry, or expiring right now",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(22, "ssh"), tcp(443, "http"))},
			rules: []Rule{
				expiring(rule(1, "10.0.0.5", policy.TCP, "22", "ssh"), testNow.Add(-24*time.Hour)),
				expiring(rule(2, "10.0.0.5", policy.TCP, "443", ""), testNow),
			},
			want: []summary{
				{"expired-open|10.0.0.5|tcp|22", SeverityMedium, 1},
				{"expired-open|10.0.0.5|tcp|443", SeverityLow, 2},
			},
		},
		{
			name: "an active rule overlapping the expired one approves",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{
				inState(rule(1, "10.0.0.5", policy.TCP, "443", ""), RuleExpired),
				rule(2, "10.0.0.0/16", policy.TCP, "400-500", ""),
			},
		},
		{
			name:  "an expired rule for another port is no approval at all",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{inState(rule(1, "10.0.0.5", policy.TCP, "80", ""), RuleExpired)},
			want:  []summary{{"open-unapproved|10.0.0.5|tcp|443", SeverityLow, 0}},
		},
		{
			name: "a revoked rule is cited before a later expired one",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{
				inState(rule(1, "10.0.0.0/24", policy.TCP, "443", ""), RuleRevoked),
				inState(rule(2, "10.0.0.5", policy.TCP, "443", ""), RuleExpired),
			},
			want: []summary{{"expired-open|10.0.0.5|tcp|443", SeverityLow, 1}},
		},
		{
			name: "among expired rules, the most specific, then the latest",
			obs:  []Observation{host("10.0.0.5", policy.Medium, tcp(443, "http"))},
			rules: []Rule{
				inState(rule(1, "10.0.0.0/24", policy.TCP, "443", ""), RuleExpired),
				inState(rule(2, "10.0.0.5", policy.TCP, "443", ""), RuleExpired),
				inState(rule(3, "10.0.0.5", policy.TCP, "443", ""), RuleExpired),
				inState(rule(4, "10.0.0.0/16", policy.TCP, "443", ""), RuleExpired),
			},
			want: []summary{{"expired-open|10.0.0.5|tcp|443", SeverityLow, 3}},
		},
		{
			name:  "weak findings raise an expired port",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withWeak(tcp(21, "ftp"), WeakFinding{ID: "ftp-anonymous", Severity: "high"}))},
			rules: []Rule{inState(rule(1, "10.0.0.5", policy.TCP, "21", "ftp"), RuleExpired)},
			want:  []summary{{"expired-open|10.0.0.5|tcp|21", SeverityHigh, 1}},
		},
	})
}

func TestWeakConfig(t *testing.T) {
	noAuth := WeakFinding{ID: "redis-no-auth", Severity: "high", Detail: "Redis answers a command without AUTH"}
	runCompareCases(t, []compareCase{
		{
			name:  "Redis without authentication on an approved port",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withWeak(tcp(6379, "redis"), noAuth))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "6379", "redis")},
			want:  []summary{{"weak-config|10.0.0.5|tcp|6379", SeverityHigh, 1}},
		},
		{
			name:  "the approval required authentication",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withWeak(tcp(6379, "redis"), noAuth))},
			rules: []Rule{requiringAuth(rule(1, "10.0.0.5", policy.TCP, "6379", "redis"))},
			want:  []summary{{"weak-config|10.0.0.5|tcp|6379", SeverityCritical, 1}},
		},
		{
			name:  "internet-facing raises it",
			obs:   []Observation{host("10.0.0.5", policy.DMZ, withWeak(tcp(21, "ftp"), WeakFinding{ID: "ftp-anonymous", Severity: "medium"}))},
			rules: []Rule{rule(1, "10.0.0.0/24", policy.TCP, "21", "ftp")},
			want:  []summary{{"weak-config|10.0.0.5|tcp|21", SeverityHigh, 1}},
		},
		{
			name:  "an unknown finding severity counts as medium",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withWeak(tcp(21, "ftp"), WeakFinding{ID: "ftp-anonymous", Severity: "dire"}))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "21", "")},
			want:  []summary{{"weak-config|10.0.0.5|tcp|21", SeverityMedium, 1}},
		},
		{
			name:  "no findings, no item",
			obs:   []Observation{host("10.0.0.5", policy.Medium, tcp(6379, "redis"))},
			rules: []Rule{requiringAuth(rule(1, "10.0.0.5", policy.TCP, "6379", "redis"))},
		},
		{
			name:  "on an unapproved port the findings go with open-unapproved",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withWeak(tcp(6379, "redis"), noAuth))},
			want:  []summary{{"open-unapproved|10.0.0.5|tcp|6379", SeverityHigh, 0}},
			rules: []Rule{rule(1, "10.0.0.6", policy.TCP, "6379", "redis")},
		},
		{
			name:  "alongside a service mismatch, citing the approving rule when there is one",
			obs:   []Observation{host("10.0.0.5", policy.Medium, withWeak(tcp(80, "redis"), noAuth))},
			rules: []Rule{rule(1, "10.0.0.5", policy.TCP, "80", "http")},
			want: []summary{
				{"service-mismatch|10.0.0.5|tcp|80", SeverityHigh, 1},
				{"weak-config|10.0.0.5|tcp|80", SeverityHigh, 1},
			},
		},
	})
}

func TestTarpit(t *testing.T) {
	tarpit := func(c policy.Classification, ports ...ObservedPort) Observation {
		o := host("10.0.0.9", c, ports...)
		o.Tarpit = true
		return o
	}
	runCompareCases(t, []compareCase{
		{
			name: "one item for the host, none for its unidentified TCP ports",
			obs:  []Observation{tarpit(policy.Medium, tcp(1, "unknown"), tcp(2, ""), tcp(3, "unknown"))},
			want: []summary{{"tarpit|10.0.0.9", SeverityLow, 0}},
		},
		{
			name: "internet-facing tarpit",
			obs:  []Observation{tarpit(policy.DMZ)},
			want: []summary{{"tarpit|10.0.0.9", SeverityMedium, 0}},
		},
		{
			name:  "an identified application on a tarpit is still judged",
			obs:   []Observation{tarpit(policy.Medium, tcp(22, "ssh"), tcp(6379, "redis"), udp(500, PortOpen, "unknown"))},
			rules: []Rule{rule(1, "10.0.0.9", policy.TCP, "22", "ssh")},
			want: []summary{
				{"open-unapproved|10.0.0.9|tcp|6379", SeverityHigh, 0},
				{"tarpit|10.0.0.9", SeverityLow, 0},
				{"open-unapproved|10.0.0.9|udp|500", SeverityLow, 0},
			},
		},
		{
			name: "an ordinary host: unidentified ports are judged, no tarpit item",
			obs:  []Observation{host("10.0.0.9", policy.Medium, tcp(9999, "unknown"))},
			want: []summary{{"open-unapproved|10.0.0.9|tcp|9999", SeverityLow, 0}},
		},
	})
}

func TestCompareItemFields(t *testing.T) {
	obs := []Observation{host("10.0.0.5", policy.DMZ,
		ObservedPort{Protocol: policy.TCP, Port: 6379, State: PortOpen, Service: "redis", Product: "Redis", Version: "7.2.4", Banner: "-NOAUTH",
			Weak: []WeakFinding{{ID: "redis-no-auth", Severity: "high"}, {ID: "a-first", Severity: "low"}}})}
	obs[0].Zone = "edge"
	rules := []Rule{requiringAuth(rule(7, "10.0.0.0/24", policy.TCP, "6379", "redis"))}
	items := Compare(obs, rules, policy.DefaultCatalog(), testNow)
	want := []Item{{
		Kind: KindWeakConfig, Severity: SeverityCritical, Address: netip.MustParseAddr("10.0.0.5"),
		Protocol: policy.TCP, Port: 6379, LastPort: 6379, Service: "redis", ApprovedService: "redis",
		Zone: "edge", Classification: policy.DMZ, RuleID: 7, RequestID: 70,
		Evidence: Evidence{State: PortOpen, Banner: "-NOAUTH", Product: "Redis", Version: "7.2.4", Findings: []string{"a-first", "redis-no-auth"}},
		// What the detail quotes, kept for saying it in other languages.
		Facts: DetailFacts{Weak: []WeakFinding{{ID: "redis-no-auth", Severity: "high"}, {ID: "a-first", Severity: "low"}}, Auth: "required"},
		Key:   "weak-config|10.0.0.5|tcp|6379",
	}}
	if diff := cmp.Diff(want, items, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	for _, s := range []string{"tcp/6379 on 10.0.0.5", `zone "edge" (dmz)`, `rule #7 of request #70 "test"`, "redis-no-auth", "required authentication"} {
		if !strings.Contains(items[0].Detail, s) {
			t.Errorf("detail %q does not mention %q", items[0].Detail, s)
		}
	}
	rules[0].RequiresAuth = false
	if d := Compare(obs, rules, nil, testNow)[0].Detail; !strings.Contains(d, "redis can authenticate, and the policy wants it on") {
		t.Errorf("detail %q does not say redis must authenticate", d)
	}
}

func TestCompareMessages(t *testing.T) {
	obs := []Observation{host("10.0.0.5", policy.Medium,
		ObservedPort{Protocol: policy.TCP, Port: 3389, State: PortOpen, Service: "rdp", Product: "Microsoft Terminal Services"},
		tcp(9000, "unknown"),
		tcp(22, "ssh"),
	)}
	rules := []Rule{
		expiring(rule(1, "10.0.0.5", policy.TCP, "22", "ssh"), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)),
		rule(2, "10.0.0.5", policy.TCP, "8080", "http"),
	}
	items := Compare(obs, rules, nil, testNow)
	want := map[string][]string{
		"open-unapproved|10.0.0.5|tcp|3389":            {"is open: rdp answers (Microsoft Terminal Services)", "no rule approves it", "Close the port"},
		"open-unapproved|10.0.0.5|tcp|9000":            {"the banner was empty"},
		"expired-open|10.0.0.5|tcp|22":                 {"expired on 2026-10-01", "rule #1 of request #10"},
		"approved-closed|10.0.0.5|tcp|8080|request-20": {"rule #2 of request #20", "it not open", "revoke the rule"},
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d:\n%s", len(items), len(want), details(items))
	}
	for _, it := range items {
		for _, s := range want[it.Key] {
			if !strings.Contains(it.Detail, s) {
				t.Errorf("%s: detail %q does not mention %q", it.Key, it.Detail, s)
			}
		}
	}
}

// TestCompareOrderIndependent shuffles the inputs, including two conflicting
// observations of one address, and expects the same result every time.
func TestCompareOrderIndependent(t *testing.T) {
	obs := []Observation{
		host("10.0.0.5", policy.DMZ, tcp(22, "ssh"), tcp(80, "http"), withWeak(tcp(6379, "redis"), WeakFinding{ID: "redis-no-auth", Severity: "high"})),
		host("10.0.0.5", policy.Medium, tcp(22, "rdp"), tcp(443, "http")),
		host("10.0.0.6", policy.Low, udp(161, PortOpen, "snmp")),
		host("2001:db8::1", policy.High, tcp(443, "http")),
	}
	obs[3].Tarpit = true
	rules := []Rule{
		rule(1, "10.0.0.5", policy.TCP, "22", "ssh"),
		rule(1, "10.0.0.5", policy.TCP, "80", "ssh"),
		rule(2, "10.0.0.0/24", policy.TCP, "6379", "redis"),
		inState(rule(3, "10.0.0.6", policy.UDP, "161", "snmp"), RuleExpired),
		inState(rule(3, "10.0.0.6", policy.UDP, "161", "snmp"), RuleRevoked),
		rule(4, "10.0.0.6", policy.TCP, "8080", ""),
		rule(5, "2001:db8::/32", policy.TCP, "1-1024", "http"),
	}
	first := Compare(obs, rules, nil, testNow)
	checkItems(t, first)
	rng := rand.New(rand.NewPCG(7, 7))
	for range 50 {
		o, r := slices.Clone(obs), slices.Clone(rules)
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		if diff := cmp.Diff(first, Compare(o, r, nil, testNow), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Fatalf("order changed the result (-first +now):\n%s", diff)
		}
	}
}

func TestCompareIgnoresMalformedInput(t *testing.T) {
	obs := []Observation{
		{Address: netip.Addr{}, Ports: []ObservedPort{tcp(22, "ssh")}},
		host("10.0.0.5", policy.Medium,
			ObservedPort{Protocol: "sctp", Port: 22, State: PortOpen},
			ObservedPort{Protocol: policy.TCP, Port: 0, State: PortOpen},
			ObservedPort{Protocol: "TCP", Port: 443, State: " OPEN ", Service: "HTTP"},
		),
	}
	rules := []Rule{
		{ID: 1, Destination: netip.Prefix{}, Protocol: policy.TCP, Ports: mustPorts("22"), State: RuleActive},
		{ID: 2, Destination: netip.MustParsePrefix("10.0.0.5/32"), Protocol: "icmp", Ports: mustPorts("22"), State: RuleActive},
		{ID: 3, Destination: netip.MustParsePrefix("10.0.0.5/32"), Protocol: policy.TCP, State: RuleActive},
		{ID: 4, Destination: netip.MustParsePrefix("10.0.0.5/32"), Protocol: policy.TCP, Ports: policy.PortSet{{First: 500, Last: 400}}, State: RuleActive},
		// Unsorted, overlapping, unmasked: still understood.
		{ID: 5, Destination: netip.MustParsePrefix("10.0.0.9/24"), Protocol: "Tcp", Ports: policy.PortSet{{First: 444, Last: 450}, {First: 440, Last: 444}, {First: 0, Last: 443}}, State: " Active "},
	}
	items := Compare(obs, rules, nil, testNow)
	checkItems(t, items)
	if len(items) != 0 {
		t.Errorf("want no items, got:\n%s", details(items))
	}
}
