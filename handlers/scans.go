package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/scans"
)

func scanRow(ctx context.Context, run models.ScanRun) web.ScanRow {
	return web.ScanRow{
		ID: run.ID, Href: fmt.Sprintf("/scans/%d", run.ID), Kind: run.Kind, Profile: run.Profile,
		Targets: run.Targets, Zone: run.Zone, Status: run.Status, Queued: locale.Time(ctx, run.QueuedAt), Started: locale.TimePtr(ctx, run.StartedAt),
		Finished: locale.TimePtr(ctx, run.FinishedAt), RequestedBy: run.RequestedBy,
	}
}

func (s *Server) scansPage(w http.ResponseWriter, r *http.Request) {
	s.renderScans(w, r, http.StatusOK, "")
}

func (s *Server) renderScans(w http.ResponseWriter, r *http.Request, status int, problem string) {
	draw := func() (templ.Component, error) {
		a := actor(r)
		req, err := pageParams[scans.RunKey](r, "limit", "cursor")
		if err != nil {
			return nil, err
		}
		// A refused form keeps what was typed: that page does not swap
		// itself. The live stamp is read before the runs: the page is never
		// older than the stamp it asks to be told of changes since.
		src := ""
		if problem == "" {
			src, _ = s.liveSrc(r, "/scans/events")
		}
		page, err := s.app.Scans.List(r.Context(), a, req)
		if err != nil {
			return nil, err
		}
		v := web.ScansPage{Live: src, CanStart: a.Has(core.RoleReviewer, core.RoleApprover, core.RoleAdmin), Error: problem, Pages: pageLinks(r, "cursor", page.Next)}
		for _, run := range page.Items {
			v.Rows = append(v.Rows, scanRow(r.Context(), run))
		}
		// Zones only: a list of every asset would grow with the inventory; an
		// address is typed.
		zones, _ := s.app.Inventory.Zones(r.Context())
		for _, z := range zones {
			v.Targets = append(v.Targets, web.Option{Value: z.Name, Label: z.Name})
		}
		return web.ScansContent(v), nil
	}
	title := locale.T(r.Context(), "scan.title")
	if problem == "" {
		s.keptList(w, r, "scans", title, scanLists, draw)
		return
	}
	s.drawnOnce(w, r, status, title, draw)
}

func splitTargets(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == ';' })
}

func (s *Server) startScan(w http.ResponseWriter, r *http.Request) {
	run, err := s.app.Scans.RequestScan(r.Context(), actor(r), splitTargets(r.PostFormValue("targets")), r.PostFormValue("profile"))
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(r.Context(), err)
			s.renderScans(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/scans/%d", run.ID))
}

// scanPhases are the phases the scanner reports while a scan runs.
var scanPhases = []string{"syn", "tcp", "tarpit", "identify", "finished"}

// maxChangesShown and maxHostsDownShown bound a scan page: a zone's run
// may list thousands of hosts.
const (
	maxChangesShown   = 200
	maxHostsDownShown = 100
)

// findingsText reads a result row's findings (JSON) as "id (severity), …",
// the severity in the reader's language.
func findingsText(ctx context.Context, raw string) string {
	var fs []scans.Finding
	if raw == "" || raw == "[]" || json.Unmarshal([]byte(raw), &fs) != nil {
		return ""
	}
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID + " (" + web.Term(ctx, web.TermSeverity, f.Severity) + ")"
	}
	return strings.Join(ids, locale.T(ctx, "common.list_separator"))
}

func (s *Server) scanPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.app.Scans.Get(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	v := web.ScanView{Run: scanRow(ctx, *run), Running: run.Status == "queued" || run.Status == "running", Error: run.Error, Summary: run.Summary}
	if v.Running {
		v.Phases, v.Statuses = map[string]string{}, map[string]string{}
		for _, ph := range scanPhases {
			id := "scan_phase." + ph
			v.Phases[ph] = locale.T(ctx, id)
		}
		for _, st := range []string{"queued", "running", "done", "failed", "cancelled"} {
			v.Statuses[st] = web.Term(ctx, web.TermScanStatus, st)
		}
	}
	if run.Status == "done" {
		req, err := pageParams[scans.ResultKey](r, "limit", "ports_cursor")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		changes, err := s.app.Scans.Changes(r.Context(), run)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(changes) > maxChangesShown {
			v.ChangesMore = len(changes) - maxChangesShown
			changes = changes[:maxChangesShown]
		}
		for _, c := range changes {
			v.Changes = append(v.Changes, web.ScanChange{Address: c.Address, Port: fmt.Sprintf("%s/%d", c.Protocol, c.Port), Change: c.Change, Before: c.Before, After: c.After})
		}
		page, err := s.app.Scans.PortsOf(r.Context(), run, req)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.PortPages = pageLinks(r, "ports_cursor", page.Next)
		for _, p := range page.Items {
			v.Ports = append(v.Ports, web.ScanPortRow{Address: p.Address, Port: fmt.Sprintf("%s/%d", p.Protocol, p.Port), State: p.State, Service: p.Service,
				Product: strings.TrimSpace(p.Product + " " + p.Version), Banner: p.Banner, Findings: findingsText(ctx, p.Findings), TLS: p.TLS, Tarpit: p.Tarpit})
		}
		down, n, err := s.app.Scans.HostsDown(r.Context(), run, maxHostsDownShown)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.HostsDown, v.HostsDownMore = down, int(n)-len(down)
	}
	s.render(w, r, http.StatusOK, web.ScanPage(s.page(r, locale.T(ctx, "scan.page_heading", "ID", id)), v))
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
	run, err := s.app.Scans.Get(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := startEventStream(w)
	send := func(p scans.Progress) bool {
		b, _ := json.Marshal(p)
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	var first scans.Progress
	json.Unmarshal([]byte(run.Progress), &first)
	first.Status = run.Status
	first.Done = run.Status == "done" || run.Status == "failed"
	if !send(first) || first.Done {
		return
	}
	updates, stop := s.app.Scans.Watch(id)
	defer stop()
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	recheck := time.NewTicker(s.cfg.StreamSessionCheck)
	defer recheck.Stop()
	// The stream outlives the request's one session check: it ends when
	// the session does (logout, expiry) or the user loses the role.
	ended := func() bool { return s.endedStream(w, rc, r, streamRoles) }
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-recheck.C:
			if ended() {
				return
			}
		case p := <-updates:
			if ended() || !send(p) || p.Done {
				return
			}
		case <-poll.C:
			cur, err := s.app.Scans.Get(r.Context(), a, id)
			if err != nil {
				return
			}
			if cur.Status == "done" || cur.Status == "failed" {
				send(scans.Progress{Done: true, Status: cur.Status})
				return
			}
		}
	}
}

// streamRoles may follow a scan's progress, the scan list and the drift
// list (the routes' roles).
var streamRoles = []core.Role{core.RoleReviewer, core.RoleApprover, core.RoleImplementer, core.RoleAuditor, core.RoleAdmin}

// streamSessionEnded reads the request's session again from the store, as
// a new request would: it returns why the stream must end, or "". No roles:
// any logged-in user may go on. The
// request's own context holds the session as it was when the stream began.
func (s *Server) streamSessionEnded(r *http.Request, roles []core.Role) string {
	token := s.sessions.Token(r.Context())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fresh, err := s.sessions.Load(ctx, token)
	if err != nil || token == "" {
		return "session ended"
	}
	uid := s.sessions.GetInt(fresh, sessionUserID)
	loginAt := time.Unix(s.sessions.GetInt64(fresh, sessionLoginAt), 0)
	if uid == 0 || time.Since(loginAt) > s.cfg.SessionLifetime {
		return "session ended"
	}
	a, err := s.app.Identity.ActorByID(ctx, uint(uid))
	if err != nil || (len(roles) > 0 && !a.Has(roles...)) {
		return "access withdrawn"
	}
	return ""
}
