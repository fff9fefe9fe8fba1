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
	EventRecertify      Event = "recertify" // the owners confirm the opening is still needed
	EventLapse          Event = "lapse"     // the owners let the opening lapse: it expires now
)

// Guarded is what the lifecycle's guards read when an event fires.
type Guarded struct {
	Event   Event // what is asked, for the refusal's wording
	Actor   core.Actor
	Request *models.Request
	// FirstApprover is the reviewer whose approval waits for the second (second approval only).
	FirstApprover uint
	// ActorOnly: only the actor is known (which buttons a page shows); the
	// request's own conditions are checked when the event fires.
	ActorOnly bool
}

// Guards of the lifecycle table, by name.
var (
	bySystem = core.Guard[Guarded]{Name: "the scanner or the scheduler", Check: func(g Guarded) error {
		if g.Actor.ID != 0 {
			return core.Forbidden(core.M("err.requests.only_scanner", "only the scanner can {{.Verb}} a request", "Verb", verbSaid(g.Event)))
		}
		return nil
	}}
	byRequester = core.Guard[Guarded]{Name: "the requester", Check: func(g Guarded) error {
		if g.Actor.ID != g.Request.RequesterID {
			return core.Forbidden(core.M("err.requests.only_requester", "only the requester can {{.Verb}} this request", "Verb", verbSaid(g.Event)))
		}
		return nil
	}}
	// byOwner: the requester or a member of the owning team, who answer for the opening.
	byOwner = core.Guard[Guarded]{Name: "owner may lapse or re-certify", Check: func(g Guarded) error {
		r := g.Request
		if g.Actor.ID != r.RequesterID && (g.Actor.Team == "" || g.Actor.Team != r.Team) {
			return core.Forbidden(core.M("err.requests.only_owners", "only the owners of request #{{.ID}} (its requester and team {{.Team}}) can re-certify it or let it lapse", "ID", r.ID, "Team", r.Team))
		}
		return nil
	}}
	notByRequester = core.Guard[Guarded]{Name: "separation of duties", Check: func(g Guarded) error {
		if g.Actor.ID == g.Request.RequesterID {
			return core.Forbidden(core.M("err.requests.own_request", "separation of duties: you cannot {{.Verb}} your own request", "Verb", verbSaid(g.Event)))
		}
		return nil
	}}
	needsSecondApproval = core.Guard[Guarded]{Name: "needs second approval", Check: func(g Guarded) error {
		if !g.ActorOnly && !g.Request.NeedsSecondApproval {
			return core.Conflict(core.M("err.requests.no_second_approval", "request #{{.ID}} does not wait for a second approval", "ID", g.Request.ID))
		}
		return nil
	}}
	needsOneApproval = core.Guard[Guarded]{Name: "needs one approval", Check: func(g Guarded) error {
		if !g.ActorOnly && g.Request.NeedsSecondApproval {
			return core.Conflict(core.M("err.requests.needs_two", "request #{{.ID}} needs two approvals", "ID", g.Request.ID))
		}
		return nil
	}}
	// assessed: a request touching an innovation-tier application goes to
	// security only with its security assessment answered.
	assessed = core.Guard[Guarded]{Name: "security assessment answered", Check: func(g Guarded) error {
		if g.ActorOnly {
			return nil
		}
		return assessmentAnswered(g.Request)
	}}
	approversDiffer = core.Guard[Guarded]{Name: "approvers differ", Check: func(g Guarded) error {
		if !g.ActorOnly && g.FirstApprover == g.Actor.ID {
			return core.Forbidden(core.M("err.requests.same_approver", "separation of duties: you gave the first approval; the second must come from another person"))
		}
		return nil
	}}
)

func roles(rs ...core.Role) core.Guard[Guarded] {
	return core.Guard[Guarded]{Name: "role " + core.RolesPhrase(rs), Check: func(g Guarded) error {
		if !g.Actor.Has(rs...) {
			return core.Forbidden(core.M("err.requests.need_role", "you need the {{.Roles}} role to {{.Verb}} a request", "Roles", core.RolesSaid(rs), "Verb", verbSaid(g.Event)))
		}
		return nil
	}}
}

type row = core.Transition[State, Event, Guarded]
type guards = []core.Guard[Guarded]

var security = roles(core.RoleReviewer, core.RoleApprover)

// Lifecycle is the requests' transition table: every allowed (state, event)
// pair with its guards. Anything not listed is refused.
var Lifecycle = &core.Machine[State, Event, Guarded]{
	Object: "request", What: "request", Model: &models.Request{}, Column: "state", Versioned: true,
	Verb: eventVerb, Label: StateLabel,
	States: AllStates,
	Events: []Event{EventSubmit, EventEdit, EventClaim, EventApprove, EventFirstApprove, EventSecondApprove, EventReject,
		EventRequestChanges, EventImplement, EventVerify, EventFailVerify, EventActivate, EventExpire, EventRevoke, EventCancel,
		EventRecertify, EventLapse},
	Rows: []row{
		{From: []State{StateDraft, StateChangesRequested}, Event: EventSubmit, To: StateSubmitted, Guards: guards{byRequester, assessed}},
		// An edit after submission sends the request back to the queue.
		{From: []State{StateDraft, StateChangesRequested, StateSubmitted}, Event: EventEdit, Guards: guards{byRequester}},
		{From: []State{StateInReview}, Event: EventEdit, To: StateSubmitted, Guards: guards{byRequester}},
		{From: []State{StateSubmitted}, Event: EventClaim, To: StateInReview, Guards: guards{notByRequester, security}},
		{From: []State{StateInReview}, Event: EventApprove, To: StateApproved, Guards: guards{notByRequester, security, needsOneApproval}},
		{From: []State{StateInReview}, Event: EventFirstApprove, To: StateInReview, Guards: guards{notByRequester, security, needsSecondApproval}},
		{From: []State{StateInReview}, Event: EventSecondApprove, To: StateApproved, Guards: guards{notByRequester, roles(core.RoleApprover), needsSecondApproval, approversDiffer}},
		{From: []State{StateInReview}, Event: EventReject, To: StateRejected, Guards: guards{notByRequester, security}},
		{From: []State{StateInReview}, Event: EventRequestChanges, To: StateChangesRequested, Guards: guards{notByRequester, security}},
		{From: []State{StateApproved, StateVerificationFailed}, Event: EventImplement, To: StateImplemented, Guards: guards{notByRequester, roles(core.RoleImplementer)}},
		{From: []State{StateImplemented}, Event: EventVerify, To: StateVerified, Guards: guards{bySystem}},
		{From: []State{StateImplemented}, Event: EventFailVerify, To: StateVerificationFailed, Guards: guards{bySystem}},
		{From: []State{StateVerified}, Event: EventActivate, To: StateActive, Guards: guards{bySystem}},
		{From: InForceStates, Event: EventExpire, To: StateExpired, Guards: guards{bySystem}},
		{From: InForceStates, Event: EventRevoke, To: StateRevoked, Guards: guards{notByRequester, security}},
		{From: []State{StateDraft, StateSubmitted}, Event: EventCancel, To: StateCancelled, Guards: guards{byRequester}},
		// The owners answer a re-certification: the opening stays in force with a new expiry, or ends now.
		{From: InForceStates, Event: EventRecertify, Guards: guards{byOwner}},
		{From: InForceStates, Event: EventLapse, To: StateExpired, Guards: guards{byOwner}},
	},
}

// target returns the state after ev from state, or the refusal.
func target(ev Event, from State) (State, error) { return Lifecycle.Target(from, ev) }

// authorise applies ev's guards that concern the actor, before the caller
// checks the input: a refused actor learns why they may not, not what to
// fill in. The state and the request's own conditions are checked when the
// event fires.
func authorise(ev Event, actor core.Actor, r *models.Request) error {
	g := Guarded{Event: ev, Actor: actor, Request: r, ActorOnly: true}
	for _, t := range Lifecycle.Rows {
		if t.Event != ev {
			continue
		}
		for _, gd := range t.Guards {
			if err := gd.Check(g); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown event %q", ev)
}

// Allowed reports whether actor may cause ev on a request in state from,
// filed by requesterID: the check that decides which buttons a page shows.
func Allowed(ev Event, actor core.Actor, from State, requesterID uint) bool {
	if _, err := target(ev, from); err != nil {
		return false
	}
	return authorise(ev, actor, &models.Request{RequesterID: requesterID}) == nil
}

var eventVerbs = map[Event]string{
	EventSubmit: "submit", EventEdit: "edit", EventClaim: "start reviewing",
	EventApprove: "approve", EventFirstApprove: "approve", EventSecondApprove: "give the second approval to",
	EventReject: "reject", EventRequestChanges: "request changes to", EventImplement: "mark implemented",
	EventVerify: "verify", EventFailVerify: "fail the verification of", EventActivate: "activate",
	EventExpire: "expire", EventRevoke: "revoke", EventCancel: "cancel",
	EventRecertify: "re-certify", EventLapse: "let lapse",
}

// verbSaid is the event's verb for people, under the id the lifecycle's
// own refusals use (core.Machine.VerbSaid).
func verbSaid(ev Event) core.Message {
	return core.M("err.verb.request."+string(ev), eventVerb(ev))
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
	for _, t := range Lifecycle.Rows {
		if t.Event == ev {
			return len(t.Guards) == 1 && t.Guards[0].Name == bySystem.Name
		}
	}
	return false
}

// FromStates are the states ev may happen in, as the table lists them.
func FromStates(ev Event) []State {
	var out []State
	for _, t := range Lifecycle.Rows {
		if t.Event == ev {
			out = append(out, t.From...)
		}
	}
	return out
}

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

// Step moves a request through one lifecycle event inside tx, through the
// lifecycle table: its guards, the conditional update of the row as it was
// read (state and version), and the audit event, so two reviewers acting at
// once produce one winner and one conflict, never a corrupt state.
func (s *Service) Step(tx *gorm.DB, actor core.Actor, req *models.Request, ev Event, extra map[string]any, detail any, comment string) error {
	g := Guarded{Event: ev, Actor: actor, Request: req}
	if ev == EventSecondApprove {
		var first models.Review
		err := tx.Where("request_id = ? AND voided = ? AND decision = ?", req.ID, false, string(DecisionApprove)).Order("id").Take(&first).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		g.FirstApprover = first.ReviewerID
	}
	to, err := Lifecycle.Fire(s.Store, tx, core.Move[State, Event]{
		ID: req.ID, From: State(req.State), Version: req.Version, Event: ev, Actor: actor, Set: extra, Detail: detail, Comment: comment,
	}, g)
	if err != nil {
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
	return nil
}
