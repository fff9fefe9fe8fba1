package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/portcullis/portcullis/static"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/dashboard"
	"github.com/portcullis/portcullis/workflow/requests"
)

// page builds the frame of a page for the current user.
func (s *Server) page(r *http.Request, title string) web.Page {
	p := web.Page{Title: title, HTMX: "/static/" + static.HTMX, Limits: web.Limits(core.Limits)}
	actor, ok := actorFrom(r)
	if !ok {
		return p
	}
	p.User = &web.User{Name: actor.Name, Email: actor.Email, Team: actor.Team}
	for _, role := range actor.Roles {
		p.User.Roles = append(p.User.Roles, string(role))
	}
	p.Nav = navFor(r.Context(), actor, r.URL.Path)
	if in, err := s.app.Dashboard.Inbox(r.Context(), actor); err != nil {
		// The page still opens; only its counts are missing.
		s.log.Warn("navigation counts", "err", err)
	} else {
		navCounts(r.Context(), p.Nav, in)
	}
	if s.sessions != nil {
		if msg := s.sessions.PopString(r.Context(), sessionFlash); msg != "" {
			p.Flash, p.FlashKind = msg, s.sessions.PopString(r.Context(), sessionFlashKind)
		}
	}
	return p
}

func navFor(ctx context.Context, a core.Actor, path string) []web.NavItem {
	var items []web.NavItem
	// label is the English name; the catalogs name each link by its path
	// (nav.queue_review for /queue/review), and a link not yet in them
	// shows its English name.
	add := func(label, href string, ok bool) {
		if !ok {
			return
		}
		current := path == href || (href != "/" && strings.HasPrefix(path, href+"/"))
		if id := navMessageID(href); locale.T(ctx, id) != id {
			label = locale.T(ctx, id)
		}
		items = append(items, web.NavItem{Label: label, Href: href, Current: current, Group: navGroup(href)})
	}
	staff := a.SeesAllRequests()
	add("Dashboard", "/dashboard", staff)
	add("Requests", "/requests", true)
	add("Review queue", "/queue/review", a.Has(core.RoleReviewer, core.RoleApprover))
	add("Second approvals", "/queue/approval", a.Has(core.RoleApprover))
	add("Implementation", "/queue/implementation", a.Has(core.RoleImplementer))
	add("Rule register", "/register", true)
	add("Drift", "/drift", staff)
	add("Scans", "/scans", staff)
	add("Re-certification", "/recertification", true)
	add("Reports", "/reports", true)
	add("Zones", "/zones", true)
	add("Assets", "/assets", true)
	add("Audit", "/audit", a.Has(core.RoleAuditor, core.RoleAdmin))
	add("Alerts", "/admin/operations", a.Has(core.RoleApprover, core.RoleAuditor, core.RoleAdmin))
	add("Users", "/admin/users", a.Has(core.RoleAdmin))
	add("Agents", "/admin/agents", a.Has(core.RoleAdmin))
	add("Policy", "/admin/policy", a.Has(core.RoleAdmin))
	add("Applications", "/admin/applications", a.Has(core.RoleAdmin))
	add("Settings", "/admin/settings", a.Has(core.RoleAdmin))
	return items
}

// navCounts puts what waits for the reader on the links that lead to it:
// the queues they work, their re-certifications, and the live drift on
// their team's assets (on the assets link, where they find them).
func navCounts(ctx context.Context, items []web.NavItem, in dashboard.Inbox) {
	count := map[string]int{"/recertification": in.Recertifications, "/assets": in.Drift}
	for href, n := range map[string]*int{"/queue/review": in.Review, "/queue/approval": in.Approval, "/queue/implementation": in.Implementation} {
		if n != nil {
			count[href] = *n
		}
	}
	for i := range items {
		if n := count[items[i].Href]; n > 0 {
			items[i].Count = n
			id := "inbox." + strings.TrimPrefix(navMessageID(items[i].Href), "nav.")
			items[i].CountLabel = locale.T(ctx, id, "Count", locale.Number(ctx, n))
		}
	}
}

// navGroup is the menu a link of the navigation goes into: the inventory
// and the administration pages each have one ("" for a link of its own).
func navGroup(href string) string {
	switch {
	case href == "/zones" || href == "/assets":
		return "inventory"
	case strings.HasPrefix(href, "/admin/"):
		return "admin"
	}
	return ""
}

// navMessageID is the catalog id of a navigation link: nav. and its path,
// "/" as "_".
func navMessageID(href string) string {
	return "nav." + strings.ReplaceAll(strings.Trim(href, "/"), "/", "_")
}

// flash leaves a message for the next page the user sees.
func (s *Server) flash(r *http.Request, kind, msg string) {
	s.sessions.Put(r.Context(), sessionFlash, msg)
	s.sessions.Put(r.Context(), sessionFlashKind, kind)
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func actor(r *http.Request) core.Actor {
	a, _ := actorFrom(r)
	return a
}

// idParam reads the {id} of a route.
func idParam(r *http.Request) (uint, error) {
	raw := chi.URLParam(r, "id")
	n, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || n == 0 {
		return 0, core.NewError(core.CodeNotFound, "", core.M("err.input.bad_id", "there is nothing with the id {{.Value}}", "Value", strconv.Quote(raw)))
	}
	return uint(n), nil
}

const (
	dateFmt = "2006-01-02"
	timeFmt = "2006-01-02 15:04 UTC"
)

// fmtTime is English and UTC: pages converted to the reader's language and
// time zone call locale.Time(ctx, t) (and locale.TimePtr, locale.Date) instead.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFmt)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.sessions.GetInt(r.Context(), sessionUserID) != 0 {
		s.redirect(w, r, "/")
		return
	}
	provider := s.cfg.ProviderName
	switch {
	case provider != "":
	case len(s.cfg.DemoLogins) > 0:
		provider = locale.T(r.Context(), "login.provider_demo")
	default:
		provider = locale.T(r.Context(), "login.provider_default")
	}
	v := web.Login{Provider: provider, LoggedOut: r.URL.Query().Get("logged_out") != "", Demo: s.cfg.DemoLogins}
	if rt := r.URL.Query().Get("return_to"); safeReturn(rt) {
		v.ReturnTo = "?return_to=" + urlQueryEscape(rt)
	}
	s.render(w, r, http.StatusOK, web.LoginPage(s.page(r, locale.T(r.Context(), "login.title")), v))
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	title := locale.T(r.Context(), "home.title")
	draw := func() (templ.Component, error) {
		v, err := s.homeView(r, a)
		return web.HomeContent(v), err
	}
	// What auditors and admins chase is read from the dashboard's counts,
	// which settle for up to 2 s after a change: kept under a generation
	// that already shows the change, a page drawn from them would stay that
	// stale until it ages out. There are few of them; their home is drawn
	// on every view.
	if a.Has(core.RoleAuditor, core.RoleAdmin) {
		s.drawnOnce(w, r, http.StatusOK, title, draw)
		return
	}
	// The home reads no query: one kept copy whatever is appended to "/".
	bare := *r.URL
	bare.RawQuery = ""
	r = r.WithContext(r.Context())
	r.URL = &bare
	s.keptList(w, r, "home", title, homePages, draw)
}

// homePages is what a kept home shows: counts and latest of requests, the
// queues, re-certifications and the team's assets with live drift.
var homePages = []core.CountedArea{core.CountedRequests, core.CountedRecert, core.CountedInventory, core.CountedDrift}

func (s *Server) homeView(r *http.Request, a core.Actor) (web.Home, error) {
	ctx := r.Context()
	counts, err := s.app.Requests.Counts(ctx, a)
	if err != nil {
		return web.Home{}, err
	}
	v := web.Home{Name: a.Name, CanRequest: a.Has(core.RoleRequester)}
	for _, st := range requests.AllStates {
		if n := counts[st]; n > 0 {
			v.Counts = append(v.Counts, web.StateCount{State: string(st), Label: st.Label(), Count: n, Href: "/requests?state=" + string(st)})
		}
	}
	// The queue cards count what the reader may act on, as the navigation does.
	queues, err := s.app.Requests.MyQueues(ctx, a)
	if err != nil {
		return web.Home{}, err
	}
	for _, q := range []struct {
		label, href string
		n           *int
	}{
		{locale.T(ctx, "home.queue_review"), "/queue/review", queues.Review},
		{locale.T(ctx, "home.queue_approval"), "/queue/approval", queues.Approval},
		{locale.T(ctx, "home.queue_implementation"), "/queue/implementation", queues.Implementation},
	} {
		if q.n != nil {
			v.Queues = append(v.Queues, web.QueueLink{Label: q.label, Href: q.href, Count: *q.n})
		}
	}
	if a.Has(core.RoleAuditor, core.RoleAdmin) {
		if v.Needs, err = s.needs(r, a); err != nil {
			return web.Home{}, err
		}
	}
	if err := s.ownWork(r, a, &v); err != nil {
		return web.Home{}, err
	}
	if a.Has(core.RoleRequester) {
		const latest = 10
		mine, err := s.app.Requests.LatestOwn(ctx, a, latest)
		if err != nil {
			return web.Home{}, err
		}
		v.Mine = requestRows(ctx, mine.Items)
		if mine.Next != "" {
			v.MineHref = "/requests?mine=1"
		}
	}
	return v, nil
}

// homeListed is how many re-certifications and assets a home lists.
const homeListed = 5

// ownWork adds the reader's pending re-certifications and their team's
// assets with live drift.
func (s *Server) ownWork(r *http.Request, a core.Actor, v *web.Home) error {
	ctx := r.Context()
	in, err := s.app.Dashboard.Inbox(ctx, a)
	if err != nil {
		return err
	}
	if v.RecertTotal = in.Recertifications; v.RecertTotal > 0 {
		items, err := s.app.Recert.FirstPending(ctx, a, homeListed)
		if err != nil {
			return err
		}
		for _, it := range items {
			v.Recerts = append(v.Recerts, recertItem(ctx, it, time.Time{}))
		}
	}
	if in.Drift > 0 {
		assets, err := s.app.Drift.LiveOnTeamAssets(ctx, a.Team, homeListed)
		if err != nil {
			return err
		}
		for _, as := range assets {
			v.TeamDrift = append(v.TeamDrift, web.AssetLink{Href: fmt.Sprintf("/assets/%d", as.AssetID), Address: as.Address, Hostname: as.Hostname, N: as.N})
		}
	}
	return nil
}

// needs is what an auditor or an admin chases: overdue re-certifications,
// severe live drift, zones without a good scan, and (admins) failed alerts.
func (s *Server) needs(r *http.Request, a core.Actor) ([]web.Need, error) {
	ctx := r.Context()
	at, err := s.app.Dashboard.Attention(ctx, a)
	if err != nil {
		return nil, err
	}
	out := []web.Need{
		{ID: "need-overdue", Label: locale.T(ctx, "home.need_overdue"), N: at.OverdueRecertifications, Href: "/recertification", Tone: "bad"},
		{ID: "need-critical", Label: locale.T(ctx, "home.need_critical"), N: at.CriticalDrift, Href: "/drift?severity=critical", Tone: "bad"},
		{ID: "need-high", Label: locale.T(ctx, "home.need_high"), N: at.HighDrift, Href: "/drift?severity=high", Tone: "bad"},
		{ID: "need-unscanned", Label: locale.T(ctx, "home.need_unscanned"), N: len(at.Unscanned), Href: "/scans", Tone: "bad", Names: at.Unscanned},
	}
	if a.Has(core.RoleAdmin) {
		deliveries, err := s.app.Alerts.DeliveryCounts(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, web.Need{ID: "need-failed-alerts", Label: locale.T(ctx, "home.need_failed_alerts"), N: deliveries["failed"], Href: "/admin/operations?status=failed", Tone: "bad"})
	}
	return out, nil
}
