package devidp

import (
	"errors"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// refreshed uses a refresh token and returns the new token set.
func (e *testEnv) refreshed(config oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	return config.TokenSource(e.ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

func groupsOf(t *testing.T, e *testEnv, token *oauth2.Token) []string {
	t.Helper()
	raw, _ := token.Extra("id_token").(string)
	idToken, err := e.oidc.Verifier(&oidc.Config{ClientID: testClientID}).Verify(e.ctx, raw)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	var claims struct{ Groups []string }
	idToken.Claims(&claims)
	return claims.Groups
}

func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

func TestRefreshTokens(t *testing.T) {
	e := newTestEnv(t)
	var discovery struct {
		Scopes []string `json:"scopes_supported"`
	}
	if err := e.oidc.Claims(&discovery); err != nil || !slices.Contains(discovery.Scopes, oidc.ScopeOfflineAccess) {
		t.Fatalf("discovery does not advertise offline_access: %v %v", discovery.Scopes, err)
	}
	config := e.config(testClientID, testClientSecret, testRedirectURI, oauth2.AuthStyleInHeader)

	// Without offline_access: no refresh token.
	a := e.startAuthorization(config)
	token, err := config.Exchange(e.ctx, e.code(a, alice), oauth2.VerifierOption(a.verifier))
	if err != nil || token.RefreshToken != "" {
		t.Fatalf("refresh token without offline_access: %q %v", token.RefreshToken, err)
	}

	config.Scopes = append(config.Scopes, oidc.ScopeOfflineAccess)
	a = e.startAuthorization(config)
	token, err = config.Exchange(e.ctx, e.code(a, alice), oauth2.VerifierOption(a.verifier))
	if err != nil || token.RefreshToken == "" {
		t.Fatalf("no refresh token with offline_access: %v", err)
	}
	first := token.RefreshToken
	next, err := e.refreshed(config, first)
	if err != nil || next.RefreshToken == "" || next.RefreshToken == first {
		t.Fatalf("refresh: %v (rotated: %v)", err, next != nil && next.RefreshToken != first)
	}
	if !slices.Equal(groupsOf(t, e, next), alice.Groups) {
		t.Fatalf("refreshed groups %v", groupsOf(t, e, next))
	}
	// A used refresh token is refused.
	if _, err := e.refreshed(config, first); !isInvalidGrant(err) {
		t.Fatalf("reused refresh token: %v", err)
	}
	// Another client cannot use it.
	other := e.config(otherClientID, otherSecret, "http://localhost:9090/cb", oauth2.AuthStyleInHeader)
	if _, err := e.refreshed(other, next.RefreshToken); !isInvalidGrant(err) {
		t.Fatalf("another client's refresh: %v", err)
	}
	// Changed groups show in the next refresh.
	if err := e.provider.SetGroups(alice.Email, []string{"staff"}); err != nil {
		t.Fatal(err)
	}
	next, err = e.refreshed(config, next.RefreshToken)
	if err != nil || !slices.Equal(groupsOf(t, e, next), []string{"staff"}) {
		t.Fatalf("groups after the change: %v", err)
	}
	// Removed: refresh refused, sign-in refused.
	if err := e.provider.RemoveUser(alice.Email); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refreshed(config, next.RefreshToken); !isInvalidGrant(err) {
		t.Fatalf("a removed user's refresh: %v", err)
	}
	resp, body := e.signIn(e.startAuthorization(config).url, alice.Email, alice.Password)
	if resp.Header.Get("Location") != "" {
		t.Fatalf("a removed user signed in: %s", body)
	}
}
