package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestAgentCommandsHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"agent", "enroll", "--help"}, "-zones"},
		{[]string{"agent", "run", "--help"}, "-state-dir"},
		{[]string{"agent", "list", "--help"}, "-format"},
		{[]string{"agent", "--help"}, "enroll"},
	} {
		out, errOut, code := runCLI(t, noEnv, tc.args...)
		if code != 0 || !strings.Contains(out+errOut, tc.flag) {
			t.Errorf("%v: exit %d, output %q; want 0 and the flags", tc.args, code, out+errOut)
		}
	}
}

func TestAgentEnrollAndList(t *testing.T) {
	db := seededDB(t)
	out, _, code := runCLI(t, noEnv, "agent", "enroll", "--db", db, "--name", "dmz-1", "--zones", "dmz", "--ttl", "2h")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[len(lines)-1], "pca_") {
		t.Fatalf("enroll: exit %d, output %q; want the token as the last line", code, out)
	}
	for _, bad := range [][]string{
		{"agent", "enroll", "--db", db, "--name", "dmz-1", "--zones", "dmz"}, // the name is taken
		{"agent", "enroll", "--db", db, "--name", "x", "--zones", "nowhere"}, // no such zone
		{"agent", "enroll", "--db", db, "--name", "y", "--zones", "dmz", "--ttl", "1000h"},
		{"agent", "enroll", "--db", db, "--zones", "dmz"},
		{"agent", "run", "--server", "ftp://x", "--state-dir", t.TempDir()},
		{"agent", "run", "--server", "http://127.0.0.1:1", "--state-dir", filepath.Join(t.TempDir(), "s")}, // no token, no state
		{"agent", "list", "--db", db, "--format", "xml"},
		{"agent", "fly"},
	} {
		if _, errOut, code := runCLI(t, noEnv, bad...); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 && !strings.Contains(errOut, "usage") {
			t.Errorf("%v: exit %d (%q), want 2 with one line", bad, code, errOut)
		}
	}
	out, _, code = runCLI(t, noEnv, "agent", "list", "--db", db, "--format", "json")
	var list []struct {
		Name     string   `json:"name"`
		Zones    []string `json:"zones"`
		State    string   `json:"state"`
		LastSeen *string  `json:"last_seen"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("list: exit %d, %v, %q", code, err, out)
	}
	if len(list) != 1 || list[0].Name != "dmz-1" || list[0].Zones[0] != "dmz" || list[0].State != "enrolling" || list[0].LastSeen != nil {
		t.Fatalf("list %+v", list)
	}
}
