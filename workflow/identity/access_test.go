package identity_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestParseTTL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2s", 2 * time.Second, true},
		{"72h", 72 * time.Hour, true},
		{"90d", 90 * 24 * time.Hour, true},
		{" 1d ", 24 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"", 0, false},
		{"0d", 0, false},
		{"-1d", 0, false},
		{"0s", 0, false},
		{"-5m", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"90", 0, false},
		{"99999999999d", 0, false},
		{"forever", 0, false},
	} {
		got, err := identity.ParseTTL(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && err.Error() == "" {
			t.Errorf("ParseTTL(%q): empty message", c.in)
		}
	}
}

func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"2s", "90d", "72h", "-1d", "1e9d", "d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := identity.ParseTTL(s)
		if err == nil && d <= 0 {
			t.Fatalf("ParseTTL(%q) accepted %v", s, d)
		}
		if err == nil {
			if back, err := identity.ParseTTL(identity.FormatTTL(d)); err != nil || back != d {
				t.Fatalf("FormatTTL(%v) = %q does not read back: %v %v", d, identity.FormatTTL(d), back, err)
			}
		}
	})
}

func TestTokensExpire(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	start := time.Now().UTC()
	now := start
	w.App.SetClock(func() time.Time { return now })

	secret, tok, err := w.App.Identity.CreateTokenTTL(w.Ctx, core.SystemActor, "alice@example.test", "ci", 2*time.Second)
	workflowtest.Must(t, err)
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(start.Add(2*time.Second)) {
		t.Fatalf("expires at %v", tok.ExpiresAt)
	}
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.Must(t, err)
	now = start.Add(2 * time.Second)
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)

	// No lifetime asked for: the default, 90 days.
	now = start
	_, tok, err = w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "default")
	workflowtest.Must(t, err)
	if got := tok.ExpiresAt.Sub(start); got != 90*24*time.Hour {
		t.Fatalf("default lifetime %v", got)
	}
	// Longer than the maximum (a year until admins change it) is refused on its field.
	_, _, err = w.App.Identity.CreateTokenTTL(w.Ctx, core.SystemActor, "alice@example.test", "long", 366*24*time.Hour)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if workflowtest.FieldErrorsOf(err)["ttl"] == "" {
		t.Fatalf("not refused on ttl: %v", err)
	}

	// Admins lower the maximum and the default.
	in := inventory.SettingsForm(policy.DefaultSettings())
	in.TokenDefaultDays, in.TokenMaxDays = "10", "5"
	err = w.App.Inventory.SaveSettings(w.Ctx, w.Adam, in)
	if workflowtest.FieldErrorsOf(err)[identity.TokenDefaultDaysKey] == "" {
		t.Fatalf("a default above the maximum was saved: %v", err)
	}
	in.TokenDefaultDays, in.TokenMaxDays = "7", "30"
	workflowtest.Must(t, w.App.Inventory.SaveSettings(w.Ctx, w.Adam, in))
	_, tok, err = w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "short default")
	workflowtest.Must(t, err)
	if got := tok.ExpiresAt.Sub(start); got != 7*24*time.Hour {
		t.Fatalf("admin default lifetime %v", got)
	}
	_, _, err = w.App.Identity.CreateTokenTTL(w.Ctx, core.SystemActor, "alice@example.test", "31d", 31*24*time.Hour)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	_, _, err = w.App.Identity.CreateTokenTTL(w.Ctx, core.SystemActor, "alice@example.test", "30d", 30*24*time.Hour)
	workflowtest.Must(t, err)
	form, err := w.App.Inventory.GetSettingsForm(w.Ctx)
	workflowtest.Must(t, err)
	if form.TokenDefaultDays != "7" || form.TokenMaxDays != "30" {
		t.Fatalf("settings form shows %q/%q", form.TokenDefaultDays, form.TokenMaxDays)
	}
}

// TestLoweredMaximumShortensExistingTokens: a token ends at its own expiry
// or its creation plus the admins' current maximum, whichever comes first,
// at authentication and on the profile's list; raising the maximum again
// never lengthens a token past its own expiry.
func TestLoweredMaximumShortensExistingTokens(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	start := time.Now().UTC().Truncate(time.Second)
	now := start
	w.App.SetClock(func() time.Time { return now })
	const day = 24 * time.Hour
	secret, _, err := w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "ci") // 90 days
	workflowtest.Must(t, err)
	setMax := func(days string) {
		in := inventory.SettingsForm(policy.DefaultSettings())
		in.TokenDefaultDays, in.TokenMaxDays = "7", days
		workflowtest.Must(t, w.App.Inventory.SaveSettings(w.Ctx, w.Adam, in))
	}
	listed := func() time.Time {
		toks, err := w.App.Identity.ListTokens(w.Ctx, w.Alice)
		workflowtest.Must(t, err)
		if len(toks) != 1 || toks[0].ExpiresAt == nil {
			t.Fatalf("tokens listed: %+v", toks)
		}
		return *toks[0].ExpiresAt
	}
	authAt := func(at time.Duration) error {
		now = start.Add(at)
		_, err := w.App.Identity.AuthenticateToken(w.Ctx, secret)
		return err
	}
	setMax("30")
	if got := listed(); !got.Equal(start.Add(30 * day)) {
		t.Errorf("the profile lists the token as ending %v, want %v (created + the new maximum)", got, start.Add(30*day))
	}
	workflowtest.Must(t, authAt(30*day-time.Second))
	workflowtest.MustCode(t, authAt(30*day), core.CodeUnauthorized)

	now = start
	setMax("365")
	if got := listed(); !got.Equal(start.Add(90 * day)) {
		t.Errorf("after raising the maximum the token ends %v, want its own %v", got, start.Add(90*day))
	}
	workflowtest.Must(t, authAt(31*day))
	workflowtest.MustCode(t, authAt(90*day), core.CodeUnauthorized)
}

// TestTokensFromBeforeExpiryEnd: a token stored without an expiry (made
// before tokens expired) ends the default lifetime after its creation.
func TestTokensFromBeforeExpiryEnd(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	secret, tok, err := w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "old")
	workflowtest.Must(t, err)
	workflowtest.Must(t, w.App.DB().Model(&models.APIToken{}).Where("id = ?", tok.ID).Update("expires_at", nil).Error)
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.Must(t, err)
	w.App.SetClock(func() time.Time { return tok.CreatedAt.Add(91 * 24 * time.Hour) })
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
}

// session stores a logged-in browser session for user the way scs does.
func session(t *testing.T, w *workflowtest.World, token string, userID uint) {
	t.Helper()
	b, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{models.SessionUserKey: int(userID)})
	workflowtest.Must(t, err)
	workflowtest.Must(t, models.SessionStore{DB: w.App.DB()}.CommitCtx(w.Ctx, token, b, time.Now().Add(time.Hour)))
}

func sessionsOf(t *testing.T, w *workflowtest.World, userID uint) int64 {
	t.Helper()
	var n int64
	workflowtest.Must(t, w.App.DB().Model(&models.Session{}).Where("user_id = ?", userID).Count(&n).Error)
	return n
}

func auditActions(t *testing.T, w *workflowtest.World, action string) []models.AuditEvent {
	t.Helper()
	var evs []models.AuditEvent
	workflowtest.Must(t, w.App.DB().Where("action = ?", action).Find(&evs).Error)
	return evs
}

func TestAdminDisablesAUserAtOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) { adminDisables(t, workflowtest.NewWorld(t, db)) })
}

func adminDisables(t *testing.T, w *workflowtest.World) {
	secret, _, err := w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "ci")
	workflowtest.Must(t, err)
	session(t, w, "alice-session", w.Alice.ID)
	session(t, w, "bob-session", w.Bob.ID)

	workflowtest.MustCode(t, w.App.Identity.DisableUser(w.Ctx, w.Bob, w.Alice.ID, "left"), core.CodeForbidden)
	workflowtest.MustCode(t, w.App.Identity.DisableUser(w.Ctx, w.Adam, w.Alice.ID, " "), core.CodeInvalid)
	workflowtest.MustCode(t, w.App.Identity.DisableUser(w.Ctx, w.Adam, w.Adam.ID, "oops"), core.CodeInvalid)
	workflowtest.Must(t, w.App.Identity.DisableUser(w.Ctx, w.Adam, w.Alice.ID, "left the company"))

	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
	if n := sessionsOf(t, w, w.Alice.ID); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	if n := sessionsOf(t, w, w.Bob.ID); n != 1 {
		t.Fatalf("someone else's session ended too (%d left)", n)
	}
	_, err = w.App.Identity.ActorByID(w.Ctx, w.Alice.ID)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
	// The identity provider still lists her: no matter.
	_, err = w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "alice", Email: "alice@example.test", Roles: []core.Role{core.RoleRequester}})
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, _, err = w.App.Identity.CreateToken(w.Ctx, core.SystemActor, "alice@example.test", "again")
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if evs := auditActions(t, w, "user.disabled"); len(evs) != 1 || evs[0].Comment != "left the company" || evs[0].ObjectID != w.Alice.ID {
		t.Fatalf("disable audited as %+v", evs)
	}

	workflowtest.Must(t, w.App.Identity.EnableUser(w.Ctx, w.Adam, w.Alice.ID))
	_, err = w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "alice", Email: "alice@example.test", Roles: []core.Role{core.RoleRequester}})
	workflowtest.Must(t, err)
	// Her old token stays revoked.
	_, err = w.App.Identity.AuthenticateToken(w.Ctx, secret)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
	if len(auditActions(t, w, "user.enabled")) != 1 {
		t.Fatal("enable not audited")
	}
}

// fakeProvider answers refreshes the way a provider would, by refresh token.
type fakeProvider struct {
	down    bool
	removed map[string]bool        // refresh tokens refused
	groups  map[string][]core.Role // roles by subject
	subject map[string]string      // subject by refresh token
	calls   int
}

func (p *fakeProvider) refresh(_ context.Context, token string) (identity.Identity, error) {
	p.calls++
	if p.down {
		return identity.Identity{}, errors.New("dial tcp 127.0.0.1:1: connection refused")
	}
	if p.removed[token] {
		return identity.Identity{}, identity.ErrRefreshRefused
	}
	sub := p.subject[token]
	return identity.Identity{Subject: sub, Email: sub + "@example.test", Roles: p.groups[sub], RefreshToken: token + "+"}, nil
}

func TestAccessCheck(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) { accessCheck(t, workflowtest.NewWorld(t, db)) })
}

func accessCheck(t *testing.T, w *workflowtest.World) {
	key, err := identity.RefreshKeyFrom([]byte("a server secret of some length"))
	workflowtest.Must(t, err)
	workflowtest.Must(t, w.App.Identity.SetRefreshKey(key))
	login := func(sub string, roles ...core.Role) core.Actor {
		a, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: sub, Email: sub + "@example.test", Roles: roles, RefreshToken: "rt-" + sub})
		workflowtest.Must(t, err)
		return a
	}
	alice, bob, lee := login("alice", core.RoleRequester), login("bob", core.RoleRequester), login("lee", core.RoleApprover)
	tokens := map[uint]string{}
	for _, a := range []core.Actor{alice, bob, lee} {
		secret, _, err := w.App.Identity.CreateToken(w.Ctx, core.SystemActor, a.Email, "ci")
		workflowtest.Must(t, err)
		tokens[a.ID] = secret
		session(t, w, "session-"+a.Email, a.ID)
	}

	// Refresh tokens are sealed: the column is not the token.
	var stored models.User
	workflowtest.Must(t, w.App.DB().First(&stored, alice.ID).Error)
	if len(stored.RefreshToken) == 0 || bytes.Contains(stored.RefreshToken, []byte("rt-alice")) {
		t.Fatalf("refresh token stored as %q", stored.RefreshToken)
	}

	p := &fakeProvider{
		removed: map[string]bool{},
		groups:  map[string][]core.Role{"alice": {core.RoleRequester}, "bob": {core.RoleRequester}, "lee": {core.RoleApprover}},
		subject: map[string]string{"rt-alice": "alice", "rt-bob": "bob", "rt-lee": "lee"},
	}

	// The provider is down: nothing changes for anybody.
	p.down = true
	_, err = w.App.Identity.CheckAccess(w.Ctx, "https://idp.test", p.refresh)
	if err == nil {
		t.Fatal("an unreachable provider was not reported")
	}
	for id, secret := range tokens {
		if _, err := w.App.Identity.AuthenticateToken(w.Ctx, secret); err != nil {
			t.Fatalf("user %d lost their token while the provider was down: %v", id, err)
		}
		if sessionsOf(t, w, id) != 1 {
			t.Fatalf("user %d lost their session while the provider was down", id)
		}
	}
	if len(auditActions(t, w, "user.access_revoked")) != 0 {
		t.Fatal("access revoked while the provider was down")
	}

	// Alice is removed at the provider; Lee leaves every Portcullis group.
	p.down = false
	p.removed["rt-alice"] = true
	p.groups["lee"] = nil
	sum, err := w.App.Identity.CheckAccess(w.Ctx, "https://idp.test", p.refresh)
	workflowtest.Must(t, err)
	if sum.Checked != 3 || sum.Revoked != 2 || sum.Unchanged != 1 {
		t.Fatalf("round: %+v", sum)
	}
	for _, a := range []core.Actor{alice, lee} {
		if _, err := w.App.Identity.AuthenticateToken(w.Ctx, tokens[a.ID]); core.ErrorCodeOf(err) != core.CodeUnauthorized {
			t.Errorf("%s keeps their token: %v", a.Email, err)
		}
		if n := sessionsOf(t, w, a.ID); n != 0 {
			t.Errorf("%s keeps %d sessions", a.Email, n)
		}
	}
	if _, err := w.App.Identity.AuthenticateToken(w.Ctx, tokens[bob.ID]); err != nil || sessionsOf(t, w, bob.ID) != 1 {
		t.Fatalf("bob, still at the provider, lost access: %v", err)
	}
	revoked := auditActions(t, w, "user.access_revoked")
	if len(revoked) != 2 || revoked[0].Comment == "" {
		t.Fatalf("revocations audited as %+v", revoked)
	}
	// Bob's rotated refresh token is kept (sealed) for the next round.
	p.subject["rt-bob+"] = "bob"
	p.calls = 0
	before, err := w.App.DataGeneration(w.Ctx, core.CountedRequests)
	workflowtest.Must(t, err)
	sum, err = w.App.Identity.CheckAccess(w.Ctx, "https://idp.test", p.refresh)
	workflowtest.Must(t, err)
	if sum.Checked != 1 || p.calls != 1 || sum.Unchanged != 1 {
		t.Fatalf("second round: %+v, %d calls (removed users are no longer asked about)", sum, p.calls)
	}
	// A check that found Bob as he was changes nothing a list shows: kept
	// pages stay kept.
	if after, err := w.App.DataGeneration(w.Ctx, core.CountedRequests); err != nil || after != before {
		t.Errorf("an unchanged access check moved the requests generation %d → %d (%v)", before, after, err)
	}
	// Logging in again after removal is refused while the provider says so.
	_, err = w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "lee", Email: "lee@example.test"})
	workflowtest.MustCode(t, err, core.CodeForbidden)
}

// TestRefreshTokenNeedsItsKey: a sealed token only opens under its key and
// for its user; one that does not open is dropped, never used.
func TestRefreshTokenNeedsItsKey(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	key, _ := identity.RefreshKeyFrom([]byte("first server secret"))
	workflowtest.Must(t, w.App.Identity.SetRefreshKey(key))
	a, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "alice", Email: "alice@example.test", Roles: []core.Role{core.RoleRequester}, RefreshToken: "rt"})
	workflowtest.Must(t, err)
	other, _ := identity.RefreshKeyFrom([]byte("another server secret"))
	workflowtest.Must(t, w.App.Identity.SetRefreshKey(other))
	p := &fakeProvider{}
	sum, err := w.App.Identity.CheckAccess(w.Ctx, "https://idp.test", p.refresh)
	workflowtest.Must(t, err)
	if p.calls != 0 || sum.Revoked != 0 {
		t.Fatalf("a token sealed under another key was used: %+v", sum)
	}
	var u models.User
	workflowtest.Must(t, w.App.DB().First(&u, a.ID).Error)
	if u.RefreshToken != nil || u.Roles == "" {
		t.Fatalf("unopenable token kept (%x) or access ended (%q)", u.RefreshToken, u.Roles)
	}
}

func TestForgetRefreshTokens(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	key, _ := identity.RefreshKeyFrom([]byte("a server secret of some length"))
	workflowtest.Must(t, w.App.Identity.SetRefreshKey(key))
	for _, iss := range []string{"https://demo.test", "https://idp.test"} {
		_, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: iss, Subject: "s", Email: "s@example.test", Roles: []core.Role{core.RoleRequester}, RefreshToken: "rt"})
		workflowtest.Must(t, err)
	}
	workflowtest.Must(t, w.App.Identity.ForgetRefreshTokens(w.Ctx, "https://demo.test"))
	var kept []string
	workflowtest.Must(t, w.App.DB().Model(&models.User{}).Where("refresh_token IS NOT NULL").Pluck("issuer", &kept).Error)
	if len(kept) != 1 || kept[0] != "https://idp.test" {
		t.Fatalf("refresh tokens kept for %v", kept)
	}
}
