package requests

import (
	"context"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// notActionable is, per queue (review, approval), how many waiting requests
// one person may not act on.
type notActionable [2]int

// MyQueues counts the queues the actor works, less what waits there that
// they may not act on: their own requests (separation of duties) and, in
// the second-approval queue, those they gave the first approval. The queue
// lengths are shared by everyone; the part that is the actor's is counted
// from their own requests and reviews, and kept briefly per person.
func (s *Service) MyQueues(ctx context.Context, actor core.Actor) (QueueCounts, error) {
	out, err := s.CountQueues(ctx, actor)
	if err != nil || actor.ID == 0 || (out.Review == nil && out.Approval == nil) {
		return out, err
	}
	ex, err := s.notActionable.Get(s.Store, actor.ID, func() (notActionable, error) { return s.countNotActionable(ctx, actor) })
	if err != nil {
		return out, err
	}
	for i, n := range []*int{out.Review, out.Approval} {
		if n != nil {
			*n = max(0, *n-ex[i])
		}
	}
	return out, nil
}

func (s *Service) countNotActionable(ctx context.Context, actor core.Actor) (notActionable, error) {
	db := s.DB().WithContext(ctx)
	var ex notActionable
	// The actor's own requests are read from (requester_id, id): a
	// person's requests, not the queue.
	for _, q := range []struct {
		where string
		args  []any
	}{
		{"requester_id = ? AND state = ?", []any{actor.ID, StateSubmitted}},
		{"requester_id = ? AND state = ? AND NOT " + approvedBy(""), []any{actor.ID, StateInReview}},
	} {
		var n int64
		if err := db.Model(&models.Request{}).Where(q.where, q.args...).Count(&n).Error; err != nil {
			return ex, err
		}
		ex[0] += int(n)
	}
	if actor.Has(core.RoleApprover) {
		var n int64
		if err := db.Model(&models.Request{}).
			Where(stateIs(StateInReview)+" AND needs_second_approval = true AND "+approvedBy("review")).
			Where("requester_id = ? OR "+reviewedBy, actor.ID, actor.ID, false, DecisionApprove).Count(&n).Error; err != nil {
			return ex, err
		}
		ex[1] = int(n)
	}
	return ex, nil
}

// reviewedBy is the condition "this person gave the request's valid first approval".
const reviewedBy = "EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND reviews.reviewer_id = ? AND reviews.kind = 'review' AND reviews.voided = ? AND reviews.decision = ?)"

// FirstApprovedBy reports which of the requests the actor gave the valid
// first approval: the second-approval queue says so instead of offering them.
func (s *Service) FirstApprovedBy(ctx context.Context, actor core.Actor, ids []uint) (map[uint]bool, error) {
	out := map[uint]bool{}
	if len(ids) == 0 || actor.ID == 0 {
		return out, nil
	}
	var hits []uint
	if err := s.DB().WithContext(ctx).Model(&models.Review{}).
		Where("request_id IN ? AND reviewer_id = ? AND kind = 'review' AND voided = ? AND decision = ?", ids, actor.ID, false, DecisionApprove).
		Distinct().Pluck("request_id", &hits).Error; err != nil {
		return nil, err
	}
	for _, id := range hits {
		out[id] = true
	}
	return out, nil
}
