package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"riverqueue.com/riverui"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/jobs"
)

// TestJobsPageShowsQueuesAndFailedJobs: admins see each queue's jobs by
// state and a failed job with its error; others are refused; the
// operations page links to it for admins.
func TestJobsPageShowsQueuesAndFailedJobs(t *testing.T) {
	a := newApp(t)
	// The demo's verification scans wait as jobs; one of them failed for good.
	db := a.svc.DB()
	var id int64
	if err := db.Table("river_job").Select("MIN(id)").Where("queue = ?", "scans").Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no scan job queued by the demo: %v", err)
	}
	if err := db.Exec(`UPDATE river_job SET state = 'discarded', attempt = 10, finalized_at = CURRENT_TIMESTAMP,
		errors = '[{"at":"2026-11-30T10:00:00Z","attempt":10,"error":"scanner exploded","trace":""}]' WHERE id = ?`, id).Error; err != nil {
		t.Fatal(err)
	}
	adam := a.as("adam")
	r := a.get(adam, "/admin/jobs")
	body := a.body(r)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("admin: %d %s", r.StatusCode, body)
	}
	for _, want := range []string{`id="job-queues"`, ">scans<", `id="failed-jobs"`, "scanner exploded", "scan_run", "10 of 10"} {
		if !strings.Contains(body, want) {
			t.Errorf("the jobs page lacks %q", want)
		}
	}
	if strings.Contains(body, "/admin/river") {
		t.Error("River's UI is offered on SQLite, where it is not mounted")
	}
	if r := a.get(a.as("aude"), "/admin/jobs"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor: %d, want 403", r.StatusCode)
	}
	if body := a.body(a.get(adam, "/admin/operations")); !strings.Contains(body, `href="/admin/jobs"`) {
		t.Error("the operations page does not link to the jobs page")
	}
}

// TestRiverUIForAdminsOnPostgres: River's UI is served under /admin/river
// to admins only.
func TestRiverUIForAdminsOnPostgres(t *testing.T) {
	db := modelstest.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newAppOn(t, db, func(c *Config) {
		engine, err := jobs.New(db, modelstest.Logger())
		if err != nil {
			t.Fatal(err)
		}
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(engine.Client(), nil), Logger: modelstest.Logger(), Prefix: RiverUIPrefix})
		if err != nil {
			t.Fatal(err)
		}
		if err := ui.Start(ctx); err != nil {
			t.Fatal(err)
		}
		c.RiverUI = ui
	})
	adam := a.as("adam")
	r := a.get(adam, "/admin/river/")
	if body := a.body(r); r.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("admin at /admin/river/: %d %.300s", r.StatusCode, body)
	}
	r = a.get(adam, "/admin/river/api/jobs?state=available")
	if body := a.body(r); r.StatusCode != http.StatusOK || !strings.Contains(body, "scan_run") {
		t.Fatalf("River UI's job list: %d %.300s", r.StatusCode, body)
	}
	if body := a.body(a.get(adam, "/admin/jobs")); !strings.Contains(body, `href="/admin/river/"`) {
		t.Error("the jobs page does not link to River's UI on PostgreSQL")
	}
	for _, who := range []string{"aude", "rita"} {
		if r := a.get(a.as(who), "/admin/river/api/jobs?state=available"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("%s at River's UI: %d, want 403", who, r.StatusCode)
		}
	}
}
