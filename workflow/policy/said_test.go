package policy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
)

// sayIn is m in ctx's language, as the pages and the API say it.
func sayIn(ctx context.Context, m core.Message) string {
	nested := func(n core.Message) string { return sayIn(ctx, n) }
	if m.ID != "" {
		if s := locale.Say(ctx, m.ID, m.English, m.Values(nested)); s != "" {
			return s
		}
	}
	return m.Render(nested, m.English)
}

// leafValues are the data a message carries (addresses, ports, names),
// longest first, as opposed to the words of its language.
func leafValues(m core.Message) []string {
	var out []string
	for _, a := range m.Args {
		v := a.Value
		if n, ok := v.(core.Message); ok {
			out = append(out, leafValues(n)...)
			continue
		}
		out = append(out, fmt.Sprint(v))
	}
	return out
}

var latinWord = regexp.MustCompile(`[A-Za-z]{2,}`)

// untranslated are acronyms and protocol and service names, which read
// the same in Chinese technical writing.
var untranslated = []string{"DMZ", "VPN", "UDP", "IPv", "tcp", "udp", "https", "ssh", "postgresql"}

func TestFindingsSpeakChineseWithTheirValues(t *testing.T) {
	cat, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	zh := locale.With(context.Background(), cat.Localizer("zh-CN", "", ""))
	s := DefaultSettings()
	maxDays := strconv.Itoa(int(s.MaxExpiry / day))
	numbered := NewActiveIndex([]ActiveRule{{ProposedRule: newRule(), ID: 31, RequestID: 6, Number: 1}})
	pilotPolicy := withTiered(DefaultPolicy(), pilot("10.1.0.5"))
	cases := []struct {
		name   string
		policy Policy
		index  *ActiveIndex
		rule   ProposedRule
		code   string
		want   []string
	}{
		{"bad protocol", DefaultPolicy(), nil, newRule(func(r *ProposedRule) { r.Protocol = "icmp" }), CodeInvalid, []string{`"icmp"`, "无法评估"}},
		{"unresolved zone and direction", DefaultPolicy(), nil, newRule(from("office"), func(r *ProposedRule) { r.Direction = "sideways" }), CodeInvalid, []string{`"office"`, `"sideways"`, "；"}},
		{"any-any", DefaultPolicy(), nil, newRule(from("internet"), on(TCP, "1-65535")), CodeAnyAny, []string{"65535", "tcp", "任意地址（互联网）", "源"}},
		{"internet exposure", DefaultPolicy(), nil, newRule(from("internet"), on(TCP, "8443"), service("")), CodeInternetExposure, []string{"tcp/8443", "整个互联网", "tcp/80,443", "DMZ区域"}},
		{"internet high risk", DefaultPolicy(), nil, newRule(from("internet"), on(TCP, "22"), service("ssh")), CodeInternetHighRisk, []string{"ssh"}},
		{"internet internal", DefaultPolicy(), nil, newRule(from("internet"), to(High, "10.9.0.5")), CodeInternetInternal, []string{"高安全级区域"}},
		{"zone path", DefaultPolicy(), nil, newRule(from("10.3.0.5/32", Low), to(High, "10.9.0.5")), CodeZonePath, []string{"低安全级区域", "高安全级区域", "中转区域"}},
		{"zone path whitelist", DefaultPolicy(), nil, newRule(from("office", Low), to(Medium, "10.6.0.5")), CodeZonePath, []string{"office", "低安全级", "中安全级", "/24"}},
		{"cleartext", DefaultPolicy(), nil, newRule(on(TCP, "23"), service("telnet"), to(Medium, "10.6.0.5")), CodeCleartext, []string{"telnet → ssh"}},
		{"cleartext into high", DefaultPolicy(), nil, newRule(on(TCP, "80"), service("http"), to(High, "10.9.0.5")), CodeCleartext, []string{"http → https", "高安全级区域"}},
		{"auth required", DefaultPolicy(), nil, newRule(on(TCP, "6379"), service("redis")), CodeAuthRequired, []string{"redis"}},
		{"whitelist required", DefaultPolicy(), nil, newRule(from("10.2.0.0/24", Transit), on(UDP, "161"), service("snmp")), CodeWhitelistRequired, []string{"snmp", "10.2.0.0/24"}},
		{"amplification", DefaultPolicy(), nil, newRule(from("internet"), on(UDP, "53"), service("dns")), CodeAmplification, []string{"dns", "反射器"}},
		{"service controls", DefaultPolicy(), nil, newRule(from("10.2.0.5/32", Transit), on(UDP, "161"), service("snmp")), CodeServiceControls, []string{"snmp"}},
		{"egress", DefaultPolicy(), nil, newRule(from("198.51.100.7/32", Internet), egress(), on(TCP, "22"), service("ssh")), CodeEgress, []string{"198.51.100.7/32", "tcp/22", "ssh", "DMZ区域"}},
		{"egress undeclared", DefaultPolicy(), nil, newRule(from("10.3.0.5/32", Low), to(Internet, "198.51.100.7")), CodeEgress, []string{"低安全级区域", "互联网"}},
		{"egress outside every zone", DefaultPolicy(), nil, newRule(from("10.2.0.10/32", Transit), to(Internet, "203.0.113.5"), egress()), CodeEgress, []string{"203.0.113.5/32"}},
		{"source breadth", DefaultPolicy(), nil, newRule(from("10.0.0.0/8", Transit)), CodeSourceBreadth, []string{"10.0.0.0/8", "16777216"}},
		{"source breadth v4 and v6", DefaultPolicy(), nil, newRule(from("10.0.0.0/8,2001:db8::/32", Transit)), CodeSourceBreadth, []string{"10.0.0.0/8", "2001:db8::/32", "IPv6"}},
		{"permanent", DefaultPolicy(), nil, newRule(expires(time.Time{})), CodePermanent, []string{maxDays}},
		{"expiry past", DefaultPolicy(), nil, newRule(expires(testNow.Add(-48 * time.Hour))), CodeExpiryPast, []string{"2026-11-23", maxDays}},
		{"expiry too long", DefaultPolicy(), nil, newRule(expires(testNow.Add(1000 * day))), CodeExpiryTooLong, []string{"2029-08-21", "1000", maxDays}},
		{"non-standard port", DefaultPolicy(), nil, newRule(on(TCP, "2222"), service("ssh")), CodeNonStandardPort, []string{"tcp/2222", "tcp/22"}},
		{"non-standard port of another service", DefaultPolicy(), nil, newRule(on(TCP, "3389"), service("ssh")), CodeNonStandardPort, []string{"tcp/3389", "rdp"}},
		{"wrong protocol", DefaultPolicy(), nil, newRule(on(UDP, "22"), service("ssh")), CodeNonStandardPort, []string{"udp", "tcp"}},
		{"unknown service", DefaultPolicy(), nil, newRule(service("frobnicator")), CodeUnknownService, []string{`"frobnicator"`}},
		{"overlap duplicate", DefaultPolicy(), testIndex(), newRule(), CodeOverlapDuplicate, []string{`申请 #40 的规则 #12 "Web to payments"`, "2027-02-23"}},
		{"overlap duplicate numbered", DefaultPolicy(), numbered, newRule(), CodeOverlapDuplicate, []string{"申请 #6 的规则 1"}},
		{"overlap covered", DefaultPolicy(), testIndex(), newRule(to(DMZ, "10.1.0.9", "10.1.0.30"), on(TCP, "8050"), service("")), CodeOverlapCovered, []string{"申请 #9 的规则 #5", "申请 #9 的规则 #6", "和"}},
		{"overlap partial", DefaultPolicy(), testIndex(), newRule(to(DMZ, "10.1.0.9"), on(TCP, "8090-8200"), service("")), CodeOverlapPartial, []string{"申请 #9 的规则 #5"}},
		{"innovation tier", pilotPolicy, nil, newRule(), CodeInnovationTier, []string{"10.1.0.5", `"pilot"`}},
		{"innovation expiry", pilotPolicy, nil, newRule(expires(testNow.Add(300 * day))), CodeInnovationExpiry, []string{"2027-09-21", "300"}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := findingsWith(c.policy.Evaluate([]ProposedRule{c.rule}, c.index, testNow), c.code)
			if len(got) == 0 {
				t.Fatalf("no %s finding", c.code)
			}
			seen[c.code] = true
			for _, f := range got {
				if f.Said.ID == "" || f.Said.String() != f.Message {
					t.Fatalf("the message apart from language says %q, the finding %q", f.Said.String(), f.Message)
				}
				text := sayIn(zh, f.Said)
				for _, w := range c.want {
					if !strings.Contains(text, w) {
						t.Errorf("%q lacks %q (English: %s)", text, w, f.Message)
					}
				}
				rest := text
				values := leafValues(f.Said)
				slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
				for _, v := range append(values, untranslated...) {
					rest = strings.ReplaceAll(rest, v, " ")
				}
				if words := latinWord.FindAllString(rest, -1); len(words) > 0 || strings.Contains(text, "<no value>") {
					t.Errorf("English words %q outside the values in %q", words, text)
				}
			}
		})
	}
	for _, code := range []string{CodeInvalid, CodeAnyAny, CodeInternetExposure, CodeInternetHighRisk, CodeInternetInternal, CodeZonePath, CodeCleartext, CodeAuthRequired, CodeWhitelistRequired, CodeAmplification, CodeServiceControls, CodeEgress, CodeSourceBreadth, CodePermanent, CodeExpiryTooLong, CodeExpiryPast, CodeNonStandardPort, CodeUnknownService, CodeOverlapDuplicate, CodeOverlapCovered, CodeOverlapPartial, CodeInnovationTier, CodeInnovationExpiry} {
		if !seen[code] {
			t.Errorf("no case shows %s in Chinese", code)
		}
	}
}
