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
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte("s3cret\n"), 0o600)
	if s, err := secretFromFile("oidc-client-secret", "", file); err != nil || s != "s3cret" {
		t.Fatalf("secret from file: %q %v", s, err)
	}
}
