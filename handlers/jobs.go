package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/jobs"
)

// jobsPage shows admins the background jobs: each queue's jobs by state,
// and the failed ones with their errors, newest first.
func (s *Server) jobsPage(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	counts, err := s.app.Jobs.Counts(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := pageParams[jobs.JobKey](r, "limit", "cursor")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.app.Jobs.Failed(r.Context(), a, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.Jobs{States: jobs.States, Pages: pageLinks(r, "cursor", page.Next)}
	if s.cfg.RiverUI != nil {
		v.RiverUI = RiverUIPrefix + "/"
	}
	for _, q := range counts {
		row := web.QueueRow{Queue: q.Queue, Total: q.Total}
		for _, st := range jobs.States {
			row.Counts = append(row.Counts, q.ByState[st])
		}
		v.Queues = append(v.Queues, row)
	}
	for _, j := range page.Items {
		v.Failed = append(v.Failed, web.FailedJobRow{
			ID: fmt.Sprint(j.ID), Kind: j.Kind, Queue: j.Queue, State: j.State,
			Attempts: locale.T(r.Context(), "jobs.attempts", "Attempt", j.Attempt, "Max", j.MaxAttempts), At: locale.Time(r.Context(), j.At),
			Args: j.Args, Errors: strings.Join(j.Errors, "\n"),
		})
	}
	s.render(w, r, http.StatusOK, web.JobsPage(s.page(r, locale.T(r.Context(), "jobs.title")), v))
}
