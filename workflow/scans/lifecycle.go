package scans

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// State is where a scan run stands.
type State string

const (
	StateQueued    State = "queued"
	StateRunning   State = "running"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Event is something that happens to a scan run.
type Event string

const (
	EventStart    Event = "start"  // the run's job starts it on an instance
	EventComplete Event = "done"   // the scanner returned its report
	EventFail     Event = "failed" // the scanner or the run's setup failed, or its job gave up
	EventCancel   Event = "cancel" // withdrawn before it started
)

// Guarded is what the scan table's guards read.
type Guarded struct {
	Actor     core.Actor
	StartedAt *time.Time
	Now       time.Time
}

var bySystem = core.Guard[Guarded]{Name: "the scanner", Check: func(g Guarded) error {
	if g.Actor.ID != 0 {
		return core.Forbidden(core.M("err.scans.only_scanner", "only the scanner moves a scan run"))
	}
	return nil
}}

var byScanner = core.Guard[Guarded]{Name: "role reviewer, approver or admin", Check: func(g Guarded) error { return canScan(g.Actor) }}

// Lifecycle is the scan runs' transition table.
var Lifecycle = &core.Machine[State, Event, Guarded]{
	Object: "scan", What: "scan", Model: &models.ScanRun{}, Column: "status",
	Action: func(ev Event) string { return "scan." + string(ev) },
	States: []State{StateQueued, StateRunning, StateDone, StateFailed, StateCancelled},
	Events: []Event{EventStart, EventComplete, EventFail, EventCancel},
	Rows: []core.Transition[State, Event, Guarded]{
		{From: []State{StateQueued}, Event: EventStart, To: StateRunning, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{StateRunning}, Event: EventComplete, To: StateDone, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{StateRunning}, Event: EventFail, To: StateFailed, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{StateQueued}, Event: EventCancel, To: StateCancelled, Guards: []core.Guard[Guarded]{byScanner}},
	},
}

// fire moves run through ev in tx, audited, and keeps run's status in step.
func (s *Service) fire(tx *gorm.DB, actor core.Actor, run *models.ScanRun, ev Event, set map[string]any, detail any, comment string) error {
	to, err := Lifecycle.Fire(s.Store, tx, core.Move[State, Event]{
		ID: run.ID, From: State(run.Status), Event: ev, Actor: actor, Set: set, Detail: detail, Comment: comment,
	}, Guarded{Actor: actor, StartedAt: run.StartedAt, Now: s.Now()})
	if err != nil {
		return err
	}
	run.Status = string(to)
	return nil
}

// Cancel withdraws a queued run before an instance starts it.
func (s *Service) Cancel(ctx context.Context, actor core.Actor, id uint, reason string) (*models.ScanRun, error) {
	if err := canScan(actor); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if err := core.CheckLength("reason", core.M("err.field.reason", "the reason"), reason, core.Limits.Reason); err != nil {
		return nil, err
	}
	var run models.ScanRun
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Omit("report").First(&run, id).Error; err != nil {
			return core.NotFound("scan", id)
		}
		now := s.Now()
		return s.fire(tx, actor, &run, EventCancel, map[string]any{"finished_at": &now, "error": "cancelled by " + actor.Email}, nil, reason)
	})
	if err != nil {
		return nil, err
	}
	return &run, nil
}
