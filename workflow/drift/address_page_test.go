package drift_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// An asset's drift, read in one statement, pages in the same order as the
// estate-wide list (most severe first, then newest), with the same cursors:
// here the asset's items are the only ones of their zone, so the zone's list
// (which walks the index per state and severity) is the reference.
func TestAddressPagesLikeTheEstateList(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		const addr = "10.60.0.7"
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		sevs := []string{"low", "critical", "info", "high", "medium", "high", "critical", "unheard-of"}
		states := []string{drift.Open, drift.Acknowledged, drift.Suppressed, drift.Resolved}
		var items []models.DriftItem
		for i := range 40 {
			items = append(items, models.DriftItem{Key: fmt.Sprintf("k%d", i), Kind: "open-unapproved", Severity: sevs[i%len(sevs)],
				Address: addr, Port: 1000 + i, Protocol: "tcp", Zone: "only-this-asset", State: states[i%len(states)],
				FirstSeen: at, LastSeen: at, Evidence: "{}"})
			// Another host's item between each of them, in another zone.
			items = append(items, models.DriftItem{Key: fmt.Sprintf("o%d", i), Kind: "open-unapproved", Severity: sevs[(i+3)%len(sevs)],
				Address: "10.60.0.8", Port: 1000 + i, Protocol: "tcp", Zone: "elsewhere", State: states[i%len(states)],
				FirstSeen: at, LastSeen: at, Evidence: "{}"})
		}
		if err := db.Create(&items).Error; err != nil {
			t.Fatal(err)
		}
		walk := func(f drift.Filter) (ids []uint, cursors []string) {
			req := paging.Request[drift.Key]{Limit: 7}
			for range 20 {
				page, err := w.App.Drift.Page(w.Ctx, w.Rita, f, req)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page.Items {
					ids = append(ids, d.ID)
				}
				cursors = append(cursors, page.Next)
				if page.Next == "" {
					return ids, cursors
				}
				if req, err = paging.Parse[drift.Key]("7", page.Next); err != nil {
					t.Fatal(err)
				}
			}
			t.Fatal("more than 20 pages")
			return nil, nil
		}
		for _, f := range []struct{ byAddress, byZone drift.Filter }{
			{drift.Filter{Address: addr}, drift.Filter{Zone: "only-this-asset"}},
			{drift.Filter{Address: addr, States: []string{drift.Open, drift.Acknowledged}}, drift.Filter{Zone: "only-this-asset", States: []string{drift.Open, drift.Acknowledged}}},
			{drift.Filter{Address: addr, Severity: "high"}, drift.Filter{Zone: "only-this-asset", Severity: "high"}},
		} {
			got, gotCursors := walk(f.byAddress)
			want, wantCursors := walk(f.byZone)
			if len(want) == 0 || !slices.Equal(got, want) || !slices.Equal(gotCursors, wantCursors) {
				t.Errorf("%+v: pages\n%v %q\nthe zone's list:\n%v %q", f.byAddress, got, gotCursors, want, wantCursors)
			}
		}
	})
}
