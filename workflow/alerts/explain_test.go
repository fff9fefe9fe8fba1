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
