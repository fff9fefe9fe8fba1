// Package dashboard gathers the morning view: a read-only summary across
// drift, scans, zones and requests, each counted in the database by the
// feature that owns the table.
package dashboard

import (
	"sync"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// Service builds the dashboard from the features it summarises.
type Service struct {
	*core.Store
	requests  *requests.Service
	inventory *inventory.Service
	scans     *scans.Service
	drift     *drift.Service
	recert    *recert.Service
	// past holds the trend of the days before today, which no longer
	// change: they are counted once a day, today's on every view.
	past struct {
		sync.Mutex
		today            string
		opened, resolved map[string]int
	}
	// view is shared by every reader until something changes and Settle
	// has passed.
	view core.Summary[*Dashboard]
	// inboxes, teamDrift and overdue are kept briefly, per person, per
	// team and for everyone (see core.Summaries).
	inboxes   core.Summaries[inboxKey, inboxOwn]
	teamDrift core.Summaries[string, int]
	overdue   core.Summary[int]
}

// inboxKey is whose inbox: a person and their team.
type inboxKey struct {
	user uint
	team string
}

// Settle is how late the dashboard may show this instance's changes: it is
// counted again at most this often however many commits come meanwhile.
const Settle = 2 * time.Second

// New makes the dashboard over the features it reads.
func New(st *core.Store, req *requests.Service, inv *inventory.Service, sc *scans.Service, dr *drift.Service, rc *recert.Service) *Service {
	s := &Service{Store: st, requests: req, inventory: inv, scans: sc, drift: dr, recert: rc}
	s.view.SetSettle(Settle)
	s.inboxes.SetAreas(core.AreaRecert, core.AreaDrift, core.AreaInventory)
	s.teamDrift.SetAreas(core.AreaDrift, core.AreaInventory)
	s.overdue.SetAreas(core.AreaRecert)
	return s
}

// SetSettle replaces Settle, for tests.
func (s *Service) SetSettle(d time.Duration) { s.view.SetSettle(d) }
