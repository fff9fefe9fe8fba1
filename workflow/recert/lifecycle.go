package recert

import (
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// State is where a re-certification item stands.
type State string

// Event is something that happens to a re-certification item.
type Event string

const (
	EventRecertify Event = "recertify" // the owners confirm the opening, with a fresh justification
	EventLapse     Event = "lapse"     // the owners let it lapse
	EventOverdue   Event = "overdue"   // the campaign's deadline passed without an answer
	EventEnd       Event = "end"       // the opening ended otherwise (expired, revoked)
)

// Guarded is what the re-certification table's guards read.
type Guarded struct {
	Actor   core.Actor
	Request *models.Request // the opening re-certified
	DueBy   time.Time       // the campaign's deadline
	Now     time.Time
}

// byOwner: the requester or a member of the owning team answer an item.
var byOwner = core.Guard[Guarded]{Name: "owner may lapse or re-certify", Check: func(g Guarded) error {
	r := g.Request
	if g.Actor.ID != r.RequesterID && (g.Actor.Team == "" || g.Actor.Team != r.Team) {
		return core.Forbidden(core.M("err.recert.only_owners", "only the owners of request #{{.ID}} (its requester and team {{.Team}}) can re-certify it", "ID", r.ID, "Team", r.Team))
	}
	return nil
}}

var bySystem = core.Guard[Guarded]{Name: "the scheduler", Check: func(g Guarded) error {
	if g.Actor.ID != 0 {
		return core.Forbidden(core.M("err.recert.only_scheduler", "only the scheduler lapses an overdue re-certification"))
	}
	return nil
}}

var pastDeadline = core.Guard[Guarded]{Name: "deadline passed", Check: func(g Guarded) error {
	if !g.Now.After(g.DueBy) {
		return core.Conflict(core.M("err.recert.deadline_not_passed", "the campaign's deadline {{.Date}} has not passed", "Date", g.DueBy.Format(time.DateOnly)))
	}
	return nil
}}

// Lifecycle is the re-certification items' transition table. An item
// whose opening ended (EventEnd) lapses whoever ended it: its guard is the
// request's own transition, fired in the same transaction.
var Lifecycle = &core.Machine[State, Event, Guarded]{
	Object: "recertification", What: "re-certification", Model: &models.Recertification{}, Column: "status",
	Action: func(ev Event) string { return "recertification." + string(ev) },
	Verb: func(ev Event) string {
		return map[Event]string{EventRecertify: "re-certify", EventLapse: "let lapse", EventOverdue: "lapse", EventEnd: "end"}[ev]
	},
	States: []State{RecertPending, RecertRecertified, RecertLapsed},
	Events: []Event{EventRecertify, EventLapse, EventOverdue, EventEnd},
	Rows: []core.Transition[State, Event, Guarded]{
		{From: []State{RecertPending}, Event: EventRecertify, To: RecertRecertified, Guards: []core.Guard[Guarded]{byOwner}},
		{From: []State{RecertPending}, Event: EventLapse, To: RecertLapsed, Guards: []core.Guard[Guarded]{byOwner}},
		{From: []State{RecertPending}, Event: EventOverdue, To: RecertLapsed, Guards: []core.Guard[Guarded]{bySystem, pastDeadline}},
		{From: []State{RecertPending}, Event: EventEnd, To: RecertLapsed, Guards: []core.Guard[Guarded]{{Name: "the opening ended", Check: func(Guarded) error { return nil }}}},
	},
}

// fire moves item rc through ev in tx, audited, and keeps rc's status in step.
func (s *Service) fire(tx *gorm.DB, actor core.Actor, rc *models.Recertification, r *models.Request, dueBy time.Time, ev Event, set map[string]any, detail any, comment string) error {
	now := s.Now()
	all := map[string]any{"decided_by": actor.Email, "decided_at": &now}
	for k, v := range set {
		all[k] = v
	}
	to, err := Lifecycle.Fire(s.Store, tx, core.Move[State, Event]{
		ID: rc.ID, From: State(rc.Status), Event: ev, Actor: actor, Set: all, Detail: detail, Comment: comment,
	}, Guarded{Actor: actor, Request: r, DueBy: dueBy, Now: now})
	if err != nil {
		return err
	}
	rc.Status = string(to)
	return nil
}
