package workflow

import (
	"errors"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
)

func TestAssetZoneIsDerivedFromAddress(t *testing.T) {
	w := sqliteWorld(t)
	assets, err := w.svc.ListAssets(w.ctx)
	must(t, err)
	zoneOf := map[string]string{}
	for _, a := range assets {
		if a.Zone != nil {
			zoneOf[a.Address] = a.Zone.Name
		}
	}
	if zoneOf["10.50.0.10"] != "pci" || zoneOf["2001:db8:40::15"] != "apps" {
		t.Fatalf("derived zones %v", zoneOf)
	}
	// A more specific zone takes the host over, and a deleted zone lets it go.
	z, err := w.svc.SaveZone(w.ctx, w.adam, 0, ZoneInput{Name: "pci-core", Classification: "high", CIDRs: "10.40.0.16/32"})
	must(t, err)
	a := findAsset(t, w, "10.40.0.16")
	if a.Zone == nil || a.Zone.Name != "pci-core" {
		t.Fatalf("asset zone %+v, want pci-core", a.Zone)
	}
	must(t, w.svc.DeleteZone(w.ctx, w.adam, z.ID))
	if a := findAsset(t, w, "10.40.0.16"); a.Zone == nil || a.Zone.Name != "apps" {
		t.Fatalf("after delete: %+v, want apps", a.Zone)
	}
}

func findAsset(t *testing.T, w *world, addr string) models.Asset {
	t.Helper()
	assets, err := w.svc.ListAssets(w.ctx)
	must(t, err)
	for _, a := range assets {
		if a.Address == addr {
			return a
		}
	}
	t.Fatalf("no asset %s", addr)
	return models.Asset{}
}

func TestZoneInputErrors(t *testing.T) {
	w := sqliteWorld(t)
	for _, tc := range []struct {
		in    ZoneInput
		field string
	}{
		{ZoneInput{Name: "x", Classification: "secret", CIDRs: "10.9.0.0/16"}, "classification"},
		{ZoneInput{Name: "x", Classification: "low", CIDRs: "10.9.0.1/16"}, "cidrs"},
		{ZoneInput{Name: "x", Classification: "low"}, "cidrs"},
		{ZoneInput{Name: "9x", Classification: "low", CIDRs: "10.9.0.0/16"}, "name"},
		{ZoneInput{Name: "dmz", Classification: "low", CIDRs: "10.9.0.0/16"}, "name"},
	} {
		_, err := w.svc.SaveZone(w.ctx, w.adam, 0, tc.in)
		mustCode(t, err, CodeInvalid)
		if _, ok := fieldErrorsOf(err)[tc.field]; !ok {
			var fe FieldErrors
			if !errors.As(err, &fe) || fe.ByField(tc.field) == "" {
				t.Errorf("%+v: error %v does not name %s", tc.in, err, tc.field)
			}
		}
	}
}

func TestImportAssetsAllOrNothing(t *testing.T) {
	w := sqliteWorld(t)
	count := func() int64 {
		var n int64
		w.svc.db.Model(&models.Asset{}).Count(&n)
		return n
	}
	before := count()
	bad := "address,hostname,owner_team,application\n10.40.0.50,crm2,sales,CRM\n10.40.0.999,broken,sales,CRM\n10.40.0.51,crm3,sales,CRM\n10.40.0.50,dup,sales,CRM\n"
	_, _, err := w.svc.ImportAssets(w.ctx, w.adam, strings.NewReader(bad))
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want an import error", err)
	}
	mustCode(t, err, CodeInvalid)
	if len(ie.Lines) != 2 || ie.Lines[0].Line != 3 || ie.Lines[0].Field != "address" || ie.Lines[1].Line != 5 || !strings.Contains(ie.Lines[1].Message, "line 2") {
		t.Fatalf("line errors %+v", ie.Lines)
	}
	if count() != before {
		t.Fatalf("a bad file imported %d assets", count()-before)
	}
	good := "hostname,address\ncrm2,10.40.0.50\npay,10.50.0.10\n"
	created, updated, err := w.svc.ImportAssets(w.ctx, w.adam, strings.NewReader(good))
	must(t, err)
	if created != 1 || updated != 1 || count() != before+1 {
		t.Fatalf("created %d updated %d", created, updated)
	}
	if a := findAsset(t, w, "10.40.0.50"); a.Zone == nil || a.Zone.Name != "apps" || a.Hostname != "crm2" {
		t.Fatalf("imported asset %+v", a)
	}
	_, _, err = w.svc.ImportAssets(w.ctx, w.rita, strings.NewReader(good))
	mustCode(t, err, CodeForbidden)
	_, _, err = w.svc.ImportAssets(w.ctx, w.adam, strings.NewReader("host,name\nx,y\n"))
	mustCode(t, err, CodeInvalid)
}

func TestTokens(t *testing.T) {
	w := sqliteWorld(t)
	secret, _, err := w.svc.CreateToken(w.ctx, SystemActor, "alice@example.test", "ci")
	must(t, err)
	a, err := w.svc.AuthenticateToken(w.ctx, secret)
	must(t, err)
	if a.ID != w.alice.ID {
		t.Fatalf("token acts for %s", a.Email)
	}
	_, _, err = w.svc.CreateToken(w.ctx, w.bob, "alice@example.test", "steal")
	mustCode(t, err, CodeForbidden)
	_, _, err = w.svc.CreateToken(w.ctx, SystemActor, "nobody@example.test", "x")
	mustCode(t, err, CodeNotFound)
	toks, _ := w.svc.ListTokens(w.ctx, w.alice)
	must(t, w.svc.RevokeToken(w.ctx, w.alice, toks[0].ID))
	_, err = w.svc.AuthenticateToken(w.ctx, secret)
	mustCode(t, err, CodeUnauthorized)
	var stored models.APIToken
	must(t, w.svc.db.First(&stored, toks[0].ID).Error)
	if strings.Contains(stored.Hash, secret) || stored.Hash != HashToken(secret) {
		t.Fatal("token stored other than as its hash")
	}
}

func TestLoginNeedsARole(t *testing.T) {
	w := sqliteWorld(t)
	_, err := w.svc.Login(w.ctx, Identity{Issuer: "https://idp.test", Subject: "nobody", Email: "n@example.test"})
	mustCode(t, err, CodeForbidden)
	// Roles follow the identity provider at every login.
	a, err := w.svc.Login(w.ctx, Identity{Issuer: "https://idp.test", Subject: "alice", Email: "alice@example.test", Roles: []Role{RoleAuditor}})
	must(t, err)
	if a.ID != w.alice.ID || a.Has(RoleRequester) || !a.Has(RoleAuditor) {
		t.Fatalf("roles not refreshed: %+v", a)
	}
	// The same subject from another issuer is another person.
	b, err := w.svc.Login(w.ctx, Identity{Issuer: "https://other.test", Subject: "alice", Email: "alice@example.test", Roles: []Role{RoleRequester}})
	must(t, err)
	if b.ID == w.alice.ID {
		t.Fatal("users are not keyed on (issuer, subject)")
	}
}

func TestRolesRemovedAtTheIdentityProviderEndTokens(t *testing.T) {
	w := sqliteWorld(t)
	secret, _, err := w.svc.CreateToken(w.ctx, SystemActor, "lee@example.test", "ci")
	must(t, err)
	_, err = w.svc.AuthenticateToken(w.ctx, secret)
	must(t, err)
	// Lee leaves the security team: the next login carries no role.
	_, err = w.svc.Login(w.ctx, Identity{Issuer: "https://idp.test", Subject: "lee", Email: "lee@example.test"})
	mustCode(t, err, CodeForbidden)
	_, err = w.svc.AuthenticateToken(w.ctx, secret)
	mustCode(t, err, CodeUnauthorized)
}
