package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// Service runs every use case of Portcullis against the store.
type Service struct {
	db       *gorm.DB
	log      *slog.Logger
	now      func() time.Time
	catalogs catalogCache
	// auditKeys sign the audit log's checkpoints.
	auditKeys AuditKeys
	// scanner and scanPolicy run the server's scans; hub spreads their progress.
	scanner    Scanner
	scanPolicy ScanPolicy
	hub        progressHub
	alerting   *Alerting
	// mailer sends re-certification reminders; publicURL links back to us.
	mailer    Mailer
	publicURL string
}

// NewService wraps an open, migrated database.
func NewService(db *gorm.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// SetClock replaces the clock, for tests and the demo's history.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// DB exposes the store for the few callers that seed or inspect it (demo, tests).
func (s *Service) DB() *gorm.DB { return s.db }

// Ping checks that the database answers.
func (s *Service) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// SystemActor is who the scanner and the scheduler act as.
var SystemActor = Actor{ID: 0, Email: "system", Name: "Portcullis"}

// auditLockKey is the PostgreSQL advisory lock that serialises appends to
// the chain; SQLite's immediate transactions serialise writers already.
const auditLockKey = 7_274_022

// audit appends an event to the hash chain in the caller's transaction:
// appends are serialised, each event takes the next sequence number and the
// hash of the one before it.
func (s *Service) audit(tx *gorm.DB, actor Actor, action, objectType string, objectID uint, from, to State, detail any, comment string) error {
	d := "{}"
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", auditLockKey).Error; err != nil {
			return err
		}
	}
	var last models.AuditEvent
	prev, seq := models.GenesisHash, uint64(1)
	err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Take(&last).Error
	switch {
	case err == nil:
		prev, seq = last.Hash, last.Seq+1
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	ev := models.AuditEvent{
		// Microseconds: what PostgreSQL keeps, so the hash survives the round trip.
		Seq: seq, At: s.now().Truncate(time.Microsecond), Actor: actor.Email, Action: action, ObjectType: objectType, ObjectID: objectID,
		FromState: string(from), ToState: string(to), Detail: d, Comment: comment, PrevHash: prev,
	}
	if actor.ID != 0 {
		id := actor.ID
		ev.ActorID = &id
	}
	ev.Hash = ev.Chained().ComputeHash()
	return tx.Create(&ev).Error
}

// inTx runs fn in one transaction.
func (s *Service) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(fn)
}

// loadRequest reads a request with its rules, or a not-found error.
func loadRequest(tx *gorm.DB, id uint) (*models.Request, error) {
	var r models.Request
	err := tx.Preload("Rules", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Preload("Requester").First(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("request", id)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// step moves a request through one lifecycle event inside tx: it checks the
// table and the guards, then updates the row only if nobody else changed it
// since it was read (the version column), so two reviewers acting at once
// produce one winner and one conflict, never a corrupt state.
func (s *Service) step(tx *gorm.DB, actor Actor, req *models.Request, ev Event, extra map[string]any, detail any, comment string) error {
	from := State(req.State)
	to, err := target(ev, from)
	if err != nil {
		return err
	}
	if err := authorise(ev, actor, req.RequesterID); err != nil {
		return err
	}
	updates := map[string]any{"state": string(to), "version": gorm.Expr("version + 1"), "updated_at": s.now()}
	for k, v := range extra {
		updates[k] = v
	}
	res := tx.Model(&models.Request{}).Where("id = ? AND version = ?", req.ID, req.Version).Updates(updates)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return conflict("request #%d was changed by someone else meanwhile; reload it and try again", req.ID)
	}
	req.State = string(to)
	req.Version++
	if to == StateExpired || to == StateRevoked {
		// An ended opening has nothing left to re-certify.
		now := s.now()
		if err := tx.Model(&models.Recertification{}).Where("request_id = ? AND status = ?", req.ID, RecertPending).
			Updates(map[string]any{"status": RecertLapsed, "decided_by": actor.Email, "decided_at": &now}).Error; err != nil {
			return err
		}
	}
	return s.audit(tx, actor, string(ev), "request", req.ID, from, to, detail, comment)
}
