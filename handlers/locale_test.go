package handlers

import (
	"bytes"
	"context"
	"encoding/binary"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/jobs"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// getIn fetches a page as a browser whose Accept-Language is accept.
func (a *app) getIn(c *http.Client, path, accept string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, a.body(resp)
}

func wantAll(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s lacks %q", what, p)
		}
	}
}

func wantNone(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(body, p) {
			t.Errorf("%s still shows %q", what, p)
		}
	}
}

// TestAcceptLanguageChoosesThePages: a browser asking for Chinese gets
// lang="zh-CN" and the Chinese navigation; one asking for nothing offered
// gets the server's default.
func TestAcceptLanguageChoosesThePages(t *testing.T) {
	a := newApp(t)
	anon := browser()
	_, login := a.getIn(anon, "/login", "zh-CN,zh;q=0.9,en;q=0.8")
	wantAll(t, "the Chinese sign-in page", login, `<html lang="zh-CN">`, "登录 Portcullis", "通过单点登录登录")

	rita := a.as("rita")
	_, home := a.getIn(rita, "/", "zh-CN,zh;q=0.9")
	wantAll(t, "the Chinese home page", home, `<html lang="zh-CN">`, ">仪表盘</a>", ">放通申请</a>", ">待审核<", ">漂移</a>", ">退出登录</button>", "审核人")
	wantNone(t, "the Chinese home page", home, ">Dashboard</a>", "Log out")
	_, dash := a.getIn(rita, "/dashboard", "zh-CN")
	wantAll(t, "the Chinese dashboard", dash, "<h1>仪表盘</h1>", "严重漂移", "各区域最近一次扫描", "未经批准的开放端口")

	_, en := a.getIn(rita, "/", "en-GB,en;q=0.9")
	wantAll(t, "the English home page", en, `<html lang="en">`, ">Dashboard</a>", "Log out")
	_, fr := a.getIn(rita, "/", "fr-FR")
	wantAll(t, "a page for a browser asking for French (server default en)", fr, `<html lang="en">`)

	zhDefault := newApp(t, func(c *Config) { c.DefaultLanguage = "zh-CN" })
	_, page := zhDefault.getIn(browser(), "/login", "fr-FR,de;q=0.5")
	wantAll(t, "the sign-in page of a server whose default is zh-CN", page, `<html lang="zh-CN">`, "登录 Portcullis")

	status, missing := a.getIn(rita, "/no/such/page", "zh-CN")
	if status != http.StatusNotFound {
		t.Fatalf("a missing page answered %d", status)
	}
	wantAll(t, "the Chinese not-found page", missing, "<h1>未找到</h1>", "不存在页面 /no/such/page。", "返回首页")
	alice := a.as("alice")
	_, refused := a.getIn(alice, "/admin/users", "zh-CN")
	wantAll(t, "the Chinese refusal page", refused, "<h1>无权操作</h1>", "此操作需要管理员角色。")
}

// TestProfileLanguageAndZone: the language and zone chosen on the profile
// beat Accept-Language and the server's default, are audited, and every
// time on the converted pages is shown in the chosen zone.
func TestProfileLanguageAndZone(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	resp := a.post(alice, "/profile/preferences", url.Values{"language": {"zh-CN"}, "time_zone": {"Asia/Shanghai"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the preferences answered %d: %s", resp.StatusCode, a.body(resp))
	}
	u := a.user("alice")
	if u.Language != "zh-CN" || u.TimeZone != "Asia/Shanghai" {
		t.Fatalf("stored language %q, zone %q", u.Language, u.TimeZone)
	}
	var ev models.AuditEvent
	if err := a.svc.DB().Where("action = ? AND object_id = ?", "user.preferences", u.ID).Last(&ev).Error; err != nil {
		t.Fatalf("the change of preferences is not in the audit log: %v", err)
	}
	wantAll(t, "the audit event", ev.Detail, `"language":"zh-CN"`, `"time_zone":"Asia/Shanghai"`, `"time_zone_before":""`)

	_, profile := a.getIn(alice, "/profile", "en-US,en;q=0.9")
	wantAll(t, "the profile of someone who chose Chinese, browser in English", profile, `<html lang="zh-CN">`, "语言与时区已保存。", "<h1>我的个人资料</h1>", `<option value="zh-CN" lang="zh-CN" selected>`, `value="Asia/Shanghai"`)

	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	var tok models.APIToken
	if err := a.svc.DB().Where("user_id = ?", u.ID).First(&tok).Error; err != nil {
		t.Fatal(err)
	}
	created := tok.CreatedAt.In(shanghai)
	wantAll(t, "the token list in Shanghai time", profile, created.Format("2006年1月2日 15:04"))

	var mine models.Request
	if err := a.svc.DB().Where("requester_id = ?", u.ID).Order("updated_at DESC").First(&mine).Error; err != nil {
		t.Fatal(err)
	}
	_, home := a.getIn(alice, "/", "en")
	wantAll(t, "the home page's request table in Shanghai time", home, mine.UpdatedAt.In(shanghai).Format("2006年1月2日 15:04"), "我最近的放通申请")

	// English, still in Shanghai: the zone's abbreviation says which time it is.
	a.post(alice, "/profile/preferences", url.Values{"language": {"en"}, "time_zone": {"Asia/Shanghai"}})
	_, home = a.getIn(alice, "/", "zh-CN")
	wantAll(t, "the English home page of someone in Shanghai, browser in Chinese", home, `<html lang="en">`, mine.UpdatedAt.In(shanghai).Format("2006-01-02 15:04 MST"), "Your latest requests")

	// Back to automatic: the browser decides again, the server's zone applies.
	a.post(alice, "/profile/preferences", url.Values{"language": {""}, "time_zone": {""}})
	_, home = a.getIn(alice, "/", "zh-CN")
	wantAll(t, "the home page after going back to automatic", home, `<html lang="zh-CN">`, mine.UpdatedAt.UTC().Format("2006年1月2日 15:04"))
}

// TestServerDefaultZone: people who chose no zone read the server's.
func TestServerDefaultZone(t *testing.T) {
	a := newApp(t, func(c *Config) { c.DefaultTimeZone = "America/New_York" })
	rita := a.as("rita")
	var tok models.APIToken
	if err := a.svc.DB().Where("user_id = ?", a.user("rita").ID).First(&tok).Error; err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	_, profile := a.getIn(rita, "/profile", "")
	wantAll(t, "the profile on a server in New York time", profile, tok.CreatedAt.In(ny).Format("2006-01-02 15:04 MST"), "America/New_York")
}

// TestProfilePreferencesRefused: a zone not in the database or a language
// not offered is refused naming the field, in the reader's language,
// keeping what was typed and storing nothing.
func TestProfilePreferencesRefused(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	for _, tc := range []struct {
		name      string
		form      url.Values
		want      []string
		wantField string
	}{
		{"unknown zone", url.Values{"language": {"zh-CN"}, "time_zone": {"Mars/Olympus_Mons"}}, []string{"时区数据库中没有“Mars/Olympus_Mons”", `value="Mars/Olympus_Mons"`}, `id="time-zone-error"`},
		{"zone as a path", url.Values{"time_zone": {"../../etc/passwd"}}, []string{`value="../../etc/passwd"`}, `id="time-zone-error"`},
		{"language not offered", url.Values{"language": {"fr"}, "time_zone": {"UTC"}}, []string{"请选择所提供的语言之一。"}, `id="language-error"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, a.url+"/profile/preferences", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", "zh-CN")
			resp, err := alice.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := a.body(resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("answered %d, want 400", resp.StatusCode)
			}
			wantAll(t, "the refused form", body, append(tc.want, tc.wantField)...)
			if u := a.user("alice"); u.Language != "" || u.TimeZone != "" {
				t.Errorf("a refused form stored language %q, zone %q", u.Language, u.TimeZone)
			}
		})
	}
}

// TestEveryDomainTermIsTranslated: the words the pages show through
// web.Term (roles, states, severities, drift kinds, scan states, job
// states, agent states) are in
// every catalog, so a new state cannot reach a Chinese page in English.
func TestEveryDomainTermIsTranslated(t *testing.T) {
	catalog, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range []core.Role{core.RoleRequester, core.RoleReviewer, core.RoleApprover, core.RoleImplementer, core.RoleAuditor, core.RoleAdmin} {
		ids = append(ids, web.TermRole+string(r))
	}
	for _, s := range requests.AllStates {
		ids = append(ids, web.TermState+string(s))
	}
	for _, s := range severities {
		ids = append(ids, web.TermSeverity+s)
	}
	for _, k := range driftrules.Kinds() {
		ids = append(ids, web.TermDriftKind+string(k))
	}
	for _, s := range []scans.State{scans.StateQueued, scans.StateRunning, scans.StateDone, scans.StateFailed, scans.StateCancelled} {
		ids = append(ids, web.TermScanStatus+string(s))
	}
	for _, t := range policy.Tiers {
		ids = append(ids, web.TermTier+string(t))
	}
	for _, s := range jobs.States {
		ids = append(ids, web.TermJobState+s)
	}
	for _, s := range []string{agents.StateEnrolling, "online", "offline", agents.StateRevoked} {
		ids = append(ids, web.TermAgentStatus+s)
	}
	for _, id := range ids {
		for _, lang := range []string{"en", "zh-CN"} {
			if !catalog.Has(lang, id) {
				t.Errorf("%s is missing from the %s catalogs", id, lang)
			}
		}
	}
}

// TestEveryNavigationLinkIsTranslated: each link the navigation can show
// (an actor holding every role sees them all) has its message, nav. and its
// path, in every catalog; a link added without one fails here.
func TestEveryNavigationLinkIsTranslated(t *testing.T) {
	catalog, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	everyone := core.Actor{Roles: []core.Role{core.RoleRequester, core.RoleReviewer, core.RoleApprover, core.RoleImplementer, core.RoleAuditor, core.RoleAdmin}}
	items := navFor(context.Background(), everyone, "/")
	if len(items) < 10 {
		t.Fatalf("only %d links for an actor with every role", len(items))
	}
	for _, it := range items {
		for _, lang := range []string{"en", "zh-CN"} {
			if id := navMessageID(it.Href); !catalog.Has(lang, id) {
				t.Errorf("the link %s (%s) has no message %s in the %s catalogs", it.Href, it.Label, id, lang)
			}
		}
	}
	zh := locale.With(context.Background(), catalog.Localizer("zh-CN", "", ""))
	if got := navFor(zh, everyone, "/queue/review/x"); got[2].Label != "待审核" || !got[2].Current {
		t.Errorf("the review queue link in Chinese: %+v", got[2])
	}
}

func TestBadDefaultsRefused(t *testing.T) {
	if _, err := New(Config{DefaultTimeZone: "Asia/Shangai"}, nil, nil); err == nil || !strings.Contains(err.Error(), "Asia/Shangai") {
		t.Errorf("a misspelt default time zone: %v", err)
	}
	if _, err := New(Config{DefaultLanguage: "klingon"}, nil, nil); err == nil || !strings.Contains(err.Error(), "klingon") {
		t.Errorf("a default language not offered: %v", err)
	}
}

// TestFavicon: /favicon.ico is an icon of our own, not a 404.
func TestFavicon(t *testing.T) {
	a := newApp(t)
	resp := a.get(browser(), "/favicon.ico")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("/favicon.ico answered %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ico := []byte(a.body(resp))
	var header [3]uint16
	if err := binary.Read(bytes.NewReader(ico), binary.LittleEndian, &header); err != nil || header != [3]uint16{0, 1, 1} {
		t.Fatalf("not an ICO with one image: % x", ico[:min(len(ico), 6)])
	}
	size, offset := binary.LittleEndian.Uint32(ico[14:]), binary.LittleEndian.Uint32(ico[18:])
	if int(offset+size) != len(ico) {
		t.Fatalf("the ICO's directory says %d bytes at %d; the file has %d", size, offset, len(ico))
	}
	img, err := png.Decode(bytes.NewReader(ico[offset:]))
	if err != nil {
		t.Fatalf("the icon's image: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 32 || int(ico[6]) != 32 {
		t.Fatalf("the icon is %v, want 32×32", b)
	}
}
