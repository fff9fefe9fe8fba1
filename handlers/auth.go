package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"golang.org/x/oauth2"
)

// OIDCConfig names the identity provider and how its groups map to roles.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// GroupsClaim is the ID token claim holding the user's groups.
	GroupsClaim string
	// RoleGroups maps each role to the groups that grant it.
	RoleGroups map[core.Role][]string
	// TeamGroupPrefix marks the group that names the user's team ("team:payments").
	TeamGroupPrefix string
}

// DefaultRoleGroups grants role R to members of the group "portcullis-R".
func DefaultRoleGroups() map[core.Role][]string {
	m := map[core.Role][]string{}
	for _, r := range core.AllRoles {
		m[r] = []string{"portcullis-" + string(r)}
	}
	return m
}

// ParseRoleGroups reads "requester=g1|g2,reviewer=g3".
func ParseRoleGroups(s string) (map[core.Role][]string, error) {
	m := map[core.Role][]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, groups, ok := strings.Cut(part, "=")
		role, known := core.ParseRole(name)
		if !ok || !known {
			return nil, fmt.Errorf("role mapping %q: want ROLE=GROUP[|GROUP...] with ROLE one of requester, reviewer, approver, implementer, auditor, admin", part)
		}
		for _, g := range strings.Split(groups, "|") {
			if g = strings.TrimSpace(g); g != "" {
				m[role] = append(m[role], g)
			}
		}
	}
	if len(m) == 0 {
		return nil, errors.New("role mapping is empty")
	}
	return m, nil
}

// oidcClient discovers the provider lazily, so the server starts even when
// the identity provider is briefly unreachable, and retries on the next login.
type oidcClient struct {
	cfg         OIDCConfig
	redirectURL string
	mu          sync.Mutex
	provider    *oidc.Provider
	// offline: the provider lists offline_access in scopes_supported, so a
	// login asks for a refresh token the access check can use.
	offline bool
}

func (c *oidcClient) get(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("identity provider %s: %w", c.cfg.Issuer, err)
		}
		var discovery struct {
			Scopes []string `json:"scopes_supported"`
		}
		if p.Claims(&discovery) == nil {
			c.offline = slices.Contains(discovery.Scopes, oidc.ScopeOfflineAccess)
		}
		c.provider = p
	}
	scopes := []string{oidc.ScopeOpenID, "profile", "email", "groups"}
	if c.offline {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	return c.provider, &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.redirectURL,
		Endpoint: c.provider.Endpoint(), Scopes: scopes,
	}, nil
}

// Session keys.
const (
	sessionUserID    = models.SessionUserKey // the session store files the row under it
	sessionLoginAt   = "login_at"
	sessionSeenAt    = "seen_at" // last activity, unix milliseconds, stamped at most once a minute
	sessionState     = "oidc_state"
	sessionNonce     = "oidc_nonce"
	sessionVerifier  = "oidc_verifier"
	sessionReturnTo  = "return_to"
	sessionFlash     = "flash"
	sessionFlashKind = "flash_kind"
)

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startLogin sends the browser to the identity provider with a fresh state,
// nonce and PKCE verifier kept in the (pre-login) session.
func (s *Server) startLogin(w http.ResponseWriter, r *http.Request) {
	_, oauth, err := s.oidc.get(r.Context())
	if err != nil {
		s.log.Error("login: identity provider unavailable", "err", err)
		s.renderError(w, r, http.StatusBadGateway, "The identity provider cannot be reached right now. Try again in a moment.")
		return
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	ctx := r.Context()
	s.sessions.Put(ctx, sessionState, state)
	s.sessions.Put(ctx, sessionNonce, nonce)
	s.sessions.Put(ctx, sessionVerifier, verifier)
	if rt := r.URL.Query().Get("return_to"); safeReturn(rt) {
		s.sessions.Put(ctx, sessionReturnTo, rt)
	}
	http.Redirect(w, r, oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// safeReturn accepts only local paths, so a login cannot be turned into an
// open redirect: no scheme or host, no "//" or backslash, and no control
// characters (browsers drop tabs and newlines, which would turn "/\t/evil"
// into "//evil").
func safeReturn(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// callback finishes the login: it checks state, exchanges the code with the
// PKCE verifier, verifies the ID token and its nonce, maps groups to roles,
// and renews the session token so a planted session id is worthless.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fail := func(status int, msg string, err error) {
		s.log.Warn("login refused", "reason", msg, "err", err, "client", core.ClientAddr(ctx))
		if status != http.StatusBadGateway { // an unreachable provider is not a failed login
			s.securityEvent(r, core.AnonymousActor, "user.login_failed", map[string]any{"reason": msg})
		}
		s.renderError(w, r, status, msg)
	}
	if e := r.URL.Query().Get("error"); e != "" {
		// The provider's words go to the log only: anyone can put text in
		// this query string, and it must not speak with our origin's voice.
		s.log.Warn("identity provider refused the login", "error", e, "description", r.URL.Query().Get("error_description"))
		fail(http.StatusUnauthorized, "The identity provider refused the login. Try again, or ask your administrator if it keeps happening.", nil)
		return
	}
	wantState := s.sessions.PopString(ctx, sessionState)
	nonce := s.sessions.PopString(ctx, sessionNonce)
	verifier := s.sessions.PopString(ctx, sessionVerifier)
	if wantState == "" || r.URL.Query().Get("state") != wantState {
		fail(http.StatusBadRequest, "This login link is stale or was not started here. Start the login again.", nil)
		return
	}
	provider, oauth, err := s.oidc.get(ctx)
	if err != nil {
		fail(http.StatusBadGateway, "The identity provider cannot be reached right now.", err)
		return
	}
	tok, err := oauth.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		fail(http.StatusUnauthorized, "The identity provider did not accept the login code.", err)
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID}).Verify(ctx, rawID)
	if err != nil {
		fail(http.StatusUnauthorized, "The ID token from the identity provider is not valid.", err)
		return
	}
	// go-oidc does not check the nonce: without this a replayed token would pass.
	if idToken.Nonce != nonce {
		fail(http.StatusUnauthorized, "The ID token does not answer this login (nonce mismatch).", nil)
		return
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		fail(http.StatusUnauthorized, "The ID token's claims cannot be read.", err)
		return
	}
	id := s.identityFrom(idToken.Issuer, idToken.Subject, claims)
	id.RefreshToken = tok.RefreshToken
	actor, err := s.app.Identity.Login(ctx, id)
	if err != nil {
		if core.ErrorCodeOf(err) == core.CodeForbidden {
			msg, _ := publicMessage(ctx, err)
			fail(http.StatusForbidden, msg, nil)
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Put(ctx, sessionUserID, int(actor.ID))
	now := s.cfg.Now()
	s.sessions.Put(ctx, sessionLoginAt, now.Unix()) // an int64: scs's gob codec has no time.Time registered
	s.sessions.Put(ctx, sessionSeenAt, now.UnixMilli())
	returnTo := s.sessions.PopString(ctx, sessionReturnTo)
	if returnTo == "" {
		returnTo = "/"
	}
	s.log.Info("login", "user", actor.Email, "roles", actor.Roles)
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// identityFrom maps the claims to an identity: roles from the groups claim
// through the configured mapping, the team from the team group.
func (s *Server) identityFrom(issuer, subject string, claims map[string]any) identity.Identity {
	str := func(k string) string { v, _ := claims[k].(string); return v }
	var groups []string
	switch g := claims[s.cfg.OIDC.GroupsClaim].(type) {
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok {
				groups = append(groups, s)
			}
		}
	case string:
		groups = strings.Fields(strings.ReplaceAll(g, ",", " "))
	}
	id := identity.Identity{Issuer: issuer, Subject: subject, Email: str("email"), Name: str("name")}
	for _, role := range core.AllRoles {
		for _, g := range s.cfg.OIDC.RoleGroups[role] {
			if containsFold(groups, g) {
				id.Roles = append(id.Roles, role)
				break
			}
		}
	}
	if p := s.cfg.OIDC.TeamGroupPrefix; p != "" {
		for _, g := range groups {
			if strings.HasPrefix(g, p) {
				id.Team = strings.TrimPrefix(g, p)
				break
			}
		}
	}
	return id
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// logout destroys the session server-side; the cookie alone is worthless afterwards.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
}

type ctxKey int

const actorKey ctxKey = iota

// actorFrom returns the authenticated actor of a request.
func actorFrom(r *http.Request) (core.Actor, bool) {
	a, ok := r.Context().Value(actorKey).(core.Actor)
	return a, ok
}

// withSessionActor loads the logged-in user for pages; absent one, the browser goes to the login page.
func (s *Server) withSessionActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		uid := s.sessions.GetInt(ctx, sessionUserID)
		loginAt := time.Unix(s.sessions.GetInt64(ctx, sessionLoginAt), 0)
		seenAt := time.UnixMilli(s.sessions.GetInt64(ctx, sessionSeenAt))
		now := s.cfg.Now()
		if uid == 0 || now.Sub(loginAt) > s.cfg.SessionLifetime || now.Sub(seenAt) > s.cfg.SessionIdle {
			if uid != 0 {
				_ = s.sessions.Destroy(ctx)
			}
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?return_to=" + urlQueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		actor, err := s.app.Identity.ActorByID(ctx, uint(uid))
		if err != nil {
			_ = s.sessions.Destroy(ctx)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if now.Sub(seenAt) >= activityStamp(s.cfg.SessionIdle) {
			s.sessions.Put(ctx, sessionSeenAt, now.UnixMilli())
		}
		ctx = context.WithValue(ctx, actorKey, actor)
		if actor.Language != "" || actor.TimeZone != "" {
			ctx = locale.With(ctx, s.locale.Localizer(actor.Language, r.Header.Get("Accept-Language"), actor.TimeZone))
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// activityStamp is how stale the session's activity stamp may get before a
// request renews it: a minute, or less for short idle timeouts so that the
// deadline is never missed by more than a quarter of it.
func activityStamp(idle time.Duration) time.Duration {
	return min(time.Minute, idle/4)
}

// withTokenActor authenticates API calls by bearer token.
func (s *Server) withTokenActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="portcullis"`)
			s.apiError(w, r, core.Unauthorized(core.M("err.input.token_missing", "send an API token: Authorization: Bearer TOKEN (create one on your profile page or with 'portcullis token create')")))
			return
		}
		client := core.ClientAddr(r.Context())
		if wait := s.limits.tokenFailures.blocked(client); wait > 0 {
			s.tooManyRequests(w, r, wait, true)
			return
		}
		actor, err := s.app.Identity.AuthenticateToken(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			if core.ErrorCodeOf(err) == core.CodeUnauthorized {
				s.limits.tokenFailures.spend(client)
				s.securityEvent(r, core.AnonymousActor, "api_token.rejected", map[string]any{"path": r.URL.Path})
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="portcullis", error="invalid_token"`)
			s.apiError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey, actor)))
	})
}

// RefreshIdentity asks the identity provider who the holder of a refresh
// token is now: it refreshes the token and reads the groups from the new ID
// token, or from userinfo when the provider sends no ID token on refresh.
// A refusal (invalid_grant) wraps identity.ErrRefreshRefused; anything else
// (unreachable, a server error) means the provider cannot tell now.
func (s *Server) RefreshIdentity(ctx context.Context, refreshToken string) (identity.Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, accessCheckTimeout)
	defer cancel()
	provider, oauth, err := s.oidc.get(ctx)
	if err != nil {
		return identity.Identity{}, err
	}
	tok, err := oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return identity.Identity{}, fmt.Errorf("%w: %s", identity.ErrRefreshRefused, re.ErrorDescription)
		}
		return identity.Identity{}, fmt.Errorf("refresh at the identity provider: %w", err)
	}
	var claims map[string]any
	var subject string
	if rawID, _ := tok.Extra("id_token").(string); rawID != "" {
		idToken, err := provider.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID}).Verify(ctx, rawID)
		if err != nil {
			return identity.Identity{}, fmt.Errorf("the refreshed ID token is not valid: %w", err)
		}
		if err := idToken.Claims(&claims); err != nil {
			return identity.Identity{}, err
		}
		subject = idToken.Subject
	} else {
		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return identity.Identity{}, fmt.Errorf("userinfo after refresh: %w", err)
		}
		if err := info.Claims(&claims); err != nil {
			return identity.Identity{}, err
		}
		subject = info.Subject
	}
	id := s.identityFrom(s.cfg.OIDC.Issuer, subject, claims)
	id.RefreshToken = tok.RefreshToken
	if id.RefreshToken == refreshToken {
		id.RefreshToken = "" // not rotated: keep what is stored
	}
	return id, nil
}

// CheckAccess runs one round of the access check against the configured
// identity provider (see identity.Service.CheckAccess).
func (s *Server) CheckAccess(ctx context.Context) (identity.AccessCheck, error) {
	return s.app.Identity.CheckAccess(ctx, s.cfg.OIDC.Issuer, s.RefreshIdentity)
}
