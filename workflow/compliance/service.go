// Package compliance is what auditors take away: the audit log's export and
// verification, its signed checkpoints and their keys, and the compliance
// reports (changes, rule register, insecure services, drift,
// re-certification) in the formats of workflow/report.
package compliance

import (
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// Service runs the audit and export use cases.
type Service struct {
	*core.Store
	inventory *inventory.Service
	// auditKeys sign the audit log's checkpoints.
	auditKeys AuditKeys
}

// New makes the compliance feature; checkpoints are unsigned until SetAuditKeys.
func New(st *core.Store, inv *inventory.Service) *Service {
	return &Service{Store: st, inventory: inv}
}
