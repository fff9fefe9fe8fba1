package requests_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func insertRequest(t *testing.T, db *gorm.DB, by core.Actor, state requests.State) uint {
	t.Helper()
	r := models.Request{Title: "t", Justification: "j", State: string(state), Version: 1, RequesterID: by.ID, Team: by.Team,
		ExpiresAt: time.Now().UTC().AddDate(0, 3, 0)}
	workflowtest.Must(t, db.Omit("Requester").Create(&r).Error)
	return r.ID
}

// TestRequestTableEveryPair fires every (state, event) pair of the
// requests' table, by a person its guards accept: the table alone decides.
func TestRequestTableEveryPair(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		by := map[requests.Event]core.Actor{
			requests.EventSubmit: w.Alice, requests.EventEdit: w.Alice, requests.EventCancel: w.Alice, requests.EventRecertify: w.Alice, requests.EventLapse: w.Alice,
			requests.EventClaim: w.Rita, requests.EventApprove: w.Rita, requests.EventFirstApprove: w.Rita, requests.EventReject: w.Rita,
			requests.EventRequestChanges: w.Rita, requests.EventRevoke: w.Rita, requests.EventSecondApprove: w.Lee, requests.EventImplement: w.Ivan,
		}
		workflowtest.EveryPair(t, w.App.Store, requests.Lifecycle, workflowtest.Fixture[requests.State, requests.Event, requests.Guarded]{
			NewRow: func(t *testing.T, from requests.State) (uint, int) { return insertRequest(t, db, w.Alice, from), 1 },
			Guarded: func(t *testing.T, id uint, from requests.State, ev requests.Event) (core.Actor, requests.Guarded) {
				a, ok := by[ev]
				if !ok {
					a = core.SystemActor
				}
				second := ev == requests.EventFirstApprove || ev == requests.EventSecondApprove
				r := &models.Request{ID: id, RequesterID: w.Alice.ID, Team: w.Alice.Team, NeedsSecondApproval: second}
				return a, requests.Guarded{Event: ev, Actor: a, Request: r, FirstApprover: w.Rita.ID}
			},
		})
	})
}

// TestSecondApprovalGuards: the guards in the table's rows, not the caller,
// refuse a second approval by the first approver and an approval of a
// request that needs two.
func TestSecondApprovalGuards(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	id := insertRequest(t, db, w.Alice, requests.StateInReview)
	fire := func(a core.Actor, ev requests.Event, r *models.Request, first uint) error {
		return w.App.InTx(w.Ctx, func(tx *gorm.DB) error {
			_, err := requests.Lifecycle.Fire(w.App.Store, tx, core.Move[requests.State, requests.Event]{ID: id, From: requests.StateInReview, Version: 1, Event: ev, Actor: a},
				requests.Guarded{Event: ev, Actor: a, Request: r, FirstApprover: first})
			return err
		})
	}
	two := &models.Request{ID: id, RequesterID: w.Alice.ID, NeedsSecondApproval: true}
	workflowtest.MustCode(t, fire(w.Lee, requests.EventSecondApprove, two, w.Lee.ID), core.CodeForbidden)
	workflowtest.MustCode(t, fire(w.Rita, requests.EventApprove, two, 0), core.CodeConflict)
	workflowtest.MustCode(t, fire(w.Lee, requests.EventSecondApprove, &models.Request{ID: id, RequesterID: w.Alice.ID}, w.Rita.ID), core.CodeConflict)
	workflowtest.MustCode(t, fire(w.Alice, requests.EventSecondApprove, two, w.Rita.ID), core.CodeForbidden)
	if workflowtest.StateOf(t, db, requests.Lifecycle, id) != requests.StateInReview || workflowtest.AuditCount(t, db, "request", id) != 0 {
		t.Fatal("a refused approval wrote something")
	}
	workflowtest.Must(t, fire(w.Lena, requests.EventSecondApprove, two, w.Rita.ID))
}

// TestConcurrentReviewsOneWins: two reviewers act on the same version of a
// request at once; exactly one wins.
func TestConcurrentReviewsOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		id := insertRequest(t, db, w.Alice, requests.StateSubmitted)
		r := &models.Request{ID: id, RequesterID: w.Alice.ID}
		workflowtest.OneWins(t, w.App.Store, requests.Lifecycle, id, requests.StateSubmitted, 1, requests.EventClaim,
			func(a core.Actor) requests.Guarded {
				return requests.Guarded{Event: requests.EventClaim, Actor: a, Request: r}
			}, w.Rita, w.Rhea, w.Lee)
	})
}

// TestEditIsThePersonsEvent: an edit in review goes through the table,
// back to the queue, audited as the requester's act.
func TestEditIsThePersonsEvent(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	r := w.Submitted(t, workflowtest.LowRisk())
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, requests.ReviewInput{Decision: requests.DecisionChangesRequest, Comment: "narrow it"})
	workflowtest.Must(t, err)
	in := workflowtest.LowRisk()
	in.Title = "narrower"
	got, err := w.App.Requests.Update(w.Ctx, w.Alice, r.ID, in)
	workflowtest.Must(t, err)
	var ev models.AuditEvent
	workflowtest.Must(t, w.App.DB().Where("object_type = ? AND object_id = ?", "request", r.ID).Order("seq DESC").Take(&ev).Error)
	if got.Title != "narrower" || ev.Action != "edit" || ev.Actor != w.Alice.Email || ev.FromState != ev.ToState {
		t.Fatalf("edited %+v; event %+v", got, ev)
	}
}

// TestStaleVersionLoses: a request read before someone edited it (same
// state, older version) cannot be moved from that read.
func TestStaleVersionLoses(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	db := w.App.DB()
	id := insertRequest(t, db, w.Alice, requests.StateSubmitted)
	workflowtest.Must(t, db.Exec("UPDATE requests SET version = 2 WHERE id = ?", id).Error)
	r := &models.Request{ID: id, RequesterID: w.Alice.ID}
	err := w.App.InTx(w.Ctx, func(tx *gorm.DB) error {
		_, err := requests.Lifecycle.Fire(w.App.Store, tx, core.Move[requests.State, requests.Event]{ID: id, From: requests.StateSubmitted, Version: 1, Event: requests.EventClaim, Actor: w.Rita},
			requests.Guarded{Event: requests.EventClaim, Actor: w.Rita, Request: r})
		return err
	})
	workflowtest.MustCode(t, err, core.CodeConflict)
	if workflowtest.StateOf(t, db, requests.Lifecycle, id) != requests.StateSubmitted || workflowtest.AuditCount(t, db, "request", id) != 0 {
		t.Fatal("a stale version moved the request")
	}
}
