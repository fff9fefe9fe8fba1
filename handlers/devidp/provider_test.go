package devidp

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "portcullis"
	testClientSecret = "portcullis-secret"
	testRedirectURI  = "http://127.0.0.1:8080/auth/callback"
	// otherRedirectURI is registered too, to show that the token request must
	// repeat the redirect URI of the authorization request, not just any registered one.
	otherRedirectURI = "http://127.0.0.1:8080/other/callback"
	otherClientID    = "other-app"
	otherSecret      = "other-secret"
)

var (
	alice = User{Subject: "u-alice", Email: "alice@example.test", Name: "Alice Admin", Groups: []string{"admins", "staff"}, Password: "alice-pw"}
	bob   = User{Subject: "u-bob", Email: "bob@example.test", Name: "Bob Builder", Password: "bob-pw"}
)

// testClock is a settable clock, safe to read from server goroutines.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testEnv is a provider on a real loopback listener plus the client side of
// the flow, built from the same libraries the application uses.
type testEnv struct {
	t        *testing.T
	ctx      context.Context
	provider *Provider
	server   *httptest.Server
	clock    *testClock
	oidc     *oidc.Provider
	// browser posts the login form; it does not follow redirects, so the
	// redirect back to the client can be inspected.
	browser *http.Client
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	// The issuer must be known before the provider is made, so take the
	// listener's address first and start serving afterwards.
	server := httptest.NewUnstartedServer(nil)
	issuer := "http://" + server.Listener.Addr().String()
	clients := []Client{
		{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{testRedirectURI, otherRedirectURI}},
		{ID: otherClientID, Secret: otherSecret, RedirectURIs: []string{"http://localhost:9090/cb"}},
	}
	provider, err := New(issuer, clients, []User{alice, bob}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	clock := &testClock{now: time.Now()}
	provider.now = clock.Now
	server.Config.Handler = provider
	server.Start()
	t.Cleanup(server.Close)

	ctx := oidc.ClientContext(t.Context(), server.Client())
	discovered, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	browser := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &testEnv{t: t, ctx: ctx, provider: provider, server: server, clock: clock, oidc: discovered, browser: browser}
}

func (e *testEnv) config(clientID, secret, redirectURI string, style oauth2.AuthStyle) oauth2.Config {
	endpoint := e.oidc.Endpoint()
	endpoint.AuthStyle = style
	return oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		RedirectURL:  redirectURI,
		Endpoint:     endpoint,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile", "groups"},
	}
}

func (e *testEnv) get(target string) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.browser.Get(target)
	if err != nil {
		e.t.Fatalf("GET %s: %v", target, err)
	}
	return resp, readBody(e.t, resp)
}

func (e *testEnv) postForm(target string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.browser.PostForm(target, form)
	if err != nil {
		e.t.Fatalf("POST %s: %v", target, err)
	}
	return resp, readBody(e.t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return string(body)
}

// hiddenInput matches the hidden fields as the login page template writes them.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// signIn loads the login page at authURL and submits it as a browser would:
// the hidden fields from the page plus the typed email and password.
func (e *testEnv) signIn(authURL, email, password string) (*http.Response, string) {
	e.t.Helper()
	resp, page := e.get(authURL)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login page: status %d, body:\n%s", resp.StatusCode, page)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", email)
	form.Set("password", password)
	return e.postForm(e.server.URL+"/authorize", form)
}

// authorization is one started authorization request.
type authorization struct {
	config   oauth2.Config
	state    string
	nonce    string
	verifier string
	url      string
}

func (e *testEnv) startAuthorization(config oauth2.Config) authorization {
	a := authorization{config: config, state: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
	a.url = config.AuthCodeURL(a.state, oidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier))
	return a
}

// code signs in as user and returns the authorization code from the redirect.
func (e *testEnv) code(a authorization, user User) string {
	e.t.Helper()
	resp, body := e.signIn(a.url, user.Email, user.Password)
	callback := redirectLocation(e.t, resp, body)
	if got := callback.Query().Get("state"); got != a.state {
		e.t.Fatalf("state = %q, want %q", got, a.state)
	}
	code := callback.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in redirect %s", callback)
	}
	return code
}

func redirectLocation(t *testing.T, resp *http.Response, body string) *url.URL {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect; body:\n%s", resp.StatusCode, body)
	}
	location, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("bad Location: %v", err)
	}
	return location
}

func TestFullFlow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
		user  User
	}{
		{"client_secret_basic", oauth2.AuthStyleInHeader, alice},
		{"client_secret_post", oauth2.AuthStyleInParams, alice},
		{"auto-detected auth, user without groups", oauth2.AuthStyleAutoDetect, bob},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			a := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, tc.style))

			resp, page := e.get(a.url)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("login page status %d", resp.StatusCode)
			}
			for _, want := range []string{`<label for="username">`, `<label for="password">`, alice.Email, bob.Email} {
				if !strings.Contains(page, want) {
					t.Errorf("login page lacks %q", want)
				}
			}

			code := e.code(a, tc.user)
			token, err := a.config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if token.TokenType != "Bearer" || token.Expiry.IsZero() {
				t.Errorf("token type %q, expiry %v; want Bearer with an expiry", token.TokenType, token.Expiry)
			}

			rawIDToken, _ := token.Extra("id_token").(string)
			idToken, err := e.oidc.Verifier(&oidc.Config{ClientID: testClientID}).Verify(e.ctx, rawIDToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if idToken.Nonce != a.nonce {
				t.Errorf("nonce = %q, want %q", idToken.Nonce, a.nonce)
			}
			if idToken.Subject != tc.user.Subject {
				t.Errorf("sub = %q, want %q", idToken.Subject, tc.user.Subject)
			}
			var claims struct {
				Email         string   `json:"email"`
				EmailVerified bool     `json:"email_verified"`
				Name          string   `json:"name"`
				Groups        []string `json:"groups"`
			}
			if err := idToken.Claims(&claims); err != nil {
				t.Fatalf("ID token claims: %v", err)
			}
			if claims.Email != tc.user.Email || !claims.EmailVerified || claims.Name != tc.user.Name {
				t.Errorf("claims = %+v, want email %q (verified), name %q", claims, tc.user.Email, tc.user.Name)
			}
			if claims.Groups == nil || !slices.Equal(claims.Groups, tc.user.Groups) {
				t.Errorf("groups = %#v, want %#v", claims.Groups, tc.user.Groups)
			}

			info, err := e.oidc.UserInfo(e.ctx, oauth2.StaticTokenSource(token))
			if err != nil {
				t.Fatalf("UserInfo: %v", err)
			}
			var infoClaims struct {
				Groups []string `json:"groups"`
				Name   string   `json:"name"`
			}
			if err := info.Claims(&infoClaims); err != nil {
				t.Fatalf("userinfo claims: %v", err)
			}
			if info.Subject != tc.user.Subject || info.Email != tc.user.Email || infoClaims.Name != tc.user.Name ||
				!slices.Equal(infoClaims.Groups, tc.user.Groups) {
				t.Errorf("userinfo = %+v %+v, want %+v", info, infoClaims, tc.user)
			}
		})
	}
}

func TestDiscoveryAdvertisesOnlyS256(t *testing.T) {
	e := newTestEnv(t)
	var metadata struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := e.oidc.Claims(&metadata); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(metadata.Methods, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", metadata.Methods)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	e := newTestEnv(t)
	valid := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader))

	// withParams returns the valid authorization URL with some parameters changed;
	// an empty value removes the parameter.
	withParams := func(changes map[string]string) string {
		u, err := url.Parse(valid.url)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		for name, value := range changes {
			if value == "" {
				q.Del(name)
			} else {
				q.Set(name, value)
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}

	// These must be answered with an error page: redirecting would send the
	// browser to a URI the client never registered.
	for _, tc := range []struct {
		name    string
		url     string
		message string
	}{
		{"unknown client", withParams(map[string]string{"client_id": "intruder"}), "Unknown client_id"},
		{"missing client", withParams(map[string]string{"client_id": ""}), "Unknown client_id"},
		{"unregistered redirect URI", withParams(map[string]string{"redirect_uri": "https://attacker.example/cb"}), "not registered"},
		{"redirect URI of another client", withParams(map[string]string{"redirect_uri": "http://localhost:9090/cb"}), "not registered"},
		{"redirect URI prefix only", withParams(map[string]string{"redirect_uri": testRedirectURI + "/x"}), "not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.get(tc.url)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, tc.message) {
				t.Errorf("error page lacks %q:\n%s", tc.message, body)
			}
		})
	}

	// Once the redirect URI is known to be registered, errors go back to it.
	for _, tc := range []struct {
		name      string
		url       string
		wantError string
	}{
		{"missing PKCE", withParams(map[string]string{"code_challenge": "", "code_challenge_method": ""}), "invalid_request"},
		{"PKCE method plain", withParams(map[string]string{"code_challenge_method": "plain", "code_challenge": valid.verifier}), "invalid_request"},
		{"PKCE method missing (defaults to plain)", withParams(map[string]string{"code_challenge_method": ""}), "invalid_request"},
		{"malformed challenge", withParams(map[string]string{"code_challenge": "short"}), "invalid_request"},
		{"implicit flow", withParams(map[string]string{"response_type": "token"}), "unsupported_response_type"},
		{"no openid scope", withParams(map[string]string{"scope": "email"}), "invalid_scope"},
		{"prompt=none", withParams(map[string]string{"prompt": "none"}), "login_required"},
		{"repeated parameter", valid.url + "&scope=openid", "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.get(tc.url)
			location := redirectLocation(t, resp, body)
			if got := location.Scheme + "://" + location.Host + location.Path; got != testRedirectURI {
				t.Errorf("redirected to %s, want %s", got, testRedirectURI)
			}
			q := location.Query()
			if q.Get("error") != tc.wantError || q.Get("state") != valid.state || q.Get("code") != "" {
				t.Errorf("redirect query = %v, want error %q with state and no code", q, tc.wantError)
			}
		})
	}
}

func TestSignInForm(t *testing.T) {
	e := newTestEnv(t)
	a := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader))

	for _, tc := range []struct {
		name, email, password string
	}{
		{"wrong password", alice.Email, "not-her-password"},
		{"another user's password", alice.Email, bob.Password},
		{"unknown user", "mallory@example.test", "whatever"},
		{"empty password", alice.Email, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := e.signIn(a.url, tc.email, tc.password)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q; want the form again", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(page, `id="password-error"`) || !strings.Contains(page, "Incorrect email or password.") {
				t.Errorf("page lacks the error message:\n%s", page)
			}
			if !strings.Contains(page, `value="`+html.EscapeString(tc.email)+`"`) {
				t.Errorf("page does not keep the typed email %q", tc.email)
			}
		})
	}

	t.Run("email is case-insensitive", func(t *testing.T) {
		resp, body := e.signIn(a.url, strings.ToUpper(alice.Email), alice.Password)
		if q := redirectLocation(t, resp, body).Query(); q.Get("code") == "" {
			t.Errorf("no code in %v", q)
		}
	})

	t.Run("demo user link fills in the email", func(t *testing.T) {
		_, page := e.get(a.url)
		link := regexp.MustCompile(`<a href="([^"]*)">` + regexp.QuoteMeta(bob.Name) + `</a>`).FindStringSubmatch(page)
		if link == nil {
			t.Fatalf("no link for %s on the login page:\n%s", bob.Name, page)
		}
		_, prefilled := e.get(e.server.URL + html.UnescapeString(link[1]))
		if !strings.Contains(prefilled, `value="`+html.EscapeString(bob.Email)+`"`) {
			t.Errorf("email not filled in:\n%s", prefilled)
		}
		if strings.Count(prefilled, `type="hidden"`) != strings.Count(page, `type="hidden"`) {
			t.Errorf("the prefilled page lost authorization parameters")
		}
	})
}

func TestLoginPageEscapesParameters(t *testing.T) {
	e := newTestEnv(t)
	config := e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader)
	a := e.startAuthorization(config)
	a.state = `"><script>alert(1)</script>`
	a.url = config.AuthCodeURL(a.state, oidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier))

	_, page := e.get(a.url)
	if strings.Contains(page, "<script>") {
		t.Fatalf("state was not escaped:\n%s", page)
	}
	// The escaped state must still come back intact after signing in.
	e.code(a, alice)
}

func TestTokenRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		// exchange redeems a freshly issued code for the test client; it returns
		// the error of the attempt that must fail.
		exchange   func(e *testEnv, a authorization, code string) error
		wantStatus int
		wantError  string
	}{
		{
			name: "wrong verifier",
			exchange: func(e *testEnv, a authorization, code string) error {
				_, err := a.config.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name: "missing verifier",
			exchange: func(e *testEnv, a authorization, code string) error {
				_, err := a.config.Exchange(e.ctx, code)
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name: "code reuse",
			exchange: func(e *testEnv, a authorization, code string) error {
				first, err := a.config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				if err != nil {
					e.t.Fatalf("first exchange: %v", err)
				}
				_, err = a.config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				// Replaying the code revokes the access token it produced.
				if _, infoErr := e.oidc.UserInfo(e.ctx, oauth2.StaticTokenSource(first)); infoErr == nil {
					e.t.Errorf("access token still valid after the code was replayed")
				}
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name: "expired code",
			exchange: func(e *testEnv, a authorization, code string) error {
				e.clock.Advance(codeLifetime + time.Second)
				_, err := a.config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name: "wrong client secret",
			exchange: func(e *testEnv, a authorization, code string) error {
				config := e.config(testClientID, "guessed", testRedirectURI, oauth2.AuthStyleInHeader)
				_, err := config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name: "wrong client secret in body",
			exchange: func(e *testEnv, a authorization, code string) error {
				config := e.config(testClientID, "guessed", testRedirectURI, oauth2.AuthStyleInParams)
				_, err := config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name: "unknown client",
			exchange: func(e *testEnv, a authorization, code string) error {
				config := e.config("intruder", testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader)
				_, err := config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name: "code issued to another client",
			exchange: func(e *testEnv, a authorization, code string) error {
				config := e.config(otherClientID, otherSecret, testRedirectURI, oauth2.AuthStyleInHeader)
				_, err := config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name: "different registered redirect URI",
			exchange: func(e *testEnv, a authorization, code string) error {
				config := e.config(testClientID, testClientSecret, otherRedirectURI, oauth2.AuthStyleInHeader)
				_, err := config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name: "unknown code",
			exchange: func(e *testEnv, a authorization, code string) error {
				_, err := a.config.Exchange(e.ctx, "made-up", oauth2.VerifierOption(a.verifier))
				return err
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			a := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader))
			err := tc.exchange(e, a, e.code(a, alice))
			var retrieveErr *oauth2.RetrieveError
			if !errors.As(err, &retrieveErr) {
				t.Fatalf("error = %v, want an OAuth error response", err)
			}
			if retrieveErr.Response.StatusCode != tc.wantStatus || retrieveErr.ErrorCode != tc.wantError {
				t.Errorf("got %d %q (%s), want %d %q", retrieveErr.Response.StatusCode, retrieveErr.ErrorCode,
					retrieveErr.ErrorDescription, tc.wantStatus, tc.wantError)
			}
		})
	}
}

func TestFailedVerifierUsesUpCode(t *testing.T) {
	e := newTestEnv(t)
	a := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader))
	code := e.code(a, alice)
	if _, err := a.config.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("exchange with a wrong verifier succeeded")
	}
	// Otherwise a stolen code could be tried against many guessed verifiers.
	if _, err := a.config.Exchange(e.ctx, code, oauth2.VerifierOption(a.verifier)); err == nil {
		t.Fatal("code still redeemable after a failed attempt")
	}
}

func TestTokenRequestFormat(t *testing.T) {
	e := newTestEnv(t)
	tokenURL := e.server.URL + "/token"

	for _, tc := range []struct {
		name       string
		form       url.Values
		basicAuth  bool
		wantStatus int
		wantError  string
	}{
		{"both Basic and body secrets", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_secret": {testClientSecret}}, true, http.StatusBadRequest, "invalid_request"},
		{"no client authentication", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {testClientID}}, false, http.StatusUnauthorized, "invalid_client"},
		{"unsupported grant type", url.Values{"grant_type": {"client_credentials"}}, true, http.StatusBadRequest, "unsupported_grant_type"},
		{"missing code", url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {testRedirectURI}}, true, http.StatusBadRequest, "invalid_request"},
		{"missing redirect URI", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, true, http.StatusBadRequest, "invalid_request"},
		{"repeated parameter", url.Values{"grant_type": {"authorization_code", "authorization_code"}, "code": {"x"}}, true, http.StatusBadRequest, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(tc.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.basicAuth {
				req.SetBasicAuth(testClientID, testClientSecret)
			}
			resp, err := e.browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(body, `"error":"`+tc.wantError+`"`) {
				t.Errorf("got %d %s, want %d %q", resp.StatusCode, body, tc.wantStatus, tc.wantError)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}

	t.Run("GET is not allowed", func(t *testing.T) {
		resp, _ := e.get(tokenURL)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", resp.StatusCode)
		}
	})
}

func TestUserinfoRefusals(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		name          string
		authorization string
		wantChallenge string
	}{
		{"no token", "", `Bearer realm="devidp"`},
		{"unknown token", "Bearer made-up", `Bearer realm="devidp", error="invalid_token"`},
		{"wrong scheme", "Basic " + testClientSecret, `Bearer realm="devidp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.server.URL+"/userinfo", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			resp, err := e.browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != tc.wantChallenge {
				t.Errorf("got %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.wantChallenge)
			}
		})
	}

	t.Run("expired token", func(t *testing.T) {
		a := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader))
		token, err := a.config.Exchange(e.ctx, e.code(a, alice), oauth2.VerifierOption(a.verifier))
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(tokenLifetime)
		if _, err := e.oidc.UserInfo(e.ctx, oauth2.StaticTokenSource(token)); err == nil {
			t.Error("userinfo accepted an expired access token")
		}
	})
}

func TestNewChecksIssuer(t *testing.T) {
	clients := []Client{{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{testRedirectURI}}}
	for _, tc := range []struct {
		issuer string
		ok     bool
	}{
		{"http://127.0.0.1:43117", true},
		{"http://127.1.2.3:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:9000", true},
		{"https://127.0.0.1", true},
		{"http://127.0.0.1:43117/", true},
		{"http://example.com", false},
		{"https://portcullis.example.org", false},
		{"http://10.0.0.5:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://[::]:8080", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://localhost.example.com", false},
		{"ftp://127.0.0.1", false},
		{"http://127.0.0.1/idp", false},
		{"127.0.0.1:8080", false},
		{"", false},
	} {
		_, err := New(tc.issuer, clients, []User{alice}, nil)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) error = %v, want ok=%v", tc.issuer, err, tc.ok)
		}
	}
}

func TestNewChecksConfiguration(t *testing.T) {
	const issuer = "http://127.0.0.1:43117"
	client := Client{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{testRedirectURI}}
	for _, tc := range []struct {
		name    string
		clients []Client
		users   []User
	}{
		{"duplicate client", []Client{client, client}, []User{alice}},
		{"client without secret", []Client{{ID: "x", RedirectURIs: []string{testRedirectURI}}}, []User{alice}},
		{"client without redirect URIs", []Client{{ID: "x", Secret: "s"}}, []User{alice}},
		{"relative redirect URI", []Client{{ID: "x", Secret: "s", RedirectURIs: []string{"/callback"}}}, []User{alice}},
		{"duplicate email", []Client{client}, []User{alice, {Subject: "other", Email: strings.ToUpper(alice.Email), Password: "p"}}},
		{"duplicate subject", []Client{client}, []User{alice, {Subject: alice.Subject, Email: "x@example.test", Password: "p"}}},
		{"user without password", []Client{client}, []User{{Subject: "s", Email: "x@example.test"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(issuer, tc.clients, tc.users, nil); err == nil {
				t.Error("New accepted the configuration")
			}
		})
	}
}

func TestExpiredEntriesAreForgotten(t *testing.T) {
	e := newTestEnv(t)
	a := e.startAuthorization(e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader))
	if _, err := a.config.Exchange(e.ctx, e.code(a, alice), oauth2.VerifierOption(a.verifier)); err != nil {
		t.Fatal(err)
	}
	e.code(a, bob) // an unredeemed code

	e.clock.Advance(tokenLifetime)
	e.code(a, alice) // issuing a code sweeps out what has expired

	e.provider.mu.Lock()
	defer e.provider.mu.Unlock()
	if len(e.provider.codes) != 1 || len(e.provider.accessTokens) != 0 {
		t.Errorf("%d codes and %d access tokens kept, want only the newest code", len(e.provider.codes), len(e.provider.accessTokens))
	}
}
