package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAlertsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "alerts.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	env := func(k string) string {
		if k == "SOC_SECRET" {
			return "x"
		}
		return ""
	}
	good := write(`
channels:
  - {name: soc-hook, type: webhook, url: "https://soc.example/hook", secret_env: SOC_SECRET}
  - {name: siem, type: syslog, network: tcp, address: "127.0.0.1:6514", format: cef}
routes:
  - {channel: siem}
  - {channel: soc-hook, min_severity: high, classifications: [dmz, internet]}
`)
	a, err := loadAlerting(good, env, nil)
	if err != nil || len(a.Channels) != 2 {
		t.Fatalf("good file: %v", err)
	}
	for body, want := range map[string]string{
		"channels: [{name: x, type: pager}]":                                                              `type "pager"`,
		"channels: [{name: x, type: webhook, url: 'https://a', secret_env: MISSING}]":                     "secret_env",
		"routes: [{channel: nowhere}]":                                                                    `no channel named "nowhere"`,
		"channels: [{name: s, type: syslog, address: 'a:1'}]\nroutes: [{channel: s, min_severity: dire}]": "severity",
		"chanels: []": "chanels",
	} {
		_, err := loadAlerting(write(body), env, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", body, err, want)
		}
	}
}
