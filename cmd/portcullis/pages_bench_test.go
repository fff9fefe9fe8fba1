package main

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/handlers"
	"github.com/portcullis/portcullis/handlers/devidp"
	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/demo"
)

// bpPage is one page or API call of the page benchmarks, as one demo person.
type bpPage struct {
	name, as, path string
	api            bool
}

// bpCampaignPath stands for the site's open campaign (benchSite.campaign).
const bpCampaignPath = "{campaign}"

// bpPages are the list pages whose cost grows with their rows (the ones
// `make bench-web` found slowest on the seeded database), plus the home
// page as a fixed-cost reference.
var bpPages = []bpPage{
	{"home_requester", "alice", "/", false},
	{"requests_requester", "alice", "/requests", false},
	{"requests_reviewer", "rita", "/requests", false},
	// The demo's list holds a dozen rows: the seeded list cut to as many is
	// the like-for-like comparison of the two databases.
	{"requests_requester_12_rows", "alice", "/requests?limit=12", false},
	{"register", "rita", "/register", false},
	{"queue_review", "rita", "/queue/review", false},
	{"drift", "rita", "/drift", false},
	{"asset", "rita", "/assets/1", false},
	{"recertification", "alice", "/recertification", false},
	{"admin_operations", "adam", "/admin/operations", false},
	{"dashboard", "rita", "/dashboard", false},
	{"api_requests_submitted", "rita", "/api/v1/requests?state=submitted", true},
	// The rest of `make bench-web`'s pages and calls.
	{"home_reviewer", "rita", "/", false},
	{"requests_submitted", "rita", "/requests?state=submitted", false},
	{"request", "alice", "/requests/1", false},
	{"request_new", "alice", "/requests/new", false},
	{"queue_approval", "lee", "/queue/approval", false},
	{"queue_implementation", "ivan", "/queue/implementation", false},
	{"scans", "rita", "/scans", false},
	{"scan", "rita", "/scans/1", false},
	{"assets", "rita", "/assets", false},
	{"zones", "rita", "/zones", false},
	{"audit", "aude", "/audit", false},
	{"audit_log", "aude", "/audit/log", false},
	{"api_request", "rita", "/api/v1/requests/1", true},
	{"api_drift_open", "rita", "/api/v1/drift?state=open", true},
	{"api_assets", "rita", "/api/v1/assets", true},
	{"reports", "aude", "/reports", false},
	{"campaign", "lee", bpCampaignPath, false},
	{"admin_users", "adam", "/admin/users", false},
	{"admin_applications", "adam", "/admin/applications", false},
	{"api_rules", "rita", "/api/v1/rules", true},
	{"api_scans", "rita", "/api/v1/scans", true},
}

// BenchmarkPages serves each page through the whole router (session,
// locale, access check, handler, rendering) in process, without a network,
// on the demo organisation and on a seeded one of 20,000 requests. The
// figures that matter are ns/op (CPU time of one page view: the benchmark
// runs one at a time), B/op and allocs/op; `make bench-web` measures the
// same pages under load.
func BenchmarkPages(b *testing.B) {
	for _, org := range []struct {
		name string
		seed []string // nil: the demo organisation
	}{
		{"demo", nil},
		{"seeded", []string{"--requests", "20000", "--audit-events", "200000", "--assets", "2000", "--drift-items", "40000"}},
	} {
		b.Run(org.name, func(b *testing.B) {
			site := newBenchSite(b, org.seed)
			if n, _ := strconv.Atoi(os.Getenv("BENCH_PAGES_COMMITS")); n > 0 {
				site.commitInBackground(b, n)
			}
			for _, p := range bpPages {
				b.Run(p.name, func(b *testing.B) {
					req := site.request(b, p)
					var size int
					b.ReportAllocs()
					cpu0, stmt0, pg0 := processCPU(), site.statements.Load(), site.postgresCPU(b)
					if n, _ := strconv.Atoi(os.Getenv("BENCH_PAGES_PARALLEL")); n > 0 {
						// n views at a time (per GOMAXPROCS), as under load:
						// ns/op is then the inverse of the throughput.
						b.SetParallelism(max(1, n/runtime.GOMAXPROCS(0)))
						closed0 := site.db.Stats().MaxIdleClosed
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								rec := httptest.NewRecorder()
								site.handler.ServeHTTP(rec, req.Clone(req.Context()))
								if rec.Code != http.StatusOK {
									b.Errorf("%s: status %d", p.path, rec.Code)
									return
								}
							}
						})
						b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "views/s")
						// Connections closed because the pool kept too few idle: each
						// is opened again, a new PostgreSQL backend.
						b.ReportMetric(float64(site.db.Stats().MaxIdleClosed-closed0), "idle-closed")
					} else {
						for b.Loop() {
							rec := httptest.NewRecorder()
							site.handler.ServeHTTP(rec, req)
							if rec.Code != http.StatusOK {
								b.Fatalf("%s: status %d: %s", p.path, rec.Code, btTail(rec.Body.String(), 500))
							}
							size = rec.Body.Len()
						}
					}
					// CPU time rather than wall time: on a shared machine the
					// wall time of one page view is mostly waiting for a core.
					b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
					b.ReportMetric(float64(size), "page-bytes")
					b.ReportMetric(float64(site.statements.Load()-stmt0)/float64(b.N), "sql/op")
					if site.postgres {
						b.ReportMetric(float64((site.postgresCPU(b)-pg0).Microseconds())/float64(b.N), "pg-cpu-µs/op")
					}
					if site.postgres && os.Getenv("BENCH_PAGES_PG_PLANS") != "" {
						site.logReplanned(b)
					}
					if dir := os.Getenv("BENCH_PAGES_DUMP"); dir != "" {
						// The last view, to compare a page before and after a change.
						rec := httptest.NewRecorder()
						site.handler.ServeHTTP(rec, req)
						if err := os.WriteFile(filepath.Join(dir, org.name+"_"+p.name+".html"), rec.Body.Bytes(), 0o644); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// commitInBackground commits perSecond transactions a second until the
// benchmark ends, as a busy instance's scanner does with each host it
// records: each writes a scan run, and ends what this instance keeps of the
// scans' area (core.Area) and whatever is counted from every area (the
// dashboard).
func (site *benchSite) commitInBackground(b *testing.B, perSecond int) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.Cleanup(func() { stop(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := site.app.Requests.InTx(ctx, func(tx *gorm.DB) error {
				return tx.Model(&models.ScanRun{}).Where("id = (SELECT MAX(id) FROM scan_runs)").Update("summary", "").Error
			})
			if err != nil && ctx.Err() == nil {
				b.Errorf("background commit: %v", err)
				return
			}
		}
	}()
}

// benchSite is a server on one database with a session per demo person.
type benchSite struct {
	handler http.Handler
	cookies map[string]string // Cookie header by short name
	tokens  map[string]string // API token by short name
	// statements counts the SQL statements run, for statements per view.
	statements atomic.Int64
	db         *sql.DB
	postgres   bool
	app        *workflow.App
	// campaign is the page of an open re-certification campaign.
	campaign string
}

var bpHiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

func newBenchSite(b *testing.B, seedArgs []string) *benchSite {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	idp := httptest.NewUnstartedServer(nil)
	b.Cleanup(idp.Close)
	issuer := "http://" + idp.Listener.Addr().String()
	path := filepath.Join(b.TempDir(), "bench.db")
	if from := os.Getenv("BENCH_PAGES_SEEDED_DB"); seedArgs != nil && from != "" {
		// A database seeded once at `make bench-web`'s size (seed --requests
		// 100000 …): seeding it takes a minute. A SQLite file is copied; a
		// PostgreSQL database (postgres:// URL) is used as it is. Its demo
		// accounts are moved to this run's identity provider.
		if models.IsPostgres(from) {
			path = from
			moveDemoAccounts(b, path, issuer)
		} else {
			copyBenchDB(b, from, path, issuer)
		}
	} else if seedArgs != nil {
		var errOut strings.Builder
		if err := run(ctx, append([]string{"seed", "--db", path, "--demo-issuer", issuer}, seedArgs...), noEnv, io.Discard, &errOut); err != nil {
			b.Fatalf("seed: %v: %s", err, errOut.String())
		}
	}
	db, err := models.Open(ctx, path, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeGorm(db) })
	site := &benchSite{cookies: map[string]string{}, tokens: map[string]string{}}
	if site.db, err = db.DB(); err != nil {
		b.Fatal(err)
	}
	site.postgres = models.IsPostgres(path)
	// Each statement gorm runs is a round trip to PostgreSQL.
	showSQL := os.Getenv("BENCH_PAGES_SQL") != "" // prints each statement
	count := func(tx *gorm.DB) {
		if tx.DryRun {
			return // a subquery being written into its statement
		}
		site.statements.Add(1)
		if showSQL {
			fmt.Fprintln(os.Stderr, "sql:", tx.Statement.SQL.String())
		}
	}
	for name, p := range map[string]interface {
		Register(string, func(*gorm.DB)) error
	}{
		"query": db.Callback().Query().After("gorm:query"), "row": db.Callback().Row().After("gorm:row"), "raw": db.Callback().Raw().After("gorm:raw"),
		"create": db.Callback().Create().After("gorm:create"), "update": db.Callback().Update().After("gorm:update"), "delete": db.Callback().Delete().After("gorm:delete"),
	} {
		if err := p.Register("bench:count_"+name, count); err != nil {
			b.Fatal(err)
		}
	}
	app := workflow.New(db, log)
	site.app = app
	if seedArgs == nil {
		if err := demo.Seed(ctx, app, issuer); err != nil {
			b.Fatal(err)
		}
	}
	if err := app.Identity.SetRefreshKey(make([]byte, 32)); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	var users []devidp.User
	for _, u := range demo.Users {
		users = append(users, devidp.User{Subject: u.Subject, Email: u.Email, Name: u.Name, Password: demo.Password, Groups: demo.Groups(u, "team:")})
	}
	provider, err := devidp.New(issuer, []devidp.Client{{ID: "app", Secret: "s3cret", RedirectURIs: []string{appURL + "/auth/callback"}}}, users, nil)
	if err != nil {
		b.Fatal(err)
	}
	idp.Config.Handler = provider
	idp.Start()
	srv, err := handlers.New(handlers.Config{PublicURL: appURL, OIDC: handlers.OIDCConfig{Issuer: issuer, ClientID: "app", ClientSecret: "s3cret", TeamGroupPrefix: "team:"}}, app, log)
	if err != nil {
		b.Fatal(err)
	}
	site.handler = srv.Routes()
	hs := &http.Server{Handler: site.handler}
	go hs.Serve(ln)
	b.Cleanup(func() { hs.Close() })
	for _, p := range bpPages {
		if _, done := site.cookies[p.as]; done {
			continue
		}
		site.cookies[p.as] = bpLogin(b, appURL, idp.URL, p.as+"@demo.portcullis.test")
		secret, _, err := app.Identity.CreateToken(ctx, core.SystemActor, p.as+"@demo.portcullis.test", "bench")
		if err != nil {
			b.Fatal(err)
		}
		site.tokens[p.as] = secret
	}
	site.campaign = site.openCampaign(b)
	return site
}

var bpCampaignLink = regexp.MustCompile(`href="(/recertification/campaigns/[0-9]+)"`)

// openCampaign is the page of the newest campaign the re-certification
// page links to, started when there is none (the demo has none), so that
// both organisations are measured on a campaign holding items.
func (s *benchSite) openCampaign(b *testing.B) string {
	b.Helper()
	page := httptest.NewRecorder()
	s.handler.ServeHTTP(page, s.request(b, bpPage{as: "lee", path: "/recertification"}))
	if m := bpCampaignLink.FindStringSubmatch(page.Body.String()); m != nil {
		return m[1]
	}
	form := url.Values{"name": {"bench"}, "due_by": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}}
	req := httptest.NewRequest(http.MethodPost, "/recertification/campaigns", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", s.cookies["lee"])
	started := httptest.NewRecorder()
	s.handler.ServeHTTP(started, req)
	where := started.Header().Get("Location")
	if !bpCampaignLink.MatchString(`href="` + where + `"`) {
		b.Fatalf("starting a campaign answered %d (to %q)", started.Code, where)
	}
	return where
}

// copyBenchDB copies a seeded SQLite database and registers its demo
// accounts under issuer.
func copyBenchDB(b *testing.B, from, to, issuer string) {
	b.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	moveDemoAccounts(b, to, issuer)
}

// moveDemoAccounts registers a seeded database's demo accounts under issuer.
func moveDemoAccounts(b *testing.B, dsn, issuer string) {
	b.Helper()
	db, err := models.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer closeGorm(db)
	var emails []string
	for _, u := range demo.Users {
		emails = append(emails, u.Email)
	}
	if err := db.Model(&models.User{}).Where("email IN ?", emails).Update("issuer", issuer).Error; err != nil {
		b.Fatal(err)
	}
}

// bpLogin goes through the login redirect, the identity provider's form and
// the callback, and returns the session's Cookie header.
func bpLogin(b *testing.B, appURL, idpURL, email string) string {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		resp, err := c.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		return resp
	}
	resp := get(appURL + "/auth/login")
	resp.Body.Close()
	resp = get(resp.Header.Get("Location"))
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{}
	for _, m := range bpHiddenField.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", email)
	form.Set("password", demo.Password)
	resp, err := c.PostForm(idpURL+"/authorize", form)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	resp = get(resp.Header.Get("Location"))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("login of %s: status %d", email, resp.StatusCode)
	}
	u, _ := url.Parse(appURL)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// postgresCPU is the CPU time the PostgreSQL backends of the database's
// connections have used (0 on SQLite): the server's side of each statement,
// which the process's own CPU time leaves out.
func (s *benchSite) postgresCPU(b *testing.B) time.Duration {
	if !s.postgres {
		return 0
	}
	rows, err := s.db.Query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // not on this machine, or gone
		}
		// Fields after the command name: utime and stime are the 12th and 13th.
		_, after, _ := strings.Cut(string(raw), ") ")
		if f := strings.Fields(after); len(f) > 12 {
			ut, _ := strconv.Atoi(f[11])
			st, _ := strconv.Atoi(f[12])
			total += time.Duration(ut+st) * (time.Second / 100) // USER_HZ
		}
	}
	return total
}

// logReplanned logs the prepared statements PostgreSQL planned again on
// their executions (custom plans) rather than once (a generic plan), over
// every connection of the pool: planning is PostgreSQL's CPU per statement
// that the statement's own work does not explain.
func (s *benchSite) logReplanned(b *testing.B) {
	ctx := context.Background()
	n := s.db.Stats().OpenConnections
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	type counts struct{ custom, generic int64 }
	byStatement := map[string]counts{}
	// Holding every open connection at once reads each one's statements.
	for range n {
		c, err := s.db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		rows, err := c.QueryContext(ctx, "SELECT statement, custom_plans, generic_plans FROM pg_prepared_statements")
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var stmt string
			var k counts
			if err := rows.Scan(&stmt, &k.custom, &k.generic); err != nil {
				b.Fatal(err)
			}
			sum := byStatement[stmt]
			byStatement[stmt] = counts{sum.custom + k.custom, sum.generic + k.generic}
		}
		rows.Close()
	}
	for stmt, k := range byStatement {
		if k.custom > k.generic && k.custom > 10 {
			b.Logf("planned %d times (%d generic): %s", k.custom, k.generic, stmt[:min(len(stmt), 300)])
		}
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (s *benchSite) request(b *testing.B, p bpPage) *http.Request {
	if p.path == bpCampaignPath {
		p.path = s.campaign
	}
	req := httptest.NewRequest(http.MethodGet, p.path, nil)
	if p.api {
		req.Header.Set("Authorization", "Bearer "+s.tokens[p.as])
	} else {
		req.Header.Set("Cookie", s.cookies[p.as])
	}
	if req.Header.Get("Cookie") == "" && !p.api {
		b.Fatal(fmt.Sprintf("no session for %s", p.as))
	}
	return req
}
