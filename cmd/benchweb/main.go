// Command benchweb measures the web server under load: it seeds a database
// with `portcullis seed`, starts `portcullis serve --demo` on it, logs in as
// each demo role through the development identity provider's login form,
// and drives every main page and API call with wrk at a fixed number of
// connections, printing requests/s, p50, p99, response size, non-2xx
// answers, the server's CPU time per request and its peak memory. The
// scenarios' servers run side by side and each page is driven on each in
// turn, so that the machine's other load weighs on all alike. It talks to
// 127.0.0.1 only.
//
//	go run ./cmd/benchweb --bin bin/portcullis
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// config is everything the bench is told.
type config struct {
	Bin         string
	Duration    time.Duration
	Connections int
	Threads     int
	Requests    int
	AuditEvents int
	Assets      int
	DriftItems  int
	PGAdminURL  string
	Scenarios   string
	Wrk         string
	// Pages, when set, drives only the pages whose names it matches.
	Pages *regexp.Regexp
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchweb:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("benchweb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Bin, "bin", "bin/portcullis", "the portcullis binary to run")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long each page is driven")
	fs.IntVar(&cfg.Connections, "connections", 32, "concurrent connections")
	fs.IntVar(&cfg.Threads, "threads", 2, "wrk threads")
	fs.IntVar(&cfg.Requests, "requests", 100_000, "requests to seed")
	fs.IntVar(&cfg.AuditEvents, "audit-events", 1_000_000, "audit events to seed")
	fs.IntVar(&cfg.Assets, "assets", 10_000, "assets to seed")
	fs.IntVar(&cfg.DriftItems, "drift-items", 200_000, "drift items to seed")
	fs.StringVar(&cfg.PGAdminURL, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL database to connect to when creating the throwaway bench database; empty skips PostgreSQL")
	fs.StringVar(&cfg.Scenarios, "scenarios", "demo-sqlite,seeded-sqlite,demo-postgres,seeded-postgres", "which runs, in order")
	fs.StringVar(&cfg.Wrk, "wrk", "wrk", "the wrk load generator")
	pages := fs.String("pages", "", "a regular expression: drive only the pages whose names it matches (all when empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pages != "" {
		re, err := regexp.Compile(*pages)
		if err != nil {
			return fmt.Errorf("--pages: %w", err)
		}
		cfg.Pages = re
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return err
	}
	cfg.Bin = bin
	if _, err := exec.LookPath(cfg.Wrk); err != nil {
		return fmt.Errorf("no wrk load generator (Debian: apt-get install wrk): %w", err)
	}
	// Every scenario's server is started first; then each page is driven on
	// each of them in turn, so that a busy spell of this shared machine
	// weighs on a page's demo and seeded figures alike rather than on one
	// whole scenario.
	var scenarios []*scenario
	defer func() {
		for _, sc := range scenarios {
			sc.stop()
		}
	}()
	for _, name := range strings.Split(cfg.Scenarios, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		sc, err := startScenario(ctx, cfg, name, stdout)
		if sc != nil {
			scenarios = append(scenarios, sc)
		}
		if errors.Is(err, errSkipped) {
			scenarios = scenarios[:len(scenarios)-1]
			sc.stop()
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	// Alice's request: the seed and the demo both give her request #1.
	const alicesRequest = 1
	for _, t := range targets(alicesRequest) {
		if cfg.Pages != nil && !cfg.Pages.MatchString(t.name) {
			continue
		}
		for _, sc := range scenarios {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res, err := sc.drivePage(ctx, cfg, t)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", sc.name, t.name, err)
			}
			sc.results = append(sc.results, res)
			fmt.Fprintf(stderr, "%s: %s %.1f req/s\n", sc.name, t.name, res.RPS)
		}
	}
	results := map[string][]pageResult{}
	var order []string
	for _, sc := range scenarios {
		if err := sc.report(stdout); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		results[sc.name] = sc.results
		order = append(order, sc.name)
	}
	compare(stdout, results, order)
	return nil
}

// scenario is one server under test: its database, its sessions and tokens.
type scenario struct {
	name    string
	base    string
	pid     int
	logPath string
	cookies map[string]string
	tokens  map[string]string
	// campaign is the page of an open re-certification campaign.
	campaign string
	results  []pageResult
	stops    []func() // run last first
}

func (sc *scenario) onStop(f func()) { sc.stops = append(sc.stops, f) }

func (sc *scenario) stop() {
	for i := len(sc.stops) - 1; i >= 0; i-- {
		sc.stops[i]()
	}
	sc.stops = nil
}

var errSkipped = errors.New("skipped")

// pageResult is one page's figures.
type pageResult struct {
	Name       string
	Status     int
	Bytes      int
	First      time.Duration // one request alone, before the load
	RPS        float64
	P50, P99   time.Duration
	Requests   int
	Non2xx     int
	SocketErrs string
	As         string // who asked: a person, "(token)" for the API
	// ServerCPU is the server process's CPU time (user and system) per
	// request while it was driven: what a view costs the server, apart from
	// wrk's share of the same cores.
	ServerCPU time.Duration
}

// target is one thing to drive: a page as a person, or an API call.
type target struct {
	name, as, path string
	api            bool
}

func targets(alicesRequest int) []target {
	req := fmt.Sprint(alicesRequest)
	return []target{
		{"home (requester)", "alice", "/", false},
		{"home (reviewer)", "rita", "/", false},
		{"/requests (requester)", "alice", "/requests", false},
		{"/requests (reviewer)", "rita", "/requests", false},
		{"/requests?state=submitted", "rita", "/requests?state=submitted", false},
		{"/requests/{id}", "alice", "/requests/" + req, false},
		{"/requests/new", "alice", "/requests/new", false},
		{"/register", "rita", "/register", false},
		{"/queue/review", "rita", "/queue/review", false},
		{"/queue/approval", "lee", "/queue/approval", false},
		{"/queue/implementation", "ivan", "/queue/implementation", false},
		{"/drift", "rita", "/drift", false},
		{"/scans", "rita", "/scans", false},
		{"/scans/{id}", "rita", "/scans/1", false},
		{"/assets", "rita", "/assets", false},
		{"/assets/{id}", "rita", "/assets/1", false},
		{"/zones", "rita", "/zones", false},
		{"/dashboard", "rita", "/dashboard", false},
		{"/audit", "aude", "/audit", false},
		{"/recertification", "alice", "/recertification", false},
		{"/admin/operations", "adam", "/admin/operations", false},
		{"/audit/log", "aude", "/audit/log", false},
		{"/reports", "aude", "/reports", false},
		{"/recertification/campaigns/{id}", "lee", campaignPath, false},
		{"/profile", "alice", "/profile", false},
		{"/admin/users", "adam", "/admin/users", false},
		{"/admin/settings", "adam", "/admin/settings", false},
		{"/admin/policy", "adam", "/admin/policy", false},
		{"/admin/agents", "adam", "/admin/agents", false},
		{"/admin/applications", "adam", "/admin/applications", false},
		{"/admin/credentials", "adam", "/admin/credentials", false},
		{"/admin/jobs", "adam", "/admin/jobs", false},
		{"GET /api/v1/requests?state=submitted", "rita", "/api/v1/requests?state=submitted", true},
		{"GET /api/v1/requests/{id}", "rita", "/api/v1/requests/" + req, true},
		{"GET /api/v1/drift?state=open", "rita", "/api/v1/drift?state=open", true},
		{"GET /api/v1/assets", "rita", "/api/v1/assets", true},
		{"GET /api/v1/rules", "rita", "/api/v1/rules", true},
		{"GET /api/v1/scans", "rita", "/api/v1/scans", true},
		{"GET /api/v1/queues/review", "rita", "/api/v1/queues/review", true},
		{"GET /api/v1/zones", "rita", "/api/v1/zones", true},
		{"GET /api/v1/requests/{id}/comments", "rita", "/api/v1/requests/" + req + "/comments", true},
		{"GET /healthz", "", "/healthz", true},
	}
}

// campaignPath stands for the scenario's open campaign (scenario.campaign).
const campaignPath = "{campaign}"

var people = map[string]string{
	"alice": "alice@demo.portcullis.test",
	"rita":  "rita@demo.portcullis.test",
	"lee":   "lee@demo.portcullis.test",
	"ivan":  "ivan@demo.portcullis.test",
	"aude":  "aude@demo.portcullis.test",
	"adam":  "adam@demo.portcullis.test",
}

const demoPassword = "portcullis-demo"

// startScenario seeds the scenario's database, starts its server and logs
// each person in. The scenario it returns, even with an error, is to be
// stopped.
func startScenario(ctx context.Context, cfg config, name string, stdout io.Writer) (*scenario, error) {
	sc := &scenario{name: name, cookies: map[string]string{}, tokens: map[string]string{}}
	dir, err := os.MkdirTemp("", "benchweb-")
	if err != nil {
		return sc, err
	}
	sc.onStop(func() { os.RemoveAll(dir) })
	var dsn string
	seeded := strings.HasPrefix(name, "seeded")
	switch {
	case strings.HasSuffix(name, "sqlite"):
		dsn = filepath.Join(dir, "bench.db")
	case strings.HasSuffix(name, "postgres"):
		if cfg.PGAdminURL == "" {
			return sc, errSkipped
		}
		drop, url, err := throwawayPG(ctx, cfg.PGAdminURL, name)
		if err != nil {
			fmt.Fprintf(stdout, "\n== %s: skipped: no PostgreSQL at %s (%v)\n", name, cfg.PGAdminURL, err)
			return sc, errSkipped
		}
		sc.onStop(drop)
		dsn = url
	default:
		return sc, fmt.Errorf("unknown scenario %q (demo-sqlite, seeded-sqlite, demo-postgres, seeded-postgres)", name)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return sc, err
	}
	idpAddr, err := freeLoopbackAddr()
	if err != nil {
		return sc, err
	}
	fmt.Fprintf(stdout, "\n== %s\n", name)
	if seeded {
		start := time.Now()
		cmd := exec.CommandContext(ctx, cfg.Bin, "seed", "--db", dsn, "--requests", fmt.Sprint(cfg.Requests), "--audit-events", fmt.Sprint(cfg.AuditEvents),
			"--assets", fmt.Sprint(cfg.Assets), "--drift-items", fmt.Sprint(cfg.DriftItems), "--demo-issuer", "http://"+idpAddr)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return sc, fmt.Errorf("seed: %v\n%s", err, out)
		}
		fmt.Fprintf(stdout, "%s(seed took %s)\n", out, time.Since(start).Round(time.Second))
	} else {
		fmt.Fprintln(stdout, "demo organisation (serve --demo seeds it; its first scan of the demo services runs during the bench)")
	}
	srvLog, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return sc, err
	}
	sc.onStop(func() { srvLog.Close() })
	sc.logPath = srvLog.Name()
	// Everyone logs in when the servers start, and a person's next page may
	// come after every scenario was seeded and many pages driven on each.
	serveArgs := []string{"serve", "--demo", "--db", dsn, "--addr", addr, "--demo-idp-addr", idpAddr, "--log-level", "warn", "--session-idle", "12h"}
	if strings.HasSuffix(name, "postgres") {
		// A shared database takes its audit signing key from the operator.
		keyFile, err := auditKeyFile(ctx, cfg.Bin, dir)
		if err != nil {
			return sc, err
		}
		serveArgs = append(serveArgs, "--audit-key-file", keyFile)
	}
	srv := exec.Command(cfg.Bin, serveArgs...)
	srv.Env = cleanEnv()
	srv.Stdout, srv.Stderr = srvLog, srvLog
	if err := srv.Start(); err != nil {
		return sc, err
	}
	exited := make(chan struct{})
	go func() { srv.Wait(); close(exited) }()
	sc.pid = srv.Process.Pid
	sc.onStop(func() {
		srv.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			srv.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	sc.base = base
	if err := waitHealthy(ctx, base, 2*time.Minute, exited); err != nil {
		logTail, _ := os.ReadFile(srvLog.Name())
		return sc, fmt.Errorf("%w\nserver log:\n%s", err, logTail)
	}

	for short, email := range people {
		c, err := login(ctx, base, email)
		if err != nil {
			return sc, fmt.Errorf("log in as %s: %w", email, err)
		}
		sc.cookies[short] = c
	}
	if sc.campaign, err = openCampaign(ctx, base, sc.cookies["lee"]); err != nil {
		return sc, err
	}
	fmt.Fprintf(stdout, "campaign driven: %s\n", sc.campaign)
	for _, short := range []string{"rita"} {
		cmd := exec.CommandContext(ctx, cfg.Bin, "token", "create", "--db", dsn, "--user", people[short], "--name", "benchweb")
		cmd.Env = cleanEnv()
		out, err := cmd.Output()
		if err != nil {
			return sc, fmt.Errorf("token create for %s: %v", people[short], err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		sc.tokens[short] = lines[len(lines)-1]
	}
	return sc, nil
}

var reCampaign = regexp.MustCompile(`href="(/recertification/campaigns/[0-9]+)"`)

// openCampaign is the page of the newest campaign the re-certification
// page links to, started when there is none (the demo has none), so that
// both databases are measured on a campaign holding items.
func openCampaign(ctx context.Context, base, cookie string) (string, error) {
	client := &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/recertification", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if m := reCampaign.FindSubmatch(body); m != nil {
		return string(m[1]), nil
	}
	form := url.Values{"name": {"benchweb"}, "due_by": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/recertification/campaigns", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if where := resp.Header.Get("Location"); reCampaign.MatchString(`href="` + where + `"`) {
		return where, nil
	}
	return "", fmt.Errorf("starting a campaign answered %d (to %q)", resp.StatusCode, resp.Header.Get("Location"))
}

// drivePage fetches t once, then drives it with wrk.
func (sc *scenario) drivePage(ctx context.Context, cfg config, t target) (pageResult, error) {
	header := ""
	switch {
	case t.as == "":
	case t.api:
		header = "Authorization: Bearer " + sc.tokens[t.as]
	default:
		header = "Cookie: " + sc.cookies[t.as]
	}
	if t.path == campaignPath {
		t.path = sc.campaign
	}
	res := pageResult{Name: t.name}
	began := time.Now()
	var err error
	res.Status, res.Bytes, err = fetchOnce(ctx, sc.base+t.path, header)
	res.First = time.Since(began)
	if err != nil {
		return res, err
	}
	cpu0, err := processCPU(sc.pid)
	if err != nil {
		return res, err
	}
	if err := drive(ctx, cfg, sc.base+t.path, header, &res); err != nil {
		return res, err
	}
	cpu1, err := processCPU(sc.pid)
	if err != nil {
		return res, err
	}
	if res.Requests > 0 {
		res.ServerCPU = (cpu1 - cpu0) / time.Duration(res.Requests)
	}
	res.As = t.as
	if t.api && t.as != "" {
		res.As += " (token)"
	}
	return res, nil
}

// report prints the scenario's table, the errors its server logged and its
// peak memory.
func (sc *scenario) report(stdout io.Writer) error {
	fmt.Fprintf(stdout, "\n== %s\n", sc.name)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	defer tw.Flush()
	fmt.Fprintf(tw, "page\tas\tstatus\tbytes\talone\treq/s\tp50\tp99\trequests\tnon-2xx/3xx\tserver CPU/req\t\n")
	for _, res := range sc.results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.1f\t%s\t%s\t%d\t%d%s\t%s\t\n", res.Name, res.As, res.Status, res.Bytes, fmtDur(res.First), res.RPS, fmtDur(res.P50), fmtDur(res.P99), res.Requests, res.Non2xx, res.SocketErrs, fmtDur(res.ServerCPU))
	}
	// Pages that failed are measured all the same (their errors counted);
	// the server's own words say why.
	if failed := serverErrors(sc.logPath, 5); failed != "" {
		fmt.Fprintf(tw, "server errors (first lines of its log):\n%s", failed)
	}
	peak, err := vmHWM(sc.pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "server peak RSS (VmHWM): %s\n", peak)
	return nil
}

// compare prints each page's throughput on a seeded database as a share of its
// throughput on the demo organisation on the same database (the demo on SQLite
// when that one was not run), then every call that misses the other
// goals: p99 under 150 ms at 32 connections, pages under 300 KB.
func compare(w io.Writer, results map[string][]pageResult, order []string) {
	var seeded []string
	for _, name := range order {
		if strings.HasPrefix(name, "seeded-") {
			seeded = append(seeded, name)
		}
	}
	baseline := func(name string) string {
		if demo := "demo-" + strings.TrimPrefix(name, "seeded-"); results[demo] != nil {
			return demo
		}
		return "demo-sqlite"
	}
	if len(seeded) > 0 {
		fmt.Fprintln(w, "\n== throughput as a share of the demo organisation's on the same database (goal: at least 70%)")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "page\t")
		for _, name := range seeded {
			fmt.Fprintf(tw, "%s (of %s)\t", name, baseline(name))
		}
		fmt.Fprintln(tw)
		for i, p := range results[order[0]] {
			fmt.Fprintf(tw, "%s\t", p.Name)
			for _, name := range seeded {
				demo, r := results[baseline(name)], results[name]
				if i >= len(r) || i >= len(demo) || demo[i].RPS == 0 {
					fmt.Fprint(tw, "-\t")
					continue
				}
				mark := ""
				if r[i].RPS < 0.7*demo[i].RPS {
					mark = " (below 70%)"
				}
				fmt.Fprintf(tw, "%.0f%%%s\t", 100*r[i].RPS/demo[i].RPS, mark)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\n== calls over the goals (p99 >= 150 ms at 32 connections, page >= 300 KB)")
	over := 0
	for _, name := range order {
		for _, p := range results[name] {
			if p.P99 >= 150*time.Millisecond || p.Bytes >= 300*1000 {
				fmt.Fprintf(w, "%s: %s: p99 %v, %d bytes\n", name, p.Name, p.P99.Round(100*time.Microsecond), p.Bytes)
				over++
			}
		}
	}
	if over == 0 {
		fmt.Fprintln(w, "none")
	}
}

// cleanEnv is the environment without PORTCULLIS_* variables, so that the
// bench runs exactly what its flags say.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTCULLIS_") {
			env = append(env, kv)
		}
	}
	return env
}

// serverErrors returns the first n error lines of the server's log.
func serverErrors(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() && n > 0 {
		// A client that goes away mid-page (wrk at the end of a run) is not a server error.
		if strings.Contains(sc.Text(), "level=ERROR") && !strings.Contains(sc.Text(), "context canceled") && !strings.Contains(sc.Text(), "broken pipe") && !strings.Contains(sc.Text(), "status=500 duration") {
			line := sc.Text()
			if len(line) > 400 {
				line = line[:400] + "…"
			}
			b.WriteString("  " + line + "\n")
			n--
		}
	}
	return b.String()
}

// auditKeyFile makes a fresh audit signing key with `portcullis audit
// keygen` and writes it where serve can read it.
func auditKeyFile(ctx context.Context, bin, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "audit", "keygen", "--name", "benchweb")
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("audit keygen: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "PRIVATE+KEY+") {
			path := filepath.Join(dir, "audit.key")
			return path, os.WriteFile(path, []byte(line+"\n"), 0o600)
		}
	}
	return "", fmt.Errorf("audit keygen printed no signer key:\n%s", out)
}

// freeLoopbackAddr finds a port on 127.0.0.1 nobody listens on right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(ctx context.Context, base string, limit time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the server exited before it answered /healthz")
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the server at %s did not answer /healthz within %s", base, limit)
}

// login goes through the login button, the identity provider's form and the
// callback, as a browser would, and returns the session cookie header.
func login(ctx context.Context, base, email string) (string, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Hostname() != "127.0.0.1" {
			return fmt.Errorf("refusing to follow a redirect off loopback: %s", req.URL)
		}
		return nil
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/auth/login", nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	form := resp.Request.URL
	if resp.StatusCode != http.StatusOK || form.Path != "/authorize" {
		return "", fmt.Errorf("the login button led to %s (%d), not the identity provider's form", form, resp.StatusCode)
	}
	values := form.Query()
	values.Set("username", email)
	values.Set("password", demoPassword)
	post := *form
	post.RawQuery = ""
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, post.String(), strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		return "", fmt.Errorf("signing in ended at %s (%d), not the home page", resp.Request.URL, resp.StatusCode)
	}
	u, _ := url.Parse(base)
	var parts []string
	for _, c := range jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("no session cookie after login")
	}
	return strings.Join(parts, "; "), nil
}

// fetchOnce reads a page once, without following redirects, so that a lost
// session (a redirect to /login) shows as such before the load run.
func fetchOnce(ctx context.Context, target, header string) (status, size int, err error) {
	client := &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if k, v, ok := strings.Cut(header, ": "); ok {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	// A redirect means the session or token was not accepted: the load run
	// would measure the login page.
	if resp.StatusCode/100 == 3 {
		return resp.StatusCode, int(n), fmt.Errorf("GET %s answered %d (to %s)", target, resp.StatusCode, resp.Header.Get("Location"))
	}
	return resp.StatusCode, int(n), err
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reLat     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	reTotal   = regexp.MustCompile(`(\d+) requests in`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSockErr = regexp.MustCompile(`Socket errors: (.*)`)
)

// drive runs wrk against one URL and reads its figures.
func drive(ctx context.Context, cfg config, target, header string, res *pageResult) error {
	u, err := url.Parse(target)
	if err != nil || u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("refusing to load anything but 127.0.0.1: %s", target)
	}
	args := []string{"-t", fmt.Sprint(cfg.Threads), "-c", fmt.Sprint(cfg.Connections), "-d", fmt.Sprintf("%ds", max(1, int(cfg.Duration.Seconds()))), "--timeout", "60s", "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	args = append(args, target)
	out, err := exec.CommandContext(ctx, cfg.Wrk, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk: %v\n%s", err, out)
	}
	text := string(out)
	m := reRPS.FindStringSubmatch(text)
	if m == nil {
		return fmt.Errorf("wrk printed no Requests/sec:\n%s", text)
	}
	res.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range reLat.FindAllStringSubmatch(text, -1) {
		d := parseWrkDuration(l[2], l[3])
		if l[1] == "50" {
			res.P50 = d
		} else {
			res.P99 = d
		}
	}
	if m := reTotal.FindStringSubmatch(text); m != nil {
		res.Requests, _ = strconv.Atoi(m[1])
	}
	if m := reNon2xx.FindStringSubmatch(text); m != nil {
		res.Non2xx, _ = strconv.Atoi(m[1])
	}
	if m := reSockErr.FindStringSubmatch(text); m != nil {
		res.SocketErrs = " (socket errors: " + strings.TrimSpace(m[1]) + ")"
	}
	return nil
}

func parseWrkDuration(num, unit string) time.Duration {
	f, _ := strconv.ParseFloat(num, 64)
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[unit]
	return time.Duration(f * float64(scale))
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command's name (which may hold spaces, inside
	// parentheses): utime and stime are the 12th and 13th, in clock ticks.
	_, rest, ok := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	// Linux reports in USER_HZ, 100 a second on every architecture Go runs on.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// vmHWM is the process's peak resident set size.
func vmHWM(pid int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("no VmHWM in /proc/PID/status")
}

// throwawayPG creates an empty database for the bench on the server of
// adminURL (which must be on loopback) and returns its URL and how to drop it.
func throwawayPG(ctx context.Context, adminURL, scenario string) (drop func(), dsn string, err error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, "", err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, "", fmt.Errorf("the PostgreSQL URL %s is not on a loopback address", adminURL)
	}
	admin, err := gorm.Open(postgres.Open(adminURL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, "", err
	}
	sqlDB, err := admin.DB()
	if err != nil {
		return nil, "", err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, "", err
	}
	// One database per scenario: their servers run side by side.
	name := fmt.Sprintf("portcullis_benchweb_%d_%s", os.Getpid(), strings.ReplaceAll(scenario, "-", "_"))
	if err := admin.Exec("DROP DATABASE IF EXISTS " + name).Error; err != nil {
		sqlDB.Close()
		return nil, "", err
	}
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		sqlDB.Close()
		return nil, "", err
	}
	bench := *u
	bench.Path = "/" + name
	return func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		sqlDB.Close()
	}, bench.String(), nil
}
