package alerts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

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
	MaxAttempts int // before a delivery is given up as failed; default 8
	Link        func(driftID uint) string
}

// SetAlerting configures alert delivery; nil turns it off.
func (s *Service) SetAlerting(a *Alerting) {
	if a != nil && a.MaxAttempts <= 0 {
		a.MaxAttempts = 8
	}
	s.alerting = a
}

func alertOf(d models.DriftItem, link func(uint) string) channels.Alert {
	a := channels.Alert{
		ID: fmt.Sprintf("drift-%d", d.ID), Kind: d.Kind, Severity: d.Severity,
		Title:  fmt.Sprintf("%s on %s %s/%d", d.Kind, d.Address, d.Protocol, d.Port),
		Detail: d.Detail, Asset: d.Address, Zone: d.Zone, Classification: d.Classification,
		Protocol: d.Protocol, Port: d.Port, Service: d.Service, RequestID: int64(d.RequestID), FirstSeen: d.FirstSeen,
	}
	if d.Kind == "tarpit" {
		a.Title = "tarpit host " + d.Address
	}
	if link != nil {
		a.Link = link(d.ID)
	}
	return a
}

// Queue puts one delivery per matching channel in the outbox, in the
// transaction that opened the item: one alert per new item, never per scan.
func (s *Service) Queue(tx *gorm.DB, d models.DriftItem) error {
	if s.alerting == nil || s.alerting.Router == nil {
		return nil
	}
	for _, ch := range s.alerting.Router.Match(alertOf(d, nil)) {
		row := models.AlertDelivery{DriftItemID: d.ID, Channel: ch.Name(), Status: "pending", NextAttempt: s.Now()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// claimHold is how long a claimed delivery is left to the instance that
// took it before another may try it again.
const claimHold = 2 * time.Minute

// Deliver makes one attempt at each delivery that is due, and
// schedules the next attempt with backoff, or gives up after MaxAttempts or
// on a permanent error. It returns how many were delivered.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	a := s.alerting
	if a == nil {
		return 0, nil
	}
	db := s.DB().WithContext(ctx)
	var due []models.AlertDelivery
	if err := db.Where("status = ? AND next_attempt <= ?", "pending", s.Now()).Order("id").Limit(200).Find(&due).Error; err != nil {
		return 0, err
	}
	// The items the due deliveries tell of, read at once.
	ids := make([]uint, 0, len(due))
	for _, row := range due {
		ids = append(ids, row.DriftItemID)
	}
	items := map[uint]models.DriftItem{}
	if len(ids) > 0 {
		var found []models.DriftItem
		if err := db.Where("id IN ?", ids).Find(&found).Error; err != nil {
			return 0, err
		}
		for _, d := range found {
			items[d.ID] = d
		}
	}
	delivered := 0
	for _, row := range due {
		// Claim the delivery first: another instance that read the same
		// row loses the conditional update and skips it.
		now := s.Now()
		claim := db.Model(&models.AlertDelivery{}).Where("id = ? AND status = ? AND next_attempt <= ?", row.ID, "pending", now).
			Update("next_attempt", now.Add(claimHold))
		if claim.Error != nil {
			return delivered, claim.Error
		}
		if claim.RowsAffected != 1 {
			continue
		}
		d, ok := items[row.DriftItemID]
		if !ok {
			return delivered, fmt.Errorf("alert delivery %d: drift item %d is gone", row.ID, row.DriftItemID)
		}
		ch := a.Channels[row.Channel]
		updates := map[string]any{"attempts": row.Attempts + 1}
		switch {
		case ch == nil:
			updates["status"], updates["last_error"] = "failed", "the channel is no longer configured"
		default:
			once := *a.Dispatcher
			once.MaxAttempts = 1
			res := once.DeliverTo(ctx, alertOf(d, a.Link), []channels.Channel{ch})
			now := s.Now()
			if len(res) == 1 && res[0].Delivered {
				updates["status"], updates["delivered_at"], updates["last_error"] = "delivered", &now, ""
				delivered++
				break
			}
			msg := "not delivered"
			permanent := false
			if len(res) == 1 && res[0].Err != nil {
				msg, permanent = res[0].Err.Error(), channels.IsPermanent(res[0].Err)
			}
			updates["last_error"] = msg
			if permanent || row.Attempts+1 >= a.MaxAttempts {
				updates["status"] = "failed"
			} else {
				updates["next_attempt"] = now.Add(a.Dispatcher.Backoff(row.Attempts + 1))
			}
		}
		if err := db.Model(&models.AlertDelivery{}).Where("id = ?", row.ID).Updates(updates).Error; err != nil {
			return delivered, err
		}
	}
	return delivered, nil
}

// DeliveryKey orders deliveries newest first.
type DeliveryKey struct {
	ID uint `json:"id"`
}

// Deliveries is one page of deliveries for admins, newest first; status
// ("failed", "pending", "delivered") narrows it, "" lists all.
func (s *Service) Deliveries(ctx context.Context, actor core.Actor, status string, req paging.Request[DeliveryKey]) (paging.Page[models.AlertDelivery], error) {
	if !actor.Has(core.RoleAdmin, core.RoleApprover, core.RoleAuditor) {
		return paging.Page[models.AlertDelivery]{}, core.Forbidden("alert deliveries are for admins, security leads and auditors")
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
