// Package scans owns the scan runs: queueing them (on demand, on a zone's
// schedule, or to verify an implemented request), running them through the
// scanner the server is given, and concluding each: a verification turns a
// request verified and active or failed, any other run is handed to drift.
package scans

import (
	"context"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
)

// DriftRecorder compares a finished scan with the approved rules and
// records the drift: what scans need of the drift feature, declared here so
// that drift may import scans (for the report types), not the reverse.
type DriftRecorder interface {
	Record(tx *gorm.DB, run *models.ScanRun, rep *Report) (opened, resolved int, err error)
}

// Service runs the scan use cases.
type Service struct {
	*core.Store
	inventory *inventory.Service
	requests  *requests.Service
	drift     DriftRecorder
	// scanner and scanPolicy run the server's scans; hub spreads their progress.
	scanner    Scanner
	scanPolicy Policy
	hub        progressHub
	// afterScheduled is told of each zone's daily or weekly run that
	// finished (the periodic reports follow it).
	afterScheduled func(ctx context.Context, runID uint) error
}

// New makes the scans feature; drift is connected with SetDriftRecorder.
func New(st *core.Store, inv *inventory.Service, req *requests.Service) *Service {
	return &Service{Store: st, inventory: inv, requests: req}
}

// SetDriftRecorder connects the drift feature that judges finished scans.
func (s *Service) SetDriftRecorder(d DriftRecorder) { s.drift = d }

// AfterScheduledRun sets what is called, after its transaction, when a
// zone's daily or weekly run finishes; its failure is logged, the scan stands.
func (s *Service) AfterScheduledRun(f func(ctx context.Context, runID uint) error) {
	s.afterScheduled = f
}
