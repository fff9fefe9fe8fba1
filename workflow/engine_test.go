package workflow

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/policy"
)

func TestPolicyWhatIfAndSave(t *testing.T) {
	w := sqliteWorld(t)
	// An approved opening from the internet to the DMZ on 443.
	r := w.submitted(t, RequestInput{Title: "Website", Justification: "customers",
		Rules: []RuleInput{{Source: "internet", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}}})
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
	must(t, err)
	if got := w.state(t, r.ID); got != StateApproved {
		t.Fatalf("state %s", got)
	}
	p, err := w.svc.GetPolicy(w.ctx)
	must(t, err)
	closed := p.Matrix
	must(t, closed.Set(policy.Internet, policy.DMZ, policy.AccessDeny))

	_, _, err = w.svc.WhatIf(w.ctx, w.rita, PolicyChange{Matrix: &closed})
	mustCode(t, err, CodeForbidden)
	violations, active, err := w.svc.WhatIf(w.ctx, w.adam, PolicyChange{Matrix: &closed})
	must(t, err)
	if len(active) != 1 || len(violations) != 1 || violations[0].Rule.RequestID != int64(r.ID) {
		t.Fatalf("what-if: %d active, violations %+v", len(active), violations)
	}
	// A preview saves nothing.
	if again, _ := w.svc.GetPolicy(w.ctx); again.Matrix.Access(policy.Internet, policy.DMZ) != policy.AccessWeb {
		t.Fatal("the preview changed the matrix")
	}
	must(t, w.svc.SavePolicy(w.ctx, w.adam, PolicyChange{Matrix: &closed}))
	var events int64
	w.svc.db.Model(&models.AuditEvent{}).Where("action = ?", "policy.matrix.update").Count(&events)
	if events != 1 {
		t.Fatalf("%d audit events for the matrix change", events)
	}
	// New requests are judged by the saved matrix.
	again := w.create(t, w.alice, RequestInput{Title: "Website 2", Justification: "x",
		Rules: []RuleInput{{Source: "internet", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}}})
	if !strings.Contains(again.Findings, `"blocking":true`) {
		t.Fatalf("saved matrix not applied: %s", again.Findings)
	}
}

func TestCatalogEditsAreValidated(t *testing.T) {
	w := sqliteWorld(t)
	bad := "services:\n  - name: redis\n    category: databse\n"
	err := w.svc.SavePolicy(w.ctx, w.adam, PolicyChange{CatalogYAML: &bad})
	mustCode(t, err, CodeInvalid)
	if !strings.Contains(err.Error(), "line") {
		t.Fatalf("catalog error does not name the line: %v", err)
	}
	p, err := w.svc.GetPolicy(w.ctx)
	must(t, err)
	if p.Catalog.Len() < 60 {
		t.Fatalf("catalog has %d services", p.Catalog.Len())
	}
	// An edit to a real entry is kept and audited.
	edited := strings.Replace(p.CatalogYAML, "Secure Shell", "Secure Shell (edited)", 1)
	if edited == p.CatalogYAML {
		t.Skip("catalog has no 'Secure Shell' title to edit")
	}
	must(t, w.svc.SavePolicy(w.ctx, w.adam, PolicyChange{CatalogYAML: &edited}))
	p, _ = w.svc.GetPolicy(w.ctx)
	if !strings.Contains(p.CatalogYAML, "Secure Shell (edited)") {
		t.Fatal("catalog edit not kept")
	}
	var events int64
	w.svc.db.Model(&models.AuditEvent{}).Where("action = ?", "policy.catalog.update").Count(&events)
	if events != 1 {
		t.Fatalf("%d audit events", events)
	}
}

func TestSettingsChangeTheJudgement(t *testing.T) {
	w := sqliteWorld(t)
	in := SettingsForm(policy.DefaultSettings())
	in.MaxSourcePrefixV4 = "40"
	err := w.svc.SaveSettings(w.ctx, w.adam, in)
	mustCode(t, err, CodeInvalid)
	if fieldErrorsOf(err)["max_source_prefix_v4"] == "" {
		t.Fatalf("error does not name the field: %v", err)
	}
	in = SettingsForm(policy.DefaultSettings())
	in.MaxExpiryDays = "30"
	in.DefaultExpiryDays = "30"
	must(t, w.svc.SaveSettings(w.ctx, w.adam, in))
	_, err = w.svc.CreateRequest(w.ctx, w.alice, RequestInput{Title: "t", Justification: "j", ExpiresAt: w.svc.now().AddDate(0, 0, 60), Rules: lowRisk().Rules})
	mustCode(t, err, CodeInvalid)
	if fieldErrorsOf(err)["expires_at"] == "" {
		t.Fatalf("expiry beyond the maximum not refused on its field: %v", err)
	}
}

func TestEnsurePolicyLoadsTheShippedPolicyOnce(t *testing.T) {
	w := sqliteWorld(t)
	must(t, w.svc.EnsurePolicy(w.ctx))
	must(t, w.svc.EnsurePolicy(w.ctx))
	var docs, events int64
	w.svc.db.Model(&models.PolicyDocument{}).Count(&docs)
	w.svc.db.Model(&models.AuditEvent{}).Where("action LIKE ?", "policy.%.load").Count(&events)
	if docs != 2 || events != 2 {
		t.Fatalf("%d documents, %d load events; want 2 and 2", docs, events)
	}
	p, err := w.svc.GetPolicy(w.ctx)
	must(t, err)
	if p.Catalog.Len() < 60 || p.Matrix.Access(policy.Internet, policy.DMZ) != policy.AccessWeb {
		t.Fatalf("loaded policy: %d services", p.Catalog.Len())
	}
}
