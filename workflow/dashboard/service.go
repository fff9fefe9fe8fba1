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
	// past holds the trend of the days before today, which no longer
	// change: they are counted once a day, today's on every view.
	past struct {
		sync.Mutex
		today            string
		opened, resolved map[string]int
	}
	// cached is the last view built: every reader sees the same summary, so
	// it is rebuilt only after this instance commits a change, or once it is
	// older than maxAge (for changes made by other instances).
	cached struct {
		sync.Mutex
		view       *Dashboard
		generation uint64
		builtAt    time.Time
	}
}

// maxAge bounds how stale the view may be after another instance's change.
const maxAge = 10 * time.Second

// New makes the dashboard over the features it reads.
func New(st *core.Store, req *requests.Service, inv *inventory.Service, sc *scans.Service, dr *drift.Service) *Service {
	return &Service{Store: st, requests: req, inventory: inv, scans: sc, drift: dr}
}
