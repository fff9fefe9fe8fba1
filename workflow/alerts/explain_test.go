package alerts

import (
	"strings"
	"testing"
	"unicode"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
)

// TestDriftExplanationInTheServersLanguage: a zh-CN server's alert
// explains each kind of drift in Chinese from the item's fields; an English
// server's alert carries the item's recorded explanation as it is, and the
// machine fields stay the same in both.
func TestDriftExplanationInTheServersLanguage(t *testing.T) {
	en, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	zh, err := locale.New("zh-CN", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind driftrules.Kind
		want []string // in the Chinese explanation
	}{
		{driftrules.KindOpenUnapproved, []string{"dmz-east", "10.0.0.5", "tcp/8443", "https-alt", "没有任何规则批准"}},
		{driftrules.KindApprovedClosed, []string{"规则 #3（变更请求 #12）", "10.0.0.5", "tcp/8443", "并未开放"}},
		{driftrules.KindServiceMismatch, []string{"规则 #3", "http", "https-alt", "移出该端口"}},
		{driftrules.KindExpiredOpen, []string{"规则 #3", "tcp/8443", "https-alt", "已过期或已被撤销"}},
		{driftrules.KindWeakConfig, []string{"规则 #3", "tcp/8443", "配置薄弱"}},
		{driftrules.KindTarpit, []string{"10.0.0.5（区域 dmz-east）", "TCP 握手"}},
		{driftrules.KindExposedExternally, []string{"10.0.0.5", "tcp/8443", "互联网"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			d := models.DriftItem{ID: 7, Kind: string(tc.kind), Severity: "high", Address: "10.0.0.5", Protocol: "tcp", Port: 8443,
				Service: "https-alt", ApprovedService: "http", Zone: "dmz-east", Classification: "dmz", RuleID: 3, RequestID: 12,
				Detail: "tcp/8443 on 10.0.0.5 is open and no rule approves it."}
			if tc.kind == driftrules.KindOpenUnapproved || tc.kind == driftrules.KindExposedExternally {
				d.RuleID, d.RequestID = 0, 0
			}
			english := alertOf(d, nil, en.Localizer("", "", ""))
			if english.Detail != d.Detail {
				t.Errorf("English detail %q, want the recorded %q", english.Detail, d.Detail)
			}
			a := alertOf(d, nil, zh.Localizer("", "", ""))
			for _, w := range tc.want {
				if !strings.Contains(a.Detail, w) {
					t.Errorf("detail lacks %q: %s", w, a.Detail)
				}
			}
			// Past the item's own values and two acronyms, no Latin letter is left.
			rest := strings.NewReplacer("tcp/8443", "", "https-alt", "", "http", "", "dmz-east", "", "TCP", "", "NAT", "").Replace(a.Detail)
			if strings.ContainsFunc(rest, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }) {
				t.Errorf("detail holds English or a missing message: %s", a.Detail)
			}
			english.Detail, english.Title, english.Language = "", "", nil
			a.Detail, a.Title, a.Language = "", "", nil
			if a != english {
				t.Errorf("machine fields differ:\n%+v\n%+v", a, english)
			}
		})
	}
}

// TestUnwiredLanguageKeepsTheRecordedDetail: before the server wires its
// catalogs, the store's stand-in language is English: the detail is the
// recorded one.
func TestUnwiredLanguageKeepsTheRecordedDetail(t *testing.T) {
	d := models.DriftItem{Kind: "tarpit", Address: "10.0.0.5", Detail: "recorded"}
	s := New(&core.Store{})
	if got := alertOf(d, nil, s.Language("", "")).Detail; got != "recorded" {
		t.Errorf("detail %q", got)
	}
}

// TestChineseDriftExplanationCarriesTheFacts: the Chinese explanation
// quotes what the English prose quotes beyond the item's fields — the weak
// configurations with the scanner's detail, the product that answered, an
// empty banner, the expiry day, the broken condition, how a closed port
// answered and whose public address answered.
func TestChineseDriftExplanationCarriesTheFacts(t *testing.T) {
	zh, err := locale.New("zh-CN", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	weak := `{"weak":[{"ID":"redis-no-auth","Severity":"critical","Detail":"PING answered without AUTH"}]`
	for _, tc := range []struct {
		name string
		item models.DriftItem
		want []string
	}{
		{"weak configuration", models.DriftItem{Kind: "weak-config", Service: "redis", RuleID: 3,
			Evidence: `{"State":"open","Product":"Redis","Version":"7.2","Findings":["redis-no-auth"]}`, DetailFacts: weak + `,"auth":"required"}`},
			[]string{"redis-no-auth（PING answered without AUTH）", "要求启用身份验证"}},
		{"open, unidentified, empty banner", models.DriftItem{Kind: "open-unapproved", Service: "unknown",
			Evidence: `{"State":"open","Banner":""}`}, []string{"banner 为空"}},
		{"open with a product and weak", models.DriftItem{Kind: "open-unapproved", Service: "redis",
			Evidence: `{"State":"open","Product":"Redis","Version":"7.2","TLS":true}`, DetailFacts: weak + `}`},
			[]string{"基于 TLS 的 redis：Redis 7.2", "此外其配置薄弱：redis-no-auth（PING answered without AUTH）"}},
		{"expired on a day", models.DriftItem{Kind: "expired-open", Service: "ssh", RuleID: 3,
			Evidence: `{"State":"open","Product":"OpenSSH","Version":"9.6"}`, DetailFacts: `{"expired":"2026-10-31"}`},
			[]string{"已于 2026-10-31 过期", "OpenSSH 9.6"}},
		{"revoked", models.DriftItem{Kind: "expired-open", Service: "ssh", RuleID: 3, Evidence: `{"State":"open"}`, DetailFacts: `{"revoked":true}`},
			[]string{"已被撤销"}},
		{"approved but filtered", models.DriftItem{Kind: "approved-closed", RuleID: 3, Evidence: `{"State":"filtered"}`},
			[]string{"被过滤"}},
		{"service differs, over TLS", models.DriftItem{Kind: "service-mismatch", Service: "http", ApprovedService: "ssh", RuleID: 3,
			Evidence: `{"State":"open","Product":"nginx","TLS":true}`}, []string{"基于 TLS，nginx"}},
		{"public address", models.DriftItem{Kind: "exposed-externally", Severity: "high", Service: "http",
			Evidence: `{"State":"open"}`, DetailFacts: `{"public_of":"10.0.0.5"}`}, []string{"10.0.0.5 的公网地址", "只允许内部来源"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.item
			d.ID, d.Address, d.Protocol, d.Port, d.Zone, d.Detail = 7, "203.0.113.9", "tcp", 6379, "apps", "recorded English"
			a := alertOf(d, nil, zh.Localizer("", "", ""))
			for _, w := range tc.want {
				if !strings.Contains(a.Detail, w) {
					t.Errorf("detail lacks %q: %s", w, a.Detail)
				}
			}
		})
	}
}
