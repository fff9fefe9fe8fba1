package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
)

// TestAPIEvaluateSaysFindingsInChineseWithTheirValues: in Chinese a
// finding's message names the same prefixes, ports, services and counts
// as the English one, rather than a text for its code.
func TestAPIEvaluateSaysFindingsInChineseWithTheirValues(t *testing.T) {
	a := newApp(t)
	body := `{"rules": [{"source": "10.0.0.0/8", "destination": ["127.50.0.10"], "protocol": "tcp", "ports": "2222", "service": "ssh"}]}`
	messages := map[string]map[string]string{}
	for _, accept := range []string{"", "zh-CN"} {
		status, raw := a.apiIn("alice", http.MethodPost, "/evaluate", accept, body)
		if status != http.StatusOK {
			t.Fatalf("Accept-Language %q: status %d: %s", accept, status, raw)
		}
		var ev struct {
			Findings []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		messages[accept] = map[string]string{}
		for _, f := range ev.Findings {
			messages[accept][f.Code] = f.Message
		}
	}
	en, zh := messages[""], messages["zh-CN"]
	wantAll(t, "the English source-breadth finding", en["source-breadth"], "source 10.0.0.0/8 is broader than /24 (10.0.0.0/8 spans 16777216 addresses)")
	wantAll(t, "the Chinese source-breadth finding", zh["source-breadth"], "源 10.0.0.0/8 的范围大于 /24", "16777216 个地址")
	wantAll(t, "the English non-standard-port finding", en["non-standard-port"], "ssh is asked for on tcp/2222, not its standard port tcp/22")
	wantAll(t, "the Chinese non-standard-port finding", zh["non-standard-port"], "ssh 申请在 tcp/2222 上开放", "标准端口 tcp/22")
	for code, m := range zh {
		if !hasHan(m) {
			t.Errorf("%s in Chinese is %q", code, m)
		}
	}
}

// TestStoredFindingsWithoutTheirMessageShowTheCodesText: findings stored
// before they kept their message apart from language are shown in Chinese
// by their code's text; English readers get the stored message as it was.
func TestStoredFindingsWithoutTheirMessageShowTheCodesText(t *testing.T) {
	cat, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	zh := locale.With(context.Background(), cat.Localizer("zh-CN", "", ""))
	en := locale.With(context.Background(), cat.Localizer("en", "", ""))
	old := models.Request{Findings: `[{"rule":0,"code":"permanent","severity":"high","message":"the rule has no expiry","blocking":true,"required_controls":[]}]`}
	fs := requests.FindingsOf(old)
	if len(fs) != 1 {
		t.Fatalf("decoded %+v", fs)
	}
	if got := findingMessage(en, fs[0]); got != "the rule has no expiry" {
		t.Errorf("English: %q", got)
	}
	if got, want := findingMessage(zh, fs[0]), locale.T(zh, "finding.permanent"); got != want || !hasHan(got) {
		t.Errorf("Chinese: %q, want the code's text %q", got, want)
	}
}

// TestRequestPageMarksFindingValuesAsData: on a Chinese page the values a
// finding names are marked as data, which no translation touches, and
// its words are Chinese.
func TestRequestPageMarksFindingValuesAsData(t *testing.T) {
	a := newApp(t)
	list, err := a.svc.Requests.List(t.Context(), core.Actor{Roles: []core.Role{core.RoleAuditor}}, requests.Filter{Search: "Telnet"})
	if err != nil || len(list) != 1 {
		t.Fatalf("demo request not found: %v (%d)", err, len(list))
	}
	status, zh := a.getIn(a.as("alice"), fmt.Sprintf("/requests/%d", list[0].ID), "zh-CN")
	if status != http.StatusOK {
		t.Fatalf("GET the request in Chinese: %d", status)
	}
	wantAll(t, "the Chinese request page", zh,
		`<span translate="no">telnet</span> 以明文传输凭据和数据：请使用安全的替代协议（<span translate="no">telnet → ssh</span>）`)
}
