package handlers

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
)

// Item 7 of issue 12: caching, transport and cookie headers.
func TestSecurityHeaders(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	for _, path := range []string{"/", "/requests", "/profile"} {
		if r := a.get(alice, path); r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("page %s: %d, Cache-Control %q", path, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/requests", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[email("alice")])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("API: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	aude := a.as("aude")
	if r := a.get(aude, "/audit/export?format=csv"); r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("audit export: %d, Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if r := a.get(browser(), "/static/portcullis.css"); r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Cache-Control"), "public") {
		t.Errorf("static file: %d, Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	for _, dir := range []string{"/static/", "/static/./"} {
		if r := a.get(browser(), dir); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s lists the directory: %d %.200s", dir, r.StatusCode, a.body(r))
		}
	}
	if r := a.get(browser(), "/login"); r.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS over plain http: %q", r.Header.Get("Strict-Transport-Security"))
	}
	if r := a.get(browser(), "/auth/login"); !hasCookie(r, "portcullis_session") {
		t.Errorf("over http the session cookie is portcullis_session: %q", r.Header.Values("Set-Cookie"))
	}

	tls := newApp(t, func(c *Config) { c.PublicURL = "https://portcullis.example.test" })
	r := tls.get(browser(), "/auth/login")
	if sts := r.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(sts, "max-age=") {
		t.Errorf("https public URL without HSTS: %q", sts)
	}
	if !hasCookie(r, "__Host-portcullis_session") {
		t.Errorf("https session cookie lacks the __Host- prefix: %q", r.Header.Values("Set-Cookie"))
	}
	for _, c := range r.Cookies() {
		if c.Name == "__Host-portcullis_session" && (!c.Secure || c.Path != "/" || c.Domain != "") {
			t.Errorf("__Host- cookie must be Secure, Path=/ and host-only: %+v", c)
		}
	}
}

func hasCookie(r *http.Response, name string) bool {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Item 8 of issue 12: text a database cannot store (a NUL byte, invalid
// UTF-8) is refused with a 400 naming the field, on both databases, for
// query parameters, form values and JSON bodies alike.
func TestUnstorableTextIsRefused(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newAppOn(t, db)
		token := a.tokens[email("alice")]
		call := func(method, path, contentType, body string) (int, string) {
			req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		for _, tc := range []struct {
			name, method, path, body, field string
		}{
			{"invalid UTF-8 in a query", "GET", "/api/v1/requests?q=%ff", "", "q"},
			{"NUL in a query", "GET", "/api/v1/requests?q=a%00b", "", "q"},
			{"NUL in a JSON title", "POST", "/api/v1/requests", `{"title":"a\u0000b","justification":"x","rules":[]}`, "title"},
			{"invalid UTF-8 in a JSON title", "POST", "/api/v1/requests", "{\"title\":\"a\xffb\",\"justification\":\"x\",\"rules\":[]}", "title"},
			{"NUL in a nested JSON field", "POST", "/api/v1/evaluate", `{"rules":[{"source":"internet","destination":"x","protocol":"tcp","ports":"443","service":"\u0000"}]}`, "rules.service"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ct := ""
				if tc.body != "" {
					ct = "application/json"
				}
				status, body := call(tc.method, tc.path, ct, tc.body)
				if status != http.StatusBadRequest || !strings.Contains(body, `"field":"`+tc.field+`"`) {
					t.Fatalf("want 400 naming %s, got %d %s", tc.field, status, body)
				}
			})
		}
		// An imported file is checked too (it is neither a form nor JSON).
		token = a.tokens[email("adam")]
		status, body := call("POST", "/api/v1/assets/import", "text/csv", "address,hostname,owner_team,application\n198.51.100.9,db9,payments,a\x00b\n")
		if status != http.StatusBadRequest || !strings.Contains(body, "application contains a NUL") {
			t.Errorf("import with a NUL: %d %s", status, body)
		}
		token = a.tokens[email("alice")]
		// A page form and a page query are refused the same way.
		alice := a.as("alice")
		if r := a.get(alice, "/requests?q=%ff"); r.StatusCode != http.StatusBadRequest || !strings.Contains(a.body(r), "q is not valid UTF-8") {
			t.Errorf("page query: %d", r.StatusCode)
		}
		r := a.post(alice, "/requests", url.Values{"title": {"bad\x00title"}, "justification": {"x"}})
		if body := a.body(r); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "title contains a NUL character") {
			t.Errorf("page form: %d %.300s", r.StatusCode, body)
		}
		// Ordinary text, accents and all, still passes.
		if status, body := call("GET", "/api/v1/requests?q=caf%C3%A9", "", ""); status != http.StatusOK {
			t.Errorf("valid query refused: %d %s", status, body)
		}
	})
}

// auditRows are the audit events with an action, oldest first.
func auditRows(t *testing.T, a *app, action string) []models.AuditEvent {
	t.Helper()
	var rows []models.AuditEvent
	if err := a.svc.DB().Where("action = ?", action).Order("seq").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// Item 6 of issue 12: refused logins, rejected tokens and downloads are
// audited with the client's address; a flood becomes a summary.
func TestSecurityEventsAreAudited(t *testing.T) {
	// Summary windows are wall-clock minutes: the server's clock stands
	// still in the middle of one, so the flood cannot straddle two.
	midMinute := time.Now().Truncate(time.Minute).Add(30 * time.Second)
	a := newApp(t, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.Now = func() time.Time { return midMinute }
	})

	// A login with a forged state, through a trusted proxy naming its client.
	c := browser()
	a.mustDo(c, http.MethodGet, a.url+"/auth/login", "", "")
	req, _ := http.NewRequest(http.MethodGet, a.url+"/auth/callback?state=forged&code=x", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.7")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	failed := auditRows(t, a, "user.login_failed")
	if len(failed) != 1 || failed[0].ClientAddr == nil || *failed[0].ClientAddr != "203.0.113.7" || !strings.Contains(failed[0].Detail, "stale") {
		t.Fatalf("refused login: %+v", failed)
	}

	// Fifteen wrong tokens in a minute: one event at once, one summary later.
	for range 15 {
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("wrong token: %d", resp.StatusCode)
		}
	}
	if rows := auditRows(t, a, "api_token.rejected"); len(rows) != 1 || rows[0].ClientAddr == nil || *rows[0].ClientAddr != "127.0.0.1" {
		t.Fatalf("first rejected token: %+v", rows)
	}
	a.srv.security.flush(midMinute.Add(time.Minute))
	rows := auditRows(t, a, "api_token.rejected")
	if len(rows) != 2 || !strings.Contains(rows[1].Detail, `"repeated":14`) || rows[1].ClientAddr == nil || *rows[1].ClientAddr != "127.0.0.1" {
		t.Fatalf("the flood is not one summary: %+v", rows)
	}

	// Downloads, on a page and through the API.
	aude := a.as("aude")
	if r := a.get(aude, "/audit/export?format=csv"); r.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", r.StatusCode)
	}
	var out map[string]any
	if status := a.api("aude", http.MethodGet, "/audit/export", nil, &out); status != http.StatusOK {
		t.Fatalf("API export: %d", status)
	}
	exports := auditRows(t, a, "audit.exported")
	if len(exports) != 2 || exports[0].Actor != email("aude") || exports[0].ClientAddr == nil {
		t.Fatalf("downloads: %+v", exports)
	}
}

func TestClientAddress(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,proxy.example"); err == nil {
		t.Error("a host name was taken as a proxy")
	}
	for _, tc := range []struct{ remote, xff, want string }{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},          // not a proxy: its header is ignored
		{"10.1.2.3:4000", "198.51.100.1", "198.51.100.1"},            // a trusted proxy names the client
		{"10.1.2.3:4000", "6.6.6.6, 198.51.100.1", "198.51.100.1"},   // what the client wrote to the left is ignored
		{"10.1.2.3:4000", "198.51.100.1, 192.0.2.1", "198.51.100.1"}, // through two trusted proxies
		{"10.1.2.3:4000", "garbage, 10.9.9.9", "10.9.9.9"},           // a garbled hop stops the walk
		{"[::ffff:10.1.2.3]:4000", "198.51.100.1", "198.51.100.1"},   // mapped addresses
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientAddrOf(r, proxies); got != tc.want {
			t.Errorf("%s with %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// The client address an event was recorded with is shown to auditors in
// the audit log browser; behind a trusted proxy it is the forwarded one.
func TestAuditLogShowsClientAddress(t *testing.T) {
	a := newApp(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	r, _ := http.NewRequest(http.MethodGet, a.url+"/auth/callback?state=forged&code=x", nil)
	r.Header.Set("X-Forwarded-For", "198.51.100.77")
	if resp, err := browser().Do(r); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	body := a.body(a.get(a.as("aude"), "/audit/log"))
	if !strings.Contains(body, `<small class="mono client-addr">198.51.100.77</small>`) {
		t.Error("the audit log does not show the refused login's client address")
	}
}

// Item 11 of issue 12: guessing and costly calls are limited per client and
// per user (429 with Retry-After); reads are not.
func TestRateLimits(t *testing.T) {
	// Every bucket reads the server's clock, frozen here: no bucket refills
	// during the test, however slowly the calls run.
	frozen := time.Now()
	a := newApp(t, func(c *Config) { c.Now = func() time.Time { return frozen } })
	call := func(method, path, token, body string) *http.Response {
		req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	limited := func(what string, n int, do func() *http.Response) {
		t.Helper()
		for i := 1; i <= n; i++ {
			r := do()
			if r.StatusCode == http.StatusTooManyRequests {
				if r.Header.Get("Retry-After") == "" {
					t.Fatalf("%s: 429 without Retry-After", what)
				}
				return
			}
		}
		t.Fatalf("%s: %d calls and no 429", what, n)
	}
	// Reads are never limited: the estate benchmark drives 32 connections from one client.
	alice := a.tokens[email("alice")]
	for i := range 300 {
		if r := call("GET", "/api/v1/requests", alice, ""); r.StatusCode != http.StatusOK {
			t.Fatalf("read %d: %d", i, r.StatusCode)
		}
	}
	page := a.as("rita")
	for i := range 100 {
		if r := a.get(page, "/requests"); r.StatusCode != http.StatusOK {
			t.Fatalf("page view %d: %d", i, r.StatusCode)
		}
	}
	// Evaluations: alice runs out; bob, from the same address, does not.
	limited("evaluate", 40, func() *http.Response { return call("POST", "/api/v1/evaluate", alice, `{}`) })
	if r := call("POST", "/api/v1/evaluate", a.tokens[email("pat")], `{}`); r.StatusCode == http.StatusTooManyRequests {
		t.Error("another user is limited by alice's evaluations")
	}
	// Exports.
	limited("audit export", 100, func() *http.Response { return call("GET", "/api/v1/audit/export", a.tokens[email("aude")], "") })
	// A report's PDF is drawn on each download: an export like the others.
	admin := a.as("adam")
	limited("report PDF", 100, func() *http.Response { r := a.get(admin, "/reports/999999/pdf"); a.body(r); return r })
	// Login attempts, per client.
	limited("login", 80, func() *http.Response { return a.get(browser(), "/auth/login") })
	// Wrong tokens: the client is refused, even with a right token, until the bucket refills.
	limited("wrong tokens", 30, func() *http.Response { return call("GET", "/api/v1/me", "wrong", "") })
	if r := call("GET", "/api/v1/me", alice, ""); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a client guessing tokens is still served: %d", r.StatusCode)
	}
}

func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newBucketSet(Limit{Burst: 2, PerMinute: 60})
	b.now = func() time.Time { return now }
	if b.take("k") != 0 || b.take("k") != 0 {
		t.Fatal("the burst is refused")
	}
	if w := b.take("k"); w <= 0 || w > time.Second {
		t.Fatalf("third call waits %v, want up to 1s", w)
	}
	now = now.Add(time.Second)
	if b.take("k") != 0 {
		t.Fatal("no refill after a second")
	}
	if b.take("other") != 0 {
		t.Fatal("keys share a bucket")
	}
}

// Item 12 of issue 12: what an attacker can put in front of a user's eyes.
func TestDisplayHygiene(t *testing.T) {
	a := newApp(t)
	// The provider's error text comes from a query string anyone can write:
	// it is logged, never shown.
	r := a.get(browser(), "/auth/callback?error=access_denied&error_description=Your+account+is+locked.+Call+%2B1-555-0100")
	if body := a.body(r); r.StatusCode != http.StatusUnauthorized || strings.Contains(body, "555-0100") || strings.Contains(body, "access_denied") {
		t.Fatalf("provider error text on our page: %d %.400s", r.StatusCode, body)
	}
	// Bidi controls in a title do not reach the page.
	in := map[string]any{"title": "Open 443 \u202eto the internet\u202c \u2066x\u2069", "justification": "j",
		"rules": []map[string]any{{"source": "office", "destination": "127.40.0.15", "protocol": "tcp", "ports": "443"}}}
	var created struct {
		ID uint `json:"id"`
	}
	if st := a.api("alice", http.MethodPost, "/requests", in, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	// Every event written under a request records its client (item 6).
	if rows := auditRows(t, a, "create"); len(rows) == 0 || rows[len(rows)-1].ClientAddr == nil || *rows[len(rows)-1].ClientAddr != "127.0.0.1" {
		t.Errorf("the request's creation does not record the client address: %+v", rows)
	}
	alice := a.as("alice")
	for _, path := range []string{fmt.Sprintf("/requests/%d", created.ID), "/requests"} {
		body := a.body(a.get(alice, path))
		if !strings.Contains(body, "Open 443 to the internet") {
			t.Fatalf("%s does not show the title: %.300s", path, body)
		}
		if strings.ContainsAny(body, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
			t.Errorf("%s shows bidi controls", path)
		}
	}
}

// Item 9 of issue 12 (validation): addresses that are no host, and host
// names with line breaks or markup, are refused; an admin's allow-list
// admits special ranges; loopback only where the server allows it.
func TestAssetAddressesAreChecked(t *testing.T) {
	a := newApp(t)
	save := func(addr, host string) (int, string) {
		var out struct {
			Error struct{ Field, Message string }
		}
		st := a.api("adam", http.MethodPost, "/assets", map[string]any{"address": addr, "hostname": host}, &out)
		return st, out.Error.Field + ": " + out.Error.Message
	}
	for _, tc := range []struct{ addr, host, field, want string }{
		{"169.254.169.254", "", "address", "metadata"},
		{"0.0.0.0", "", "address", "unspecified"},
		{"::", "", "address", "unspecified"},
		{"255.255.255.255", "", "address", "broadcast"},
		{"239.1.2.3", "", "address", "multicast"},
		{"fe80::1", "", "address", "link-local"},
		{"198.51.100.20", "web\n<script>", "hostname", "not a host name"},
	} {
		if st, msg := save(tc.addr, tc.host); st != http.StatusBadRequest || !strings.HasPrefix(msg, tc.field+": ") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %q: %d %q, want 400 on %s saying %q", tc.addr, tc.host, st, msg, tc.field, tc.want)
		}
	}
	// The public (NAT) address is scanned from the internet agent: the same rules.
	var pub struct {
		Error struct{ Field, Message string }
	}
	for _, p := range []string{"169.254.169.254", "0.0.0.0", "224.0.0.1"} {
		if st := a.api("adam", http.MethodPost, "/assets", map[string]any{"address": "198.51.100.21", "public_address": p}, &pub); st != http.StatusBadRequest || pub.Error.Field != "public_address" {
			t.Errorf("public address %s: %d %+v, want 400 on public_address", p, st, pub.Error)
		}
	}
	if st, msg := save("127.40.0.99", "loop"); st != http.StatusCreated {
		t.Fatalf("loopback on a test server: %d %s", st, msg)
	}
	a.svc.Inventory.RefuseLoopbackAssets(true)
	if st, msg := save("127.40.0.98", ""); st != http.StatusBadRequest || !strings.Contains(msg, "loopback") {
		t.Errorf("loopback on a production server: %d %s", st, msg)
	}
	// The admin allows one link-local range.
	adam := a.as("adam")
	body := a.body(a.get(adam, "/admin/settings"))
	form := url.Values{}
	for _, m := range regexp.MustCompile(`name="([a-z0-9_]+)" value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	form.Set("asset_address_allow", "not-a-cidr")
	if r := a.post(adam, "/admin/settings", form); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad allow-list was saved: %d", r.StatusCode)
	}
	form.Set("asset_address_allow", "169.254.10.0/24")
	if r := a.post(adam, "/admin/settings", form); r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusOK {
		t.Fatalf("saving the allow-list: %d %.300s", r.StatusCode, a.body(r))
	}
	if st, msg := save("169.254.10.7", ""); st != http.StatusCreated {
		t.Errorf("allowed link-local range: %d %s", st, msg)
	}
	if st, _ := save("169.254.11.7", ""); st != http.StatusBadRequest {
		t.Errorf("link-local outside the allow-list: %d", st)
	}
}

// A flood from many addresses is bounded too: past maxSummaryKeys windows,
// new clients share one window per action.
func TestSecurityLogIsBounded(t *testing.T) {
	var written int
	now := time.Unix(6000, 0)
	l := newSecurityLog(func(context.Context, core.Actor, string, map[string]any) { written++ })
	l.now = func() time.Time { return now }
	for i := range maxSummaryKeys + 500 {
		ctx := core.WithClientAddr(context.Background(), fmt.Sprintf("addr-%d", i))
		l.record(ctx, core.AnonymousActor, "api_token.rejected", nil)
	}
	if written != maxSummaryKeys+1 || len(l.windows) != maxSummaryKeys+1 {
		t.Fatalf("%d events written, %d windows; want %d of each", written, len(l.windows), maxSummaryKeys+1)
	}
	l.flush(now.Add(time.Minute))
	if written != maxSummaryKeys+2 || len(l.windows) != 0 {
		t.Fatalf("after the minute: %d written, %d windows", written, len(l.windows))
	}
}
