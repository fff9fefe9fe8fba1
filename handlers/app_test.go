package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/handlers/devidp"
	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/demo"
	"gorm.io/gorm"
)

// app is a running Portcullis on loopback with its development identity
// provider and the demo organisation.
type app struct {
	t      *testing.T
	url    string
	svc    *workflow.App
	srv    *Server
	idp    *httptest.Server
	tokens map[string]string // by e-mail
	// provider is the development identity provider behind idp.
	provider *devidp.Provider
}

// newApp starts the server with the demo organisation; configure adjusts
// its configuration.
func newApp(t *testing.T, configure ...func(*Config)) *app {
	t.Helper()
	return newAppOn(t, modelstest.SQLite(t), configure...)
}

// newAppOn is newApp on a given database.
func newAppOn(t *testing.T, db *gorm.DB, configure ...func(*Config)) *app {
	t.Helper()
	svc := workflow.New(db, modelstest.Logger())
	if err := svc.Identity.SetRefreshKey(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()

	idp := httptest.NewUnstartedServer(nil)
	issuer := "http://" + idp.Listener.Addr().String()
	var users []devidp.User
	for _, u := range demo.Users {
		users = append(users, devidp.User{Subject: u.Subject, Email: u.Email, Name: u.Name, Password: demo.Password, Groups: demo.Groups(u, "team:")})
	}
	users = append(users, devidp.User{Subject: "nogroup", Email: "nogroup@demo.portcullis.test", Name: "No Group", Password: demo.Password, Groups: []string{"staff"}})
	provider, err := devidp.New(issuer, []devidp.Client{{ID: "app", Secret: "s3cret", RedirectURIs: []string{appURL + "/auth/callback"}}}, users, nil)
	if err != nil {
		t.Fatal(err)
	}
	idp.Config.Handler = provider
	idp.Start()
	t.Cleanup(idp.Close)
	if err := demo.Seed(context.Background(), svc, issuer); err != nil {
		t.Fatal(err)
	}
	cfg := Config{PublicURL: appURL, OIDC: OIDCConfig{Issuer: issuer, ClientID: "app", ClientSecret: "s3cret", TeamGroupPrefix: "team:"}}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := New(cfg, svc, modelstest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Routes()}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	a := &app{t: t, url: appURL, svc: svc, srv: srv, idp: idp, tokens: map[string]string{}, provider: provider}
	for _, u := range demo.Users {
		secret, _, err := svc.Identity.CreateToken(context.Background(), core.SystemActor, u.Email, "test")
		if err != nil {
			t.Fatal(err)
		}
		a.tokens[u.Email] = secret
	}
	return a
}

func email(name string) string { return name + "@demo.portcullis.test" }

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// browser is an HTTP client with its own cookies that does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login runs the real OIDC flow: the app's login redirect, the identity
// provider's form, the callback. It returns the client and the callback's response.
func (a *app) login(name, password string) (*http.Client, *http.Response) {
	a.t.Helper()
	c := browser()
	resp := a.mustDo(c, http.MethodGet, a.url+"/auth/login", "", "")
	authURL := resp.Header.Get("Location")
	if !strings.HasPrefix(authURL, a.idp.URL+"/authorize?") {
		a.t.Fatalf("login redirected to %q", authURL)
	}
	q, _ := url.Parse(authURL)
	if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("nonce") == "" || q.Query().Get("state") == "" {
		a.t.Fatalf("authorization request lacks PKCE, nonce or state: %s", authURL)
	}
	page := a.body(a.mustDo(c, http.MethodGet, authURL, "", ""))
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", email(name))
	form.Set("password", password)
	resp = a.mustDo(c, http.MethodPost, a.idp.URL+"/authorize", form.Encode(), "application/x-www-form-urlencoded")
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, a.url+"/auth/callback") {
		a.t.Fatalf("identity provider answered %d, location %q", resp.StatusCode, cb)
	}
	return c, a.mustDo(c, http.MethodGet, cb, "", "")
}

// as logs a demo user in and fails the test unless it worked.
func (a *app) as(name string) *http.Client {
	a.t.Helper()
	c, resp := a.login(name, demo.Password)
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("login of %s: status %d: %s", name, resp.StatusCode, a.body(resp))
	}
	return c
}

func (a *app) mustDo(c *http.Client, method, u, body, contentType string) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (a *app) body(resp *http.Response) string {
	a.t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return string(b)
}

// post sends a form as a browser on the app's own origin would.
func (a *app) post(c *http.Client, path string, form url.Values) *http.Response {
	a.t.Helper()
	return a.mustDo(c, http.MethodPost, a.url+path, form.Encode(), "application/x-www-form-urlencoded")
}

func (a *app) get(c *http.Client, path string) *http.Response {
	a.t.Helper()
	return a.mustDo(c, http.MethodGet, a.url+path, "", "")
}

// api calls the JSON API with a demo user's token and decodes the answer into out.
func (a *app) api(name, method, path string, in, out any) int {
	a.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, a.url+"/api/v1"+path, body)
	if name != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[email(name)])
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: status %d, body %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func idOf(t *testing.T, location string) uint {
	t.Helper()
	var id uint
	if _, err := fmt.Sscanf(location, "/requests/%d", &id); err != nil {
		t.Fatalf("location %q: %v", location, err)
	}
	return id
}

// queuedScan is the oldest queued scan run (the tests run it themselves,
// through the function the scan job calls).
func (a *app) queuedScan(t *testing.T) uint {
	t.Helper()
	var ids []uint
	if err := a.svc.DB().Model(&models.ScanRun{}).Where("status = ?", "queued").Order("id").Limit(1).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
		t.Fatalf("no queued scan: %v", err)
	}
	return ids[0]
}
