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

// TestStaleRunFailsThroughTheTable: a run started long ago is failed as
// interrupted, audited; a recent one is left alone.
func TestStaleRunFailsThroughTheTable(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	long, recent := time.Now().UTC().Add(-7*time.Hour), time.Now().UTC().Add(-time.Hour)
	stale, alive := newRun(t, db, scans.StateRunning, &long), newRun(t, db, scans.StateRunning, &recent)
	n, err := w.App.Scans.FailStale(w.Ctx)
	workflowtest.Must(t, err)
	if n != 1 || workflowtest.StateOf(t, db, scans.Lifecycle, stale) != scans.StateFailed || workflowtest.StateOf(t, db, scans.Lifecycle, alive) != scans.StateRunning {
		t.Fatalf("failed %d; states %s %s", n, workflowtest.StateOf(t, db, scans.Lifecycle, stale), workflowtest.StateOf(t, db, scans.Lifecycle, alive))
	}
	var ev models.AuditEvent
	workflowtest.Must(t, db.Where("object_type = ? AND object_id = ?", "scan", stale).Take(&ev).Error)
	if ev.Action != "scan.interrupted" || ev.Actor != core.SystemActor.Email || ev.FromState != "running" || ev.ToState != "failed" {
		t.Fatalf("audit event %+v", ev)
	}
	// The guard, not only the query, keeps a live run running.
	err = w.App.InTx(w.Ctx, func(tx *gorm.DB) error {
		_, err := scans.Lifecycle.Fire(w.App.Store, tx, core.Move[scans.State, scans.Event]{ID: alive, From: scans.StateRunning, Event: scans.EventInterrupt, Actor: core.SystemActor},
			scans.Guarded{Actor: core.SystemActor, StartedAt: &recent, Now: time.Now()})
		return err
	})
	workflowtest.MustCode(t, err, core.CodeConflict)
	if n, _ := w.App.Scans.FailStale(w.Ctx); n != 0 {
		t.Fatalf("failed %d again", n)
	}
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
	if got, err := w.App.Scans.Claim(w.Ctx, "x"); err != nil || got != nil {
		t.Fatalf("claimed a cancelled run: %v %v", got, err)
	}
	_, err = w.App.Scans.Cancel(w.Ctx, w.Rita, id, "")
	workflowtest.MustCode(t, err, core.CodeConflict)
}

// TestConcurrentClaimsOneWins: two instances claim the one queued run at
// once; one runs it, the other finds nothing.
func TestConcurrentClaimsOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		id := newRun(t, db, scans.StateQueued, nil)
		workflowtest.OneWins(t, w.App.Store, scans.Lifecycle, id, scans.StateQueued, 0, scans.EventStart,
			func(a core.Actor) scans.Guarded { return scans.Guarded{Actor: a, Now: time.Now()} }, core.SystemActor, core.SystemActor, core.SystemActor)
	})
}
