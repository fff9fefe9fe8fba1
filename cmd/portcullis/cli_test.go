package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/demo"
)

func noEnv(string) string { return "" }

func runCLI(t *testing.T, env func(string) string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, env, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// seededDB makes a database with the demo organisation.
func seededDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.db")
	app, closeDB, err := openApp(context.Background(), path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	if err := demo.Seed(context.Background(), app, "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUserListAndTokenCreate(t *testing.T) {
	db := seededDB(t)
	out, _, code := runCLI(t, noEnv, "user", "list", "--db", db, "--role", "approver")
	if code != 0 || !strings.Contains(out, "lee@demo.portcullis.test") || strings.Contains(out, "alice@") {
		t.Fatalf("user list: %d %q", code, out)
	}
	out, _, code = runCLI(t, func(k string) string {
		if k == "PORTCULLIS_DB" {
			return db
		}
		return ""
	}, "user", "list", "--format", "json")
	var users []struct {
		Email string
		Roles []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &users) != nil || len(users) != len(demo.Users) {
		t.Fatalf("user list json via PORTCULLIS_DB: %d %q", code, out)
	}
	out, _, code = runCLI(t, noEnv, "token", "create", "--db", db, "--user", "alice@demo.portcullis.test")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(secret, "pcl_") {
		t.Fatalf("token create: %d %q", code, out)
	}
	app, closeDB, err := openApp(context.Background(), db, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	a, err := app.Identity.AuthenticateToken(context.Background(), secret)
	if err != nil || a.Email != "alice@demo.portcullis.test" || !a.Has(core.RoleRequester) {
		t.Fatalf("the printed token does not authenticate alice: %+v %v", a, err)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"user"},
		{"user", "list", "--role", "king", "--db", db},
		{"user", "list", "--format", "xml", "--db", db},
		{"token", "create", "--db", db},
		{"token", "create", "--db", db, "--user", "ghost@example.test"},
		{"serve", "--db", db},
		{"serve", "--no-such-flag"},
		{"serve", "--demo", "--db", db, "--access-check-interval", "2h"},
		{"serve", "--demo", "--db", db, "--max-views", "0"},
		{"serve", "--demo", "--db", db, "--gc-percent", "20"},
		{"token", "create", "--db", db, "--user", "ghost@example.test", "--ttl", "forever"},
	} {
		_, stderr, code := runCLI(t, noEnv, args...)
		if code != 2 || !strings.HasPrefix(stderr, "portcullis: ") && !strings.Contains(stderr, "flag provided but not defined") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
	if out, _, code := runCLI(t, noEnv, "version"); code != 0 || !strings.HasPrefix(out, "portcullis ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestServeEnvironmentVariables(t *testing.T) {
	_, stderr, code := runCLI(t, func(k string) string {
		if k == "PORTCULLIS_SESSION_IDLE" {
			return "soon"
		}
		return ""
	}, "serve", "--demo")
	if code != 2 || !strings.Contains(stderr, "PORTCULLIS_SESSION_IDLE") {
		t.Fatalf("bad env value: %d %q", code, stderr)
	}
}

// Every command and command group prints its usage for --help and exits 0.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"user", "--help"}, {"user", "list", "--help"}, {"token", "--help"}, {"token", "create", "--help"},
		{"policy", "--help"}, {"policy", "check", "--help"}, {"audit", "--help"}, {"audit", "export", "--help"}, {"audit", "verify", "--help"},
		{"audit", "keygen", "--help"}, {"seed", "--help"}, {"scan", "--help"}, {"agent", "--help"}, {"agent", "enroll", "--help"},
		{"agent", "run", "--help"}, {"agent", "list", "--help"}, {"report", "--help"}, {"report", "daily", "--help"},
	} {
		stdout, stderr, code := runCLI(t, nil, args...)
		if code != 0 || strings.TrimSpace(stdout+stderr) == "" {
			t.Errorf("portcullis %s: exit %d, want 0 with its usage\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
}
