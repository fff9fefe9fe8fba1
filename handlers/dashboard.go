package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/dashboard"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/requests"
)

var severities = []string{"critical", "high", "medium", "low", "info"}

func heatClass(n int) string {
	switch {
	case n == 0:
		return "heat-0"
	case n == 1:
		return "heat-1"
	case n <= 3:
		return "heat-2"
	case n <= 9:
		return "heat-3"
	}
	return "heat-4"
}

// trendChart lays the 30-day trend out as SVG coordinates.
func trendChart(ctx context.Context, days []dashboard.DayCount) web.Chart {
	c := web.Chart{Width: 720, Height: 200}
	maxN := 1
	for _, d := range days {
		maxN = max(maxN, d.Opened, d.Resolved)
		c.OpenedTotal += d.Opened
		c.ResolvedTotal += d.Resolved
	}
	left, right, top, bottom := 40, c.Width-10, 10, c.Height-24
	x := func(i int) int {
		if len(days) < 2 {
			return left
		}
		return left + i*(right-left)/(len(days)-1)
	}
	y := func(n int) int { return bottom - n*(bottom-top)/maxN }
	var opened, resolved []string
	for i, d := range days {
		opened = append(opened, fmt.Sprintf("%d,%d", x(i), y(d.Opened)))
		resolved = append(resolved, fmt.Sprintf("%d,%d", x(i), y(d.Resolved)))
		if i%7 == 0 || i == len(days)-1 {
			c.XLabels = append(c.XLabels, web.ChartLabel{X: x(i), Y: c.Height - 6, Text: locale.DayMonth(ctx, d.Day)})
		}
	}
	c.OpenedPoints, c.ResolvedPoints = strings.Join(opened, " "), strings.Join(resolved, " ")
	for _, n := range []int{0, maxN / 2, maxN} {
		c.YLabels = append(c.YLabels, web.ChartLabel{X: 34, Y: y(n) + 4, Text: locale.Number(ctx, n)})
	}
	return c
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.app.Dashboard.Dashboard(r.Context(), actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	v := web.DashboardView{Trend: trendChart(ctx, d.Trend)}
	for _, sev := range severities {
		v.Severities = append(v.Severities, web.Term(ctx, web.TermSeverity, sev))
		v.BySeverity = append(v.BySeverity, web.Count{Label: web.Term(ctx, web.TermSeverity, sev), N: d.OpenBySeverity[sev], Href: "/drift?severity=" + sev, Class: "sev-" + sev})
	}
	for _, k := range driftrules.Kinds() {
		v.ByKind = append(v.ByKind, web.Count{Label: web.Term(ctx, web.TermDriftKind, string(k)), N: d.OpenByKind[string(k)], Href: "/drift?kind=" + string(k)})
	}
	zones := append([]string{}, d.Zones...)
	for z := range d.Heat {
		found := false
		for _, known := range zones {
			found = found || known == z
		}
		if !found {
			zones = append(zones, z)
		}
	}
	for _, z := range zones {
		row := web.HeatRow{Zone: z}
		for _, sev := range severities {
			n := d.Heat[z][sev]
			row.Cells = append(row.Cells, web.HeatCell{N: n, Class: heatClass(n), Href: "/drift?severity=" + sev + "&zone=" + urlQueryEscape(z)})
		}
		v.Heat = append(v.Heat, row)
	}
	for _, st := range []requests.State{requests.StateSubmitted, requests.StateInReview, requests.StateChangesRequested, requests.StateApproved, requests.StateImplemented, requests.StateVerificationFailed} {
		v.Waiting = append(v.Waiting, web.Count{Label: web.Term(ctx, web.TermState, string(st)), N: d.Waiting[st], Href: "/requests?state=" + string(st)})
	}
	v.Expiring = requestRows(ctx, d.Expiring)
	for _, ls := range d.LastScans {
		row := web.ScanRow{Zone: ls.Zone, Status: ls.Status}
		if ls.RunID != 0 {
			row.Href, row.Started = fmt.Sprintf("/scans/%d", ls.RunID), locale.TimePtr(ctx, ls.Last)
		}
		v.LastScans = append(v.LastScans, row)
	}
	s.render(w, r, http.StatusOK, web.DashboardPage(s.page(r, locale.T(ctx, "dashboard.title")), v))
}
