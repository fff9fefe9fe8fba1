package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
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

// trendChart lays the 30-day trend out in a 100×100 box; the labels are
// placed by percentage.
func trendChart(ctx context.Context, days []dashboard.DayCount) web.Chart {
	var c web.Chart
	maxN := 1
	for _, d := range days {
		maxN = max(maxN, d.Opened, d.Resolved)
		c.OpenedTotal += d.Opened
		c.ResolvedTotal += d.Resolved
	}
	x := func(i int) float64 {
		if len(days) < 2 {
			return 0
		}
		return float64(i) * 100 / float64(len(days)-1)
	}
	// The top 5% stays free so that the highest point is not cut.
	y := func(n int) float64 { return 100 - float64(n)*95/float64(maxN) }
	pct := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	var opened, resolved []string
	for i, d := range days {
		opened = append(opened, fmt.Sprintf("%.2f,%.2f", x(i), y(d.Opened)))
		resolved = append(resolved, fmt.Sprintf("%.2f,%.2f", x(i), y(d.Resolved)))
		// A label a week, and today's; a weekly one too close to today's gives way.
		if (i%7 == 0 && len(days)-1-i >= 4) || i == len(days)-1 {
			c.XLabels = append(c.XLabels, web.ChartLabel{Pos: pct(x(i)), Text: locale.DayMonth(ctx, d.Day)})
		}
	}
	c.OpenedPoints, c.ResolvedPoints = strings.Join(opened, " "), strings.Join(resolved, " ")
	for _, n := range slices.Compact([]int{maxN, maxN / 2, 0}) {
		c.YLabels = append(c.YLabels, web.ChartLabel{Pos: pct(y(n)), Text: locale.Number(ctx, n)})
	}
	return c
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := s.app.Dashboard.Dashboard(ctx, actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := locale.Lang(ctx) + "|" + locale.Zone(ctx).String()
	content, ok := s.keptDashboard.get(d, key)
	if !ok {
		var b strings.Builder
		if err := web.DashboardContent(dashboardView(ctx, d, time.Now())).Render(ctx, &b); err != nil {
			s.fail(w, r, err)
			return
		}
		content = b.String()
		s.keptDashboard.put(d, key, content)
	}
	s.render(w, r, http.StatusOK, web.PageOf(s.page(r, locale.T(ctx, "dashboard.title")), templ.Raw(content)))
}

// keptDashboard is the dashboard's content as drawn from the counts the
// dashboard feature keeps (counted again at most every 2 s, and at least
// every SummaryMaxAge): drawing them costs more than the kept counts do to
// give, and every reader of one language and time zone is shown the same.
type keptDashboard struct {
	mu      sync.Mutex
	of      *dashboard.Dashboard
	content map[string]string // by language and zone
}

// get is the content drawn from d for key; counts counted again are a
// different d, and end everything drawn from the ones before.
func (k *keptDashboard) get(d *dashboard.Dashboard, key string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.of != d {
		return "", false
	}
	c, ok := k.content[key]
	return c, ok
}

func (k *keptDashboard) put(d *dashboard.Dashboard, key, content string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.of != d {
		k.of, k.content = d, map[string]string{}
	}
	k.content[key] = content
}

// dashboardView lays the counts out for the page.
func dashboardView(ctx context.Context, d *dashboard.Dashboard, now time.Time) web.DashboardView {
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
			row.Cells = append(row.Cells, web.HeatCell{N: n, Class: "hue-" + sev + " " + heatClass(n), Href: "/drift?severity=" + sev + "&zone=" + urlQueryEscape(z)})
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
	v.Riskiest, v.Oldest = riskRows(ctx, d.Riskiest), oldDriftRows(ctx, d.Oldest, now)
	return v
}

// assetHref is an address's asset page, or the drift list of the address
// when it is not in the inventory.
func assetHref(a *models.Asset, address string) string {
	if a != nil {
		return fmt.Sprintf("/assets/%d", a.ID)
	}
	return "/drift?asset=" + urlQueryEscape(address)
}

func riskRows(ctx context.Context, risks []dashboard.AssetRisk) []web.RiskRow {
	var rows []web.RiskRow
	for _, r := range risks {
		row := web.RiskRow{Href: assetHref(r.Asset, r.Address), Address: r.Address, Score: r.Score}
		if r.Asset != nil {
			row.Hostname = r.Asset.Hostname
			if r.Asset.Zone != nil {
				row.Zone = r.Asset.Zone.Name
			}
		}
		for _, sev := range severities {
			if n := r.BySeverity[sev]; n > 0 {
				row.BySeverity = append(row.BySeverity, web.Count{Label: web.Term(ctx, web.TermSeverity, sev), N: n, Class: "sev-" + sev})
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func oldDriftRows(ctx context.Context, items []dashboard.OldDrift, now time.Time) []web.OldDriftRow {
	var rows []web.OldDriftRow
	for _, o := range items {
		it := o.Item
		row := web.OldDriftRow{Href: assetHref(o.Asset, it.Address), DriftHref: "/drift?asset=" + urlQueryEscape(it.Address), Address: it.Address,
			Kind: web.Term(ctx, web.TermDriftKind, it.Kind), Zone: it.Zone, Severity: it.Severity, SeverityLabel: web.Term(ctx, web.TermSeverity, it.Severity),
			Since: locale.Date(ctx, it.FirstSeen), Age: locale.T(ctx, "dashboard.age_days", "Days", locale.Number(ctx, int(now.Sub(it.FirstSeen).Hours()/24)))}
		if it.Port != 0 {
			row.Port = it.Protocol + "/" + strconv.Itoa(it.Port)
		}
		if o.Asset != nil {
			row.Hostname = o.Asset.Hostname
		}
		rows = append(rows, row)
	}
	return rows
}
