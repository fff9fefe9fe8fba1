package drift_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func newItem(t *testing.T, db *gorm.DB, state drift.State, suppressedUntil *time.Time) uint {
	t.Helper()
	now := time.Now().UTC()
	d := models.DriftItem{Key: "unapproved_open|127.0.0.9|tcp|8080", Kind: "unapproved_open", Severity: "high", Address: "127.0.0.9",
		Protocol: "tcp", Port: 8080, LastPort: 8080, State: string(state), FirstSeen: now, LastSeen: now, SuppressedUntil: suppressedUntil}
	workflowtest.Must(t, db.Create(&d).Error)
	return d.ID
}

func driftFixture(w *workflowtest.World, db *gorm.DB) workflowtest.Fixture[drift.State, drift.Event, drift.Guarded] {
	past := time.Now().Add(-time.Hour)
	return workflowtest.Fixture[drift.State, drift.Event, drift.Guarded]{
		NewRow: func(t *testing.T, from drift.State) (uint, int) { return newItem(t, db, from, &past), 0 },
		Guarded: func(t *testing.T, id uint, from drift.State, ev drift.Event) (core.Actor, drift.Guarded) {
			a := map[drift.Event]core.Actor{drift.EventAcknowledge: w.Rita, drift.EventSuppress: w.Lee, drift.EventResolve: core.SystemActor}[ev]
			return a, drift.Guarded{Actor: a, SuppressedUntil: &past, Now: time.Now()}
		},
	}
}

func TestDriftTableEveryPair(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		workflowtest.EveryPair(t, w.App.Store, drift.Lifecycle, driftFixture(w, db))
	})
}

func TestDriftTableGuards(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	// An auditor may not acknowledge, a reviewer may not suppress.
	id := newItem(t, db, drift.Open, nil)
	_, err := w.App.Drift.Acknowledge(w.Ctx, w.Aude, id, "")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Drift.Suppress(w.Ctx, w.Rita, id, "accepted risk", time.Now().Add(24*time.Hour))
	workflowtest.MustCode(t, err, core.CodeForbidden)
	// A suppression still running keeps the item from being resolved.
	until := time.Now().Add(24 * time.Hour)
	sup := newItem(t, db, drift.Suppressed, &until)
	err = w.App.InTx(w.Ctx, func(tx *gorm.DB) error {
		_, err := drift.Lifecycle.Fire(w.App.Store, tx, core.Move[drift.State, drift.Event]{ID: sup, From: drift.Suppressed, Event: drift.EventResolve, Actor: core.SystemActor},
			drift.Guarded{Actor: core.SystemActor, SuppressedUntil: &until, Now: time.Now()})
		return err
	})
	workflowtest.MustCode(t, err, core.CodeConflict)
	if workflowtest.StateOf(t, db, drift.Lifecycle, sup) != drift.Suppressed {
		t.Fatal("a running suppression was resolved")
	}
	// Through the service: acknowledged by Rita, audited with her as the actor.
	d, err := w.App.Drift.Acknowledge(w.Ctx, w.Rita, id, "looking")
	workflowtest.Must(t, err)
	var ev models.AuditEvent
	workflowtest.Must(t, db.Where("object_type = ? AND object_id = ?", "drift", id).Order("seq DESC").Take(&ev).Error)
	if d.State != drift.Acknowledged || d.AcknowledgedBy != w.Rita.Email || ev.Action != "drift.acknowledge" || ev.Actor != w.Rita.Email || ev.FromState != drift.Open || ev.ToState != drift.Acknowledged {
		t.Fatalf("acknowledged item %+v, event %+v", d, ev)
	}
}

// TestDriftConcurrentAcknowledgeOneWins: two reviewers acknowledge the same
// item at once; exactly one wins.
func TestDriftConcurrentAcknowledgeOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		id := newItem(t, db, drift.Open, nil)
		workflowtest.OneWins(t, w.App.Store, drift.Lifecycle, id, drift.Open, 0, drift.EventAcknowledge,
			func(a core.Actor) drift.Guarded { return drift.Guarded{Actor: a, Now: time.Now()} }, w.Rita, w.Rhea, w.Lee)
	})
}
