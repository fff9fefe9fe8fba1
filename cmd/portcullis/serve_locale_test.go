package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesBadLanguageAndZone: a misspelt default time zone or a
// language not offered stops serve at once, naming the flag and the value.
func TestServeRefusesBadLanguageAndZone(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--demo", "--db", db, "--default-timezone", "Asia/Shangai"}, []string{"--default-timezone", `"Asia/Shangai"`, "IANA"}},
		{[]string{"serve", "--demo", "--db", db, "--default-timezone", "Local"}, []string{"--default-timezone", `"Local"`}},
		{[]string{"serve", "--demo", "--db", db, "--default-language", "fr"}, []string{"--default-language", `"fr"`, "en or zh-CN"}},
	} {
		_, stderr, code := runCLI(t, noEnv, tc.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr %q does not say %q", tc.args, stderr, w)
			}
		}
	}
	_, stderr, code := runCLI(t, func(k string) string {
		if k == "PORTCULLIS_DEFAULT_TIMEZONE" {
			return "Mars/Olympus_Mons"
		}
		return ""
	}, "serve", "--demo", "--db", db)
	if code != 2 || !strings.Contains(stderr, "Mars/Olympus_Mons") {
		t.Errorf("a bad PORTCULLIS_DEFAULT_TIMEZONE: exit %d, %q", code, stderr)
	}
}
