package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditExportAndVerify(t *testing.T) {
	db := seededDB(t)
	key := db + ".audit-key"
	out, _, code := runCLI(t, noEnv, "audit", "keygen", "--name", "test.example")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[1], "PRIVATE+KEY+test.example+") {
		t.Fatalf("keygen: %d %q", code, out)
	}
	if err := os.WriteFile(key, []byte(lines[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vkey := lines[3]
	exported, _, code := runCLI(t, noEnv, "audit", "export", "--db", db)
	if code != 0 || !strings.Contains(exported, `"checkpoint"`) {
		t.Fatalf("export: %d %.200s", code, exported)
	}
	file := filepath.Join(t.TempDir(), "audit.json")
	os.WriteFile(file, []byte(exported), 0o600)
	out, _, code = runCLI(t, noEnv, "audit", "verify", "--key", vkey, file)
	if code != 0 || !strings.Contains(out, "intact") || !strings.Contains(out, "verified with the given key") {
		t.Fatalf("verify: %d %q", code, out)
	}
	// One altered character: exit 1 naming the event.
	tampered := strings.Replace(exported, "Baseline checked on the hosts.", "Baseline checked on the host.", 1)
	os.WriteFile(file, []byte(tampered), 0o600)
	out, _, code = runCLI(t, noEnv, "audit", "verify", "--key", vkey, file)
	if code != 1 || !strings.Contains(out, "BROKEN at event ") {
		t.Fatalf("tampered verify: %d %q", code, out)
	}
	// CSV export with a period, verified as CSV.
	csvOut, _, code := runCLI(t, noEnv, "audit", "export", "--db", db, "--format", "csv", "--from", "2000-01-01", "--to", "2999-12-31")
	os.WriteFile(file, []byte(csvOut), 0o600)
	if out, _, code2 := runCLI(t, noEnv, "audit", "verify", file); code != 0 || code2 != 0 {
		t.Fatalf("csv: export %d verify %d %q", code, code2, out)
	}
	// A time with a stray character is tampering with that event (exit 1,
	// naming it), not bad input (exit 2); the events after it are still checked.
	rows := strings.Split(csvOut, "\n")
	fields := strings.Split(rows[2], ",")
	fields[1] += "x"
	rows[2] = strings.Join(fields, ",")
	os.WriteFile(file, []byte(strings.Join(rows, "\n")), 0o600)
	if out, _, code := runCLI(t, noEnv, "audit", "verify", file); code != 1 || !strings.Contains(out, "BROKEN at event "+fields[0]+": ") || strings.Count(out, "BROKEN") != 1 {
		t.Fatalf("csv with an unreadable time: exit %d %q", code, out)
	}
	for _, args := range [][]string{
		{"audit", "export", "--db", db, "--format", "xml"},
		{"audit", "export", "--db", db, "--from", "yesterday"},
		{"audit", "export", "--db", db, "--from", "2026-02-01", "--to", "2026-01-01"},
		{"audit", "verify"},
		{"audit", "verify", filepath.Join(t.TempDir(), "missing.json")},
	} {
		if _, stderr, code := runCLI(t, noEnv, args...); code != 2 {
			t.Errorf("%q: exit %d %q", args, code, stderr)
		}
	}
}
