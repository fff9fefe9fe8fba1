package requests_test

import (
	"context"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// Lists keep each request's rules by its version: an edit made by another
// instance sharing the database shows on this instance's next page at once,
// in every kind of list, and so does a requester renamed on this instance.
func TestListsShowRulesAsEditedOnAnyInstance(t *testing.T) {
	db := modelstest.SQLite(t)
	w := workflowtest.NewWorld(t, db)
	other := workflow.New(db, modelstest.Logger())
	r := w.Create(t, w.Alice, workflowtest.LowRisk())
	lists := []struct {
		name string
		ctx  context.Context
	}{
		{"plain", requests.ForRequestList(w.Ctx)},
		{"summed", requests.ForRuleSummaries(w.Ctx)},
		{"listed", requests.ForListing(w.Ctx)},
		{"whole", w.Ctx},
	}
	shown := func(ctx context.Context) models.Request {
		t.Helper()
		page, err := w.App.Requests.ListPage(ctx, w.Alice, requests.Filter{Mine: true}, paging.Request[requests.ListKey]{Limit: 10})
		workflowtest.Must(t, err)
		if len(page.Items) != 1 || page.Items[0].ID != r.ID {
			t.Fatalf("list: %+v, want request %d alone", page.Items, r.ID)
		}
		return page.Items[0]
	}
	for _, l := range lists {
		if got := shown(l.ctx); len(got.Rules) != 1 || got.Rules[0].Ports != "443" || got.Requester.Name != "alice" {
			t.Fatalf("%s list before the edit: rules %+v, requester %q", l.name, got.Rules, got.Requester.Name)
		}
	}
	// Shown again, the list reads its requests and nothing else; in a
	// transaction (which may see writes never committed) it keeps nothing.
	var statements atomic.Int64
	count := func(*gorm.DB) { statements.Add(1) }
	workflowtest.Must(t, db.Callback().Query().After("gorm:query").Register("test:count", count))
	workflowtest.Must(t, db.Callback().Row().After("gorm:row").Register("test:count", count))
	shown(lists[0].ctx)
	if n := statements.Load(); n != 1 {
		t.Errorf("a list shown again ran %d statements, want 1 (its requests; their rules and requester kept)", n)
	}
	workflowtest.Must(t, w.App.Requests.InTx(w.Ctx, func(tx *gorm.DB) error {
		statements.Store(0)
		ids := []uint{r.ID}
		got, err := w.App.Requests.ReadWithRules(tx, ids)
		if err != nil {
			return err
		}
		if n := statements.Load(); n != 2 || len(got[r.ID].Rules) != 1 {
			t.Errorf("a request read in a transaction: %d statements and rules %+v, want 2 (the rules read, not kept)", n, got[r.ID].Rules)
		}
		return nil
	}))
	edit := workflowtest.LowRisk()
	edit.Rules = append(edit.Rules, requests.RuleInput{Source: "transit", Destination: "10.50.0.10", Protocol: "udp", Ports: "514", Service: "syslog"})
	edit.Rules[0].Ports = "8443"
	if _, err := other.Requests.Update(w.Ctx, w.Alice, r.ID, edit); err != nil {
		t.Fatal(err)
	}
	for _, l := range lists {
		got := shown(l.ctx)
		if len(got.Rules) != 2 || got.Rules[0].Ports != "8443" || got.Rules[1].Protocol != "udp" || got.Rules[1].Ports != "514" {
			t.Errorf("%s list after another instance's edit: rules %+v, want tcp 8443 then udp 514", l.name, got.Rules)
		} else if l.name == "whole" && (got.Rules[0].Source != "transit" || got.Rules[1].Service != "syslog") {
			t.Errorf("whole list after the edit: rules %+v, want their sources and services", got.Rules)
		}
	}
	if _, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "alice", Email: "alice@example.test", Name: "Alice Liddell", Team: "payments", Roles: w.Alice.Roles}); err != nil {
		t.Fatal(err)
	}
	for _, l := range lists {
		if got := shown(l.ctx); got.Requester.Name != "Alice Liddell" {
			t.Errorf("%s list after alice was renamed: requester %q", l.name, got.Requester.Name)
		}
	}
}
