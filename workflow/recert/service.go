// Package recert owns re-certification: campaigns that ask owners to
// re-certify their openings in force, their answers, the reminders, and the
// expiry of what is not re-certified in time.
package recert

import "github.com/portcullis/portcullis/workflow/core"

// Service runs the re-certification use cases.
type Service struct {
	*core.Store
	// mailer sends re-certification reminders; publicURL links back to us.
	mailer    Mailer
	publicURL string
}

// New makes the re-certification feature; reminders are off until SetMailer.
func New(st *core.Store) *Service { return &Service{Store: st} }
