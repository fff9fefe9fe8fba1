// Package alerts queues an alert for each new drift item in an outbox, in
// the transaction that opened the item, and delivers the outbox through the
// channels of alerts/channels with retries.
package alerts

import "github.com/portcullis/portcullis/workflow/core"

// Service queues and delivers alerts.
type Service struct {
	*core.Store
	alerting *Alerting
}

// New makes the alerts feature over the shared store; alerting is off until SetAlerting.
func New(st *core.Store) *Service { return &Service{Store: st} }
