package drift

import (
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// State is where a drift item stands.
type State string

// Event is something that happens to a drift item. Opening is not an
// event: a scan inserts a new item in state open.
type Event string

const (
	EventAcknowledge Event = "acknowledge" // security has seen it and owns it
	EventSuppress    Event = "suppress"    // accepted for a while, with a reason
	EventResolve     Event = "resolve"     // a scan that looked no longer sees it, or its suppression ended
)

// Guarded is what the drift table's guards read.
type Guarded struct {
	Actor           core.Actor
	SuppressedUntil *time.Time
	Now             time.Time
}

func rolesGuard(what string, roles ...core.Role) core.Guard[Guarded] {
	return core.Guard[Guarded]{Name: "role " + what, Check: func(g Guarded) error {
		if !g.Actor.Has(roles...) {
			return core.Forbidden(core.M("err.drift.need_role", "you need the {{.Roles}} role to {{.Verb}} drift", "Roles", core.RolesSaid(roles), "Verb", core.M("err.verb.drift."+what, what)))
		}
		return nil
	}}
}

var bySystem = core.Guard[Guarded]{Name: "the scanner", Check: func(g Guarded) error {
	if g.Actor.ID != 0 {
		return core.Forbidden(core.M("err.drift.only_scan", "only a scan resolves drift"))
	}
	return nil
}}

// suppressionEnded lets a suppressed item end only once its suppression ran
// out: until then it stays hidden whatever a scan sees.
var suppressionEnded = core.Guard[Guarded]{Name: "suppression ended", Check: func(g Guarded) error {
	if g.SuppressedUntil != nil && g.Now.Before(*g.SuppressedUntil) {
		return core.Conflict(core.M("err.drift.suppressed_until", "the item is suppressed until {{.Date}}", "Date", g.SuppressedUntil.Format(time.DateOnly)))
	}
	return nil
}}

// Lifecycle is the drift items' transition table.
var Lifecycle = &core.Machine[State, Event, Guarded]{
	Object: "drift", What: "drift item", Model: &models.DriftItem{}, Column: "state",
	Action: func(ev Event) string { return "drift." + string(ev) },
	States: []State{Open, Acknowledged, Suppressed, Resolved},
	Events: []Event{EventAcknowledge, EventSuppress, EventResolve},
	Rows: []core.Transition[State, Event, Guarded]{
		{From: []State{Open}, Event: EventAcknowledge, To: Acknowledged,
			Guards: []core.Guard[Guarded]{rolesGuard("acknowledge", core.RoleReviewer, core.RoleApprover, core.RoleAdmin)}},
		{From: []State{Open, Acknowledged}, Event: EventSuppress, To: Suppressed,
			Guards: []core.Guard[Guarded]{rolesGuard("suppress", core.RoleApprover, core.RoleAdmin)}},
		{From: []State{Open, Acknowledged}, Event: EventResolve, To: Resolved, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{Suppressed}, Event: EventResolve, To: Resolved, Guards: []core.Guard[Guarded]{bySystem, suppressionEnded}},
	},
}

// fire moves item d through ev in tx, audited, and keeps d's state in step.
func (s *Service) fire(tx *gorm.DB, actor core.Actor, d *models.DriftItem, ev Event, set map[string]any, detail any, comment string) error {
	to, err := Lifecycle.Fire(s.Store, tx, core.Move[State, Event]{
		ID: d.ID, From: State(d.State), Event: ev, Actor: actor, Set: set, Detail: detail, Comment: comment,
	}, Guarded{Actor: actor, SuppressedUntil: d.SuppressedUntil, Now: s.Now()})
	if err != nil {
		return err
	}
	d.State = string(to)
	return nil
}
