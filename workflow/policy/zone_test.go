package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestDefaultMatrixPractice(t *testing.T) {
	m := DefaultMatrix()
	for _, to := range Classifications() {
		want := AccessDeny
		if to == DMZ {
			want = AccessWeb
		}
		if got := m.Access(Internet, to); got != want {
			t.Errorf("internet → %s: %s, want %s", to, got, want)
		}
	}
	for _, from := range Classifications() {
		if from == Internet {
			continue
		}
		if got := m.Access(from, Internet); got != AccessEgress {
			t.Errorf("%s → internet: %s, want egress", from, got)
		}
		reachesHigh := m.Access(from, High) != AccessDeny
		if reachesHigh != (from == Transit || from == High) {
			t.Errorf("%s → high: %s; only transit and high may reach high", from, m.Access(from, High))
		}
	}
	if got := m.Access("nowhere", High); got != AccessDeny {
		t.Errorf("unknown classification: %s", got)
	}
	var zero Matrix
	if zero.Access(Transit, Low) != AccessDeny {
		t.Error("the zero matrix must deny")
	}
}

func TestMatrixSerialisation(t *testing.T) {
	m := DefaultMatrix()
	if err := m.Set(Low, Medium, AccessAllow); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Matrix
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if fromJSON != m {
		t.Fatalf("JSON round trip changed the matrix:\n%s", js)
	}
	ym, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(ym), "internet: {internet: deny, dmz: web,") {
		t.Errorf("YAML form:\n%s", ym)
	}
	var fromYAML Matrix
	if err := yaml.Unmarshal(ym, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if fromYAML != m {
		t.Fatalf("YAML round trip changed the matrix:\n%s", ym)
	}
	// Cells left out are denied; a policy can be written briefly.
	var brief Matrix
	if err := yaml.Unmarshal([]byte("internet: {dmz: web}\ntransit: {high: allow}\n"), &brief); err != nil {
		t.Fatal(err)
	}
	if brief.Access(Internet, DMZ) != AccessWeb || brief.Access(Transit, High) != AccessAllow || brief.Access(Low, Low) != AccessDeny {
		t.Fatalf("brief matrix: %+v", brief)
	}
	for doc, want := range map[string]string{
		`{"intranet": {"dmz": "allow"}}`: `zone classification "intranet"`,
		`{"low": {"secret": "allow"}}`:   `zone classification "secret"`,
		`{"low": {"high": "sometimes"}}`: `access "sometimes"`,
		`{"low": "allow"}`:               "matrix",
		`{"b": {"x": "allow"}, "a": {}}`: `"a"`, // the first error in sorted order, whatever the map order
	} {
		var got Matrix
		err := json.Unmarshal([]byte(doc), &got)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %s", doc, err, want)
		}
	}
	if err := yaml.Unmarshal([]byte("low: {high: never}"), &brief); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("YAML error must name the line: %v", err)
	}
}

func TestMatrixSet(t *testing.T) {
	var m Matrix
	if err := m.Set("secret", Low, AccessAllow); err == nil {
		t.Error("unknown from accepted")
	}
	if err := m.Set(Low, "secret", AccessAllow); err == nil {
		t.Error("unknown to accepted")
	}
	if err := m.Set(Low, High, "maybe"); err == nil {
		t.Error("unknown access accepted")
	}
	if err := m.Set(Low, High, AccessWhitelist); err != nil || m.Access(Low, High) != AccessWhitelist {
		t.Errorf("Set: %v", err)
	}
}

func TestParseClassificationAndAccess(t *testing.T) {
	for _, s := range []string{"internet", "DMZ", " transit ", "Low", "medium", "HIGH"} {
		if _, err := ParseClassification(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseClassification("secret"); err == nil {
		t.Error("secret accepted")
	}
	if _, err := ParseAccess("Whitelist"); err != nil {
		t.Error(err)
	}
	if _, err := ParseAccess("open"); err == nil {
		t.Error("open accepted")
	}
}

func TestSettings(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.MaxExpiry != 365*day || s.DefaultExpiry != 90*day || s.MaxSourcePrefixV4 != 24 || s.MaxSourcePrefixV6 != 48 {
		t.Fatalf("defaults: %+v", s)
	}
	bad := []func(*Settings){
		func(s *Settings) { s.MaxExpiry = 0 },
		func(s *Settings) { s.DefaultExpiry = 0 },
		func(s *Settings) { s.DefaultExpiry = 400 * day },
		func(s *Settings) { s.MaxSourcePrefixV4 = 33 },
		func(s *Settings) { s.MaxSourcePrefixV6 = -1 },
		func(s *Settings) { s.DevicePrefixV4 = 40 },
		func(s *Settings) { s.DevicePrefixV6 = 129 },
		func(s *Settings) { s.BroadPortCount = 0 },
		func(s *Settings) { s.PublicTCPPorts = PortSet{{0, 1}} },
	}
	for i, change := range bad {
		s := DefaultSettings()
		change(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("bad setting %d accepted", i)
		}
	}
	js, err := json.Marshal(DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	var back Settings
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultSettings(), back); diff != "" {
		t.Fatalf("settings JSON round trip (-want +got):\n%s\n%s", diff, js)
	}
	if !strings.Contains(string(js), `"public_tcp_ports":"80,443"`) {
		t.Errorf("ports are not written as text: %s", js)
	}
}
