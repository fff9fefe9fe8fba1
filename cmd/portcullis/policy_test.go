package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	db := seededDB(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	blocked := write("blocked.yaml", `
- source: internet
  destination: [127.40.0.16]
  protocol: tcp
  ports: 3306
  service: mysql
`)
	clean := write("clean.json", `[{"source": "transit", "destination": ["127.50.0.10"], "protocol": "tcp", "ports": "443", "service": "http"}]`)
	badPort := write("bad.yaml", "- source: internet\n  destination: [127.10.0.10]\n  protocol: tcp\n  ports: 70000\n")
	unknownZone := write("zone.yaml", "- source: mars\n  destination: [127.10.0.10]\n  protocol: tcp\n  ports: 443\n")

	out, _, code := runCLI(t, noEnv, "policy", "check", "--db", db, blocked)
	if code != 1 || !strings.Contains(out, "internet-high-risk") || !strings.Contains(out, "blocking") {
		t.Fatalf("blocked file: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, noEnv, "policy", "check", "--db", db, "--format", "json", clean)
	var res struct {
		Findings []any
		Blocking bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Blocking {
		t.Fatalf("clean file: exit %d\n%s", code, out)
	}
	for name, tc := range map[string]struct{ file, want string }{
		"bad port":     {badPort, "rules[0].ports"},
		"unknown zone": {unknownZone, "mars"},
		"missing file": {filepath.Join(dir, "nope.yaml"), "nope.yaml"},
	} {
		_, stderr, code := runCLI(t, noEnv, "policy", "check", "--db", db, tc.file)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
	if _, stderr, code := runCLI(t, noEnv, "policy", "check", "--db", filepath.Join(dir, "absent.db"), clean); code != 2 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("absent database: %d %q", code, stderr)
	}
}
