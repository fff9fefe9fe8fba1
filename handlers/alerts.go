package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/scans"
)

func (s *Server) operationsPage(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	status2 := r.URL.Query().Get("status")
	switch status2 {
	case "", "failed", "pending", "delivered":
	default:
		s.fail(w, r, core.Invalid("status", core.M("err.input.alert_status", "{{.Value}} is not failed, pending or delivered", "Value", strconv.Quote(status2))))
		return
	}
	// The next scheduled runs move on the hour.
	list := "operations@" + time.Now().UTC().Format("15")
	s.keptList(w, r, list, locale.T(r.Context(), "ops.title"), operationsPages, func() (templ.Component, error) {
		schedules, err := s.app.Scans.Schedules(r.Context())
		if err != nil {
			return nil, err
		}
		ctx := r.Context()
		v := web.Operations{CanEdit: a.Has(core.RoleAdmin)}
		if a.Has(core.RoleAdmin) {
			v.JobsLink = "/admin/jobs"
		}
		for _, sc := range schedules {
			v.Schedules = append(v.Schedules, scheduleRow(ctx, sc))
		}
		req, err := pageParams[alerts.DeliveryKey](r, "limit", "cursor")
		if err != nil {
			return nil, err
		}
		page, err := s.app.Alerts.Deliveries(r.Context(), a, status2, req)
		if err != nil {
			return nil, err
		}
		counts, err := s.app.Alerts.DeliveryCounts(r.Context())
		if err != nil {
			return nil, err
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
		return web.OperationsContent(v), nil
	})
}

// scheduleRow is a zone's schedule as the operations page lists it and its
// form shows it.
func scheduleRow(ctx context.Context, sc scans.Schedule) web.ScheduleRow {
	row := web.ScheduleRow{ZoneID: sc.Zone.ID, Zone: sc.Zone.Name, Classification: sc.Zone.Classification, Assets: sc.Assets,
		DailyOn: sc.DailyHour >= 0, WeeklyOn: sc.WeeklyDay >= 0, DailyHour: sc.DailyHour, WeeklyDay: sc.WeeklyDay, WeeklyHour: sc.WeeklyHour,
		LastDaily: scheduledRun(ctx, sc.LastDaily), LastWeekly: scheduledRun(ctx, sc.LastWeekly),
		NextDaily: locale.TimePtr(ctx, sc.NextDaily), NextWeekly: locale.TimePtr(ctx, sc.NextWeekly)}
	if row.DailyOn {
		row.DailyAt = scheduleHour(row.DailyHour)
	} else {
		// An off slot keeps showing a sensible time to switch it back on at.
		row.DailyHour = 2
	}
	if row.WeeklyOn {
		row.WeeklyAt = locale.T(ctx, "ops.weekly_at", "Day", scheduleDay(ctx, row.WeeklyDay), "Hour", scheduleHour(row.WeeklyHour))
	} else {
		row.WeeklyDay = 0
	}
	return row
}

// scheduleHour is an hour of a schedule as its select names it.
func scheduleHour(h int) string { return fmt.Sprintf("%02d:00 UTC", h) }

// scheduleDay is a day of the week (0 Sunday) in the reader's language.
func scheduleDay(ctx context.Context, d int) string {
	id := "ops_day." + strconv.Itoa(d)
	return locale.T(ctx, id)
}

// scheduleEditPage is the form of one zone's schedule.
func (s *Server) scheduleEditPage(w http.ResponseWriter, r *http.Request) {
	s.renderScheduleEdit(w, r, http.StatusOK, "")
}

// renderScheduleEdit draws a zone's schedule form; problem, when set, is why
// the last save was refused.
func (s *Server) renderScheduleEdit(w http.ResponseWriter, r *http.Request, status int, problem string) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	schedules, err := s.app.Scans.Schedules(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(schedules, func(sc scans.Schedule) bool { return sc.Zone.ID == id })
	if i < 0 {
		s.fail(w, r, core.NotFound("zone", id))
		return
	}
	v := web.ScheduleEdit{Schedule: scheduleRow(ctx, schedules[i]), Error: problem}
	for h := range 24 {
		v.Hours = append(v.Hours, web.Option{Value: strconv.Itoa(h), Label: scheduleHour(h)})
	}
	for d := range 7 {
		v.Days = append(v.Days, web.Option{Value: strconv.Itoa(d), Label: scheduleDay(ctx, d)})
	}
	s.render(w, r, status, web.ScheduleEditPage(s.page(r, locale.T(ctx, "ops.edit_title", "Zone", schedules[i].Zone.Name)), v))
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
			msg, _ := publicMessage(r.Context(), err)
			s.renderScheduleEdit(w, r, http.StatusBadRequest, msg)
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
