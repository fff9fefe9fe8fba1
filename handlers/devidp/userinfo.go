package devidp

import (
	"net/http"
	"strings"
)

// userinfoResponse is the body of a userinfo response.
type userinfoResponse struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
}

// serveUserinfo returns the claims of the user an access token was issued to.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := bearerToken(r)
	if !ok {
		// RFC 6750 section 3.1: no error code when no token was sent at all.
		w.Header().Set("WWW-Authenticate", `Bearer realm="devidp"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "a bearer access token is required"})
		return
	}

	now := p.now()
	p.mu.Lock()
	info, ok := p.accessTokens[token]
	if ok && !now.Before(info.expiresAt) {
		delete(p.accessTokens, token)
		ok = false
	}
	var user User
	if ok {
		user = p.users[info.userIndex] // under the lock: SetGroups may change it
	}
	p.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="devidp", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "the access token is unknown, expired or revoked"})
		return
	}

	writeJSON(w, http.StatusOK, userinfoResponse{
		Subject:       user.Subject,
		Email:         user.Email,
		EmailVerified: true,
		Name:          user.Name,
		Groups:        user.Groups,
	})
}

// bearerToken extracts the token from an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
