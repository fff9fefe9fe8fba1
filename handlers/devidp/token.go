package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// oauthError is an error response of the token endpoint (RFC 6749 section 5.2).
type oauthError struct {
	status      int
	code        string
	description string
}

func invalidRequest(description string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", description}
}

func invalidGrant(description string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", description}
}

// idTokenClaims is the payload of an ID token. The email, name and groups
// claims are included whatever scopes were asked for: the only client of
// this provider, the application itself, always wants them.
type idTokenClaims struct {
	Issuer        string   `json:"iss"`
	Subject       string   `json:"sub"`
	Audience      string   `json:"aud"`
	Expiry        int64    `json:"exp"`
	IssuedAt      int64    `json:"iat"`
	Nonce         string   `json:"nonce,omitempty"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
}

// tokenResponse is a successful token endpoint response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	// RefreshToken is issued when the client asked for offline_access.
	RefreshToken string `json:"refresh_token,omitempty"`
}

// serveToken exchanges an authorization code for an access token and ID token.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	response, err := p.exchange(w, r)
	if err != nil {
		p.logger.Warn("devidp: token request refused", "error", err.code, "description", err.description)
		writeOAuthError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, response)
}

func (p *Provider) exchange(w http.ResponseWriter, r *http.Request) (tokenResponse, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return tokenResponse{}, invalidRequest("the request body could not be parsed")
	}
	// Only the body counts: RFC 6749 sends token request parameters there.
	in := params{values: r.PostForm}
	client, authErr := p.authenticateClient(r, &in)
	if authErr != nil {
		return tokenResponse{}, authErr
	}

	grantType := in.get("grant_type")
	if grantType == "refresh_token" {
		if repeated := in.firstRepeated(); repeated != "" {
			return tokenResponse{}, invalidRequest("parameter " + repeated + " was given more than once")
		}
		return p.refresh(client, in.get("refresh_token"))
	}
	code := in.get("code")
	redirectURI := in.get("redirect_uri")
	verifier := in.get("code_verifier")
	switch repeated := in.firstRepeated(); {
	case repeated != "":
		return tokenResponse{}, invalidRequest("parameter " + repeated + " was given more than once")
	case grantType != "authorization_code":
		return tokenResponse{}, &oauthError{http.StatusBadRequest, "unsupported_grant_type", "only authorization_code and refresh_token are supported"}
	case code == "":
		return tokenResponse{}, invalidRequest("code is required")
	case redirectURI == "":
		return tokenResponse{}, invalidRequest("redirect_uri is required")
	}

	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()

	grant, err := p.redeemCodeLocked(code, client.ID, redirectURI, verifier, now)
	if err != nil {
		return tokenResponse{}, err
	}
	response, issueErr := p.issueLocked(client.ID, grant.userIndex, grant.nonce, grant.offline, now)
	if issueErr != nil {
		return tokenResponse{}, issueErr
	}
	grant.accessToken = response.AccessToken
	// Keep the redeemed code while its access token lives, so a replay can revoke it.
	grant.forgetAt = now.Add(tokenLifetime)
	return response, nil
}

// refresh answers the refresh_token grant: the token is used up and replaced,
// and the new ID token carries the user's groups as they are now. A removed
// user's token is refused with invalid_grant, as a real provider does.
func (p *Provider) refresh(client Client, token string) (tokenResponse, *oauthError) {
	if token == "" {
		return tokenResponse{}, invalidRequest("refresh_token is required")
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	info, ok := p.refreshTokens[token]
	if !ok || info.clientID != client.ID || p.removed[info.userIndex] {
		return tokenResponse{}, invalidGrant("unknown, used or revoked refresh token")
	}
	delete(p.refreshTokens, token)
	return p.issueLocked(client.ID, info.userIndex, "", true, now)
}

// issueLocked signs an ID token and issues an access token (and a refresh
// token when offline). p.mu must be held.
func (p *Provider) issueLocked(clientID string, userIndex int, nonce string, offline bool, now time.Time) (tokenResponse, *oauthError) {
	user := p.users[userIndex]
	idToken, signErr := p.signIDToken(idTokenClaims{
		Issuer:        p.issuer,
		Subject:       user.Subject,
		Audience:      clientID,
		Expiry:        now.Add(tokenLifetime).Unix(),
		IssuedAt:      now.Unix(),
		Nonce:         nonce,
		Email:         user.Email,
		EmailVerified: true,
		Name:          user.Name,
		Groups:        user.Groups,
	})
	if signErr != nil {
		p.logger.Error("devidp: signing ID token", "error", signErr)
		return tokenResponse{}, &oauthError{http.StatusInternalServerError, "server_error", "the ID token could not be signed"}
	}
	access := rand.Text()
	p.accessTokens[access] = accessTokenInfo{userIndex: userIndex, expiresAt: now.Add(tokenLifetime)}
	response := tokenResponse{
		AccessToken: access,
		IDToken:     idToken,
		TokenType:   "Bearer",
		ExpiresIn:   int(tokenLifetime / time.Second),
	}
	if offline {
		response.RefreshToken = rand.Text()
		p.refreshTokens[response.RefreshToken] = refreshTokenInfo{clientID: clientID, userIndex: userIndex}
	}
	p.logger.Info("devidp: issued tokens", "subject", user.Subject, "client_id", clientID, "refresh", offline)
	return response, nil
}

// authenticateClient checks client_secret_basic or client_secret_post
// credentials; a client must use exactly one of them.
func (p *Provider) authenticateClient(r *http.Request, in *params) (Client, *oauthError) {
	bodyID := in.get("client_id")
	bodySecret := in.get("client_secret")
	basicID, basicSecret, usedBasic := r.BasicAuth()

	var id, secret string
	switch {
	case usedBasic && bodySecret != "":
		return Client{}, invalidRequest("use only one client authentication method")
	case usedBasic:
		// RFC 6749 section 2.3.1: the client id and secret are form-encoded
		// before being put into the Basic credentials.
		var idErr, secretErr error
		id, idErr = url.QueryUnescape(basicID)
		secret, secretErr = url.QueryUnescape(basicSecret)
		if idErr != nil || secretErr != nil {
			return Client{}, invalidClient()
		}
		if bodyID != "" && bodyID != id {
			return Client{}, invalidRequest("client_id in the body does not match the Authorization header")
		}
	default:
		id, secret = bodyID, bodySecret
	}

	client, ok := p.clients[id]
	if !ok || secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
		return Client{}, invalidClient()
	}
	return client, nil
}

// invalidClient is always answered with 401 and a Basic challenge: RFC 6749
// section 5.2 requires that for Basic credentials and allows it otherwise.
func invalidClient() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", "client authentication failed"}
}

// redeemCodeLocked marks code as used and checks it against the token
// request. Any presentation of a code uses it up, so a failed PKCE check
// cannot be retried with another verifier; presenting a used code again also
// revokes the access token it produced (RFC 6749 section 4.1.2). p.mu must be held.
func (p *Provider) redeemCodeLocked(code, clientID, redirectURI, verifier string, now time.Time) (*authorizationCode, *oauthError) {
	grant, ok := p.codes[code]
	if !ok {
		return nil, invalidGrant("unknown or expired authorization code")
	}
	if grant.redeemed {
		delete(p.accessTokens, grant.accessToken)
		p.logger.Warn("devidp: authorization code replayed; revoked its access token", "client_id", clientID)
		return nil, invalidGrant("authorization code has already been used")
	}
	grant.redeemed = true

	switch {
	case grant.clientID != clientID:
		return nil, invalidGrant("authorization code was issued to another client")
	case !now.Before(grant.expiresAt):
		return nil, invalidGrant("authorization code has expired")
	case grant.redirectURI != redirectURI:
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	case verifier == "":
		return nil, invalidGrant("code_verifier is required")
	case !isPKCEVerifier(verifier):
		return nil, invalidGrant("code_verifier must be 43 to 128 unreserved characters")
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(grant.codeChallenge)) != 1:
		return nil, invalidGrant("code_verifier does not match code_challenge")
	}
	return grant, nil
}

func (p *Provider) signIDToken(claims idTokenClaims) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed, err := p.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return signed.CompactSerialize()
}

// forgetExpiredLocked drops codes and access tokens that can no longer be
// used, so memory stays bounded in a long demo run. p.mu must be held.
func (p *Provider) forgetExpiredLocked(now time.Time) {
	for code, grant := range p.codes {
		if !now.Before(grant.forgetAt) {
			delete(p.codes, code)
		}
	}
	for token, info := range p.accessTokens {
		if !now.Before(info.expiresAt) {
			delete(p.accessTokens, token)
		}
	}
}

// s256 is the PKCE S256 transformation (RFC 7636 section 4.2).
func s256(verifier string) string {
	digest := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(digest[:])
}

// isPKCEVerifier reports whether v has the form RFC 7636 section 4.1 requires.
func isPKCEVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		if !isUnreserved(c) {
			return false
		}
	}
	return true
}

// isS256Challenge reports whether c looks like an S256 code challenge: an
// unpadded base64url SHA-256 digest.
func isS256Challenge(c string) bool {
	digest, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(digest) == sha256.Size
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func writeOAuthError(w http.ResponseWriter, err *oauthError) {
	if err.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
	}
	writeJSON(w, err.status, map[string]string{"error": err.code, "error_description": err.description})
}

// writeJSON writes v as an uncacheable JSON response (RFC 6749 section 5.1
// forbids caching token responses; nothing here benefits from caching).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("encoding response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
