// Package recert owns re-certification: campaigns that ask owners to
// re-certify their openings in force, their answers, the reminders, and the
// expiry of what is not re-certified in time.
package recert

import (
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
}

// New makes the re-certification feature; reminders are off until SetMailer.
func New(st *core.Store, req *requests.Service) *Service { return &Service{Store: st, requests: req} }

// LapsePending lapses a request's pending re-certification: an opening
// that ended (expired or revoked) has nothing left to re-certify.
func (s *Service) LapsePending(tx *gorm.DB, actor core.Actor, requestID uint) error {
	now := s.Now()
	return tx.Model(&models.Recertification{}).Where("request_id = ? AND status = ?", requestID, RecertPending).
		Updates(map[string]any{"status": RecertLapsed, "decided_by": actor.Email, "decided_at": &now}).Error
}
