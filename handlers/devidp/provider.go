// Package devidp is a small OpenID Connect identity provider for development
// and tests. It runs in-process on a loopback listener (for "portcullis serve
// --demo" and the test suites) so that the application's real login code path
// — discovery, the authorization code flow with PKCE, state and nonce, ID token
// verification and userinfo — is exercised end to end against a real provider.
//
// It must never be used in production. Users and passwords are plain values
// supplied by the caller and shown on the login page, all state lives in
// memory, and the signing key is regenerated on every start. New refuses any
// issuer whose host is not a loopback address or "localhost".
package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// User is a demo account that can sign in through the login form.
type User struct {
	Subject  string // stable id, goes into "sub"
	Email    string // also the login name
	Name     string
	Groups   []string // goes into the "groups" claim of the ID token and userinfo
	Password string   // checked by the login form
}

// Client is a registered relying party.
type Client struct {
	ID           string
	Secret       string   // confidential client (client_secret_basic and client_secret_post both accepted)
	RedirectURIs []string // exact match required
}

const (
	// codeLifetime bounds how long an authorization code can be redeemed.
	codeLifetime = 60 * time.Second
	// tokenLifetime is the lifetime of both the ID token and the access token.
	tokenLifetime = time.Hour
	// rsaKeyBits is the size of the generated signing key.
	rsaKeyBits = 2048
	// maxFormBytes caps request bodies; every legitimate form here is tiny.
	maxFormBytes = 64 << 10
)

// Provider is an OpenID Connect provider serving all of its endpoints at the
// issuer root. It is safe for concurrent use.
type Provider struct {
	issuer string
	// endpointBase is the issuer without a trailing slash, for building endpoint URLs.
	endpointBase string
	clients      map[string]Client
	users        []User         // in the order given, for the login page
	usersByEmail map[string]int // lower-cased email → index into users
	signer       jose.Signer
	publicKeys   jose.JSONWebKeySet
	loginPage    *template.Template
	errorPage    *template.Template
	logger       *slog.Logger
	mux          *http.ServeMux

	// now is the clock; tests replace it to expire codes without sleeping.
	now func() time.Time

	mu sync.Mutex
	// codes holds issued authorization codes, including redeemed ones until
	// their tokens expire, so that a replayed code can revoke what it produced.
	codes        map[string]*authorizationCode
	accessTokens map[string]accessTokenInfo
	// refreshTokens are issued when the client asked for offline_access;
	// each is used once and replaced (rotation).
	refreshTokens map[string]refreshTokenInfo
	// removed marks users taken out of the directory by RemoveUser: they
	// can neither sign in nor refresh.
	removed map[int]bool
}

// refreshTokenInfo is what a refresh token stands for.
type refreshTokenInfo struct {
	clientID  string
	userIndex int
}

// authorizationCode is what /authorize remembers for /token.
type authorizationCode struct {
	clientID      string
	redirectURI   string
	userIndex     int
	nonce         string
	codeChallenge string
	// offline: the client asked for offline_access, so it gets a refresh token.
	offline   bool
	expiresAt time.Time

	redeemed bool
	// accessToken is the token issued when the code was redeemed, revoked if
	// the code is presented again (RFC 6749 section 4.1.2).
	accessToken string
	// forgetAt is when the entry may be dropped from memory.
	forgetAt time.Time
}

// accessTokenInfo is what an opaque bearer access token, accepted by /userinfo, stands for.
type accessTokenInfo struct {
	userIndex int
	expiresAt time.Time
}

// New makes a provider for issuer (e.g. "http://127.0.0.1:43117"), generating
// a fresh RSA signing key. The issuer host must be loopback. A nil logger
// discards log output.
func New(issuer string, clients []Client, users []User, logger *slog.Logger) (*Provider, error) {
	if err := checkIssuer(issuer); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	p := &Provider{
		issuer:        issuer,
		endpointBase:  strings.TrimSuffix(issuer, "/"),
		clients:       make(map[string]Client, len(clients)),
		usersByEmail:  make(map[string]int, len(users)),
		logger:        logger,
		now:           time.Now,
		codes:         make(map[string]*authorizationCode),
		accessTokens:  make(map[string]accessTokenInfo),
		refreshTokens: make(map[string]refreshTokenInfo),
		removed:       make(map[int]bool),
	}

	for _, c := range clients {
		if err := checkClient(c); err != nil {
			return nil, err
		}
		if _, dup := p.clients[c.ID]; dup {
			return nil, fmt.Errorf("devidp: duplicate client id %q", c.ID)
		}
		// Copy the slice so later changes by the caller cannot alter the registration.
		c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
		p.clients[c.ID] = c
	}

	subjects := make(map[string]bool, len(users))
	for _, u := range users {
		if u.Subject == "" || u.Email == "" || u.Password == "" {
			return nil, fmt.Errorf("devidp: user %q needs a subject, an email and a password", u.Email)
		}
		email := strings.ToLower(u.Email)
		if _, dup := p.usersByEmail[email]; dup {
			return nil, fmt.Errorf("devidp: duplicate user email %q", u.Email)
		}
		if subjects[u.Subject] {
			return nil, fmt.Errorf("devidp: duplicate user subject %q", u.Subject)
		}
		subjects[u.Subject] = true
		// A non-nil copy, so an empty list is encoded as [] rather than null.
		u.Groups = append([]string{}, u.Groups...)
		p.usersByEmail[email] = len(p.users)
		p.users = append(p.users, u)
	}

	if err := p.makeSigningKey(); err != nil {
		return nil, err
	}

	var err error
	if p.loginPage, err = template.New("login").Parse(loginPageHTML); err != nil {
		return nil, fmt.Errorf("devidp: parsing login page: %w", err)
	}
	if p.errorPage, err = template.New("error").Parse(errorPageHTML); err != nil {
		return nil, fmt.Errorf("devidp: parsing error page: %w", err)
	}

	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	p.mux.HandleFunc("GET /jwks", p.serveJWKS)
	p.mux.HandleFunc("GET /authorize", p.serveAuthorize)
	p.mux.HandleFunc("POST /authorize", p.serveAuthorize)
	p.mux.HandleFunc("POST /token", p.serveToken)
	p.mux.HandleFunc("GET /userinfo", p.serveUserinfo)
	p.mux.HandleFunc("POST /userinfo", p.serveUserinfo)
	return p, nil
}

// ServeHTTP serves the discovery document, JWKS, authorization, token and
// userinfo endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mux.ServeHTTP(w, r)
}

// checkIssuer enforces the development-only guard: the issuer must be an
// http(s) URL on a loopback host, with no query or fragment.
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("devidp: invalid issuer %q: %w", issuer, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("devidp: issuer %q must use http or https", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("devidp: issuer %q must not have user info, a query or a fragment", issuer)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("devidp: issuer %q must not have a path; endpoints are served at the root", issuer)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("devidp: refusing issuer %q: the development identity provider only runs on loopback hosts", issuer)
}

func checkClient(c Client) error {
	if c.ID == "" || c.Secret == "" {
		return errors.New("devidp: clients need an id and a secret")
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("devidp: client %q has no redirect URIs", c.ID)
	}
	for _, raw := range c.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("devidp: client %q: redirect URI %q must be an absolute URL without a fragment", c.ID, raw)
		}
	}
	return nil
}

// makeSigningKey generates the RSA key and publishes its public half, with a
// key id derived from the key itself (RFC 7638 thumbprint).
func (p *Provider) makeSigningKey() error {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return fmt.Errorf("devidp: generating signing key: %w", err)
	}
	public := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumbprint, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("devidp: computing key id: %w", err)
	}
	public.KeyID = base64.RawURLEncoding.EncodeToString(thumbprint)

	p.signer, err = jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: public.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return fmt.Errorf("devidp: creating signer: %w", err)
	}
	p.publicKeys = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{public}}
	return nil
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.endpointBase + "/authorize",
		"token_endpoint":                        p.endpointBase + "/token",
		"userinfo_endpoint":                     p.endpointBase + "/userinfo",
		"jwks_uri":                              p.endpointBase + "/jwks",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(jose.RS256)},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified", "name", "groups"},
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, p.publicKeys)
}

// RemoveUser takes the user with this e-mail out of the directory, as when
// someone leaves: they can no longer sign in, and their refresh tokens are
// refused with invalid_grant.
func (p *Provider) RemoveUser(email string) error {
	i, ok := p.usersByEmail[strings.ToLower(email)]
	if !ok {
		return fmt.Errorf("devidp: no user %q", email)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removed[i] = true
	for t, info := range p.refreshTokens {
		if info.userIndex == i {
			delete(p.refreshTokens, t)
		}
	}
	return nil
}

// SetGroups replaces the groups of the user with this e-mail; the next ID
// token, refreshed or not, carries the new ones.
func (p *Provider) SetGroups(email string, groups []string) error {
	i, ok := p.usersByEmail[strings.ToLower(email)]
	if !ok {
		return fmt.Errorf("devidp: no user %q", email)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[i].Groups = append([]string{}, groups...)
	return nil
}
