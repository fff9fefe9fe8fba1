package scans_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// Issue 12 item 9 (the cap): scans asked for through the API or the UI
// cover at most the admin-set number of addresses (4,096 unless changed),
// as the command-line scanner does; scheduled zone scans are not capped.
func TestScansAskedForByHandAreCapped(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	in, err := w.App.Inventory.GetSettingsForm(w.Ctx)
	workflowtest.Must(t, err)
	if in.ScanMaxTargets != "4096" {
		t.Fatalf("default cap %q, want 4096", in.ScanMaxTargets)
	}
	bad := in
	bad.ScanMaxTargets = "0"
	workflowtest.MustCode(t, w.App.Inventory.SaveSettings(w.Ctx, w.Adam, bad), core.CodeInvalid)
	in.ScanMaxTargets = "2"
	workflowtest.Must(t, w.App.Inventory.SaveSettings(w.Ctx, w.Adam, in))

	// apps holds three assets.
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps"}, "common")
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if e := err.(*core.Error); e.Field != "targets" || !strings.Contains(e.Message, "3 addresses") || !strings.Contains(e.Message, "at most 2") {
		t.Fatalf("refusal %+v", e)
	}
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.40.0.15", "10.40.0.16"}, "common")
	workflowtest.Must(t, err)

	// The scheduled scan of apps is queued whole.
	created := time.Now().UTC()
	w.App.SetClock(func() time.Time {
		return time.Date(created.Year(), created.Month(), created.Day(), 2, 30, 0, 0, time.UTC).AddDate(0, 0, 1)
	})
	_, err = w.ScheduleDue(t)
	workflowtest.Must(t, err)
	var run models.ScanRun
	workflowtest.Must(t, w.App.DB().Where("kind = ? AND zone = ?", "daily", "apps").Take(&run).Error)
	if n := len(strings.Split(run.Targets, ",")); n != 3 {
		t.Fatalf("the scheduled scan of apps covers %d addresses, want 3", n)
	}
	if got := inventory.ScanMaxTargets(w.App.DB()); got != 2 {
		t.Fatalf("cap read back %d", got)
	}
}
