package requests

import (
	"context"
	"database/sql"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// The list pages read 50 requests and their rules at a time. Read through
// gorm's Find, each column of each row costs a reflected allocation and a
// field lookup, which made up most of a list page's time; these read the
// same columns straight into the models (models.ReadRows).
// TestRowReadersMatchFind keeps the column lists complete and the result
// equal to Find's.

// requestColumns are every column of models.Request, in the order
// scanRequest reads them.
var requestColumns = []string{
	"id", "title", "justification", "state", "version", "requester_id", "team", "expires_at",
	"needs_second_approval", "change_ref", "implement_note", "implementer_id", "findings",
	"exception", "compensating_controls", "innovation", "assessment", "submitted_at",
	"approved_at", "certified_at", "implemented_at", "closed_at", "created_at", "updated_at",
}

func scanRequest(rows *sql.Rows, r *models.Request) error {
	return rows.Scan(models.Uint(&r.ID), &r.Title, &r.Justification, &r.State, &r.Version, models.Uint(&r.RequesterID), &r.Team, &r.ExpiresAt,
		&r.NeedsSecondApproval, &r.ChangeRef, &r.ImplementNote, &r.ImplementerID, &r.Findings,
		&r.Exception, &r.CompensatingControls, &r.Innovation, &r.Assessment, &r.SubmittedAt,
		&r.ApprovedAt, &r.CertifiedAt, &r.ImplementedAt, &r.ClosedAt, &r.CreatedAt, &r.UpdatedAt)
}

// ruleColumns are every column of models.Rule, in the order scanRule reads them.
var ruleColumns = []string{"id", "request_id", "position", "source", "destination", "protocol", "ports", "service", "direction"}

func scanRule(rows *sql.Rows, r *models.Rule) error {
	return rows.Scan(models.Uint(&r.ID), models.Uint(&r.RequestID), &r.Position, &r.Source, &r.Destination, &r.Protocol, &r.Ports, &r.Service, &r.Direction)
}

// requesterColumns are what a list shows of the person who filed a
// request. Reading whole users cost a page more than its requests did
// (16 columns each, a sealed token among them), for one e-mail address.
var requesterColumns = []string{"id", "email", "name", "team"}

func scanRequester(rows *sql.Rows, u *models.User) error {
	return rows.Scan(models.Uint(&u.ID), &u.Email, &u.Name, &u.Team)
}

// findRequesters reads the users of q with requesterColumns only: the
// other fields of each are left zero.
func findRequesters(q *gorm.DB, capacity int) ([]models.User, error) {
	return models.ReadRows(q.Model(&models.User{}).Select(requesterColumns), capacity, scanRequester)
}

// listedColumns are the columns a list of requests shows or pages by (the
// request lists, the work queues, the register, re-certification items):
// not the justification, the assessment, the implementation notes and the
// other long or detail-only columns, which made up most of what a list read.
var listedColumns = []string{
	"id", "title", "state", "requester_id", "team", "expires_at", "needs_second_approval", "findings",
	"exception", "innovation", "submitted_at", "approved_at", "updated_at", "version",
}

func scanListed(rows *sql.Rows, r *models.Request) error {
	return rows.Scan(models.Uint(&r.ID), &r.Title, &r.State, models.Uint(&r.RequesterID), &r.Team, &r.ExpiresAt, &r.NeedsSecondApproval, &r.Findings,
		&r.Exception, &r.Innovation, &r.SubmittedAt, &r.ApprovedAt, &r.UpdatedAt, &r.Version)
}

// shownColumns are the listedColumns a plain list of requests shows (the
// request lists, homes, re-certification items): not the findings, flags
// and stage times the work queues mark and page their requests by.
var shownColumns = []string{"id", "title", "state", "requester_id", "team", "expires_at", "needs_second_approval", "updated_at", "version"}

func scanShown(rows *sql.Rows, r *models.Request) error {
	return rows.Scan(models.Uint(&r.ID), &r.Title, &r.State, models.Uint(&r.RequesterID), &r.Team, &r.ExpiresAt, &r.NeedsSecondApproval, &r.UpdatedAt, &r.Version)
}

// summaryRuleColumns are what a list that sums up each request's rules
// (protocol/ports) reads of them: 3 of a rule's 9 columns, the sources,
// destinations and services being most of what a list page read.
var summaryRuleColumns = []string{"request_id", "protocol", "ports"}

func scanSummaryRule(rows *sql.Rows, r *models.Rule) error {
	return rows.Scan(models.Uint(&r.RequestID), &r.Protocol, &r.Ports)
}

// listing is what a list reads of its requests and their rules.
type listing struct {
	columns     []string
	scan        func(*sql.Rows, *models.Request) error
	summedRules bool // summaryRuleColumns only
}

type listingKey struct{}

// ForListing is ctx for reading requests to show them as a list: the lists
// (the register, the implementation queue) then read listedColumns only and
// leave the other fields of each request zero. The API, which gives whole
// requests, reads them without it.
func ForListing(ctx context.Context) context.Context {
	return context.WithValue(ctx, listingKey{}, listing{listedColumns, scanListed, false})
}

// ForRuleSummaries is ForListing(ctx) for a list that shows each request's
// rules only as protocol and ports (the review and approval queues): their
// rules then have summaryRuleColumns only, the other fields zero.
func ForRuleSummaries(ctx context.Context) context.Context {
	return context.WithValue(ctx, listingKey{}, listing{listedColumns, scanListed, true})
}

// ForRequestList is ForRuleSummaries(ctx) for a plain list of requests (the
// request lists, homes, re-certification items): each request then has
// shownColumns only.
func ForRequestList(ctx context.Context) context.Context {
	return context.WithValue(ctx, listingKey{}, listing{shownColumns, scanShown, true})
}

// listingOf is how q's context lists requests; ok is false outside a list.
func listingOf(q *gorm.DB) (l listing, ok bool) {
	if ctx := q.Statement.Context; ctx != nil {
		l, ok = ctx.Value(listingKey{}).(listing)
	}
	return l, ok
}

// findRequests is q.Find of whole requests (without their associations),
// or of the columns q's context lists.
func findRequests(q *gorm.DB, capacity int) ([]models.Request, error) {
	if l, ok := listingOf(q); ok {
		return models.ReadRows(q.Model(&models.Request{}).Select(l.columns), capacity, l.scan)
	}
	return models.ReadRows(q.Model(&models.Request{}).Select(requestColumns), capacity, scanRequest)
}

// findRules is q.Find of rules, or of their summaryRuleColumns when q's
// context lists them summed up.
func findRules(q *gorm.DB, capacity int) ([]models.Rule, error) {
	if l, ok := listingOf(q); ok && l.summedRules {
		return models.ReadRows(q.Model(&models.Rule{}).Select(summaryRuleColumns), capacity, scanSummaryRule)
	}
	return models.ReadRows(q.Model(&models.Rule{}).Select(ruleColumns), capacity, scanRule)
}

// ReadWithRules reads the requests of ids with their rules (not their
// requester), by id: what a page of items that point at requests shows, in
// two queries and without gorm's reflected Preload.
func (s *Service) ReadWithRules(db *gorm.DB, ids []uint) (map[uint]models.Request, error) {
	out := make(map[uint]models.Request, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := findRequests(db.Where("id IN ?", ids), len(ids))
	if err != nil {
		return nil, err
	}
	if err := s.attachRules(db, rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
