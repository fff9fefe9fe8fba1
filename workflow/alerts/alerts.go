package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// Alerting is how new drift reaches the SOC: the routes with their
// channels, and how to link back to an item.
type Alerting struct {
	Router      *channels.Router
	Channels    map[string]channels.Channel // by Name()
	Dispatcher  *channels.Dispatcher
	MaxAttempts int // attempts before a delivery is given up as failed; default 8
	Link        func(driftID uint) string
}

// SetAlerting configures alert delivery; nil turns it off.
func (s *Service) SetAlerting(a *Alerting) {
	if a != nil && a.MaxAttempts <= 0 {
		a.MaxAttempts = 8
	}
	s.alerting = a
}

// alertOf is the alert of a drift item. Its title, detail and the words
// each channel adds are in lang (the server's default: a channel has no
// reader of its own); the kind, severity and other fields stay
// machine-stable.
func alertOf(d models.DriftItem, link func(uint) string, lang core.Language) channels.Alert {
	kind := d.Kind
	if s := lang.Text("drift_kind." + d.Kind); s != "drift_kind."+d.Kind {
		kind = s
	}
	a := channels.Alert{
		ID: fmt.Sprintf("drift-%d", d.ID), Kind: d.Kind, Severity: d.Severity,
		Title:  lang.Text("alert.title", "Kind", kind, "Asset", d.Address, "Port", fmt.Sprintf("%s/%d", d.Protocol, d.Port)),
		Detail: detailIn(d, lang), Asset: d.Address, Zone: d.Zone, Classification: d.Classification,
		Protocol: d.Protocol, Port: d.Port, Service: d.Service, RequestID: int64(d.RequestID), FirstSeen: d.FirstSeen,
		Language: lang,
	}
	if d.Kind == "tarpit" {
		a.Title = lang.Text("alert.title_tarpit", "Asset", d.Address)
	}
	if link != nil {
		a.Link = link(d.ID)
	}
	return a
}

// DeliveryArgs is the River job that delivers one alert to one channel.
// Every send carries the alert's ID, which names the drift item and so,
// at one channel, the delivery: a receiver drops a repeat that follows a
// crash between the send and the record of it.
type DeliveryArgs struct {
	DeliveryID uint `json:"delivery_id"`
}

// Kind names the job.
func (DeliveryArgs) Kind() string { return "alert_delivery" }

// QueueAlerts is the River queue of alert deliveries.
const QueueAlerts = "alerts"

// Queue records one delivery per matching channel, each with the job that
// sends it, in the transaction that opened the item: one alert per new
// item, never per scan.
func (s *Service) Queue(tx *gorm.DB, d models.DriftItem) error {
	if s.alerting == nil || s.alerting.Router == nil {
		return nil
	}
	for _, ch := range s.alerting.Router.Match(alertOf(d, nil, s.Language("", ""))) {
		row := models.AlertDelivery{DriftItemID: d.ID, Channel: ch.Name(), Status: "pending", NextAttempt: s.Now()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		opts := &river.InsertOpts{Queue: QueueAlerts, MaxAttempts: s.alerting.MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
		if err := s.Enqueue(tx, DeliveryArgs{DeliveryID: row.ID}, opts); err != nil {
			return err
		}
	}
	return nil
}

// RequeueOrphans gives a job to every pending delivery that has none (one
// recorded by a release before the job engine); jobs are unique by delivery.
func (s *Service) RequeueOrphans(ctx context.Context) (int, error) {
	var ids []uint
	if err := s.DB().WithContext(ctx).Model(&models.AlertDelivery{}).Where("status = ?", "pending").Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	attempts := 8
	if s.alerting != nil {
		attempts = s.alerting.MaxAttempts
	}
	for _, id := range ids {
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			return s.Enqueue(tx, DeliveryArgs{DeliveryID: id}, &river.InsertOpts{Queue: QueueAlerts, MaxAttempts: attempts, UniqueOpts: river.UniqueOpts{ByArgs: true}})
		})
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// RetryAfter is how long a delivery waits after its attempt-th failure.
func (s *Service) RetryAfter(attempt int) time.Duration {
	if s.alerting == nil || s.alerting.Dispatcher == nil {
		return time.Minute
	}
	return s.alerting.Dispatcher.Backoff(attempt)
}

// Deliver makes attempt (from 1) of at most maxAttempts at delivery id and
// records the outcome. nil: delivered, or given up for good, or nothing
// left to do; an error: try again later (the job engine waits RetryAfter).
func (s *Service) Deliver(ctx context.Context, id uint, attempt, maxAttempts int) error {
	a := s.alerting
	db := s.DB().WithContext(ctx).Clauses(dbresolver.Write).Session(&gorm.Session{})
	var row models.AlertDelivery
	if err := db.First(&row, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return river.JobCancel(fmt.Errorf("alert delivery %d is gone", id))
		}
		return err
	}
	if row.Status != "pending" {
		return nil
	}
	updates := map[string]any{"attempts": row.Attempts + 1}
	var sendErr error
	var ch channels.Channel
	if a != nil {
		ch = a.Channels[row.Channel]
	}
	if ch == nil {
		updates["status"], updates["last_error"] = "failed", "the channel is no longer configured"
		sendErr = river.JobCancel(errors.New("the channel is no longer configured"))
	} else {
		var d models.DriftItem
		if err := db.First(&d, row.DriftItemID).Error; err != nil {
			return fmt.Errorf("alert delivery %d: drift item %d: %w", row.ID, row.DriftItemID, err)
		}
		once := *a.Dispatcher
		once.MaxAttempts = 1
		res := once.DeliverTo(ctx, alertOf(d, a.Link, s.Language("", "")), []channels.Channel{ch})
		now := s.Now()
		switch {
		case len(res) == 1 && res[0].Delivered:
			updates["status"], updates["delivered_at"], updates["last_error"] = "delivered", &now, ""
		default:
			sendErr = errors.New("not delivered")
			if len(res) == 1 && res[0].Err != nil {
				sendErr = res[0].Err
			}
			updates["last_error"] = sendErr.Error()
			switch {
			case channels.IsPermanent(sendErr):
				updates["status"] = "failed"
				sendErr = river.JobCancel(sendErr)
			case attempt >= maxAttempts:
				updates["status"] = "failed"
			default:
				updates["next_attempt"] = now.Add(s.RetryAfter(attempt))
			}
		}
	}
	if err := s.DB().WithContext(context.WithoutCancel(ctx)).Model(&models.AlertDelivery{}).Where("id = ? AND status = ?", row.ID, "pending").Updates(updates).Error; err != nil {
		return err
	}
	return sendErr
}

// DeliveryKey orders deliveries newest first.
type DeliveryKey struct {
	ID uint `json:"id"`
}

// Deliveries is one page of deliveries for admins, newest first; status
// ("failed", "pending", "delivered") narrows it, "" lists all.
func (s *Service) Deliveries(ctx context.Context, actor core.Actor, status string, req paging.Request[DeliveryKey]) (paging.Page[models.AlertDelivery], error) {
	if !actor.Has(core.RoleAdmin, core.RoleApprover, core.RoleAuditor) {
		return paging.Page[models.AlertDelivery]{}, core.Forbidden(core.M("err.alerts.deliveries_roles", "alert deliveries are for admins, security leads and auditors"))
	}
	q := s.DB().WithContext(ctx)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if req.After != nil {
		q = q.Where("id < ?", req.After.ID)
	}
	var out []models.AlertDelivery
	if err := q.Order("id DESC").Limit(req.Fetch()).Find(&out).Error; err != nil {
		return paging.Page[models.AlertDelivery]{}, err
	}
	return paging.Cut(req, out, func(d models.AlertDelivery) DeliveryKey { return DeliveryKey{d.ID} }), nil
}

// DeliveryCounts counts the deliveries in each status.
func (s *Service) DeliveryCounts(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	if err := s.DB().WithContext(ctx).Model(&models.AlertDelivery{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
