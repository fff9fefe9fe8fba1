package handlers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// apiIn calls the JSON API as a demo user with an Accept-Language header
// ("" sends none) and returns the status and the raw body.
func (a *app) apiIn(name, method, path, accept, body string) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+"/api/v1"+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.tokens[email(name)])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// jsonKeys lists the keys of a JSON object, nested objects' keys as
// "outer.inner": what the contract fixes whatever the language.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not a JSON object: %s: %v", raw, err)
	}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			keys = append(keys, prefix+k)
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", doc)
	return keys
}

// TestAPIErrorsFollowAcceptLanguage: the API's error messages are in the
// caller's language — English by default and for "en", Chinese for
// zh-CN — while the status, the error code, the field path and the JSON
// keys stay exactly as the contract has them.
func TestAPIErrorsFollowAcceptLanguage(t *testing.T) {
	a := newApp(t)
	cases := []struct {
		name, user, method, path, body string
		status                         int
		code, field                    string
		english, chinese               string
	}{
		{"bad input in a field", "alice", http.MethodPost, "/requests",
			`{"title": "", "justification": "payments need it", "rules": [{"source": "10.0.0.1/32", "destination": ["127.50.0.10"], "protocol": "tcp", "ports": "443"}]}`,
			http.StatusBadRequest, "bad_request", "title", "Title: a title is required", "标题: 标题为必填项"},
		{"a missing request", "alice", http.MethodGet, "/requests/987654", "",
			http.StatusNotFound, "not_found", "", "request 987654 does not exist", "申请 987654 不存在"},
		{"a role the route needs, the role translated too", "alice", http.MethodPost, "/zones", `{"name": "x"}`,
			http.StatusForbidden, "forbidden", "", "you need the admin role for this", "此操作需要管理员角色"},
		{"an unreadable body", "alice", http.MethodPost, "/evaluate", "",
			http.StatusBadRequest, "bad_request", "body", "body: the request body is empty; send a JSON object", "body: 请求体为空；请发送一个 JSON 对象"},
		{"a field label said in the reader's language", "alice", http.MethodPost, "/requests",
			`{"title": "` + strings.Repeat("t", core.Limits.Title+1) + `", "justification": "payments need it", "rules": [{"source": "10.0.0.1/32", "destination": ["127.50.0.10"], "protocol": "tcp", "ports": "443"}]}`,
			http.StatusBadRequest, "bad_request", "title", "Title: the title is 201 characters long; at most 200 are allowed", "标题: 标题长 201 个字符；最多允许 200 个"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var keys []string
			for _, lang := range []struct{ accept, want string }{{"", tc.english}, {"en", tc.english}, {"zh-CN,zh;q=0.9", tc.chinese}} {
				status, raw := a.apiIn(tc.user, tc.method, tc.path, lang.accept, tc.body)
				var out apiErrorBody
				if err := json.Unmarshal(raw, &out); err != nil {
					t.Fatalf("Accept-Language %q: %s: %v", lang.accept, raw, err)
				}
				if status != tc.status || out.Error.Code != tc.code || out.Error.Field != tc.field {
					t.Errorf("Accept-Language %q: status %d, code %q, field %q; want %d, %q, %q (%s)", lang.accept, status, out.Error.Code, out.Error.Field, tc.status, tc.code, tc.field, raw)
				}
				if out.Error.Message != lang.want {
					t.Errorf("Accept-Language %q: message %q, want %q", lang.accept, out.Error.Message, lang.want)
				}
				got := strings.Join(sortedCopy(jsonKeys(t, raw)), ",")
				if keys == nil {
					keys = []string{got}
				} else if got != keys[0] {
					t.Errorf("Accept-Language %q: JSON keys %s, in English %s", lang.accept, got, keys[0])
				}
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestAPIEvaluateFollowsAcceptLanguage: POST /api/v1/evaluate gives the
// same findings — rule, code, severity, blocking, in the same order — in
// every language; their messages and required controls are the engine's
// English by default and Chinese for zh-CN.
func TestAPIEvaluateFollowsAcceptLanguage(t *testing.T) {
	a := newApp(t)
	// SNMP from a broad source: whitelist-required (a control naming the
	// service) and service-controls (the catalog's own controls).
	body := `{"rules": [{"source": "10.0.0.0/8", "destination": ["127.50.0.10"], "protocol": "udp", "ports": "161", "service": "snmp"}]}`
	type evaluation struct {
		Findings []struct {
			Rule             int      `json:"rule"`
			Code             string   `json:"code"`
			Severity         string   `json:"severity"`
			Message          string   `json:"message"`
			Blocking         bool     `json:"blocking"`
			RequiredControls []string `json:"required_controls"`
		} `json:"findings"`
		Blocking            bool `json:"blocking"`
		NeedsSecondApproval bool `json:"needs_second_approval"`
	}
	results := map[string]evaluation{}
	rawKeys := map[string]string{}
	for _, accept := range []string{"", "en", "zh-CN"} {
		status, raw := a.apiIn("alice", http.MethodPost, "/evaluate", accept, body)
		if status != http.StatusOK {
			t.Fatalf("Accept-Language %q: status %d: %s", accept, status, raw)
		}
		var ev evaluation
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		results[accept] = ev
		rawKeys[accept] = strings.Join(sortedCopy(jsonKeys(t, raw)), ",")
	}
	en, zh := results[""], results["zh-CN"]
	if len(en.Findings) == 0 {
		t.Fatal("the SNMP rule raised no findings")
	}
	if fmt.Sprint(results["en"]) != fmt.Sprint(en) {
		t.Errorf("Accept-Language en differs from the default:\n%+v\n%+v", results["en"], en)
	}
	if rawKeys["zh-CN"] != rawKeys[""] || en.Blocking != zh.Blocking || en.NeedsSecondApproval != zh.NeedsSecondApproval || len(zh.Findings) != len(en.Findings) {
		t.Fatalf("the machine fields differ by language:\n%+v\n%+v", en, zh)
	}
	codes := map[string]bool{}
	for i, e := range en.Findings {
		z := zh.Findings[i]
		codes[e.Code] = true
		if e.Rule != z.Rule || e.Code != z.Code || e.Severity != z.Severity || e.Blocking != z.Blocking || len(e.RequiredControls) != len(z.RequiredControls) {
			t.Errorf("finding %d: machine fields differ: %+v vs %+v", i, e, z)
		}
		if !hasHan(z.Message) || hasHan(e.Message) {
			t.Errorf("finding %s: message in English %q, in Chinese %q", e.Code, e.Message, z.Message)
		}
		for j, c := range z.RequiredControls {
			if !hasHan(c) || hasHan(e.RequiredControls[j]) {
				t.Errorf("finding %s: required control in English %q, in Chinese %q", e.Code, e.RequiredControls[j], c)
			}
		}
	}
	for _, want := range []string{"whitelist-required", "service-controls"} {
		if !codes[want] {
			t.Errorf("no %s finding among %v: the case no longer covers the required controls", want, codes)
		}
	}
	var controls []string
	for _, f := range zh.Findings {
		controls = append(controls, f.RequiredControls...)
	}
	wantAll(t, "the Chinese required controls", strings.Join(controls, "\n"),
		"来源仅限指定的 snmp 对端", "SNMP 团体名既不是 'public' 也不是 'private'")
}

// hasHan reports whether s holds a Chinese character.
func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// TestPageShowsDomainErrorInReadersLanguage: a refusal raised by the
// domain reaches the page in the reader's language — here a request that
// does not exist, and a refused form whose messages sit beside their fields.
func TestPageShowsDomainErrorInReadersLanguage(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	status, zh := a.getIn(alice, "/requests/987654", "zh-CN")
	if status != http.StatusNotFound {
		t.Fatalf("GET a missing request: %d", status)
	}
	wantAll(t, "the Chinese error page", zh, "申请 987654 不存在")
	wantNone(t, "the Chinese error page", zh, "does not exist")
	_, en := a.getIn(alice, "/requests/987654", "")
	wantAll(t, "the English error page", en, "request 987654 does not exist")

	// A refused form: each message beside its field, in Chinese; a rule's
	// part is named as people see it, the parser's detail kept.
	form := url.Values{"title": {"Bad ports"}, "justification": {""}, "rules[0].source": {"10.0.0.0/8"}, "rules[0].destination": {"127.40.0.15"},
		"rules[0].protocol": {"tcp"}, "rules[0].ports": {"70000"}, "action": {"save"}}
	req, err := http.NewRequest(http.MethodPost, a.url+"/requests", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "zh-CN")
	resp, err := alice.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := a.body(resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a request without a justification: status %d", resp.StatusCode)
	}
	wantAll(t, "the refused form in Chinese", page, `id="justification-error"`, "业务理由为必填项", "第 1 条规则的端口有误", `value="Bad ports"`)
	wantNone(t, "the refused form in Chinese", page, "a business justification is required")
}

// TestLifecycleWordsAreInTheCatalogs: the refusals of the state machines
// name the row, the event and the state by ids made at run time
// (err.what.*, err.verb.*, err.state.*); each is in every catalog, with
// the English the machine says.
func TestLifecycleWordsAreInTheCatalogs(t *testing.T) {
	cat, err := locale.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	var said []core.Message
	said = append(said, machineWords(requests.Lifecycle)...)
	said = append(said, machineWords(drift.Lifecycle)...)
	said = append(said, machineWords(scans.Lifecycle)...)
	said = append(said, machineWords(recert.Lifecycle)...)
	for n := 1; n <= 4; n++ {
		said = append(said, core.RolesSaid(core.AllRoles[:n]))
	}
	for _, role := range core.AllRoles {
		said = append(said, core.M("role."+string(role), string(role)))
	}
	en := locale.With(t.Context(), cat.Localizer("en", "", ""))
	for _, m := range said {
		for _, l := range locale.Offered {
			if !cat.Has(l.Tag, m.ID) {
				t.Errorf("%s is missing from the %s catalogs", m.ID, l.Tag)
			}
		}
		if got := locale.Say(en, m.ID, "-", nil); !strings.Contains(m.English, "{{") && got != m.English {
			t.Errorf("%s: the English catalog says %q, the machine %q", m.ID, got, m.English)
		}
	}
}

func machineWords[S ~string, E ~string, C any](m *core.Machine[S, E, C]) []core.Message {
	out := []core.Message{m.WhatSaid()}
	for _, e := range m.Events {
		out = append(out, m.VerbSaid(e))
	}
	for _, s := range m.States {
		out = append(out, m.LabelSaid(s))
	}
	return out
}

// TestCatalogTextsAreTranslated: every service and every control of the
// shipped service catalog, and the controls the engine words itself, read
// in Chinese, and the English catalog says what the service catalog says.
func TestCatalogTextsAreTranslated(t *testing.T) {
	cat, err := locale.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	en := locale.With(t.Context(), cat.Localizer("en", "", ""))
	zh := locale.With(t.Context(), cat.Localizer("zh-CN", "", ""))
	controls := []string{policy.ControlAssessment, policy.ControlInnovationAuth, "Egress limited to named peer addresses",
		"Business need for the outbound connection confirmed", "Authentication enabled on redis", "Response rate limiting on dns"}
	for _, s := range policy.DefaultCatalog().Services() {
		if got := locale.T(en, "service_title."+s.Name); got != s.Title {
			t.Errorf("service %s: the English catalog says %q, the service catalog %q", s.Name, got, s.Title)
		}
		if !cat.Has("zh-CN", "service_title."+s.Name) {
			t.Errorf("service %s has no Chinese title", s.Name)
		}
		if s.Name == "ssh" && web.ServiceTitle(zh, s.Name, s.Title) != "安全外壳协议" {
			t.Errorf("ssh in Chinese is %q", web.ServiceTitle(zh, s.Name, s.Title))
		}
		controls = append(controls, s.Controls...)
		for k, c := range s.Controls {
			if !hasHan(s.ControlTexts(k)["zh-CN"]) {
				t.Errorf("service %s: the catalog gives control %q no Chinese words", s.Name, c)
			}
		}
	}
	// Without the entry's words (findings recorded before they kept them,
	// the engine's own controls), the shipped catalog's and the message
	// catalogs' still apply.
	for _, c := range controls {
		if got, ok := controlText(en, c, nil); !ok || got != c {
			t.Errorf("control %q in English reads %q", c, got)
		}
		if got, ok := controlText(zh, c, nil); !ok || !hasHan(got) {
			t.Errorf("control %q has no Chinese text (%q)", c, got)
		}
	}
}

// TestAPIImportLinesFollowAcceptLanguage: the bad lines of a refused asset
// import keep their numbers and fields and say what is wrong in the
// caller's language.
func TestAPIImportLinesFollowAcceptLanguage(t *testing.T) {
	a := newApp(t)
	csv := "address,hostname,owner_team,application\n127.60.0.1,a.example,payments,\n127.60.0.1,b.example,payments,\n"
	lines := map[string][]inventory.LineError{}
	for _, accept := range []string{"", "zh-CN"} {
		status, raw := a.apiIn("adam", http.MethodPost, "/assets/import", accept, csv)
		var out apiErrorBody
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if status != http.StatusBadRequest || out.Error.Code != "bad_request" || out.Error.Field != "file" || len(out.Error.Lines) != 1 {
			t.Fatalf("Accept-Language %q: status %d: %s", accept, status, raw)
		}
		lines[accept] = out.Error.Lines
	}
	en, zh := lines[""][0], lines["zh-CN"][0]
	if en.Line != 3 || zh.Line != 3 || en.Field != "address" || zh.Field != "address" {
		t.Errorf("line or field differ: %+v vs %+v", en, zh)
	}
	if en.Message != "127.60.0.1 appears already on line 2" || zh.Message != "127.60.0.1 已出现在第 2 行" {
		t.Errorf("messages: English %q, Chinese %q", en.Message, zh.Message)
	}
}
