package reporting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
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
// stored it: one delivery row per recipient, each with the job that sends
// it (River retries it with backoff); nothing when e-mail is off.
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
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue // queued already, with its job
		}
		if err := s.Enqueue(tx, DeliveryArgs{DeliveryID: row.ID}, deliveryOpts()); err != nil {
			return err
		}
	}
	return nil
}

// DeliveryArgs is the River job that e-mails one report to one recipient.
// Every attempt carries the same Message-ID, so a mail system can drop a
// repeat that follows a crash between the send and the record of it.
type DeliveryArgs struct {
	DeliveryID uint `json:"report_delivery_id"`
}

// Kind names the job.
func (DeliveryArgs) Kind() string { return "report_delivery" }

// deliveryOpts: unique per delivery, maxAttempts tries.
func deliveryOpts() *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RequeueOrphans gives a job to every pending delivery that has none (one
// queued by a release that delivered without the job engine); jobs are
// unique by delivery, so a delivery that has one keeps it.
func (s *Service) RequeueOrphans(ctx context.Context) (int, error) {
	var ids []uint
	if err := s.DB().WithContext(ctx).Model(&models.ReportDelivery{}).Where("status = ?", Pending).Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.InTx(ctx, func(tx *gorm.DB) error { return s.Enqueue(tx, DeliveryArgs{DeliveryID: id}, deliveryOpts()) }); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// RetryAfter is how long a report e-mail waits after its attempt-th
// failure: a minute, doubling, at most an hour.
func RetryAfter(attempt int) time.Duration {
	return min(time.Minute<<min(max(attempt-1, 0), 6), time.Hour)
}

// Deliver makes attempt (from 1) of at most maxAttempts at e-mailing
// delivery id and records the outcome. nil: delivered, given up for good,
// or nothing left to do; an error: try again later (the job engine waits
// RetryAfter).
func (s *Service) Deliver(ctx context.Context, id uint, attempt, maxAttempts int) error {
	db := s.DB().WithContext(ctx)
	var row models.ReportDelivery
	if err := db.First(&row, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return river.JobCancel(fmt.Errorf("report delivery %d is gone", id))
		}
		return err
	}
	if row.Status != Pending {
		return nil
	}
	var sendErr error
	if s.mailer == nil {
		sendErr = errors.New("e-mail is not configured on this instance")
	} else {
		var u models.User
		if err := db.Where("email = ?", row.Recipient).Limit(1).Find(&u).Error; err != nil {
			return err
		}
		// Each recipient reads it in the language of their profile, else
		// the server's default.
		m, err := s.mailOf(db, row.ReportID, s.Language(u.Language, u.TimeZone))
		if err != nil {
			return err
		}
		m.ID = fmt.Sprintf("report-%d-%s", row.ReportID, row.Recipient)
		sendErr = s.mailer.SendMail(ctx, []string{row.Recipient}, *m)
	}
	now := s.Now()
	updates := map[string]any{"attempts": row.Attempts + 1}
	switch {
	case sendErr == nil:
		updates["status"], updates["delivered_at"], updates["last_error"] = Delivered, &now, ""
	case channels.IsPermanent(sendErr):
		updates["status"], updates["last_error"] = Failed, sendErr.Error()
		sendErr = river.JobCancel(sendErr)
	case attempt >= maxAttempts:
		updates["status"], updates["last_error"] = Failed, sendErr.Error()
	default:
		updates["last_error"], updates["next_attempt"] = sendErr.Error(), now.Add(RetryAfter(attempt))
	}
	if err := s.DB().WithContext(context.WithoutCancel(ctx)).Model(&models.ReportDelivery{}).Where("id = ? AND status = ?", row.ID, Pending).Updates(updates).Error; err != nil {
		return err
	}
	return sendErr
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
