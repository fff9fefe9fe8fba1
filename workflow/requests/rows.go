package requests

import (
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
	return rows.Scan(&r.ID, &r.Title, &r.Justification, &r.State, &r.Version, &r.RequesterID, &r.Team, &r.ExpiresAt,
		&r.NeedsSecondApproval, &r.ChangeRef, &r.ImplementNote, &r.ImplementerID, &r.Findings,
		&r.Exception, &r.CompensatingControls, &r.Innovation, &r.Assessment, &r.SubmittedAt,
		&r.ApprovedAt, &r.CertifiedAt, &r.ImplementedAt, &r.ClosedAt, &r.CreatedAt, &r.UpdatedAt)
}

// ruleColumns are every column of models.Rule, in the order scanRule reads them.
var ruleColumns = []string{"id", "request_id", "position", "source", "destination", "protocol", "ports", "service", "direction"}

func scanRule(rows *sql.Rows, r *models.Rule) error {
	return rows.Scan(&r.ID, &r.RequestID, &r.Position, &r.Source, &r.Destination, &r.Protocol, &r.Ports, &r.Service, &r.Direction)
}

// findRequests is q.Find of whole requests (without their associations).
func findRequests(q *gorm.DB, capacity int) ([]models.Request, error) {
	return models.ReadRows(q.Model(&models.Request{}).Select(requestColumns), capacity, scanRequest)
}

// findRules is q.Find of rules.
func findRules(q *gorm.DB, capacity int) ([]models.Rule, error) {
	return models.ReadRows(q.Model(&models.Rule{}).Select(ruleColumns), capacity, scanRule)
}

// ReadWithRules reads the requests of ids with their rules (not their
// requester), by id: what a page of items that point at requests shows, in
// two queries and without gorm's reflected Preload.
func ReadWithRules(db *gorm.DB, ids []uint) (map[uint]models.Request, error) {
	out := make(map[uint]models.Request, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := findRequests(db.Where("id IN ?", ids), len(ids))
	if err != nil {
		return nil, err
	}
	if err := attachRules(db, rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
