package handlers

import (
	"net/http"
	"strings"
	"testing"
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
