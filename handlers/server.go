// Package handlers is the HTTP face of Portcullis: routes, middleware,
// login, and the translation of requests into workflow calls and of their
// results into pages and JSON. It holds no business rule of its own.
package handlers

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/static"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	// PublicURL is where browsers reach Portcullis, e.g. https://portcullis.example.com.
	PublicURL       string
	OIDC            OIDCConfig
	ProviderName    string // shown on the login button
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	// StreamSessionCheck is how often an event stream reads its session
	// again, to end it after logout or a lost role (0: 5 s).
	StreamSessionCheck time.Duration
	// TrustedOrigins are other origins allowed to post forms (behind a proxy that rewrites Host).
	TrustedOrigins []string
	// DemoLogins are listed on the login page in demo mode.
	DemoLogins []web.DemoLogin

	// DefaultLanguage (en, zh-CN; default en) and DefaultTimeZone (IANA;
	// default UTC) apply to people who chose none on their profile.
	DefaultLanguage, DefaultTimeZone string

	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// RateLimits default to DefaultRateLimits when zero.
	RateLimits RateLimits
	// RiverUI, when set (PostgreSQL), is River's job UI, served to admins
	// under RiverUIPrefix.
	RiverUI http.Handler
	// Now is the clock of session deadlines, rate-limit buckets and
	// security-event windows (nil: time.Now); tests set a fake one.
	Now func() time.Time
	// Views is how many page views and API reads run at once, the others
	// waiting their turn in order (0: no limit); serve's --max-views.
	Views int
}

// RiverUIPrefix is where River's UI is mounted.
const RiverUIPrefix = "/admin/river"

// Server answers every HTTP request.
type Server struct {
	cfg      Config
	app      *workflow.App
	log      *slog.Logger
	sessions *scs.SessionManager
	oidc     *oidcClient
	// access records, for every route, who may use it; the route test walks it.
	access map[string]access
	// mux is the router Routes built, kept so tests can walk it.
	mux *chi.Mux
	// closing ends event streams when the server shuts down.
	closing   chan struct{}
	closeOnce sync.Once
	// security writes refused logins and rejected tokens, summarised.
	security *securityLog
	limits   *limiters
	// locale holds the message catalogs and picks each request's language and zone.
	locale *locale.Catalog
	icon   []byte // favicon.ico
	// keptLists holds list pages as last drawn (see keptList).
	keptLists *keptLists
	// keptDashboard holds the dashboard as last drawn.
	keptDashboard keptDashboard
	// healthPing is the database ping health checks share.
	healthPing sharedPing
	// pageBuffers hold pages while render draws them.
	pageBuffers sync.Pool
}

// CloseStreams ends every open event stream; register it with
// http.Server.RegisterOnShutdown, since Shutdown waits for open requests.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.closing) }) }

// New builds the server.
func New(cfg Config, app *workflow.App, log *slog.Logger) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.StreamSessionCheck == 0 {
		cfg.StreamSessionCheck = 5 * time.Second
	}
	if cfg.OIDC.GroupsClaim == "" {
		cfg.OIDC.GroupsClaim = "groups"
	}
	if cfg.OIDC.RoleGroups == nil {
		cfg.OIDC.RoleGroups = DefaultRoleGroups()
	}
	if cfg.RateLimits == (RateLimits{}) {
		cfg.RateLimits = DefaultRateLimits()
	}
	catalog, err := locale.New(cfg.DefaultLanguage, cfg.DefaultTimeZone)
	if err != nil {
		return nil, err
	}
	// E-mails, alerts and report documents speak the recipient's language,
	// else the server's default, from the same catalogs as the pages.
	app.SetLanguages(func(tag, zone string) core.Language { return catalog.Localizer(tag, "", zone) })
	sm := scs.New()
	sm.Store = models.SessionStore{DB: app.DB()}
	// No scs idle timeout: with one, scs rewrites the session on every
	// request. withSessionActor keeps the idle deadline itself and stamps the
	// session's activity at most once a minute, so a page view writes nothing.
	sm.Lifetime = cfg.SessionLifetime
	sm.HashTokenInStore = true
	sm.Cookie.Name = "portcullis_session"
	if isHTTPS(cfg.PublicURL) {
		// The __Host- prefix makes browsers refuse the cookie unless it is
		// Secure, host-only and for the whole path: a sibling subdomain
		// cannot plant or overwrite it.
		sm.Cookie.Name = "__Host-portcullis_session"
	}
	sm.Cookie.HttpOnly = true
	sm.Cookie.Path = "/"
	// Lax, not Strict: the login callback is a cross-site navigation from the identity provider.
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secureCookies(cfg.PublicURL)
	s := &Server{
		cfg: cfg, app: app, log: log, sessions: sm,
		oidc:   &oidcClient{cfg: cfg.OIDC, redirectURL: strings.TrimRight(cfg.PublicURL, "/") + "/auth/callback"},
		access: map[string]access{}, closing: make(chan struct{}), locale: catalog, icon: drawFavicon(),
		keptLists: newKeptLists(keptListBytes),
	}
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) }
	s.security = newSecurityLog(s.writeSecurityEvent)
	s.security.now = cfg.Now
	s.limits = newLimiters(cfg.RateLimits)
	sets := []*bucketSet{s.limits.login, s.limits.tokenFailures}
	for class := range s.limits.user {
		sets = append(sets, s.limits.user[class], s.limits.client[class])
	}
	for _, b := range sets {
		b.now = cfg.Now
	}
	return s, nil
}

// isHTTPS is true when browsers reach Portcullis over https.
func isHTTPS(publicURL string) bool {
	u, err := url.Parse(publicURL)
	return err == nil && u.Scheme == "https"
}

// secureCookies is true everywhere but plain http on a loopback address,
// where browsers and test clients would otherwise drop the cookie.
func secureCookies(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return true // browsers treat http://localhost as a secure context
	}
	addr, err := netip.ParseAddr(host)
	return err != nil || !addr.IsLoopback()
}

// access says who may use a route.
type access struct {
	Public bool        // no login needed
	Roles  []core.Role // empty: any logged-in user
}

func anyone() access                        { return access{} }
func public() access                        { return access{Public: true} }
func roles(r ...core.Role) access           { return access{Roles: r} }
func (a access) allows(act core.Actor) bool { return len(a.Roles) == 0 || act.Has(a.Roles...) }

// handle registers a route with its access decision; there is no other way
// to add a route, so none exists without a decision.
func (s *Server) handle(r chi.Router, method, pattern, prefix string, a access, h http.HandlerFunc, api bool) {
	s.access[method+" "+prefix+pattern] = a
	if action, ok := downloads[method+" "+prefix+pattern]; ok {
		h = s.auditDownload(action, h)
	}
	if class, ok := limitedRoutes[method+" "+prefix+pattern]; ok {
		if class == "evaluate" {
			h = s.limitInFlight(s.limits.evaluations, api, h)
		}
		h = s.rateLimited(class, api, h)
	}
	r.Method(method, pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !a.Public {
			actor, ok := actorFrom(req)
			if !ok || !a.allows(actor) {
				err := core.Forbidden(core.M("err.input.route_role", "you need the {{.Roles}} role for this", "Roles", core.RolesSaid(a.Roles)))
				if api {
					s.apiError(w, req, err)
				} else {
					s.renderError(w, req, http.StatusForbidden, locale.T(req.Context(), "error.needs_role", "Roles", s.roleChoice(req, a.Roles)))
				}
				return
			}
		}
		h(w, req)
	}))
}

// Routes is the whole HTTP surface.
func (s *Server) Routes() http.Handler {
	r := chi.NewRouter()
	s.mux = r
	r.Use(s.withClientAddr, middleware.Recoverer, s.logRequests, securityHeaders(isHTTPS(s.cfg.PublicURL)), s.withLocale, s.validText,
		newViewGate(s.cfg.Views).middleware)

	staticFS, _ := fs.Sub(static.Files, ".")
	fileServer := http.StripPrefix("/static/", http.FileServer(http.FS(filesOnly{staticFS})))
	s.handle(r, http.MethodGet, "/static/*", "", public(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}, false)
	s.handle(r, http.MethodGet, "/healthz", "", public(), s.healthz, false)
	s.handle(r, http.MethodGet, "/favicon.ico", "", public(), s.favicon, false)

	r.Route("/api/v1", func(r chi.Router) {
		const p = "/api/v1"
		s.handle(r, http.MethodGet, "/openapi.json", p, public(), s.openAPI, true)
		s.agentRoutes(r, p)
		r.Group(func(r chi.Router) {
			r.Use(s.withTokenActor)
			s.apiRoutes(r, p)
		})
	})

	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave)
		s.handle(r, http.MethodGet, "/login", "", public(), s.loginPage, false)
		s.handle(r, http.MethodGet, "/auth/login", "", public(), s.startLogin, false)
		s.handle(r, http.MethodGet, "/auth/callback", "", public(), s.callback, false)
		s.handle(r, http.MethodPost, "/logout", "", public(), s.logout, false)
		r.Group(func(r chi.Router) {
			r.Use(s.withSessionActor)
			s.pageRoutes(r)
		})
	})

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.apiError(w, r, core.NewError(core.CodeNotFound, "", core.M("err.input.no_endpoint", "no such API endpoint: {{.Method}} {{.Path}}", "Method", r.Method, "Path", r.URL.Path)))
			return
		}
		s.renderError(w, r, http.StatusNotFound, locale.T(r.Context(), "error.no_page", "Path", r.URL.Path))
	})

	cop := http.NewCrossOriginProtection()
	for _, o := range s.cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			s.log.Warn("ignoring trusted origin", "origin", o, "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The refusal comes before the router and its middleware.
		r = s.localized(r)
		s.renderError(w, r, http.StatusForbidden, locale.T(r.Context(), "error.cross_site"))
	}))
	return cop.Handler(r)
}

func (s *Server) pageRoutes(r chi.Router) {
	R, RV, AP, IM, AU, AD := core.RoleRequester, core.RoleReviewer, core.RoleApprover, core.RoleImplementer, core.RoleAuditor, core.RoleAdmin
	get, post := http.MethodGet, http.MethodPost
	for _, rt := range []struct {
		method, pattern string
		a               access
		h               http.HandlerFunc
	}{
		{get, "/", anyone(), s.home},
		{get, "/requests", anyone(), s.listRequests},
		{get, "/requests/new", roles(R, AD), s.newRequestForm},
		{get, "/requests/rule-row", roles(R, AD), s.ruleRow},
		{get, "/requests/asset-options", roles(R, AD), s.suggestAssets},
		{post, "/requests/evaluate", roles(R, AD), s.evaluateForm},
		{post, "/requests/assessment", roles(R, AD), s.assessmentFragment},
		{post, "/requests", roles(R, AD), s.createRequest},
		{get, "/requests/{id}", anyone(), s.showRequest},
		{get, "/requests/{id}/events", anyone(), s.requestEvents},
		{get, "/requests/{id}/edit", roles(R, AD), s.editRequestForm},
		{post, "/requests/{id}/edit", roles(R, AD), s.updateRequest},
		{post, "/requests/{id}/submit", roles(R, AD), s.submitRequest},
		{post, "/requests/{id}/cancel", roles(R, AD), s.cancelRequest},
		{post, "/requests/{id}/revoke", roles(RV, AP), s.revokeRequest},
		{post, "/requests/{id}/comments", anyone(), s.commentRequest},
		{get, "/requests/{id}/review", roles(RV, AP), s.reviewForm},
		{post, "/requests/{id}/review", roles(RV, AP), s.reviewRequest},
		{get, "/requests/{id}/approve", roles(AP), s.approveForm},
		{post, "/requests/{id}/approve", roles(AP), s.approveRequest},
		{get, "/requests/{id}/implement", roles(IM), s.implementForm},
		{post, "/requests/{id}/implement", roles(IM), s.implementRequest},
		{get, "/queue/review", roles(RV, AP), s.reviewQueue},
		{get, "/queue/approval", roles(AP), s.approvalQueue},
		{get, "/queue/implementation", roles(IM), s.implementationQueue},
		{get, "/register", anyone(), s.register},
		{get, "/zones", anyone(), s.listZones},
		{get, "/zones/new", roles(AD), s.newZoneForm},
		{post, "/zones", roles(AD), s.createZone},
		{get, "/zones/{id}/edit", roles(AD), s.editZoneForm},
		{post, "/zones/{id}", roles(AD), s.updateZone},
		{post, "/zones/{id}/delete", roles(AD), s.deleteZone},
		{get, "/assets", anyone(), s.listAssets},
		{get, "/assets/new", roles(AD), s.newAssetForm},
		{post, "/assets", roles(AD), s.createAsset},
		{get, "/assets/import", roles(AD), s.importAssetsForm},
		{post, "/assets/import", roles(AD), s.importAssets},
		{get, "/assets/{id}/edit", roles(AD), s.editAssetForm},
		{post, "/assets/{id}", roles(AD), s.updateAsset},
		{post, "/assets/{id}/delete", roles(AD), s.deleteAsset},
		{get, "/profile", anyone(), s.profile},
		{post, "/profile/tokens", anyone(), s.createToken},
		{post, "/profile/preferences", anyone(), s.savePreferences},
		{post, "/profile/tokens/{id}/revoke", anyone(), s.revokeToken},
		{get, "/admin/users", roles(AD), s.listUsers},
		{post, "/admin/users/{id}/disable", roles(AD), s.disableUser},
		{post, "/admin/users/{id}/enable", roles(AD), s.enableUser},
		{get, "/admin/settings", roles(AD), s.settingsForm},
		{post, "/admin/settings", roles(AD), s.saveSettings},
		{get, "/admin/credentials", roles(AD), s.credentialListPage},
		{post, "/admin/credentials", roles(AD), s.saveCredentialList},
		{get, "/admin/policy", roles(AD), s.policyPage},
		{get, "/admin/agents", roles(AD), s.agentsPage},
		{post, "/admin/agents", roles(AD), s.enrolAgent},
		{post, "/admin/agents/{id}/revoke", roles(AD), s.revokeAgent},
		{get, "/recertification", anyone(), s.recertificationPage},
		{get, "/recertification/campaigns/{id}", roles(RV, AP, IM, AU, AD), s.campaignPage},
		{post, "/recertification/campaigns", roles(AP, AD), s.startCampaign},
		{post, "/recertification/items/{id}/recertify", roles(R, AD), s.recertifyItem},
		{post, "/recertification/items/{id}/lapse", roles(R, AD), s.lapseItem},
		{get, "/dashboard", roles(RV, AP, IM, AU, AD), s.dashboard},
		{get, "/drift", roles(RV, AP, IM, AU, AD), s.driftPage},
		{get, "/drift/events", roles(RV, AP, IM, AU, AD), s.driftEvents},
		{post, "/drift/{id}/acknowledge", roles(RV, AP, AD), s.acknowledgeDrift},
		{post, "/drift/{id}/suppress", roles(AP, AD), s.suppressDrift},
		{get, "/scans", roles(RV, AP, IM, AU, AD), s.scansPage},
		{get, "/scans/events", roles(RV, AP, IM, AU, AD), s.scanListEvents},
		{post, "/scans", roles(RV, AP, AD), s.startScan},
		{get, "/scans/{id}", roles(RV, AP, IM, AU, AD), s.scanPage},
		{get, "/scans/{id}/events", roles(RV, AP, IM, AU, AD), s.scanEvents},
		{get, "/assets/{id}", anyone(), s.assetPage},
		{get, "/admin/operations", roles(AP, AU, AD), s.operationsPage},
		{get, "/admin/jobs", roles(AD), s.jobsPage},
		{get, "/admin/operations/schedules/{id}", roles(AD), s.scheduleEditPage},
		{post, "/admin/operations/schedules/{id}", roles(AD), s.saveSchedule},
		{get, "/reports", anyone(), s.reportsPage},
		{get, "/reports/{id}", anyone(), s.reportPage},
		{get, "/reports/{id}/pdf", anyone(), s.reportPDF},
		{post, "/reports/subscriptions", anyone(), s.subscribeReports},
		{get, "/audit", roles(AU, AD), s.auditPage},
		{get, "/audit/log", roles(AU, AD), s.auditLogPage},
		{get, "/audit/export", roles(AU, AD), s.auditExport},
		{get, "/audit/reports", roles(AU, AD), s.reportDownload},
		{post, "/audit/verify", roles(AU, AD), s.auditVerify},
		{post, "/admin/policy/matrix", roles(AD), s.saveMatrix},
		{post, "/admin/policy/catalog", roles(AD), s.saveCatalog},
		{get, "/admin/applications", roles(AD), s.applicationsPage},
		{post, "/admin/applications/tier", roles(AD), s.setApplicationTier},
		{post, "/admin/applications/expiry", roles(AD), s.saveInnovationExpiry},
		{post, "/admin/applications/questionnaire", roles(AD), s.saveQuestionnaire},
	} {
		s.handle(r, rt.method, rt.pattern, "", rt.a, rt.h, false)
	}
	// River's own UI (PostgreSQL only), for admins: a third-party page,
	// outside our translation and accessibility checks.
	if s.cfg.RiverUI != nil {
		for _, m := range []string{get, post, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			s.handle(r, m, RiverUIPrefix+"/*", "", roles(AD), s.cfg.RiverUI.ServeHTTP, false)
		}
		s.handle(r, get, RiverUIPrefix, "", roles(AD), func(w http.ResponseWriter, req *http.Request) {
			http.Redirect(w, req, RiverUIPrefix+"/", http.StatusSeeOther)
		}, false)
	}
}

// securityHeaders keeps pages out of frames and scripts to our own origin,
// keeps every answer but the static files out of caches (pages, API answers
// and exports carry what only their reader may see), and, over https, tells
// browsers never to use plain http.
func securityHeaders(https bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
			h.Set("Cache-Control", "no-store") // the static route sets its own
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// filesOnly serves files and nothing else: a directory is "not found", so
// no listing of /static/ is ever shown.
type filesOnly struct{ fsys fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		level := slog.LevelDebug
		if ww.Status() >= 500 && !clientGone(r) {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", ww.Status(), "duration", time.Since(start))
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.healthPing.do(r.Context(), s.app.Ping); err != nil {
		if clientGone(r) {
			// The prober gave up first: its cancellation, not the database, ended the ping.
			s.log.Info("health check cancelled by the client", "err", err)
			return
		}
		s.log.Error("health check: database", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
