package jobs

import (
	"context"
	"sort"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// States are River's job states in the order the admins' page shows them.
var States = []string{"available", "scheduled", "running", "retryable", "pending", "completed", "cancelled", "discarded"}

// QueueCounts is one queue's jobs by state.
type QueueCounts struct {
	Queue   string
	ByState map[string]int
	Total   int
}

// FailedJob is a job that failed at least once and has not succeeded since:
// retrying, given up (discarded) or cancelled for good.
type FailedJob struct {
	ID                   int64
	Kind, Queue, State   string
	Attempt, MaxAttempts int
	// Errors are the attempts' errors, oldest first.
	Errors []string
	At     time.Time // when it last ended or will next run
	Args   string    // JSON
}

// JobKey orders failed jobs, newest first.
type JobKey struct {
	ID int64 `json:"id"`
}

func canSeeJobs(a core.Actor) error {
	if a.Has(core.RoleAdmin) {
		return nil
	}
	return core.Forbidden(core.M("err.jobs.admins", "background jobs are for admins"))
}

// Counts counts every queue's jobs by state.
func (e *Engine) Counts(ctx context.Context, actor core.Actor) ([]QueueCounts, error) {
	if err := canSeeJobs(actor); err != nil {
		return nil, err
	}
	var rows []struct {
		Queue, State string
		N            int
	}
	if err := e.db.WithContext(ctx).Table("river_job").Select("queue, state, COUNT(*) AS n").Group("queue, state").Scan(&rows).Error; err != nil {
		return nil, err
	}
	byQueue := map[string]*QueueCounts{}
	for _, r := range rows {
		q := byQueue[r.Queue]
		if q == nil {
			q = &QueueCounts{Queue: r.Queue, ByState: map[string]int{}}
			byQueue[r.Queue] = q
		}
		q.ByState[r.State] += r.N
		q.Total += r.N
	}
	out := make([]QueueCounts, 0, len(byQueue))
	for _, q := range byQueue {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Queue < out[j].Queue })
	return out, nil
}

// Failed is one page of the failed jobs, newest first.
func (e *Engine) Failed(ctx context.Context, actor core.Actor, req paging.Request[JobKey]) (paging.Page[FailedJob], error) {
	if err := canSeeJobs(actor); err != nil {
		return paging.Page[FailedJob]{}, err
	}
	params := river.NewJobListParams().
		States(rivertype.JobStateRetryable, rivertype.JobStateDiscarded, rivertype.JobStateCancelled).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(req.Fetch())
	if req.After != nil {
		params = params.After(river.JobListCursorFromJob(&rivertype.JobRow{ID: req.After.ID}))
	}
	res, err := e.Client().JobList(ctx, params)
	if err != nil {
		return paging.Page[FailedJob]{}, err
	}
	jobs := make([]FailedJob, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		f := FailedJob{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Args: string(j.EncodedArgs), At: j.ScheduledAt}
		if j.FinalizedAt != nil {
			f.At = *j.FinalizedAt
		}
		for _, e := range j.Errors {
			f.Errors = append(f.Errors, e.Error)
		}
		jobs = append(jobs, f)
	}
	return paging.Cut(req, jobs, func(f FailedJob) JobKey { return JobKey{f.ID} }), nil
}
