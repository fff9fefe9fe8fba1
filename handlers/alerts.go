package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/core"
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
	v := web.Operations{Error: problem, Days: []web.Option{{Value: "-1", Label: locale.T(ctx, "ops.day_off")}}}
	if a.Has(core.RoleAdmin) {
		v.JobsLink = "/admin/jobs"
	}
	for i := range 7 {
		day := "ops_day." + strconv.Itoa(i)
		v.Days = append(v.Days, web.Option{Value: strconv.Itoa(i), Label: locale.T(ctx, day)})
	}
	for _, sc := range schedules {
		v.Schedules = append(v.Schedules, web.ScheduleRow{ZoneID: sc.Zone.ID, Zone: sc.Zone.Name, Classification: sc.Zone.Classification, Assets: sc.Assets,
			DailyHour: sc.DailyHour, WeeklyDay: sc.WeeklyDay, WeeklyHour: sc.WeeklyHour, LastDaily: locale.TimePtr(ctx, sc.LastDaily), LastWeekly: locale.TimePtr(ctx, sc.LastWeekly)})
	}
	status2 := r.URL.Query().Get("status")
	switch status2 {
	case "", "failed", "pending", "delivered":
	default:
		s.fail(w, r, core.Invalid("status", core.M("err.input.alert_status", "{{.Value}} is not failed, pending or delivered", "Value", strconv.Quote(status2))))
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
	if err := s.app.Scans.SaveSchedule(r.Context(), actor(r), id, num("daily_hour"), num("weekly_day"), num("weekly_hour")); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(r.Context(), err)
			s.renderOperations(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "ops.schedule_saved"))
	s.redirect(w, r, "/admin/operations")
}
