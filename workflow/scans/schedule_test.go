package scans_test

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestScheduledScans(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	created := time.Now().UTC()
	count := func(kind string) int64 {
		var n int64
		w.App.DB().Model(&models.ScanRun{}).Where("kind = ?", kind).Count(&n)
		return n
	}
	// Right after the zones exist nothing is owed.
	n, err := w.ScheduleDue(t)
	workflowtest.Must(t, err)
	if n != 0 {
		t.Fatalf("%d scans queued for slots before the zones existed", n)
	}
	// The next day after 02:00 UTC: one daily scan per zone with assets, once.
	next := time.Date(created.Year(), created.Month(), created.Day(), 2, 30, 0, 0, time.UTC).AddDate(0, 0, 1)
	w.App.SetClock(func() time.Time { return next })
	n, err = w.ScheduleDue(t)
	workflowtest.Must(t, err)
	zonesWithAssets := int64(3) // dmz, apps, pci hold the world's assets
	if int64(n) < zonesWithAssets || count("daily") != zonesWithAssets {
		t.Fatalf("queued %d, daily runs %d, want %d", n, count("daily"), zonesWithAssets)
	}
	n, _ = w.ScheduleDue(t)
	if count("daily") != zonesWithAssets {
		t.Fatalf("the daily scans were queued twice")
	}
	// An admin turns the weekly scan of apps off and moves its daily scan.
	zones, _ := w.App.Inventory.ListZones(w.Ctx)
	var apps models.Zone
	for _, z := range zones {
		if z.Name == "apps" {
			apps = z
		}
	}
	workflowtest.Must(t, w.App.Scans.SaveSchedule(w.Ctx, w.Adam, apps.ID, 5, -1, 3))
	workflowtest.MustCode(t, w.App.Scans.SaveSchedule(w.Ctx, w.Rita, apps.ID, 5, -1, 3), core.CodeForbidden)
	workflowtest.MustCode(t, w.App.Scans.SaveSchedule(w.Ctx, w.Adam, apps.ID, 24, 0, 3), core.CodeInvalid)
	// Eight days on, past the Sunday slot: weekly scans for the others, not for apps.
	w.App.SetClock(func() time.Time { return next.AddDate(0, 0, 8).Add(4 * time.Hour) })
	_, err = w.ScheduleDue(t)
	workflowtest.Must(t, err)
	var appsWeekly int64
	w.App.DB().Model(&models.ScanRun{}).Where("kind = ? AND zone = ?", "weekly", "apps").Count(&appsWeekly)
	if appsWeekly != 0 || count("weekly") != zonesWithAssets-1 {
		t.Fatalf("weekly runs %d (apps %d), want %d and 0", count("weekly"), appsWeekly, zonesWithAssets-1)
	}
}
