package compliance

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// EventKey is the audit browser's sort key: the chain's sequence number,
// newest first.
type EventKey struct {
	Seq uint64 `json:"s"`
}

// EventQuery narrows the audit browser to one object's events, or to the
// events before a moment. Each narrowing is served by an index: (object_type,
// object_id, seq) and (at, seq).
type EventQuery struct {
	ObjectType string
	ObjectID   uint
	Before     time.Time // zero: up to the newest
}

// objectTypes are the objects the log records events of.
var objectTypes = []string{"request", "drift", "scan", "recertification", "campaign", "zone", "asset", "user", "policy", "settings"}

// Events reads one page of the audit log, newest first, keyed on the
// chain's sequence number: a page costs the same at any depth, and events
// appended while someone pages never shift what they see.
func (s *Service) Events(ctx context.Context, actor core.Actor, q EventQuery, page paging.Request[EventKey]) (paging.Page[models.AuditEvent], error) {
	if err := canAudit(actor); err != nil {
		return paging.Page[models.AuditEvent]{}, err
	}
	q.ObjectType = strings.TrimSpace(q.ObjectType)
	// One object's events, or every event: a kind of object alone would sort
	// a large share of the log.
	if (q.ObjectType == "") != (q.ObjectID == 0) {
		return paging.Page[models.AuditEvent]{}, core.Invalid("object", core.M("err.compliance.object", "name an object by its kind and number (e.g. request 42), or neither"))
	}
	if q.ObjectType != "" && !slices.Contains(objectTypes, q.ObjectType) {
		return paging.Page[models.AuditEvent]{}, core.Invalid("object_type", core.M("err.compliance.object_type", "{{.Type}} is not a kind of object the log records ({{.Types}})", "Type", strconv.Quote(q.ObjectType), "Types", strings.Join(objectTypes, ", ")))
	}
	db := s.DB().WithContext(ctx)
	sel := db.Model(&models.AuditEvent{}).
		Select("id", "seq", "at", "actor_id", "actor", "action", "object_type", "object_id", "from_state", "to_state", "comment", "client_addr")
	if q.ObjectType != "" {
		sel = sel.Where("object_type = ? AND object_id = ?", q.ObjectType, q.ObjectID)
	}
	if !q.Before.IsZero() {
		// The events before a moment end at the last one appended before it:
		// found once on the (at, seq) index, then paged on seq alone.
		var last []uint64
		if err := db.Model(&models.AuditEvent{}).Where("at < ?", q.Before.UTC()).Order("at DESC, seq DESC").Limit(1).Pluck("seq", &last).Error; err != nil {
			return paging.Page[models.AuditEvent]{}, err
		}
		if len(last) == 0 {
			return paging.Page[models.AuditEvent]{}, nil
		}
		sel = sel.Where("seq <= ?", last[0])
	}
	if page.After != nil {
		sel = sel.Where("seq < ?", page.After.Seq)
	}
	var rows []models.AuditEvent
	if err := sel.Order("seq DESC").Limit(page.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[models.AuditEvent]{}, err
	}
	return paging.Cut(page, rows, func(e models.AuditEvent) EventKey { return EventKey{Seq: e.Seq} }), nil
}

// ObjectTypes are the kinds of object the audit browser filters on.
func ObjectTypes() []string { return append([]string(nil), objectTypes...) }
