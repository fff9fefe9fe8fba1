package reporting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/periodic"
)

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// maxAttempts is how often a report e-mail is tried before it is given up.
const maxAttempts = 8

// claimHold is how long a claimed delivery is left to the instance that
// took it before another may try it again.
const claimHold = 2 * time.Minute

// Recipients are the e-mail addresses a report goes to: the zone's
// subscribers (who may read zone reports), or for a team's report its
// subscribers and the team's own members (unless they opted out). Disabled
// people get nothing.
func Recipients(tx *gorm.DB, zone, team string) ([]string, error) {
	var subs []models.ReportSubscription
	q := tx.Where("zone = ? AND team = ''", zone)
	if team != "" {
		q = tx.Where("zone = '' AND team = ?", team)
	}
	if err := q.Find(&subs).Error; err != nil {
		return nil, err
	}
	want, optedOut := map[uint]bool{}, map[uint]bool{}
	for _, sub := range subs {
		if sub.Active {
			want[sub.UserID] = true
		} else {
			optedOut[sub.UserID] = true
		}
	}
	var users []models.User
	ids := []uint{0} // never a user: keeps the IN list valid when nobody subscribed
	for id := range want {
		ids = append(ids, id)
	}
	uq := tx.Where("disabled_at IS NULL AND id IN ?", ids)
	if team != "" {
		uq = tx.Where("disabled_at IS NULL AND (team = ? OR id IN ?)", team, ids)
	}
	if err := uq.Order("email").Find(&users).Error; err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		a := core.Actor{ID: u.ID, Email: u.Email, Team: u.Team, Roles: core.SplitRoles(u.Roles)}
		if optedOut[u.ID] || !CanSee(a, team) || u.Email == "" || slices.Contains(out, u.Email) {
			continue
		}
		out = append(out, u.Email)
	}
	return out, nil
}

// queueDeliveries queues a new report's e-mails, in the transaction that
// stored it; nothing when e-mail is off.
func (s *Service) queueDeliveries(tx *gorm.DB, r models.PeriodicReport) error {
	if s.mailer == nil {
		return nil
	}
	to, err := Recipients(tx, r.Zone, r.Team)
	if err != nil {
		return err
	}
	now := s.Now()
	for _, addr := range to {
		row := models.ReportDelivery{ReportID: r.ID, Recipient: addr, Status: Pending, NextAttempt: now, CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// Deliver makes one attempt at each report e-mail that is due and
// schedules the next with backoff, or gives up after maxAttempts or on a
// permanent refusal. It returns how many were delivered.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	if s.mailer == nil {
		return 0, nil
	}
	db := s.DB().WithContext(ctx)
	var due []models.ReportDelivery
	if err := db.Where("status = ? AND next_attempt <= ?", Pending, s.Now()).Order("id").Limit(100).Find(&due).Error; err != nil {
		return 0, err
	}
	// One mail per report and language: each recipient reads it in the
	// language of their profile, else the server's default.
	type mailKey struct {
		report     uint
		lang, zone string
	}
	mails := map[mailKey]*channels.Mail{}
	chosen := map[string]models.User{}
	delivered := 0
	for _, row := range due {
		// Claim first: another instance that read the same row loses the
		// conditional update and skips it.
		now := s.Now()
		claim := db.Model(&models.ReportDelivery{}).Where("id = ? AND status = ? AND next_attempt <= ?", row.ID, Pending, now).
			Update("next_attempt", now.Add(claimHold))
		if claim.Error != nil {
			return delivered, claim.Error
		}
		if claim.RowsAffected != 1 {
			continue
		}
		u, seen := chosen[row.Recipient]
		if !seen {
			if err := db.Where("email = ?", row.Recipient).Limit(1).Find(&u).Error; err != nil {
				return delivered, err
			}
			chosen[row.Recipient] = u
		}
		key := mailKey{row.ReportID, u.Language, u.TimeZone}
		m := mails[key]
		if m == nil {
			var err error
			if m, err = s.mailOf(db, row.ReportID, s.Language(u.Language, u.TimeZone)); err != nil {
				return delivered, err
			}
			mails[key] = m
		}
		one := *m
		one.ID = fmt.Sprintf("report-%d-%s", row.ReportID, row.Recipient)
		updates := map[string]any{"attempts": row.Attempts + 1}
		err := s.mailer.SendMail(ctx, []string{row.Recipient}, one)
		now = s.Now()
		switch {
		case err == nil:
			updates["status"], updates["delivered_at"], updates["last_error"] = Delivered, &now, ""
			delivered++
		case channels.IsPermanent(err) || row.Attempts+1 >= maxAttempts:
			updates["status"], updates["last_error"] = Failed, err.Error()
		default:
			updates["last_error"] = err.Error()
			updates["next_attempt"] = now.Add(min(time.Minute<<row.Attempts, time.Hour))
		}
		if err := db.Model(&models.ReportDelivery{}).Where("id = ?", row.ID).Updates(updates).Error; err != nil {
			return delivered, err
		}
	}
	return delivered, nil
}

// mailOf renders a stored report as an e-mail: text, HTML and the PDF.
func (s *Service) mailOf(db *gorm.DB, id uint, lang core.Language) (*channels.Mail, error) {
	var row models.PeriodicReport
	if err := db.First(&row, id).Error; err != nil {
		return nil, fmt.Errorf("report %d: %w", id, err)
	}
	var r periodic.Report
	if err := json.Unmarshal([]byte(row.Content), &r); err != nil {
		return nil, fmt.Errorf("report %d: %w", id, err)
	}
	link := ""
	if s.publicURL != "" {
		link = fmt.Sprintf("%s/reports/%d", strings.TrimRight(s.publicURL, "/"), id)
	}
	var html bytes.Buffer
	if err := r.HTML(lang, &html, link); err != nil {
		return nil, err
	}
	m := &channels.Mail{Subject: "[Portcullis] " + r.Title(lang) + ", " + r.Period + ": " + r.Headline(lang), Text: r.Text(lang, link), HTML: html.String()}
	var pdf bytes.Buffer
	if err := r.PDF(lang, &pdf, s.pdf); err != nil {
		// The report still goes out; the text says why the PDF is missing.
		s.Log().Warn("report PDF not made", "report", id, "err", err)
		m.Text += "\n" + lang.Text("periodic.no_pdf", "Error", err.Error()) + "\n"
	} else {
		m.Attachments = []channels.Attachment{{Name: FileName(row) + ".pdf", ContentType: "application/pdf", Data: pdf.Bytes()}}
	}
	return m, nil
}

// FileName names a report's downloads: portcullis-daily-dmz-web-2026-11-30.
func FileName(r models.PeriodicReport) string {
	name := "portcullis-" + r.Kind + "-" + r.Zone
	if r.Team != "" {
		name += "-" + r.Team
	}
	name += "-" + r.Period
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, name)
}
