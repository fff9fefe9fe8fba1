package credcheck

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseList(t *testing.T) {
	in := "# service user password\n\n" +
		"ssh  admin  hunter two words\n" +
		"\tredis\t-\t\"\"\n" +
		"mysql root \"  padded \\\"quoted\\\"  \"\n" +
		"* operator changeme\r\n" +
		"snmp - n0c-community\n"
	got, err := ParseList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Service: "ssh", User: "admin", Password: "hunter two words", Source: "admin-list#3"},
		{Service: "redis", User: "", Password: "", Source: "admin-list#4"},
		{Service: "mysql", User: "root", Password: `  padded "quoted"  `, Source: "admin-list#5"},
		{Service: "*", User: "operator", Password: "changeme", Source: "admin-list#6"},
		{Service: "snmp", User: "", Password: "n0c-community", Source: "admin-list#7"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseList (-want +got):\n%s", d)
	}
}

func TestParseListErrorsNameTheLineAndNeverThePassword(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ssh admin\n", "line 1: service ssh: want USER PASSWORD"},
		{"\n\nhttp admin pw-Secret1\n", `line 3: service "http" unknown`},
		{"snmp admin pw-Secret1\n", "line 1: service snmp takes no user name"},
		{"* - pw-Secret1\n", "line 1: user - (no user) needs a service"},
		{"ssh root \"pw-Secret1\n", "line 1: user \"root\": the quoted password is not a valid"},
		{"vnc - pw-Secret1-too-long\n", "line 1: service vnc: a VNC password has at most 8"},
		{"ssh root \"pw-Secret1\\n\"\n", "line 1: user \"root\": the password contains a NUL or line break"},
		{"sshroot\n", "want SERVICE USER PASSWORD"},
	} {
		_, err := ParseList(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseList(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "pw-Secret1") {
			t.Errorf("the error %q shows the password", err)
		}
	}
}

func TestParseListRefusesADictionary(t *testing.T) {
	big := strings.Repeat("ssh root pw\n", maxListEntries+1)
	if _, err := ParseList(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "not a dictionary") {
		t.Errorf("a list of %d entries: %v", maxListEntries+1, err)
	}
}

func TestCandidatesAdminFirstAndCapped(t *testing.T) {
	admin := []Entry{
		{Service: "mysql", User: "app", Password: "a", Source: "admin-list#1"},
		{Service: "*", User: "ops", Password: "b", Source: "admin-list#2"},
		{Service: "snmp", Password: "c", Source: "admin-list#3"},
	}
	var got []string
	for _, e := range candidates("mysql", admin, 3) {
		got = append(got, e.Source)
	}
	if d := cmp.Diff([]string{"admin-list#1", "admin-list#2", "builtin:mysql#1"}, got); d != "" {
		t.Errorf("mysql candidates (-want +got):\n%s", d)
	}
	got = nil
	for _, e := range candidates("vnc", admin, 5) {
		got = append(got, e.Source)
	}
	if len(got) != 5 || got[0] != "builtin:vnc#1" {
		t.Errorf("vnc candidates %v: * entries carry a user and do not apply to VNC", got)
	}
}
