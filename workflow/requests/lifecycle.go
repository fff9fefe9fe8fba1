package requests

import (
	"errors"
	"fmt"
	"slices"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"gorm.io/gorm"
)

// State is where a request stands in its lifecycle.
type State string

const (
	StateDraft              State = "draft"
	StateSubmitted          State = "submitted"
	StateInReview           State = "in_review"
	StateChangesRequested   State = "changes_requested"
	StateRejected           State = "rejected"
	StateApproved           State = "approved"
	StateImplemented        State = "implemented"
	StateVerified           State = "verified"
	StateVerificationFailed State = "verification_failed"
	StateActive             State = "active"
	StateExpired            State = "expired"
	StateRevoked            State = "revoked"
	StateCancelled          State = "cancelled"
)

// AllStates in lifecycle order, for filters and the demo.
var AllStates = []State{
	StateDraft, StateSubmitted, StateInReview, StateChangesRequested, StateRejected,
	StateApproved, StateImplemented, StateVerified, StateVerificationFailed, StateActive,
	StateExpired, StateRevoked, StateCancelled,
}

// ParseState reads a state name.
func ParseState(s string) (State, bool) {
	st := State(s)
	return st, slices.Contains(AllStates, st)
}

// Event is something that happens to a request.
type Event string

const (
	EventSubmit         Event = "submit"
	EventEdit           Event = "edit"
	EventClaim          Event = "claim"          // a reviewer takes the request into review
	EventApprove        Event = "approve"        // the last approval a request needs
	EventFirstApprove   Event = "first_approve"  // first of two approvals; waits for the approver
	EventSecondApprove  Event = "second_approve" // the approver's approval
	EventReject         Event = "reject"
	EventRequestChanges Event = "request_changes"
	EventImplement      Event = "implement"
	EventVerify         Event = "verify"
	EventFailVerify     Event = "fail_verification"
	EventActivate       Event = "activate"
	EventExpire         Event = "expire"
	EventRevoke         Event = "revoke"
	EventCancel         Event = "cancel"
)

// actorKind says who may cause an event, beyond the roles listed.
type actorKind int

const (
	byRole      actorKind = iota // anyone holding one of the roles
	byRequester                  // only the request's own requester
	bySystem                     // the scanner and the scheduler, never a person
)

// transition is one row of the lifecycle table.
type transition struct {
	From  []State
	To    State
	By    actorKind
	Roles []core.Role
	// NotByRequester enforces separation of duties: the requester may not cause it.
	NotByRequester bool
}

// transitions is the lifecycle: every allowed (state, event) pair. Anything
// not listed is refused.
var transitions = map[Event]transition{
	EventSubmit:         {From: []State{StateDraft, StateChangesRequested}, To: StateSubmitted, By: byRequester},
	EventEdit:           {From: []State{StateDraft, StateChangesRequested, StateSubmitted, StateInReview}, By: byRequester},
	EventClaim:          {From: []State{StateSubmitted}, To: StateInReview, Roles: []core.Role{core.RoleReviewer, core.RoleApprover}, NotByRequester: true},
	EventApprove:        {From: []State{StateInReview}, To: StateApproved, Roles: []core.Role{core.RoleReviewer, core.RoleApprover}, NotByRequester: true},
	EventFirstApprove:   {From: []State{StateInReview}, To: StateInReview, Roles: []core.Role{core.RoleReviewer, core.RoleApprover}, NotByRequester: true},
	EventSecondApprove:  {From: []State{StateInReview}, To: StateApproved, Roles: []core.Role{core.RoleApprover}, NotByRequester: true},
	EventReject:         {From: []State{StateInReview}, To: StateRejected, Roles: []core.Role{core.RoleReviewer, core.RoleApprover}, NotByRequester: true},
	EventRequestChanges: {From: []State{StateInReview}, To: StateChangesRequested, Roles: []core.Role{core.RoleReviewer, core.RoleApprover}, NotByRequester: true},
	EventImplement:      {From: []State{StateApproved, StateVerificationFailed}, To: StateImplemented, Roles: []core.Role{core.RoleImplementer}, NotByRequester: true},
	EventVerify:         {From: []State{StateImplemented}, To: StateVerified, By: bySystem},
	EventFailVerify:     {From: []State{StateImplemented}, To: StateVerificationFailed, By: bySystem},
	EventActivate:       {From: []State{StateVerified}, To: StateActive, By: bySystem},
	EventExpire:         {From: []State{StateApproved, StateImplemented, StateVerified, StateVerificationFailed, StateActive}, To: StateExpired, By: bySystem},
	EventRevoke:         {From: []State{StateApproved, StateImplemented, StateVerified, StateVerificationFailed, StateActive}, To: StateRevoked, Roles: []core.Role{core.RoleReviewer, core.RoleApprover}, NotByRequester: true},
	EventCancel:         {From: []State{StateDraft, StateSubmitted}, To: StateCancelled, By: byRequester},
}

// target returns the state after ev from state, or nil refusal reasons as an error.
func target(ev Event, from State) (State, error) {
	t, ok := transitions[ev]
	if !ok {
		return "", fmt.Errorf("unknown event %q", ev)
	}
	if !slices.Contains(t.From, from) {
		return "", core.Conflict("cannot %s a request that is %s", eventVerb(ev), StateLabel(from))
	}
	if t.To == "" {
		return from, nil
	}
	return t.To, nil
}

// authorise applies the role and separation-of-duties guards of ev.
func authorise(ev Event, actor core.Actor, requesterID uint) error {
	t := transitions[ev]
	isRequester := actor.ID == requesterID
	switch t.By {
	case bySystem:
		if actor.ID != 0 {
			return core.Forbidden("only the scanner can %s a request", eventVerb(ev))
		}
		return nil
	case byRequester:
		if !isRequester {
			return core.Forbidden("only the requester can %s this request", eventVerb(ev))
		}
		return nil
	}
	if t.NotByRequester && isRequester {
		return core.Forbidden("separation of duties: you cannot %s your own request", eventVerb(ev))
	}
	if !actor.Has(t.Roles...) {
		return core.Forbidden("you need the %s role to %s a request", rolesPhrase(t.Roles), eventVerb(ev))
	}
	return nil
}

// Allowed reports whether actor may cause ev on a request in state from,
// filed by requesterID: the check that decides which buttons a page shows.
func Allowed(ev Event, actor core.Actor, from State, requesterID uint) bool {
	if _, err := target(ev, from); err != nil {
		return false
	}
	return authorise(ev, actor, requesterID) == nil
}

func rolesPhrase(roles []core.Role) string {
	switch len(roles) {
	case 0:
		return ""
	case 1:
		return string(roles[0])
	}
	s := ""
	for i, r := range roles {
		switch {
		case i == 0:
		case i == len(roles)-1:
			s += " or "
		default:
			s += ", "
		}
		s += string(r)
	}
	return s
}

var eventVerbs = map[Event]string{
	EventSubmit: "submit", EventEdit: "edit", EventClaim: "start reviewing",
	EventApprove: "approve", EventFirstApprove: "approve", EventSecondApprove: "give the second approval to",
	EventReject: "reject", EventRequestChanges: "request changes to", EventImplement: "mark implemented",
	EventVerify: "verify", EventFailVerify: "fail the verification of", EventActivate: "activate",
	EventExpire: "expire", EventRevoke: "revoke", EventCancel: "cancel",
}

func eventVerb(ev Event) string {
	if v, ok := eventVerbs[ev]; ok {
		return v
	}
	return string(ev)
}

var stateLabels = map[State]string{
	StateDraft: "a draft", StateSubmitted: "submitted", StateInReview: "in review",
	StateChangesRequested: "waiting for changes", StateRejected: "rejected", StateApproved: "approved",
	StateImplemented: "implemented", StateVerified: "verified", StateVerificationFailed: "failed verification",
	StateActive: "active", StateExpired: "expired", StateRevoked: "revoked", StateCancelled: "cancelled",
}

func StateLabel(s State) string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Label is the human wording of a state.
func (s State) Label() string {
	switch s {
	case StateDraft:
		return "draft"
	case StateInReview:
		return "in review"
	case StateChangesRequested:
		return "changes requested"
	case StateVerificationFailed:
		return "verification failed"
	}
	return string(s)
}

// InForceStates are the states in which a request's rules are approved and
// not yet ended: the register of openings, what re-certification, expiry and
// drift judge against.
var InForceStates = []State{StateApproved, StateImplemented, StateVerified, StateVerificationFailed, StateActive}

// IsSystemEvent reports whether only the scanner or the scheduler may cause ev.
func IsSystemEvent(ev Event) bool {
	t, ok := transitions[ev]
	return ok && t.By == bySystem
}

// FromStates are the states ev may happen in, as the table lists them.
func FromStates(ev Event) []State { return slices.Clone(transitions[ev].From) }

// LoadRequest reads a request with its rules, or a not-found error.
func LoadRequest(tx *gorm.DB, id uint) (*models.Request, error) {
	var r models.Request
	err := tx.Preload("Rules", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Preload("Requester").First(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, core.NotFound("request", id)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Step moves a request through one lifecycle event inside tx: it checks the
// table and the guards, then updates the row only if nobody else changed it
// since it was read (the version column), so two reviewers acting at once
// produce one winner and one conflict, never a corrupt state.
func (s *Service) Step(tx *gorm.DB, actor core.Actor, req *models.Request, ev Event, extra map[string]any, detail any, comment string) error {
	from := State(req.State)
	to, err := target(ev, from)
	if err != nil {
		return err
	}
	if err := authorise(ev, actor, req.RequesterID); err != nil {
		return err
	}
	updates := map[string]any{"state": string(to)}
	for k, v := range extra {
		updates[k] = v
	}
	if err := s.UpdateVersioned(tx, &models.Request{}, "request", req.ID, req.Version, updates); err != nil {
		return err
	}
	req.State = string(to)
	req.Version++
	if (to == StateExpired || to == StateRevoked) && s.onEnd != nil {
		// An ended opening has nothing left to re-certify.
		if err := s.onEnd(tx, actor, req.ID); err != nil {
			return err
		}
	}
	return s.Audit(tx, actor, string(ev), "request", req.ID, string(from), string(to), detail, comment)
}
