package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/demo"
)

func (a *app) user(name string) models.User {
	a.t.Helper()
	var u models.User
	if err := a.svc.DB().Where("email = ?", email(name)).First(&u).Error; err != nil {
		a.t.Fatal(err)
	}
	return u
}

// loggedIn reports whether a browser's session still opens a page.
func (a *app) loggedIn(c *http.Client) bool {
	a.t.Helper()
	resp := a.get(c, "/profile")
	return resp.StatusCode == http.StatusOK
}

// Item 2 of issue 12: someone removed at the identity provider, or taken
// out of every Portcullis group, loses sessions and tokens after one run of
// the access check; an unreachable provider changes nothing.
func TestAccessCheckAgainstTheIdentityProvider(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	a.as("lee")
	a.as("rita")
	for _, name := range []string{"alice", "lee", "rita"} {
		u := a.user(name)
		if len(u.RefreshToken) == 0 {
			t.Fatalf("%s's login kept no refresh token (offline_access not asked for?)", name)
		}
	}
	if a.api("alice", http.MethodGet, "/me", nil, nil) != http.StatusOK {
		t.Fatal("alice's token does not work to begin with")
	}

	// The provider is down: nothing changes, the round reports it.
	a.idp.Close()
	if _, err := a.srv.CheckAccess(context.Background()); err == nil {
		t.Fatal("an unreachable identity provider was not reported")
	}
	if !a.loggedIn(alice) || a.api("alice", http.MethodGet, "/me", nil, nil) != http.StatusOK {
		t.Fatal("an identity provider outage ended alice's access")
	}
	if rows := auditRows(t, a, "user.access_revoked"); len(rows) != 0 {
		t.Fatalf("access revoked during an outage: %+v", rows)
	}
}

func TestRemovedAtTheIdentityProviderLosesAccess(t *testing.T) {
	a := newApp(t)
	alice, lee, rita := a.as("alice"), a.as("lee"), a.as("rita")
	if err := a.provider.RemoveUser(email("alice")); err != nil {
		t.Fatal(err)
	}
	if err := a.provider.SetGroups(email("lee"), []string{"staff"}); err != nil {
		t.Fatal(err)
	}
	sum, err := a.srv.CheckAccess(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Revoked != 2 {
		t.Fatalf("one round: %+v", sum)
	}
	for name, c := range map[string]*http.Client{"alice": alice, "lee": lee} {
		if a.loggedIn(c) {
			t.Errorf("%s keeps their session", name)
		}
		if st := a.api(name, http.MethodGet, "/me", nil, nil); st != http.StatusUnauthorized {
			t.Errorf("%s's token answers %d", name, st)
		}
		var n int64
		a.svc.DB().Model(&models.Session{}).Where("user_id = ?", a.user(name).ID).Count(&n)
		if n != 0 {
			t.Errorf("%s keeps %d session rows", name, n)
		}
	}
	if !a.loggedIn(rita) || a.api("rita", http.MethodGet, "/me", nil, nil) != http.StatusOK {
		t.Fatal("rita, still at the provider, lost access")
	}
	rows := auditRows(t, a, "user.access_revoked")
	if len(rows) != 2 || !strings.Contains(rows[0].Detail, "reason") {
		t.Fatalf("revocations audited as %+v", rows)
	}
}

func TestAdminDisablesAUser(t *testing.T) {
	a := newApp(t)
	adam, alice := a.as("adam"), a.as("alice")
	id := a.user("alice").ID
	path := "/admin/users/" + strconv.Itoa(int(id))
	if body := a.body(a.get(adam, "/admin/users")); !strings.Contains(body, `action="`+path+`/disable"`) {
		t.Fatal("no Disable button on the users page")
	}
	// Without the confirmation nothing happens.
	a.post(adam, path+"/disable", url.Values{"reason": {"left"}})
	if !a.loggedIn(alice) {
		t.Fatal("disabled without confirmation")
	}
	if st := a.post(alice, path+"/disable", url.Values{"reason": {"x"}, "confirm": {"1"}}).StatusCode; st != http.StatusForbidden {
		t.Fatalf("a requester disabling someone: %d", st)
	}
	resp := a.post(adam, path+"/disable", url.Values{"reason": {"left the company"}, "confirm": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", resp.StatusCode, a.body(resp))
	}
	if a.loggedIn(alice) {
		t.Fatal("the disabled user keeps their session")
	}
	if st := a.api("alice", http.MethodGet, "/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("the disabled user's token answers %d", st)
	}
	if _, resp := a.login("alice", demo.Password); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a disabled user logged in although the identity provider lists them")
	}
	if rows := auditRows(t, a, "user.disabled"); len(rows) != 1 || rows[0].Comment != "left the company" {
		t.Fatalf("disable audited as %+v", rows)
	}
	if st := a.post(adam, path+"/enable", nil).StatusCode; st != http.StatusSeeOther {
		t.Fatalf("enable: %d", st)
	}
	a.as("alice")
}

// An expired token is refused like any invalid one, and audited so.
func TestExpiredTokenIsRefused(t *testing.T) {
	a := newApp(t)
	// Tokens are created and checked on the store's clock: the test moves
	// it, so "fresh" and "expired" do not depend on how fast calls run.
	clock := &manualClock{at: time.Now().UTC()}
	a.svc.SetClock(clock.Now)
	secret, _, err := a.svc.Identity.CreateTokenTTL(context.Background(), core.SystemActor, email("alice"), "short", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a.tokens[email("alice")] = secret
	clock.Advance(time.Second - time.Millisecond)
	if st := a.api("alice", http.MethodGet, "/me", nil, nil); st != http.StatusOK {
		t.Fatalf("token 1ms before its expiry: %d", st)
	}
	clock.Advance(time.Millisecond)
	if st := a.api("alice", http.MethodGet, "/me", nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", st)
	}
	if rows := auditRows(t, a, "api_token.rejected"); len(rows) != 1 {
		t.Fatalf("the expired token's refusal is not audited: %+v", rows)
	}
}

func TestProfileShowsTokenExpiry(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	body := a.body(a.post(alice, "/profile/tokens", url.Values{"name": {"ci"}, "ttl": {"400d"}}))
	if !strings.Contains(body, "longer than the maximum") {
		t.Fatalf("a lifetime over the maximum was not refused on the form:\n%.2000s", body)
	}
	resp := a.post(alice, "/profile/tokens", url.Values{"name": {"ci"}, "ttl": {"30d"}})
	body = a.body(resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Expires") || !strings.Contains(body, time.Now().Add(30*24*time.Hour).Format("2006-01-02")) {
		t.Fatalf("the profile does not show when the token expires (%d):\n%.3000s", resp.StatusCode, body)
	}
}

// Disabling and enabling a user speaks the admin's language: the flashes
// come from the catalogs (they were English only).
func TestUserAccessFlashesInChinese(t *testing.T) {
	a := newApp(t)
	adam := a.as("adam")
	path := "/admin/users/" + strconv.Itoa(int(a.user("alice").ID))
	flashAfter := func(action string, form url.Values) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, a.url+path+"/"+action, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err := adam.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		req, _ = http.NewRequest(http.MethodGet, a.url+"/admin/users", nil)
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err = adam.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := a.body(resp)
		resp.Body.Close()
		m := regexp.MustCompile(`class="flash [a-z]+"[^>]*>([^<]*)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: the users page shows no flash", action)
		}
		return m[1]
	}
	for _, c := range []struct {
		action string
		form   url.Values
		want   string
	}{
		{"disable", url.Values{"reason": {"离职"}}, "请勾选确认项后再停用用户。"},
		{"disable", url.Values{"reason": {"离职"}, "confirm": {"1"}}, "用户已停用：其会话与令牌已全部终止。"},
		{"enable", nil, "用户已启用：可以再次登录。"},
	} {
		if got := flashAfter(c.action, c.form); got != c.want {
			t.Errorf("%s %v: the flash reads %q, want %q", c.action, c.form, got, c.want)
		}
	}
}
