// Package recert owns re-certification: campaigns that ask owners to
// re-certify their openings in force, their answers, the reminders, and the
// expiry of what is not re-certified in time.
package recert

import (
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
)

// Re-certification statuses.
const (
	RecertPending     = "pending"
	RecertRecertified = "recertified"
	RecertLapsed      = "lapsed"
)

// Service runs the re-certification use cases.
type Service struct {
	*core.Store
	requests *requests.Service
	// mailer sends re-certification reminders; publicURL links back to us.
	mailer    Mailer
	publicURL string
	// progressKept keeps each campaign's counts by team between changes.
	progressKept core.Summaries[uint, []TeamProgress]
	// firstPending is, per person, the first pending items their home shows.
	firstPending core.Summaries[pendingScope, []models.Recertification]
}

// pendingScope is whose pending items, and how many, a home shows.
type pendingScope struct {
	user uint
	team string
	n    int
}

// New makes the re-certification feature; reminders are off until SetMailer.
func New(st *core.Store, req *requests.Service) *Service {
	s := &Service{Store: st, requests: req}
	s.progressKept.SetAreas(core.AreaRecert)
	s.firstPending.SetAreas(core.AreaRecert, core.AreaRequests)
	return s
}

// LapsePending lapses a request's pending re-certification, through the
// table and by the actor who ended the opening: an opening that ended
// (expired, revoked, let lapse) has nothing left to re-certify.
func (s *Service) LapsePending(tx *gorm.DB, actor core.Actor, requestID uint) error {
	var pending []models.Recertification
	if err := tx.Where("request_id = ? AND status = ?", requestID, RecertPending).Find(&pending).Error; err != nil {
		return err
	}
	for i := range pending {
		if err := s.fire(tx, actor, &pending[i], nil, time.Time{}, EventEnd, nil, map[string]uint{"request_id": requestID}, "the opening ended"); err != nil {
			return err
		}
	}
	return nil
}
