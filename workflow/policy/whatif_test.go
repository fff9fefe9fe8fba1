package policy

import (
	"strings"
	"testing"
)

func TestWhatIf(t *testing.T) {
	active := []ActiveRule{
		activeRule(1, 10, "Jump to payments", newRule(from("jump", Transit), to(High, "10.9.0.5"), on(TCP, "5432"), service("postgresql"))),
		activeRule(2, 11, "Partner dashboard", newRule(from("203.0.113.5/32", Internet), on(TCP, "3000"), service("grafana"))),
		activeRule(3, 12, "Public web", newRule(from("internet"), on(TCP, "443"))),
		// Approved through an exception: already blocking under the current policy.
		activeRule(4, 13, "Legacy telnet", newRule(from("10.3.0.5/32", Low), to(High, "10.9.0.7"), on(TCP, "23"), service("telnet"))),
	}
	current := DefaultPolicy()

	if got := WhatIf(current, current, active, testNow); len(got) != 0 {
		t.Fatalf("an unchanged policy reports %+v", got)
	}

	// The admin closes transit → high.
	closed := DefaultPolicy()
	if err := closed.Matrix.Set(Transit, High, AccessDeny); err != nil {
		t.Fatal(err)
	}
	got := WhatIf(current, closed, active, testNow)
	if len(got) != 1 || got[0].Rule.ID != 1 || got[0].Index != 0 {
		t.Fatalf("closing transit → high: %+v", got)
	}
	if len(got[0].Added) != 1 || got[0].Added[0].Code != CodeZonePath || len(got[0].Findings) < len(got[0].Added) {
		t.Fatalf("added findings: %+v", got[0])
	}

	// The admin makes grafana high-risk in the catalog.
	services := DefaultCatalog().Services()
	for i := range services {
		if services[i].Name == "grafana" {
			services[i].Risk = RiskHigh
		}
	}
	catalog, err := NewCatalog(services)
	if err != nil {
		t.Fatal(err)
	}
	stricter := DefaultPolicy()
	stricter.Catalog = catalog
	got = WhatIf(current, stricter, active, testNow)
	if len(got) != 1 || got[0].Rule.ID != 2 || got[0].Added[0].Code != CodeInternetHighRisk {
		t.Fatalf("grafana made high-risk: %+v", got)
	}

	// Shortening the maximum expiry catches rules that now last too long;
	// the exception rule is reported only for what is new.
	short := DefaultPolicy()
	short.Settings.MaxExpiry = 30 * day
	short.Settings.DefaultExpiry = 7 * day
	got = WhatIf(current, short, active, testNow)
	if len(got) != len(active) {
		t.Fatalf("a 30-day maximum: %d violations, want %d", len(got), len(active))
	}
	for _, v := range got {
		if len(v.Added) != 1 || v.Added[0].Code != CodeExpiryTooLong {
			t.Errorf("rule %d: added %+v", v.Rule.ID, v.Added)
		}
		if v.Rule.ID == 4 && !strings.Contains(codesText(v.Findings), CodeZonePath) {
			t.Errorf("the exception rule's findings lack its zone path: %+v", v.Findings)
		}
	}
}

func codesText(fs []Finding) string { return strings.Join(codes(fs), ",") }
