package compliance

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/auditlog"
	"github.com/portcullis/portcullis/workflow/core"
)

// AuditKeys are the note keys that sign audit checkpoints: the signer's
// private key and the verifier key auditors check with.
type AuditKeys struct {
	Signer, Verifier string
}

// NewAuditKeys makes a fresh Ed25519 key pair named name.
func NewAuditKeys(name string) (AuditKeys, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	return AuditKeys{Signer: skey, Verifier: vkey}, err
}

// ParseAuditSigner checks a signer key and derives its verifier key.
func ParseAuditSigner(skey string) (AuditKeys, error) {
	if _, err := note.NewSigner(skey); err != nil {
		return AuditKeys{}, fmt.Errorf("audit signing key: %w (make one with 'portcullis audit keygen')", err)
	}
	vkey, err := verifierOf(skey)
	if err != nil {
		return AuditKeys{}, err
	}
	return AuditKeys{Signer: skey, Verifier: vkey}, nil
}

// SetAuditKeys sets the keys that sign checkpoints.
func (s *Service) SetAuditKeys(k AuditKeys) { s.auditKeys = k }

// AuditVerifierKey is the key auditors verify checkpoints with.
func (s *Service) AuditVerifierKey() string { return s.auditKeys.Verifier }

func canAudit(a core.Actor) error {
	if a.ID == 0 || a.Has(core.RoleAuditor, core.RoleAdmin) {
		return nil
	}
	return core.Forbidden(core.M("err.compliance.audit_roles", "you need the auditor or admin role to read the audit log"))
}

// Checkpoint signs the chain's current size and head, unless the latest
// checkpoint already covers them.
func (s *Service) Checkpoint(ctx context.Context) (*models.AuditCheckpoint, error) {
	if s.auditKeys.Signer == "" {
		return nil, errors.New("no audit signing key is configured")
	}
	var cp models.AuditCheckpoint
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		var head models.AuditEvent
		if err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Take(&head).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		var latest models.AuditCheckpoint
		if err := tx.Order("tree_size DESC").Limit(1).Take(&latest).Error; err == nil && latest.TreeSize == head.Seq {
			cp = latest
			return nil
		}
		signed, err := auditlog.SignCheckpoint(s.auditKeys.Signer, head.Seq, head.Hash)
		if err != nil {
			return err
		}
		cp = models.AuditCheckpoint{TreeSize: head.Seq, HeadHash: head.Hash, Note: signed, CreatedAt: s.Now()}
		return tx.Create(&cp).Error
	})
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

// AuditFilter bounds an export in time (UTC, inclusive from, exclusive to).
type AuditFilter struct {
	From, To time.Time
}

// eachEvent streams events in chain order, a batch at a time on the seq
// index, so an export of any size holds only one batch in memory and each
// batch costs the same. A period is first turned into the seq range that
// holds its events (one pass over the (at, seq) index); the batches then
// read that range by seq and keep the events of the period.
func (s *Service) eachEvent(ctx context.Context, f AuditFilter, fn func(models.ChainedEvent) error) error {
	const batch = 2000
	db := s.DB().WithContext(ctx)
	var after, last uint64
	if !f.From.IsZero() || !f.To.IsZero() {
		period := db.Model(&models.AuditEvent{})
		if !f.From.IsZero() {
			period = period.Where("at >= ?", f.From.UTC())
		}
		if !f.To.IsZero() {
			period = period.Where("at < ?", f.To.UTC())
		}
		var bounds struct{ Lo, Hi *uint64 }
		if err := period.Select("MIN(seq) AS lo, MAX(seq) AS hi").Scan(&bounds).Error; err != nil {
			return err
		}
		if bounds.Lo == nil {
			return nil
		}
		after, last = *bounds.Lo-1, *bounds.Hi
	}
	inPeriod := func(at time.Time) bool {
		return (f.From.IsZero() || !at.Before(f.From)) && (f.To.IsZero() || at.Before(f.To))
	}
	for {
		q := db.Where("seq > ?", after)
		if last != 0 {
			q = q.Where("seq <= ?", last)
		}
		var rows []models.AuditEvent
		if err := q.Order("seq").Limit(batch).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if !inPeriod(r.At) {
				continue
			}
			if err := fn(r.Chained()); err != nil {
				return err
			}
		}
		if len(rows) < batch {
			return nil
		}
		after = rows[len(rows)-1].Seq
	}
}

// ExportAudit writes the audit log as JSON (with the hashes and a fresh
// signed checkpoint) or CSV (cells neutralised against formula injection).
func (s *Service) ExportAudit(ctx context.Context, actor core.Actor, f AuditFilter, format string, w io.Writer) error {
	if err := canAudit(actor); err != nil {
		return err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return core.Invalid("to", core.M("err.compliance.period", "the end of the period must come after its start"))
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(auditlog.CSVHeader); err != nil {
			return err
		}
		err := s.eachEvent(ctx, f, func(e models.ChainedEvent) error { return cw.Write(auditlog.CSVRecord(e)) })
		cw.Flush()
		if err != nil {
			return err
		}
		return cw.Error()
	case "json", "":
	default:
		return core.Invalid("format", core.M("err.compliance.format", "format {{.Format}} is not json or csv", "Format", strconv.Quote(format)))
	}
	h := auditlog.Header{ExportedAt: s.Now()}
	if !f.From.IsZero() {
		h.From = &f.From
	}
	if !f.To.IsZero() {
		h.To = &f.To
	}
	if s.auditKeys.Signer != "" {
		cp, err := s.Checkpoint(ctx)
		if err != nil {
			return err
		}
		if cp.TreeSize > 0 {
			h.Checkpoint = &auditlog.Checkpoint{Note: cp.Note, VerifierKey: s.auditKeys.Verifier}
		}
	}
	jw, err := auditlog.NewJSONWriter(w, h)
	if err != nil {
		return err
	}
	if err := s.eachEvent(ctx, f, jw.Write); err != nil {
		return err
	}
	return jw.Close()
}

// VerifyAuditChain checks the stored chain and the latest checkpoint: the
// same check as `portcullis audit verify`, run on the database.
func (s *Service) VerifyAuditChain(ctx context.Context, actor core.Actor) (*auditlog.Report, error) {
	if err := canAudit(actor); err != nil {
		return nil, err
	}
	var latest models.AuditCheckpoint
	err := s.DB().WithContext(ctx).Order("tree_size DESC").Limit(1).Take(&latest).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	var size uint64
	var head string
	verified := false
	if latest.ID != 0 && s.auditKeys.Verifier != "" {
		size, head, err = auditlog.OpenCheckpoint(latest.Note, s.auditKeys.Verifier)
		if err != nil {
			return &auditlog.Report{Problem: &auditlog.Problem{Message: err.Error()}}, nil
		}
		verified = true
	}
	v := auditlog.NewVerifier(size)
	err = s.eachEvent(ctx, AuditFilter{}, func(e models.ChainedEvent) error {
		if p := v.Add(e); p != nil {
			return errStopVerify
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopVerify) {
		return nil, err
	}
	return v.Finish(size, head, verified, false), nil
}

var errStopVerify = errors.New("stop")
