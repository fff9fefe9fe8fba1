package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/dashboard"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/scans"
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
func trendChart(days []dashboard.DayCount) web.Chart {
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
			c.XLabels = append(c.XLabels, web.ChartLabel{X: x(i), Y: c.Height - 6, Text: d.Day.Format("Jan 2")})
		}
	}
	c.OpenedPoints, c.ResolvedPoints = strings.Join(opened, " "), strings.Join(resolved, " ")
	for _, n := range []int{0, maxN / 2, maxN} {
		c.YLabels = append(c.YLabels, web.ChartLabel{X: 34, Y: y(n) + 4, Text: strconv.Itoa(n)})
	}
	return c
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.Dashboard.Dashboard(r.Context(), actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.DashboardView{Severities: severities, Trend: trendChart(d.Trend)}
	for _, sev := range severities {
		v.BySeverity = append(v.BySeverity, web.Count{Label: sev, N: d.OpenBySeverity[sev], Href: "/drift?severity=" + sev, Class: "sev-" + sev})
	}
	for _, k := range driftrules.Kinds() {
		v.ByKind = append(v.ByKind, web.Count{Label: string(k), N: d.OpenByKind[string(k)], Href: "/drift?kind=" + string(k)})
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
	for _, st := range []core.State{core.StateSubmitted, core.StateInReview, core.StateChangesRequested, core.StateApproved, core.StateImplemented, core.StateVerificationFailed} {
		v.Waiting = append(v.Waiting, web.Count{Label: st.Label(), N: d.Waiting[st], Href: "/requests?state=" + string(st)})
	}
	v.Expiring = requestRows(d.Expiring)
	for _, ls := range d.LastScans {
		row := web.ScanRow{Zone: ls.Zone, Status: ls.Status}
		if ls.RunID != 0 {
			row.Href, row.Started = fmt.Sprintf("/scans/%d", ls.RunID), fmtTimePtr(ls.Last)
		}
		v.LastScans = append(v.LastScans, row)
	}
	s.render(w, r, http.StatusOK, web.DashboardPage(s.page(r, "Dashboard"), v))
}

func driftRow(d models.DriftItem, a core.Actor) web.DriftRow {
	row := web.DriftRow{
		ID: d.ID, Kind: d.Kind, Severity: d.Severity, Address: d.Address, Service: d.Service, Zone: d.Zone,
		State: d.State, Detail: d.Detail, FirstSeen: fmtTime(d.FirstSeen), LastSeen: fmtTime(d.LastSeen), SuppressReason: d.SuppressReason,
	}
	if d.Protocol != "" {
		row.Port = fmt.Sprintf("%s/%d", d.Protocol, d.Port)
		if d.LastPort > d.Port {
			row.Port += fmt.Sprintf("-%d", d.LastPort)
		}
	}
	if d.RequestID != 0 {
		row.RequestHref = fmt.Sprintf("/requests/%d", d.RequestID)
	}
	if d.FiledRequestID != nil {
		row.FiledHref = fmt.Sprintf("/requests/%d", *d.FiledRequestID)
	}
	if d.SuppressedUntil != nil {
		row.SuppressedUntil = d.SuppressedUntil.Format(dateFmt)
	}
	live := d.State == drift.DriftOpen || d.State == drift.DriftAcknowledged
	row.CanAcknowledge = d.State == drift.DriftOpen && a.Has(core.RoleReviewer, core.RoleApprover, core.RoleAdmin)
	row.CanSuppress = live && a.Has(core.RoleApprover, core.RoleAdmin)
	row.CanRequest = live && d.FiledRequestID == nil && driftrules.Kind(d.Kind).Requestable() && a.Has(core.RoleRequester, core.RoleAdmin)
	return row
}

func (s *Server) driftPage(w http.ResponseWriter, r *http.Request) {
	s.renderDrift(w, r, http.StatusOK, "")
}

func (s *Server) renderDrift(w http.ResponseWriter, r *http.Request, status int, problem string) {
	q := r.URL.Query()
	state := q.Get("state")
	f := drift.DriftFilter{Kind: q.Get("kind"), Severity: q.Get("severity"), Zone: q.Get("zone")}
	switch state {
	case "", "live":
		f.States = []string{drift.DriftOpen, drift.DriftAcknowledged}
	case "all":
	default:
		f.States = []string{state}
	}
	items, err := s.svc.Drift.ListDrift(r.Context(), actor(r), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.DriftList{Error: problem, MinUntil: time.Now().UTC().AddDate(0, 0, 1).Format(dateFmt)}
	for _, o := range []struct{ v, l string }{{"live", "open or acknowledged"}, {"open", "open"}, {"acknowledged", "acknowledged"}, {"suppressed", "suppressed"}, {"resolved", "resolved"}, {"all", "all"}} {
		v.States = append(v.States, web.Option{Value: o.v, Label: o.l, Selected: o.v == state || (state == "" && o.v == "live")})
	}
	for _, k := range driftrules.Kinds() {
		v.Kinds = append(v.Kinds, web.Option{Value: string(k), Label: string(k), Selected: string(k) == f.Kind})
	}
	for _, sev := range severities {
		v.Severities = append(v.Severities, web.Option{Value: sev, Label: sev, Selected: sev == f.Severity})
	}
	a := actor(r)
	for _, d := range items {
		v.Rows = append(v.Rows, driftRow(d, a))
	}
	s.render(w, r, status, web.DriftPage(s.page(r, "Drift"), v))
}

func (s *Server) acknowledgeDrift(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.svc.Drift.AcknowledgeDrift(r.Context(), actor(r), id, r.PostFormValue("comment")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", fmt.Sprintf("Drift #%d acknowledged.", id))
	s.redirect(w, r, "/drift")
}

func (s *Server) suppressDrift(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	until, err := time.Parse(dateFmt, r.PostFormValue("until"))
	if err != nil {
		s.renderDrift(w, r, http.StatusBadRequest, "until: give the date the suppression ends (YYYY-MM-DD)")
		return
	}
	if _, err := s.svc.Drift.SuppressDrift(r.Context(), actor(r), id, r.PostFormValue("reason"), until.Add(23*time.Hour+59*time.Minute)); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(err)
			s.renderDrift(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", fmt.Sprintf("Drift #%d suppressed.", id))
	s.redirect(w, r, "/drift")
}

func scanRow(run models.ScanRun) web.ScanRow {
	return web.ScanRow{
		ID: run.ID, Href: fmt.Sprintf("/scans/%d", run.ID), Kind: strings.ReplaceAll(run.Kind, "_", " "), Profile: run.Profile,
		Targets: run.Targets, Zone: run.Zone, Status: run.Status, Queued: fmtTime(run.QueuedAt), Started: fmtTimePtr(run.StartedAt),
		Finished: fmtTimePtr(run.FinishedAt), RequestedBy: run.RequestedBy,
	}
}

func (s *Server) scansPage(w http.ResponseWriter, r *http.Request) {
	s.renderScans(w, r, http.StatusOK, "")
}

func (s *Server) renderScans(w http.ResponseWriter, r *http.Request, status int, problem string) {
	a := actor(r)
	runs, err := s.svc.Scans.ListScans(r.Context(), a, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.ScansPage{CanStart: a.Has(core.RoleReviewer, core.RoleApprover, core.RoleAdmin), Error: problem}
	for _, run := range runs {
		v.Rows = append(v.Rows, scanRow(run))
	}
	zones, _ := s.svc.Inventory.ListZones(r.Context())
	for _, z := range zones {
		v.Targets = append(v.Targets, web.Option{Value: z.Name, Label: "zone " + z.Name})
	}
	assets, _ := s.svc.Inventory.ListAssets(r.Context())
	for _, as := range assets {
		v.Targets = append(v.Targets, web.Option{Value: as.Address, Label: as.Hostname})
	}
	s.render(w, r, status, web.ScansPageView(s.page(r, "Scans"), v))
}

func splitTargets(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == ';' })
}

func (s *Server) startScan(w http.ResponseWriter, r *http.Request) {
	run, err := s.svc.Scans.RequestScan(r.Context(), actor(r), splitTargets(r.PostFormValue("targets")), r.PostFormValue("profile"))
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(err)
			s.renderScans(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/scans/%d", run.ID))
}

func (s *Server) scanPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.svc.Scans.GetScan(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.ScanView{Run: scanRow(*run), Running: run.Status == "queued" || run.Status == "running", Error: run.Error, Summary: run.Summary}
	if run.Status == "done" {
		changes, err := s.svc.Scans.ScanChanges(r.Context(), run)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range changes {
			v.Changes = append(v.Changes, web.ScanChange{Address: c.Address, Port: fmt.Sprintf("%s/%d", c.Protocol, c.Port), Change: c.Change, Before: c.Before, After: c.After})
		}
		if rep, err := scans.ParseScanReport(run.Report); err == nil {
			for _, h := range rep.Hosts {
				if h.State == "down" {
					v.HostsDown = append(v.HostsDown, h.Address)
				}
				for _, p := range h.Ports {
					var ids []string
					for _, f := range p.Findings {
						ids = append(ids, f.ID+" ("+f.Severity+")")
					}
					v.Ports = append(v.Ports, web.ScanPortRow{Address: h.Address, Port: fmt.Sprintf("%s/%d", p.Protocol, p.Port), State: p.State, Service: p.Service,
						Product: strings.TrimSpace(p.Product + " " + p.Version), Banner: p.Banner, Findings: strings.Join(ids, ", "), TLS: p.TLS, Tarpit: h.Tarpit})
				}
			}
		}
	}
	s.render(w, r, http.StatusOK, web.ScanPage(s.page(r, fmt.Sprintf("Scan #%d", id)), v))
}

// scanEvents streams a running scan's progress as Server-Sent Events. Other
// instances' scans are followed by polling the stored snapshot.
func (s *Server) scanEvents(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	run, err := s.svc.Scans.GetScan(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(p scans.ScanProgress) bool {
		b, _ := json.Marshal(p)
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	var first scans.ScanProgress
	json.Unmarshal([]byte(run.Progress), &first)
	first.Status = run.Status
	first.Done = run.Status == "done" || run.Status == "failed"
	if !send(first) || first.Done {
		return
	}
	updates, stop := s.svc.Scans.WatchScan(id)
	defer stop()
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case p := <-updates:
			if !send(p) || p.Done {
				return
			}
		case <-poll.C:
			cur, err := s.svc.Scans.GetScan(r.Context(), a, id)
			if err != nil {
				return
			}
			if cur.Status == "done" || cur.Status == "failed" {
				send(scans.ScanProgress{Done: true, Status: cur.Status})
				return
			}
		}
	}
}

func (s *Server) assetPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	asset, err := s.svc.Inventory.GetAsset(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.AssetDetail{Asset: assetRow(*asset)}
	register, err := s.svc.Requests.RuleRegister(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type approval struct {
		proto string
		ports string
		req   uint
	}
	var approvals []approval
	for _, e := range register {
		if !containsAddress(e.Rule.Destination, asset) {
			continue
		}
		approvals = append(approvals, approval{e.Rule.Protocol, e.Rule.Ports, e.Request.ID})
		v.Rules = append(v.Rules, web.RegisterRow{RequestID: e.Request.ID, Href: fmt.Sprintf("/requests/%d", e.Request.ID), Source: e.Rule.Source,
			Protocol: e.Rule.Protocol, Ports: e.Rule.Ports, Service: e.Rule.Service, State: e.Request.State, StateLabel: core.State(e.Request.State).Label()})
	}
	if a.SeesAllRequests() {
		if run, host := s.svc.Scans.LatestScanOf(r.Context(), asset.Address); run != nil {
			v.LastScan, v.ScanHref = fmtTimePtr(run.FinishedAt), fmt.Sprintf("/scans/%d", run.ID)
			for _, p := range host.Ports {
				lp := web.LivePort{Port: fmt.Sprintf("%s/%d", p.Protocol, p.Port), State: p.State, Service: p.Service, Banner: p.Banner, Approval: "not approved"}
				for _, ap := range approvals {
					if ap.proto == p.Protocol && portIn(ap.ports, p.Port) {
						lp.Approved, lp.Approval = true, fmt.Sprintf("approved by #%d", ap.req)
					}
				}
				var ids []string
				for _, f := range p.Findings {
					ids = append(ids, f.ID)
				}
				lp.Findings = strings.Join(ids, ", ")
				v.Live = append(v.Live, lp)
			}
		}
		items, _ := s.svc.Drift.ListDrift(r.Context(), a, drift.DriftFilter{Address: asset.Address, States: []string{drift.DriftOpen, drift.DriftAcknowledged}})
		for _, d := range items {
			v.Drift = append(v.Drift, driftRow(d, a))
		}
	}
	sort.Slice(v.Live, func(i, j int) bool { return v.Live[i].Port < v.Live[j].Port })
	s.render(w, r, http.StatusOK, web.AssetPage(s.page(r, asset.Address), v))
}

func containsAddress(destination string, asset *models.Asset) bool {
	for _, d := range strings.Split(destination, ",") {
		if d == asset.Address || (asset.Zone != nil && strings.EqualFold(d, asset.Zone.Name)) {
			return true
		}
	}
	return false
}

func portIn(spec string, port uint16) bool {
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		if int(port) >= a && int(port) <= b {
			return true
		}
	}
	return false
}

var weekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

func (s *Server) operationsPage(w http.ResponseWriter, r *http.Request) {
	s.renderOperations(w, r, http.StatusOK, "")
}

func (s *Server) renderOperations(w http.ResponseWriter, r *http.Request, status int, problem string) {
	a := actor(r)
	schedules, err := s.svc.Scans.Schedules(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.Operations{Error: problem, Days: []web.Option{{Value: "-1", Label: "off"}}}
	for i, d := range weekdays {
		v.Days = append(v.Days, web.Option{Value: strconv.Itoa(i), Label: d})
	}
	for _, sc := range schedules {
		v.Schedules = append(v.Schedules, web.ScheduleRow{ZoneID: sc.Zone.ID, Zone: sc.Zone.Name, Classification: sc.Zone.Classification, Assets: sc.Assets,
			DailyHour: sc.DailyHour, WeeklyDay: sc.WeeklyDay, WeeklyHour: sc.WeeklyHour, LastDaily: fmtTimePtr(sc.LastDaily), LastWeekly: fmtTimePtr(sc.LastWeekly)})
	}
	deliveries, err := s.svc.Alerts.AlertDeliveries(r.Context(), a, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range deliveries {
		row := web.DeliveryRow{DriftID: d.DriftItemID, Channel: d.Channel, Status: d.Status, Attempts: d.Attempts, LastError: d.LastError, Done: fmtTimePtr(d.DeliveredAt)}
		if d.Status == "pending" {
			row.Next = fmtTime(d.NextAttempt)
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	s.render(w, r, status, web.OperationsPage(s.page(r, "Scans and alerts"), v))
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
	if err := s.svc.Scans.SaveSchedule(r.Context(), actor(r), id, num("daily_hour"), num("weekly_day"), num("weekly_hour")); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(err)
			s.renderOperations(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", "Schedule saved.")
	s.redirect(w, r, "/admin/operations")
}
