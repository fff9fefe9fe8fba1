package recert_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// approvedWithCampaign is an approved request of Alice's and a campaign
// whose deadline passed.
func approvedWithCampaign(t *testing.T, w *workflowtest.World) (*models.Request, *models.RecertCampaign) {
	t.Helper()
	r := w.Submitted(t, workflowtest.LowRisk())
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	r, err = requests.LoadRequest(w.App.DB(), r.ID)
	workflowtest.Must(t, err)
	camp := models.RecertCampaign{Name: "past", DueBy: time.Now().UTC().Add(-time.Hour), CreatedBy: "lee@example.test"}
	workflowtest.Must(t, w.App.DB().Create(&camp).Error)
	return r, &camp
}

func newItem(t *testing.T, db *gorm.DB, r *models.Request, camp *models.RecertCampaign, status recert.State) uint {
	t.Helper()
	rc := models.Recertification{CampaignID: camp.ID, RequestID: r.ID, Team: r.Team, Status: string(status)}
	workflowtest.Must(t, db.Omit("Campaign", "Request").Create(&rc).Error)
	return rc.ID
}

func TestRecertTableEveryPair(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		r, camp := approvedWithCampaign(t, w)
		workflowtest.EveryPair(t, w.App.Store, recert.Lifecycle, workflowtest.Fixture[recert.State, recert.Event, recert.Guarded]{
			NewRow: func(t *testing.T, from recert.State) (uint, int) { return newItem(t, db, r, camp, from), 0 },
			Guarded: func(t *testing.T, id uint, from recert.State, ev recert.Event) (core.Actor, recert.Guarded) {
				a := w.Alice
				if ev == recert.EventOverdue {
					a = core.SystemActor
				}
				return a, recert.Guarded{Actor: a, Request: r, DueBy: camp.DueBy, Now: time.Now()}
			},
		})
	})
}

func TestRecertTableGuards(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	r, camp := approvedWithCampaign(t, w)
	id := newItem(t, db, r, camp, recert.RecertPending)
	fire := func(a core.Actor, ev recert.Event, due time.Time) error {
		return w.App.InTx(w.Ctx, func(tx *gorm.DB) error {
			_, err := recert.Lifecycle.Fire(w.App.Store, tx, core.Move[recert.State, recert.Event]{ID: id, From: recert.RecertPending, Event: ev, Actor: a},
				recert.Guarded{Actor: a, Request: r, DueBy: due, Now: time.Now()})
			return err
		})
	}
	// Bob is not an owner; the scheduler may not lapse before the deadline; a person may not declare it overdue.
	workflowtest.MustCode(t, fire(w.Bob, recert.EventLapse, camp.DueBy), core.CodeForbidden)
	workflowtest.MustCode(t, fire(core.SystemActor, recert.EventOverdue, time.Now().Add(time.Hour)), core.CodeConflict)
	workflowtest.MustCode(t, fire(w.Alice, recert.EventOverdue, camp.DueBy), core.CodeForbidden)
	if workflowtest.StateOf(t, db, recert.Lifecycle, id) != recert.RecertPending || workflowtest.AuditCount(t, db, "recertification", id) != 0 {
		t.Fatal("a refused transition wrote something")
	}
}

// TestLapseIsTheOwnersEvent: letting an opening lapse is audited as the
// owner's act, on the item and on the request.
func TestLapseIsTheOwnersEvent(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	r, camp := approvedWithCampaign(t, w)
	id := newItem(t, db, r, camp, recert.RecertPending)
	got, err := w.App.Recert.LetLapse(w.Ctx, w.Alice, id, "the migration is done")
	workflowtest.Must(t, err)
	if requests.State(got.State) != requests.StateExpired {
		t.Fatalf("request is %s", got.State)
	}
	var events []models.AuditEvent
	workflowtest.Must(t, db.Where("(object_type = ? AND object_id = ?) OR (object_type = ? AND object_id = ?)", "request", r.ID, "recertification", id).
		Where("action IN ?", []string{"lapse", "recertification.lapse", "recertification.end", "expire"}).Order("seq").Find(&events).Error)
	if len(events) != 2 {
		t.Fatalf("events %+v", events)
	}
	for _, ev := range events {
		if ev.Actor != w.Alice.Email {
			t.Errorf("%s on %s #%d by %s, want the owner", ev.Action, ev.ObjectType, ev.ObjectID, ev.Actor)
		}
	}
	if events[0].Action != "recertification.lapse" || events[1].Action != "lapse" || events[1].ToState != string(requests.StateExpired) {
		t.Fatalf("events %+v", events)
	}
}

// TestConcurrentRecertifyAndLapseOneWins: two owners answer the same item
// at once, one re-certifying, one letting it lapse: one answer stands.
func TestConcurrentRecertifyAndLapseOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		r, camp := approvedWithCampaign(t, w)
		id := newItem(t, db, r, camp, recert.RecertPending)
		done := make(chan error, 2)
		go func() {
			_, err := w.App.Recert.Recertify(w.Ctx, w.Alice, id, "The gateway console is still used daily.", time.Time{})
			done <- err
		}()
		go func() {
			_, err := w.App.Recert.LetLapse(w.Ctx, w.Alice, id, "no longer needed")
			done <- err
		}()
		won := 0
		for range 2 {
			switch err := <-done; {
			case err == nil:
				won++
			case core.ErrorCodeOf(err) != core.CodeConflict:
				t.Fatal(err)
			}
		}
		if won != 1 || workflowtest.AuditCount(t, db, "recertification", id) != 1 {
			t.Fatalf("%d answers won, %d item events", won, workflowtest.AuditCount(t, db, "recertification", id))
		}
		// And the table's own race, with the same read state.
		id2 := newItem(t, db, r, camp, recert.RecertPending)
		workflowtest.OneWins(t, w.App.Store, recert.Lifecycle, id2, recert.RecertPending, 0, recert.EventRecertify,
			func(a core.Actor) recert.Guarded { return recert.Guarded{Actor: a, Request: r} }, w.Alice, w.Alice)
	})
}
