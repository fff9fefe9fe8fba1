package identity_test

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestTokens(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	secret, _, err := w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "ci")
	workflowtest.Must(t, err)
	a, err := w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.Must(t, err)
	if a.ID != w.Alice.ID {
		t.Fatalf("token acts for %s", a.Email)
	}
	_, _, err = w.App.Identity.CreateToken(w.Ctx, w.Bob, "alice@example.test", "steal")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, _, err = w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "nobody@example.test", "x")
	workflowtest.MustCode(t, err, core.CodeNotFound)
	toks, _ := w.App.Identity.ListTokens(w.Ctx, w.Alice)
	workflowtest.Must(t, w.App.Identity.RevokeToken(w.Ctx, w.Alice, toks[0].ID))
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
	var stored models.APIToken
	workflowtest.Must(t, w.App.DB().First(&stored, toks[0].ID).Error)
	if strings.Contains(stored.Hash, secret) || stored.Hash != identity.HashToken(secret) {
		t.Fatal("token stored other than as its hash")
	}
}

func TestLoginNeedsARole(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	_, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "nobody", Email: "n@example.test"})
	workflowtest.MustCode(t, err, core.CodeForbidden)
	// Roles follow the identity provider at every login.
	a, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "alice", Email: "alice@example.test", Roles: []core.Role{core.RoleAuditor}})
	workflowtest.Must(t, err)
	if a.ID != w.Alice.ID || a.Has(core.RoleRequester) || !a.Has(core.RoleAuditor) {
		t.Fatalf("roles not refreshed: %+v", a)
	}
	// The same subject from another issuer is another person.
	b, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://other.test", Subject: "alice", Email: "alice@example.test", Roles: []core.Role{core.RoleRequester}})
	workflowtest.Must(t, err)
	if b.ID == w.Alice.ID {
		t.Fatal("users are not keyed on (issuer, subject)")
	}
}

func TestRolesRemovedAtTheIdentityProviderEndTokens(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	secret, _, err := w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "lee@example.test", "ci")
	workflowtest.Must(t, err)
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.Must(t, err)
	// Lee leaves the security team: the next login carries no role.
	_, err = w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "lee", Email: "lee@example.test"})
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
}
