package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/scans"
)

func (s *Server) operationsPage(w http.ResponseWriter, r *http.Request) {
	s.renderOperations(w, r, http.StatusOK, "")
}

func (s *Server) renderOperations(w http.ResponseWriter, r *http.Request, status int, problem string) {
	a := actor(r)
	schedules, err := s.app.Scans.Schedules(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	v := web.Operations{Error: problem}
	for h := range 24 {
		v.Hours = append(v.Hours, web.Option{Value: strconv.Itoa(h), Label: fmt.Sprintf("%02d:00 UTC", h)})
	}
	if a.Has(core.RoleAdmin) {
		v.JobsLink = "/admin/jobs"
	}
	for i := range 7 {
		day := "ops_day." + strconv.Itoa(i)
		v.Days = append(v.Days, web.Option{Value: strconv.Itoa(i), Label: locale.T(ctx, day)})
	}
	for _, sc := range schedules {
		row := web.ScheduleRow{ZoneID: sc.Zone.ID, Zone: sc.Zone.Name, Classification: sc.Zone.Classification, Assets: sc.Assets,
			DailyOn: sc.DailyHour >= 0, WeeklyOn: sc.WeeklyDay >= 0, DailyHour: sc.DailyHour, WeeklyDay: sc.WeeklyDay, WeeklyHour: sc.WeeklyHour,
			LastDaily: scheduledRun(ctx, sc.LastDaily), LastWeekly: scheduledRun(ctx, sc.LastWeekly),
			NextDaily: locale.TimePtr(ctx, sc.NextDaily), NextWeekly: locale.TimePtr(ctx, sc.NextWeekly)}
		// An off slot keeps showing a sensible time to switch it back on at.
		if !row.DailyOn {
			row.DailyHour = 2
		}
		if !row.WeeklyOn {
			row.WeeklyDay = 0
		}
		v.Schedules = append(v.Schedules, row)
	}
	status2 := r.URL.Query().Get("status")
	switch status2 {
	case "", "failed", "pending", "delivered":
	default:
		s.fail(w, r, &core.Error{Code: core.CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not failed, pending or delivered", status2)})
		return
	}
	req, err := pageParams[alerts.DeliveryKey](r, "limit", "cursor")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.app.Alerts.Deliveries(r.Context(), a, status2, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := s.app.Alerts.DeliveryCounts(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	v.DeliveryFilters = append(v.DeliveryFilters, web.Option{Value: "/admin/operations", Label: locale.T(ctx, "ops.filter_all", "N", locale.Number(ctx, total)), Selected: status2 == ""})
	for _, st := range []string{"failed", "pending", "delivered"} {
		label := locale.T(ctx, "ops.filter_status", "Status", web.DeliveryStatus(ctx, st), "N", locale.Number(ctx, counts[st]))
		v.DeliveryFilters = append(v.DeliveryFilters, web.Option{Value: "/admin/operations?status=" + st, Label: label, Selected: status2 == st})
	}
	v.DeliveryPages = pageLinks(r, "cursor", page.Next)
	for _, d := range page.Items {
		row := web.DeliveryRow{DriftID: d.DriftItemID, Channel: d.Channel, Status: d.Status, Attempts: d.Attempts, LastError: d.LastError, Done: locale.TimePtr(ctx, d.DeliveredAt)}
		if d.Status == "pending" {
			row.Next = locale.Time(ctx, d.NextAttempt)
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	s.render(w, r, status, web.OperationsPage(s.page(r, locale.T(ctx, "ops.title")), v))
}

func (s *Server) saveSchedule(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	num := func(name string) int {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name)))
		if err != nil {
			return -99
		}
		return n
	}
	// Unticked, a slot is off whatever time its selects still show.
	daily, weekly := num("daily_hour"), num("weekly_day")
	if r.PostFormValue("daily_on") == "" {
		daily = -1
	}
	if r.PostFormValue("weekly_on") == "" {
		weekly = -1
	}
	if err := s.app.Scans.SaveSchedule(r.Context(), actor(r), id, daily, weekly, num("weekly_hour")); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(err)
			s.renderOperations(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "ops.schedule_saved"))
	s.redirect(w, r, "/admin/operations")
}

// scheduledRun is a slot's latest run for the schedules table.
func scheduledRun(ctx context.Context, b *scans.RunBrief) *web.ScheduledRun {
	if b == nil {
		return nil
	}
	when := locale.Time(ctx, b.QueuedAt)
	if b.FinishedAt != nil {
		when = locale.Time(ctx, *b.FinishedAt)
	}
	return &web.ScheduledRun{Href: fmt.Sprintf("/scans/%d", b.ID), ID: strconv.FormatUint(uint64(b.ID), 10),
		Status: web.Term(ctx, web.TermScanStatus, b.Status), StatusKey: b.Status, When: when, Summary: b.Summary}
}
