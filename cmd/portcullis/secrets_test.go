package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Item 12 of issue 12: secrets can come from files or the environment, and
// one given on the command line (readable in the process list) is warned of.
func TestSecretsOnTheCommandLineAreWarnedOf(t *testing.T) {
	_, stderr, code := runCLI(t, noEnv, "serve", "--oidc-client-secret=hunter2", "--smtp-password", "pw")
	if code != 2 || !strings.Contains(stderr, "flag=oidc-client-secret") || !strings.Contains(stderr, "flag=smtp-password") || !strings.Contains(stderr, "--oidc-client-secret-file") {
		t.Fatalf("no warning: exit %d, %q", code, stderr)
	}
	env := func(k string) string {
		if k == "PORTCULLIS_OIDC_CLIENT_SECRET" {
			return "hunter2"
		}
		return ""
	}
	if _, stderr, _ := runCLI(t, env, "serve"); strings.Contains(stderr, "flag=oidc-client-secret") {
		t.Fatalf("a secret from the environment is warned of: %q", stderr)
	}
	if _, stderr, code := runCLI(t, noEnv, "serve", "--oidc-client-secret-file", filepath.Join(t.TempDir(), "missing")); code != 2 || !strings.Contains(stderr, "--oidc-client-secret-file") {
		t.Fatalf("missing secret file: exit %d %q", code, stderr)
	}
	if got := secretsOnCommandLine([]string{"-audit-key", "x", "--db", "y", "--", "--smtp-password"}, "audit-key", "smtp-password"); !slices.Equal(got, []string{"audit-key"}) {
		t.Fatalf("secretsOnCommandLine: %q", got)
	}
	// The agent's enrolment token and a database URL with a password are
	// secrets too, on every command that takes them.
	if _, stderr, _ := runCLI(t, noEnv, "agent", "run", "--server", "http://127.0.0.1:1", "--token", "pca_x", "--state-dir", t.TempDir(), "--poll-wait", "0s"); !strings.Contains(stderr, "flag=token") || !strings.Contains(stderr, "PORTCULLIS_TOKEN") {
		t.Errorf("agent run --token: no warning: %q", stderr)
	}
	if _, stderr, _ := runCLI(t, noEnv, "user", "list", "--db", "postgres://portcullis:hunter2@127.0.0.1:1/x"); !strings.Contains(stderr, "flag=db") || !strings.Contains(stderr, "PORTCULLIS_DB") {
		t.Errorf("--db with a password: no warning: %q", stderr)
	}
	if _, stderr, _ := runCLI(t, noEnv, "user", "list", "--db", filepath.Join(t.TempDir(), "p.db")); strings.Contains(stderr, "flag=db") {
		t.Errorf("--db with a file name is warned of: %q", stderr)
	}
	for dsn, want := range map[string]bool{"postgres://u:pw@h/db": true, "postgres://u@h/db": false, "postgres://h/db?password=pw": true,
		"host=h user=u password=pw": true, "file:x.db?_busy_timeout=5000": false, "portcullis.db": false} {
		if got := dsnHasPassword(dsn); got != want {
			t.Errorf("dsnHasPassword(%q) = %v", dsn, got)
		}
	}
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte("s3cret\n"), 0o600)
	if s, err := secretFromFile("oidc-client-secret", "", file); err != nil || s != "s3cret" {
		t.Fatalf("secret from file: %q %v", s, err)
	}
}
