package handlers

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/demo"
	"github.com/portcullis/portcullis/workflow/requests"
)

func TestLoginFlow(t *testing.T) {
	a := newApp(t)
	t.Run("success renews the session and sets safe cookies", func(t *testing.T) {
		c := browser()
		pre := a.mustDo(c, http.MethodGet, a.url+"/auth/login", "", "")
		var preToken string
		for _, ck := range pre.Cookies() {
			if ck.Name == "portcullis_session" {
				preToken = ck.Value
			}
		}
		c2, resp := a.login("alice", demo.Password)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d %s", resp.StatusCode, a.body(resp))
		}
		var sess *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "portcullis_session" {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Value == preToken {
			t.Fatalf("session cookie %+v", sess)
		}
		home := a.body(a.get(c2, "/"))
		if !strings.Contains(home, `Welcome, <span translate="no">Alice Requester</span>`) {
			t.Fatalf("home page does not greet alice: %.300s", home)
		}
		// Logout destroys the session on the server: replaying the cookie fails.
		if r := a.post(c2, "/logout", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.StatusCode)
		}
		replay := browser()
		u, _ := url.Parse(a.url)
		replay.Jar.SetCookies(u, []*http.Cookie{{Name: sess.Name, Value: sess.Value}})
		if r := a.get(replay, "/requests"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("replayed cookie after logout: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
	})
	t.Run("wrong state is refused", func(t *testing.T) {
		c := browser()
		a.mustDo(c, http.MethodGet, a.url+"/auth/login", "", "")
		r := a.get(c, "/auth/callback?state=forged&code=x")
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged state: %d", r.StatusCode)
		}
	})
	t.Run("a user whose groups map to no role is refused", func(t *testing.T) {
		_, r := a.login("nogroup", demo.Password)
		if body := a.body(r); r.StatusCode != http.StatusForbidden || !strings.Contains(body, "no Portcullis role") {
			t.Fatalf("no-role login: %d %.200s", r.StatusCode, body)
		}
	})
	t.Run("pages need a login", func(t *testing.T) {
		r := a.get(browser(), "/requests?state=draft")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?return_to=%2Frequests%3Fstate%3Ddraft" {
			t.Fatalf("anonymous: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
	})
	t.Run("team and roles come from groups", func(t *testing.T) {
		a.as("pat")
		users, _ := a.svc.Identity.ListUsers(t.Context(), core.RoleReviewer)
		var pat string
		for _, u := range users {
			if u.Email == email("pat") {
				pat = u.Roles + "/" + u.Team
			}
		}
		if pat != "requester reviewer/security" {
			t.Fatalf("pat is %q", pat)
		}
	})
}

// TestEveryRouteHasAnAccessDecision walks the router: a route added without
// going through handle() has no decision and fails here.
func TestEveryRouteHasAnAccessDecision(t *testing.T) {
	a := newApp(t)
	err := chi.Walk(a.srv.mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.Replace(route, "/*/", "/", -1)
		if _, ok := a.srv.access[method+" "+route]; !ok {
			t.Errorf("%s %s has no access decision", method, route)
		}
		if strings.HasPrefix(route, "/api/v1/") {
			if _, ok := apiOperations[method+" "+route]; !ok {
				t.Errorf("%s %s is missing from the OpenAPI document", method, route)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	a := newApp(t)
	c := a.as("alice")
	form := url.Values{"title": {"forged"}, "justification": {"x"}, "rules[0].source": {"office"}, "rules[0].destination": {"127.40.0.15"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "action": {"save"}}
	req, _ := http.NewRequest(http.MethodPost, a.url+"/requests", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", resp.StatusCode)
	}
	list, _ := a.svc.Requests.List(t.Context(), core.Actor{Roles: []core.Role{core.RoleAuditor}}, requests.Filter{Search: "forged"})
	if len(list) != 0 {
		t.Fatal("a cross-site post created a request")
	}
	// The same post from our own origin goes through.
	req.Header.Set("Origin", a.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Body = http.NoBody
	r := a.post(c, "/requests", form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d %s", r.StatusCode, a.body(r))
	}
}

func TestRequestFormShowsErrorsNextToFields(t *testing.T) {
	a := newApp(t)
	c := a.as("alice")
	form := url.Values{"title": {"Bad ports"}, "justification": {""}, "rules[0].source": {"10.0.0.0/33"}, "rules[0].destination": {"127.40.0.15"},
		"rules[0].protocol": {"tcp"}, "rules[0].ports": {"70000"}, "action": {"save"}}
	r := a.post(c, "/requests", form)
	body := a.body(r)
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", r.StatusCode)
	}
	for _, want := range []string{
		`id="justification-error"`, "a business justification is required",
		`id="rules[0].ports-error"`, "port 70000 is out of range",
		`id="rules[0].source-error"`, "not a valid CIDR",
		`value="Bad ports"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	list, _ := a.svc.Requests.List(t.Context(), core.Actor{Roles: []core.Role{core.RoleAuditor}}, requests.Filter{Search: "Bad ports"})
	if len(list) != 0 {
		t.Fatal("an invalid form created a request")
	}
	// Adding a rule without JavaScript keeps what was typed.
	form.Set("action", "add_rule")
	body = a.body(a.post(c, "/requests", form))
	if !strings.Contains(body, `name="rules[1].source"`) || !strings.Contains(body, `value="70000"`) {
		t.Fatal("add rule without JavaScript lost the form")
	}
	// The htmx fragment is one rule plus the renumbered button.
	frag := a.body(a.get(c, "/requests/rule-row?index=3"))
	if !strings.Contains(frag, `name="rules[3].ports"`) || !strings.Contains(frag, "index=4") {
		t.Fatalf("fragment: %.300s", frag)
	}
}

func TestBrowserFlowOverHTTP(t *testing.T) {
	a := newApp(t)
	alice, rita, lee, ivan, pat := a.as("alice"), a.as("rita"), a.as("lee"), a.as("ivan"), a.as("pat")
	form := url.Values{"title": {"Partner API"}, "justification": {"Settlement callbacks"}, "action": {"submit"},
		"rules[0].source": {"203.0.113.0/28"}, "rules[0].destination": {"127.50.0.10"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].service": {"http"},
		"rules[1].source": {"office"}, "rules[1].destination": {"127.40.0.15"}, "rules[1].protocol": {"tcp"}, "rules[1].ports": {"8443"}}
	r := a.post(alice, "/requests", form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, a.body(r))
	}
	id := idOf(t, r.Header.Get("Location"))
	base := fmt.Sprintf("/requests/%d", id)
	review := url.Values{"decision": {"approve"}, "zone_confirmed": {"1"}}
	for _, item := range requests.BaselineChecklist {
		review.Set("checklist."+item.ID, "pass")
	}
	// The internet into the payments zone and the office zone into apps are
	// blocked: approving takes the exception path.
	if r := a.post(rita, base+"/review", review); r.StatusCode != http.StatusBadRequest || !strings.Contains(a.body(r), `id="exception-path"`) {
		t.Fatalf("review without compensating controls: %d", r.StatusCode)
	}
	review.Set("control.0:internet-internal", "Published through the acquirer's private link; mutual TLS")
	review.Set("control.1:zone-path", "Only the finance workstations' /28, enforced on the internal firewall")
	if r := a.post(rita, base+"/review", review); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("review: %d %s", r.StatusCode, a.body(r))
	}
	if !strings.Contains(a.body(a.get(lee, "/queue/approval")), "Partner API") {
		t.Fatal("approval queue lacks the request")
	}
	if r := a.post(lee, base+"/approve", url.Values{"decision": {"approve"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("second approval: %d %s", r.StatusCode, a.body(r))
	}
	if r := a.post(ivan, base+"/implement", url.Values{"change_ref": {"CHG-5150"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("implement: %d %s", r.StatusCode, a.body(r))
	}
	page := a.body(a.get(alice, base))
	for _, want := range []string{"implemented", "CHG-5150", email("rita"), email("lee"), email("ivan"), "first approve", "second approve", `id="exception"`, "mutual TLS"} {
		if !strings.Contains(page, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
	if reg := a.body(a.get(pat, "/register")); !strings.Contains(reg, "203.0.113.0/28") {
		t.Error("rule register lacks the approved rule")
	}
	// Self-approval, through the page: refused with the reason.
	own := a.post(pat, "/requests", url.Values{"title": {"Pat's own"}, "justification": {"x"}, "action": {"submit"},
		"rules[0].source": {"office"}, "rules[0].destination": {"127.40.0.15"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"22"}})
	ownID := idOf(t, own.Header.Get("Location"))
	r = a.post(pat, fmt.Sprintf("/requests/%d/review", ownID), review)
	if body := a.body(r); r.StatusCode != http.StatusForbidden || !strings.Contains(body, "separation of duties") {
		t.Fatalf("self-review: %d %.300s", r.StatusCode, body)
	}
}

func TestAssetImportPage(t *testing.T) {
	a := newApp(t)
	adam := a.as("adam")
	send := func(csv string) *http.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "assets.csv")
		fw.Write([]byte(csv))
		mw.Close()
		return a.mustDo(adam, http.MethodPost, a.url+"/assets/import", buf.String(), mw.FormDataContentType())
	}
	r := send("address,hostname\n127.40.0.90,a\nnot-an-ip,b\n")
	body := a.body(r)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="import-errors"`) || !strings.Contains(body, "not-an-ip") {
		t.Fatalf("bad import: %d %.500s", r.StatusCode, body)
	}
	r = send("address,hostname\n127.40.0.90,a\n")
	if body := a.body(r); r.StatusCode != http.StatusOK || !strings.Contains(body, "1 new") {
		t.Fatalf("good import: %d", r.StatusCode)
	}
	if body := a.body(a.get(adam, "/assets")); !strings.Contains(body, "127.40.0.90") {
		t.Fatal("imported asset not listed")
	}
}

func TestRecertificationPages(t *testing.T) {
	a := newApp(t)
	lee, alice, aude := a.as("lee"), a.as("alice"), a.as("aude")
	due := time.Now().UTC().AddDate(1, 0, 0).Format("2006-01-02")
	r := a.post(lee, "/recertification/campaigns", url.Values{"name": {"Yearly"}, "due_by": {due}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", r.StatusCode, a.body(r))
	}
	if r := a.post(alice, "/recertification/campaigns", url.Values{"due_by": {due}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("requester starts a campaign: %d", r.StatusCode)
	}
	page := a.body(a.get(alice, "/recertification"))
	m := regexp.MustCompile(`/recertification/items/(\d+)/recertify`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("alice has nothing to re-certify: %.500s", page)
	}
	if r := a.post(alice, "/recertification/items/"+m[1]+"/recertify", url.Values{"justification": {""}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty justification: %d", r.StatusCode)
	}
	if r := a.post(alice, "/recertification/items/"+m[1]+"/recertify", url.Values{"justification": {"Still used for settlements."}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("recertify: %d %s", r.StatusCode, a.body(r))
	}
	progress := a.body(a.get(aude, "/recertification"))
	if !strings.Contains(progress, "Yearly") || !strings.Contains(progress, "<progress") {
		t.Fatalf("auditor does not see the campaign's progress")
	}
}

func TestReviewChecklistShowsPolicyControls(t *testing.T) {
	a := newApp(t)
	// Demo request "Bastion SSH" was approved with the controls its findings require.
	list, _ := a.svc.Requests.List(t.Context(), core.Actor{Roles: []core.Role{core.RoleAuditor}}, requests.Filter{Search: "Bastion"})
	if len(list) != 1 {
		t.Fatalf("demo request not found")
	}
	page := a.body(a.get(a.as("aude"), fmt.Sprintf("/requests/%d", list[0].ID)))
	if !strings.Contains(page, "<td>SSH root login disabled</td><td>pass</td>") {
		t.Fatalf("the review's checklist does not name the policy's required controls")
	}
}
