// Package reporting keeps the daily and weekly port reports: it computes
// them (with workflow/periodic) after each zone's scheduled scan, stores
// them with their history, keeps who subscribed to which zone's or team's
// reports, and e-mails each report once to each recipient.
package reporting

import (
	"context"

	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/report"
)

// Mailer sends a report e-mail: text and HTML with the PDF attached.
type Mailer interface {
	SendMail(ctx context.Context, to []string, m channels.Mail) error
}

// Service runs the report use cases.
type Service struct {
	*core.Store
	inventory *inventory.Service
	// mailer delivers reports; nil leaves them on the Reports page only.
	mailer    Mailer
	publicURL string
	// pdf chooses the PDF's font.
	pdf report.Options
}

// New makes the reports feature; e-mail is off until SetMailer.
func New(st *core.Store, inv *inventory.Service) *Service {
	return &Service{Store: st, inventory: inv}
}

// SetMailer sets how reports are e-mailed and where the links in them
// point; nil turns e-mail off (nothing is queued).
func (s *Service) SetMailer(m Mailer, publicURL string) { s.mailer, s.publicURL = m, publicURL }

// SetPDFOptions chooses the PDF's font (report.Options.FontPath).
func (s *Service) SetPDFOptions(o report.Options) { s.pdf = o }

// SeesAll: security, operations, auditors and admins see every zone's and
// team's reports, as they see every scan and drift item; the system too.
func SeesAll(a core.Actor) bool { return a.ID == 0 || a.SeesAllRequests() }

// CanSee says whether a may read a report of zone for team ("" for the
// whole zone): owners read their own team's reports only.
func CanSee(a core.Actor, team string) bool {
	return SeesAll(a) || (team != "" && team == a.Team)
}

func refuse(team string) error {
	if team == "" {
		return core.Forbidden(core.M("err.reporting.zone_roles", "a zone's report is for security, operations, auditors and admins; owners read their own team's reports"))
	}
	return core.Forbidden(core.M("err.reporting.own_team", "you read the reports of your own team only, not team {{.Team}}'s", "Team", team))
}

// PDFOptions are the options the report PDFs are made with.
func (s *Service) PDFOptions() report.Options { return s.pdf }
