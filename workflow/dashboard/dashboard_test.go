package dashboard_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
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
	_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps"}, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)

	var queries atomic.Int64
	count := func(*gorm.DB) { queries.Add(1) }
	cb := w.App.DB().Callback()
	workflowtest.Must(t, cb.Query().After("gorm:query").Register("test:count", count))
	workflowtest.Must(t, cb.Raw().After("gorm:raw").Register("test:count", count))
	measure := func() int64 {
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
