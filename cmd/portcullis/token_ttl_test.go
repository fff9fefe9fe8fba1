package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
)

// Item 2 of issue 12: 'token create --ttl' takes 2s, 72h and 90d, refuses
// a lifetime over the admins' maximum with exit 2, and the token ends.
func TestTokenCreateTTL(t *testing.T) {
	db := seededDB(t)
	create := func(ttl string) (string, string, int) {
		t.Helper()
		out, errOut, code := runCLI(t, noEnv, "token", "create", "--db", db, "--user", "alice@demo.portcullis.test", "--ttl", ttl)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1], errOut, code
	}
	for _, c := range []struct {
		ttl      string
		code     int
		inStderr string
	}{
		{"72h", 0, ""},
		{"90d", 0, ""},
		{"365d", 0, ""},
		{"366d", 2, "--ttl"},
		{"400d", 2, "maximum of 365d"},
		{"0s", 2, "--ttl"},
		{"-3d", 2, "--ttl"},
		{"soon", 2, "--ttl"},
	} {
		secret, errOut, code := create(c.ttl)
		if code != c.code || !strings.Contains(errOut, c.inStderr) {
			t.Errorf("--ttl %s: exit %d, stderr %q; want %d with %q", c.ttl, code, errOut, c.code, c.inStderr)
		}
		if code == 0 && !strings.HasPrefix(secret, "pcl_") {
			t.Errorf("--ttl %s: last line %q is not the token", c.ttl, secret)
		}
	}

	secret, _, code := create("2s")
	if code != 0 {
		t.Fatalf("--ttl 2s: exit %d", code)
	}
	app, closeDB, err := openApp(context.Background(), db, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	// Tokens compare with the store's clock: set it to the token's recorded
	// creation, then 2s later, so no wall-clock time passes in between.
	var tok models.APIToken
	if err := app.DB().Where("hash = ?", identity.HashToken(secret)).First(&tok).Error; err != nil {
		t.Fatal(err)
	}
	authenticateAt := func(at time.Time) error {
		app.SetClock(func() time.Time { return at })
		_, err := app.Identity.AuthenticateToken(context.Background(), secret)
		return err
	}
	if err := authenticateAt(tok.CreatedAt); err != nil {
		t.Fatalf("fresh 2s token: %v", err)
	}
	if err := authenticateAt(tok.CreatedAt.Add(2 * time.Second)); core.ErrorCodeOf(err) != core.CodeUnauthorized {
		t.Fatalf("a 2s token works 2s after its creation: %v", err)
	}
}
