// Package drift owns the drift items: what scans saw that disagrees with the
// approved rules, judged by workflow/driftrules, and how people acknowledge,
// suppress or turn an item into a request.
package drift

import (
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// AlertQueue queues the alerts for a newly opened item in the transaction
// that opened it.
type AlertQueue interface {
	Queue(tx *gorm.DB, d models.DriftItem) error
}

// Service runs the drift use cases.
type Service struct {
	*core.Store
	inventory *inventory.Service
	alerts    AlertQueue
	// teamAssets is each team's assets with live drift, as its members'
	// homes list them: kept briefly (see core.Summaries), like the count
	// beside it in their navigation.
	teamAssets core.Summaries[teamLimit, []TeamAssetDrift]
}

// teamLimit is one team's list of assets with live drift, cut at limit.
type teamLimit struct {
	team  string
	limit int
}

// New makes the drift feature; alerts may be nil (no alerting).
func New(st *core.Store, inv *inventory.Service, alerts AlertQueue) *Service {
	s := &Service{Store: st, inventory: inv, alerts: alerts}
	s.teamAssets.SetAreas(core.AreaDrift, core.AreaInventory)
	return s
}

func (s *Service) queueAlerts(tx *gorm.DB, d models.DriftItem) error {
	if s.alerts == nil {
		return nil
	}
	return s.alerts.Queue(tx, d)
}
