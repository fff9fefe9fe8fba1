package requests

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// Detail is a request with everything its page shows.
type Detail struct {
	Request  models.Request
	Reviews  []models.Review
	Comments []models.Comment
	Timeline []models.AuditEvent
	// Destinations are the assets the rules reach, with their zones.
	Destinations []models.Asset
	// FirstApproval is the valid first approval, when one was given.
	FirstApproval *models.Review
	// Verification is the latest verification scan and what it saw.
	Verification *models.ScanRun
	Evidence     []Evidence
}

// Checklist decodes a review's checklist answers.
func Checklist(r models.Review) []ChecklistAnswer {
	var out []ChecklistAnswer
	_ = json.Unmarshal([]byte(r.Checklist), &out)
	return out
}

// Get reads a request that the actor may see.
func (s *Service) Get(ctx context.Context, actor core.Actor, id uint) (*Detail, error) {
	db := s.DB().WithContext(ctx)
	r, err := LoadRequest(db, id)
	if err != nil {
		return nil, err
	}
	if err := s.canSee(actor, r); err != nil {
		return nil, err
	}
	d := &Detail{Request: *r}
	if err := db.Preload("Reviewer").Where("request_id = ?", id).Order("id").Find(&d.Reviews).Error; err != nil {
		return nil, err
	}
	for i, rv := range d.Reviews {
		if !rv.Voided && rv.Kind == "review" && rv.Decision == string(DecisionApprove) {
			d.FirstApproval = &d.Reviews[i]
		}
	}
	if err := db.Preload("Author").Where("request_id = ?", id).Order("id").Find(&d.Comments).Error; err != nil {
		return nil, err
	}
	if err := db.Where("object_type = ? AND object_id = ?", "request", id).Order("id").Find(&d.Timeline).Error; err != nil {
		return nil, err
	}
	var addrs []string
	for _, ru := range r.Rules {
		addrs = append(addrs, strings.Split(ru.Destination, ",")...)
	}
	if err := db.Preload("Zone").Where("address IN ?", addrs).Order("address").Find(&d.Destinations).Error; err != nil {
		return nil, err
	}
	d.Verification, d.Evidence = s.verification.VerificationEvidence(db, id)
	return d, nil
}

// Filter narrows a list of requests.
type Filter struct {
	States []State
	Search string // in the title, the justification and the id
	Mine   bool   // only the actor's own requests
	Limit  int
}

// List returns the requests the actor may see, newest first.
func (s *Service) List(ctx context.Context, actor core.Actor, f Filter) ([]models.Request, error) {
	q := s.DB().WithContext(ctx).Model(&models.Request{}).Preload("Requester").Preload("Rules", func(db *gorm.DB) *gorm.DB { return db.Order("position") })
	q = visible(q, actor)
	if f.Mine {
		q = q.Where("requester_id = ?", actor.ID)
	}
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if term := strings.TrimSpace(f.Search); term != "" {
		like := "%" + strings.ToLower(strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(term)) + "%"
		id := strings.TrimPrefix(term, "#")
		q = q.Where(`LOWER(title) LIKE ? ESCAPE '\' OR LOWER(justification) LIKE ? ESCAPE '\' OR CAST(id AS TEXT) = ?`, like, like, id)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	var out []models.Request
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

func visible(q *gorm.DB, actor core.Actor) *gorm.DB {
	if actor.SeesAllRequests() {
		return q
	}
	if actor.Team != "" {
		return q.Where("requester_id = ? OR team = ?", actor.ID, actor.Team)
	}
	return q.Where("requester_id = ?", actor.ID)
}

// ReviewQueue lists what waits for a first review: submitted requests and
// those in review without a valid approval.
func (s *Service) ReviewQueue(ctx context.Context, actor core.Actor) ([]models.Request, error) {
	if !actor.Has(core.RoleReviewer, core.RoleApprover) {
		return nil, core.Forbidden("you need the reviewer role to see the review queue")
	}
	var out []models.Request
	err := s.DB().WithContext(ctx).Preload("Requester").Preload("Rules").
		Where("state = ? OR (state = ? AND id NOT IN (?))", StateSubmitted, StateInReview,
			s.DB().Model(&models.Review{}).Select("request_id").Where("voided = ? AND decision = ?", false, DecisionApprove)).
		Order("submitted_at, id").Find(&out).Error
	return out, err
}

// ApprovalQueue lists requests with a first approval that wait for the security lead.
func (s *Service) ApprovalQueue(ctx context.Context, actor core.Actor) ([]models.Request, error) {
	if !actor.Has(core.RoleApprover) {
		return nil, core.Forbidden("you need the approver role to see the approval queue")
	}
	var out []models.Request
	err := s.DB().WithContext(ctx).Preload("Requester").Preload("Rules").
		Where("state = ? AND needs_second_approval = ? AND id IN (?)", StateInReview, true,
			s.DB().Model(&models.Review{}).Select("request_id").Where("voided = ? AND decision = ? AND kind = ?", false, DecisionApprove, "review")).
		Order("submitted_at, id").Find(&out).Error
	return out, err
}

// ImplementationQueue lists approved requests (and failed verifications to retry).
func (s *Service) ImplementationQueue(ctx context.Context, actor core.Actor) ([]models.Request, error) {
	if !actor.Has(core.RoleImplementer) {
		return nil, core.Forbidden("you need the implementer role to see the implementation queue")
	}
	var out []models.Request
	err := s.DB().WithContext(ctx).Preload("Requester").Preload("Rules").
		Where("state IN ?", []State{StateApproved, StateVerificationFailed}).
		Order("approved_at, id").Find(&out).Error
	return out, err
}

// RegisterEntry is one allowed opening of the approved policy.
type RegisterEntry struct {
	Rule      models.Rule
	Request   models.Request
	Approvers []string
}

// RuleRegister lists every approved rule with its expiry, soonest expiry first.
func (s *Service) RuleRegister(ctx context.Context, actor core.Actor) ([]RegisterEntry, error) {
	db := s.DB().WithContext(ctx)
	var reqs []models.Request
	if err := db.Preload("Requester").Preload("Rules", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Where("state IN ?", InForceStates).Order("expires_at, id").Find(&reqs).Error; err != nil {
		return nil, err
	}
	ids := make([]uint, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	var reviews []models.Review
	if err := db.Preload("Reviewer").Where("request_id IN ? AND voided = ? AND decision = ?", ids, false, DecisionApprove).Order("id").Find(&reviews).Error; err != nil {
		return nil, err
	}
	approvers := map[uint][]string{}
	for _, rv := range reviews {
		approvers[rv.RequestID] = append(approvers[rv.RequestID], rv.Reviewer.Email)
	}
	var out []RegisterEntry
	for _, r := range reqs {
		for _, ru := range r.Rules {
			out = append(out, RegisterEntry{Rule: ru, Request: r, Approvers: approvers[r.ID]})
		}
	}
	return out, nil
}

// Counts is the number of requests in each state the actor can see.
func (s *Service) Counts(ctx context.Context, actor core.Actor) (map[State]int, error) {
	var rows []struct {
		State string
		N     int
	}
	q := visible(s.DB().WithContext(ctx).Model(&models.Request{}), actor)
	if err := q.Select("state, COUNT(*) AS n").Group("state").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[State]int{}
	for _, r := range rows {
		out[State(r.State)] = r.N
	}
	return out, nil
}

// DaysLeft is how many whole days remain until t.
func DaysLeft(now, t time.Time) int {
	return int(t.Sub(now).Hours() / 24)
}
