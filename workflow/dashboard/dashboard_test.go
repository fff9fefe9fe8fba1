package dashboard_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/dashboard"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// The dashboard asks the database the same number of questions however many
// zones there are: no query per zone.
func TestDashboardQueriesDoNotGrowWithZones(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) { dashboardQueries(t, workflowtest.NewWorld(t, db)) })
}

func dashboardQueries(t *testing.T, w *workflowtest.World) {
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{"10.40.0.15": {{Port: 8080, Protocol: "tcp", State: "open", Service: "http"}}}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	// Every view after a commit counts again: what one count asks.
	w.App.Dashboard.SetSettle(0)
	_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps"}, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)

	var queries atomic.Int64
	count := func(*gorm.DB) { queries.Add(1) }
	cb := w.App.DB().Callback()
	workflowtest.Must(t, cb.Query().After("gorm:query").Register("test:count", count))
	workflowtest.Must(t, cb.Raw().After("gorm:raw").Register("test:count", count))
	measure := func() int64 {
		// A committed change makes the next view count again.
		workflowtest.Must(t, w.App.InTx(w.Ctx, func(*gorm.DB) error { return nil }))
		queries.Store(0)
		d, err := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
		workflowtest.Must(t, err)
		if len(d.LastScans) == 0 {
			t.Fatal("no zones on the dashboard")
		}
		return queries.Load()
	}
	measure() // the days before today are counted once a day: not part of what a view costs
	before := measure()
	d, _ := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
	found := false
	for _, z := range d.LastScans {
		found = found || (z.Zone == "apps" && z.RunID != 0 && z.Status == "done")
	}
	if !found {
		t.Fatalf("the apps zone's scan is not on the dashboard: %+v", d.LastScans)
	}
	for i := 0; i < 12; i++ {
		_, err := w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, inventory.ZoneInput{Name: fmt.Sprintf("extra-%d", i), Classification: "low", CIDRs: fmt.Sprintf("172.%d.0.0/16", 16+i)})
		workflowtest.Must(t, err)
	}
	if after := measure(); after != before {
		t.Fatalf("%d queries with 6 zones, %d with 18", before, after)
	}
}

// Everyone sees the same summary: it is counted once and served from memory
// until this instance commits a change and the dashboard's settle time has
// passed since it was counted, however many commits came meanwhile.
func TestDashboardIsRebuiltOnlyAfterAChange(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	var queries atomic.Int64
	count := func(*gorm.DB) { queries.Add(1) }
	cb := w.App.DB().Callback()
	workflowtest.Must(t, cb.Query().After("gorm:query").Register("test:count", count))
	workflowtest.Must(t, cb.Raw().After("gorm:raw").Register("test:count", count))
	if dashboard.Settle <= 0 || dashboard.Settle > core.SummaryMaxAge {
		t.Fatalf("the dashboard settles for %v: want a moment, at most %v", dashboard.Settle, core.SummaryMaxAge)
	}
	// Settling for an hour here, so that no machine is slow enough for it
	// to pass between two views; SummaryMaxAge still bounds it.
	w.App.Dashboard.SetSettle(time.Hour)

	first, err := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
	workflowtest.Must(t, err)
	queries.Store(0)
	again, err := w.App.Dashboard.Dashboard(w.Ctx, w.Aude)
	workflowtest.Must(t, err)
	if n := queries.Load(); n != 0 || again != first {
		t.Fatalf("an unchanged dashboard was counted again (%d queries)", n)
	}

	w.Submitted(t, workflowtest.LowRisk())
	w.Submitted(t, workflowtest.LowRisk())
	queries.Store(0)
	settling, err := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
	workflowtest.Must(t, err)
	if n := queries.Load(); n != 0 || settling != first {
		t.Fatalf("the dashboard was counted again within its settle time (%d queries)", n)
	}
	// Once the settle time has passed, the next view counts again.
	w.App.Dashboard.SetSettle(0)
	after, err := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
	workflowtest.Must(t, err)
	if queries.Load() == 0 {
		t.Fatal("the dashboard was not counted again after a change")
	}
	if after.Waiting["submitted"] != first.Waiting["submitted"]+2 {
		t.Fatalf("waiting submitted = %d after two submissions, want %d", after.Waiting["submitted"], first.Waiting["submitted"]+2)
	}

	// Those who may not see drift get no dashboard, cached or not.
	if _, err := w.App.Dashboard.Dashboard(w.Ctx, w.Alice); err == nil {
		t.Fatal("a requester got the dashboard")
	}
}
