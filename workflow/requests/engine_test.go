package requests_test

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestPolicyWhatIfAndSave(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	// An approved opening from the internet to the DMZ on 443.
	r := w.Submitted(t, requests.Input{Title: "Website", Justification: "customers",
		Rules: []requests.RuleInput{{Source: "internet", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}}})
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	if got := w.State(t, r.ID); got != requests.StateApproved {
		t.Fatalf("state %s", got)
	}
	p, err := w.App.Inventory.GetPolicy(w.Ctx)
	workflowtest.Must(t, err)
	closed := p.Matrix
	workflowtest.Must(t, closed.Set(policy.Internet, policy.DMZ, policy.AccessDeny))

	_, _, err = w.App.Requests.WhatIf(w.Ctx, w.Rita, inventory.PolicyChange{Matrix: &closed})
	workflowtest.MustCode(t, err, core.CodeForbidden)
	violations, active, err := w.App.Requests.WhatIf(w.Ctx, w.Adam, inventory.PolicyChange{Matrix: &closed})
	workflowtest.Must(t, err)
	if len(active) != 1 || len(violations) != 1 || violations[0].Rule.RequestID != int64(r.ID) {
		t.Fatalf("what-if: %d active, violations %+v", len(active), violations)
	}
	// A preview saves nothing.
	if again, _ := w.App.Inventory.GetPolicy(w.Ctx); again.Matrix.Access(policy.Internet, policy.DMZ) != policy.AccessWeb {
		t.Fatal("the preview changed the matrix")
	}
	workflowtest.Must(t, w.App.Inventory.SavePolicy(w.Ctx, w.Adam, inventory.PolicyChange{Matrix: &closed}))
	var events int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "policy.matrix.update").Count(&events)
	if events != 1 {
		t.Fatalf("%d audit events for the matrix change", events)
	}
	// New requests are judged by the saved matrix.
	again := w.Create(t, w.Alice, requests.Input{Title: "Website 2", Justification: "x",
		Rules: []requests.RuleInput{{Source: "internet", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}}})
	if !strings.Contains(again.Findings, `"blocking":true`) {
		t.Fatalf("saved matrix not applied: %s", again.Findings)
	}
}

func TestCatalogEditsAreValidated(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	bad := "services:\n  - name: redis\n    category: databse\n"
	err := w.App.Inventory.SavePolicy(w.Ctx, w.Adam, inventory.PolicyChange{CatalogYAML: &bad})
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if !strings.Contains(err.Error(), "line") {
		t.Fatalf("catalog error does not name the line: %v", err)
	}
	p, err := w.App.Inventory.GetPolicy(w.Ctx)
	workflowtest.Must(t, err)
	if p.Catalog.Len() < 60 {
		t.Fatalf("catalog has %d services", p.Catalog.Len())
	}
	// An edit to a real entry is kept and audited.
	edited := strings.Replace(p.CatalogYAML, "Secure Shell", "Secure Shell (edited)", 1)
	if edited == p.CatalogYAML {
		t.Skip("catalog has no 'Secure Shell' title to edit")
	}
	workflowtest.Must(t, w.App.Inventory.SavePolicy(w.Ctx, w.Adam, inventory.PolicyChange{CatalogYAML: &edited}))
	p, _ = w.App.Inventory.GetPolicy(w.Ctx)
	if !strings.Contains(p.CatalogYAML, "Secure Shell (edited)") {
		t.Fatal("catalog edit not kept")
	}
	var events int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "policy.catalog.update").Count(&events)
	if events != 1 {
		t.Fatalf("%d audit events", events)
	}
}

func TestSettingsChangeTheJudgement(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	in := inventory.SettingsForm(policy.DefaultSettings())
	in.MaxSourcePrefixV4 = "40"
	err := w.App.Inventory.SaveSettings(w.Ctx, w.Adam, in)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if workflowtest.FieldErrorsOf(err)["max_source_prefix_v4"] == "" {
		t.Fatalf("error does not name the field: %v", err)
	}
	in = inventory.SettingsForm(policy.DefaultSettings())
	in.MaxExpiryDays = "30"
	in.DefaultExpiryDays = "30"
	workflowtest.Must(t, w.App.Inventory.SaveSettings(w.Ctx, w.Adam, in))
	_, err = w.App.Requests.Create(w.Ctx, w.Alice, requests.Input{Title: "t", Justification: "j", ExpiresAt: w.App.Now().AddDate(0, 0, 60), Rules: workflowtest.LowRisk().Rules})
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if workflowtest.FieldErrorsOf(err)["expires_at"] == "" {
		t.Fatalf("expiry beyond the maximum not refused on its field: %v", err)
	}
}

func TestEnsurePolicyLoadsTheShippedPolicyOnce(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	workflowtest.Must(t, w.App.Inventory.EnsurePolicy(w.Ctx))
	workflowtest.Must(t, w.App.Inventory.EnsurePolicy(w.Ctx))
	var docs, events int64
	w.App.DB().Model(&models.PolicyDocument{}).Count(&docs)
	w.App.DB().Model(&models.AuditEvent{}).Where("action LIKE ?", "policy.%.load").Count(&events)
	if docs != 2 || events != 2 {
		t.Fatalf("%d documents, %d load events; want 2 and 2", docs, events)
	}
	p, err := w.App.Inventory.GetPolicy(w.Ctx)
	workflowtest.Must(t, err)
	if p.Catalog.Len() < 60 || p.Matrix.Access(policy.Internet, policy.DMZ) != policy.AccessWeb {
		t.Fatalf("loaded policy: %d services", p.Catalog.Len())
	}
}
