// Package dashboard gathers the morning view: a read-only summary across
// drift, scans, zones and requests, counted in the database.
package dashboard

import "github.com/portcullis/portcullis/workflow/core"

// Service builds the dashboard.
type Service struct {
	*core.Store
}

// New makes the dashboard over the shared store.
func New(st *core.Store) *Service { return &Service{Store: st} }
