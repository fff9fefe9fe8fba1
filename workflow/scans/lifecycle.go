package scans

import (
	"context"
	"errors"
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
	EventStart     Event = "start"       // an instance claims the run
	EventComplete  Event = "done"        // the scanner returned its report
	EventFail      Event = "failed"      // the scanner or the run's setup failed
	EventInterrupt Event = "interrupted" // left running by a stopped instance
	EventCancel    Event = "cancel"      // withdrawn before it started
)

// Guarded is what the scan table's guards read.
type Guarded struct {
	Actor     core.Actor
	StartedAt *time.Time
	Now       time.Time
}

var bySystem = core.Guard[Guarded]{Name: "the scanner", Check: func(g Guarded) error {
	if g.Actor.ID != 0 {
		return core.Forbidden("only the scanner moves a scan run")
	}
	return nil
}}

var byScanner = core.Guard[Guarded]{Name: "role reviewer, approver or admin", Check: func(g Guarded) error { return canScan(g.Actor) }}

// stale lets a run be failed as interrupted only once it has run longer
// than any scan takes: a run still inside the limit may be alive elsewhere.
var stale = core.Guard[Guarded]{Name: "running past the stale limit", Check: func(g Guarded) error {
	if g.StartedAt != nil && g.StartedAt.After(g.Now.Add(-staleScan)) {
		return core.Conflict("the run started %s and may still be running", g.StartedAt.Format(time.RFC3339))
	}
	return nil
}}

// Lifecycle is the scan runs' transition table.
var Lifecycle = &core.Machine[State, Event, Guarded]{
	Object: "scan", What: "scan", Model: &models.ScanRun{}, Column: "status",
	Action: func(ev Event) string { return "scan." + string(ev) },
	States: []State{StateQueued, StateRunning, StateDone, StateFailed, StateCancelled},
	Events: []Event{EventStart, EventComplete, EventFail, EventInterrupt, EventCancel},
	Rows: []core.Transition[State, Event, Guarded]{
		{From: []State{StateQueued}, Event: EventStart, To: StateRunning, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{StateRunning}, Event: EventComplete, To: StateDone, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{StateRunning}, Event: EventFail, To: StateFailed, Guards: []core.Guard[Guarded]{bySystem}},
		{From: []State{StateRunning}, Event: EventInterrupt, To: StateFailed, Guards: []core.Guard[Guarded]{bySystem, stale}},
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
	if err := core.CheckLength("reason", "the reason", reason, core.Limits.Reason); err != nil {
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

// staleScan is how long a run may stay running before it is taken for
// interrupted (a killed process): a full scan of a large zone takes less.
const staleScan = 6 * time.Hour

// FailStale fails, through the table and audited, the runs left running by
// a stopped instance, so that their requests can be implemented and
// verified again.
func (s *Service) FailStale(ctx context.Context) (int, error) {
	var ids []uint
	if err := s.DB().WithContext(ctx).Model(&models.ScanRun{}).
		Where("status = ? AND started_at < ?", string(StateRunning), s.Now().Add(-staleScan)).Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	failed := 0
	for _, id := range ids {
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			var run models.ScanRun
			if err := tx.Omit("report").First(&run, id).Error; err != nil {
				return err
			}
			now := s.Now()
			return s.fire(tx, core.SystemActor, &run, EventInterrupt,
				map[string]any{"error": "interrupted: the instance running it stopped", "finished_at": &now},
				map[string]string{"holder": run.Holder}, "no progress from "+run.Holder+" since it started")
		})
		switch {
		case err == nil:
			failed++
		case core.ErrorCodeOf(err) == core.CodeConflict, errors.Is(err, gorm.ErrRecordNotFound):
			// It finished, or another instance failed it, meanwhile.
		default:
			return failed, err
		}
	}
	return failed, nil
}
