// Package alerts records an alert delivery for each new drift item and
// channel, with the River job that sends it, in the transaction that opened
// the item; the job delivers it through the channels of alerts/channels,
// retried with backoff.
package alerts

import "github.com/portcullis/portcullis/workflow/core"

// Service queues and delivers alerts.
type Service struct {
	*core.Store
	alerting *Alerting
}

// New makes the alerts feature over the shared store; alerting is off until SetAlerting.
func New(st *core.Store) *Service { return &Service{Store: st} }
