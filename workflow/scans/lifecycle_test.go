package scans_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func newRun(t *testing.T, db *gorm.DB, state scans.State, started *time.Time) uint {
	t.Helper()
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "127.0.0.1", Status: string(state), RequestedBy: "rita@example.test",
		Progress: "{}", QueuedAt: time.Now().UTC(), StartedAt: started}
	workflowtest.Must(t, db.Create(&run).Error)
	return run.ID
}

func TestScanTableEveryPair(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		long := time.Now().Add(-7 * time.Hour)
		workflowtest.EveryPair(t, w.App.Store, scans.Lifecycle, workflowtest.Fixture[scans.State, scans.Event, scans.Guarded]{
			NewRow: func(t *testing.T, from scans.State) (uint, int) { return newRun(t, db, from, &long), 0 },
			Guarded: func(t *testing.T, id uint, from scans.State, ev scans.Event) (core.Actor, scans.Guarded) {
				a := core.SystemActor
				if ev == scans.EventCancel {
					a = w.Rita
				}
				return a, scans.Guarded{Actor: a, StartedAt: &long, Now: time.Now()}
			},
		})
	})
}

func TestCancelQueuedScan(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	id := newRun(t, db, scans.StateQueued, nil)
	_, err := w.App.Scans.Cancel(w.Ctx, w.Alice, id, "")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	run, err := w.App.Scans.Cancel(w.Ctx, w.Rita, id, "wrong zone")
	workflowtest.Must(t, err)
	if run.Status != string(scans.StateCancelled) {
		t.Fatalf("status %s", run.Status)
	}
	// Its job, if it comes, leaves it cancelled.
	workflowtest.Must(t, w.App.Scans.Run(w.Ctx, id, "x", 0))
	if got := workflowtest.StateOf(t, db, scans.Lifecycle, id); got != scans.StateCancelled {
		t.Fatalf("a cancelled run's job moved it to %s", got)
	}
	_, err = w.App.Scans.Cancel(w.Ctx, w.Rita, id, "")
	workflowtest.MustCode(t, err, core.CodeConflict)
}

// TestConcurrentStartsOneWins: two instances start the one queued run at
// once (a job run twice); one starts it, the other is refused.
func TestConcurrentStartsOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		id := newRun(t, db, scans.StateQueued, nil)
		workflowtest.OneWins(t, w.App.Store, scans.Lifecycle, id, scans.StateQueued, 0, scans.EventStart,
			func(a core.Actor) scans.Guarded { return scans.Guarded{Actor: a, Now: time.Now()} }, core.SystemActor, core.SystemActor, core.SystemActor)
	})
}
