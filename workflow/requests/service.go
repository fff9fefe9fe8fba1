// Package requests owns the port-opening requests: their lifecycle from
// draft to active (each step one transaction with its audit event), the
// policy's judgement of their rules, the review checklist, and the queues
// and register the pages show.
package requests

import (
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
)

// Verification is what requests need of the scans: queue the scan that
// proves an implemented request on the wire, and read what the latest one
// saw. Declared here so that scans may import requests, not the reverse.
type Verification interface {
	// QueueVerification queues a verification scan of r inside tx.
	QueueVerification(tx *gorm.DB, r *models.Request) error
	// VerificationEvidence is the latest verification scan of a request and what it saw.
	VerificationEvidence(tx *gorm.DB, requestID uint) (*models.ScanRun, []Evidence, error)
}

// Service runs the request use cases.
type Service struct {
	*core.Store
	inventory    *inventory.Service
	verification Verification
	// onEnd runs when an opening ends (expired or revoked), in its transaction.
	onEnd func(tx *gorm.DB, actor core.Actor, requestID uint) error
	// activeRules caches the index of the rules in force between judgements.
	activeRules activeCache
	// allCounts and queueCounts are the counts that are the same for every
	// reader who may see them.
	allCounts   core.Summary[map[State]int]
	queueCounts [3]core.Summary[int]
	// ownCounts are the counts of those who see only their own and their
	// team's requests, by person and team.
	ownCounts core.Summaries[ownScope, map[State]int]
	// notActionable is, per person, what waits in their queues that they
	// may not act on (see MyQueues).
	notActionable core.Summaries[uint, notActionable]
	// latestOwn is, per person, the first page of their own requests that
	// their home shows (LatestOwn).
	latestOwn core.Summaries[ownLatest, paging.Page[models.Request]]
	// listedRules and requesters keep what list pages show of each
	// request's rules and requester (listcache.go).
	listedRules ruleCache
	requesters  requesterCache
}

// ownLatest is whose latest requests, and how many, a home shows.
type ownLatest struct {
	scope ownScope
	n     int
}

// ownScope is whose requests a count covers.
type ownScope struct {
	user uint
	team string
}

// New makes the requests feature; verification is set with SetVerification
// once the scans exist.
func New(st *core.Store, inv *inventory.Service) *Service {
	s := &Service{Store: st, inventory: inv}
	// Counted from requests, their reviews and rules, and who filed them.
	areas := []core.Area{core.AreaRequests, core.AreaPeople}
	s.allCounts.SetAreas(areas...)
	for i := range s.queueCounts {
		s.queueCounts[i].SetAreas(areas...)
	}
	s.ownCounts.SetAreas(areas...)
	s.notActionable.SetAreas(areas...)
	s.latestOwn.SetAreas(areas...)
	return s
}

// SetVerification connects the scans that verify implemented requests.
func (s *Service) SetVerification(v Verification) { s.verification = v }

// OnEnd sets what else happens, in the same transaction, when an opening
// ends: re-certification lapses what was still pending.
func (s *Service) OnEnd(fn func(tx *gorm.DB, actor core.Actor, requestID uint) error) { s.onEnd = fn }
