package dashboard

import (
	"context"

	"github.com/portcullis/portcullis/workflow/core"
)

// Inbox is what waits for one person: the navigation shows it on every
// page, so each number is an aggregate over an index, kept briefly.
type Inbox struct {
	// Review, Approval and Implementation are the queues the actor works
	// (nil: not theirs), less what they may not act on.
	Review, Approval, Implementation *int
	// Recertifications are the pending items of their requests and team.
	Recertifications int
	// Drift is the live drift on the assets their team owns (0 without a team).
	Drift int
}

// inboxOwn is the part of an inbox that is the person's own.
type inboxOwn struct{ recert, drift int }

// Inbox counts what waits for the actor.
func (s *Service) Inbox(ctx context.Context, actor core.Actor) (Inbox, error) {
	var in Inbox
	if actor.ID == 0 {
		return in, nil
	}
	q, err := s.requests.MyQueues(ctx, actor)
	if err != nil {
		return in, err
	}
	in.Review, in.Approval, in.Implementation = q.Review, q.Approval, q.Implementation
	own, err := s.inboxes.Get(s.Store, inboxKey{user: actor.ID, team: actor.Team}, func() (inboxOwn, error) {
		var o inboxOwn
		var err error
		if o.recert, err = s.recert.CountMine(ctx, actor); err != nil {
			return o, err
		}
		o.drift, err = s.teamDrift.Get(s.Store, actor.Team, func() (int, error) { return s.drift.CountLiveOnTeamAssets(ctx, actor.Team) })
		return o, err
	})
	in.Recertifications, in.Drift = own.recert, own.drift
	return in, err
}

// Attention is what auditors and admins chase, counted for their homes.
type Attention struct {
	OverdueRecertifications int
	// CriticalDrift and HighDrift are the live items of those severities.
	CriticalDrift, HighDrift int
	// Unscanned are the zones never scanned or whose last scan failed.
	Unscanned []string
}

// Attention counts what needs an auditor's or an admin's eye.
func (s *Service) Attention(ctx context.Context, actor core.Actor) (Attention, error) {
	var at Attention
	d, err := s.Dashboard(ctx, actor)
	if err != nil {
		return at, err
	}
	at.CriticalDrift, at.HighDrift = d.OpenBySeverity["critical"], d.OpenBySeverity["high"]
	for _, z := range d.LastScans {
		if z.RunID == 0 || z.Status == "failed" {
			at.Unscanned = append(at.Unscanned, z.Zone)
		}
	}
	at.OverdueRecertifications, err = s.overdue.Get(s.Store, func() (int, error) { return s.recert.CountOverdue(ctx) })
	return at, err
}
