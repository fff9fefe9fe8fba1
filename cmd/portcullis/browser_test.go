package main

// Browser tests: the real server (run "serve --demo") driven by headless
// Chromium through chromedp, each person logging in through the development
// identity provider's login form in a browser context of their own.
//
// They skip when no Chromium is installed, except under CI=true, where a
// missing browser fails them. Run them with
//
//	go test -race -run Browser ./cmd/portcullis/ -v

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/portcullis/portcullis/workflow/demo"
	"github.com/portcullis/portcullis/workflow/requests"
)

const (
	// browserStepTimeout bounds one browser step (a navigation, a form, a
	// query), so that a broken page fails fast with its text in the log.
	browserStepTimeout = 15 * time.Second
	// browserTestTimeout bounds everything one test does in the browser.
	browserTestTimeout = 5 * time.Minute // idle, most take under a minute; CI runs them loaded
)

// The demo people of these tests.
var (
	btAlice = "alice@demo.portcullis.test" // requester
	btRita  = "rita@demo.portcullis.test"  // reviewer
	btLee   = "lee@demo.portcullis.test"   // approver
	btIvan  = "ivan@demo.portcullis.test"  // implementer
	btPat   = "pat@demo.portcullis.test"   // requester and reviewer
)

// TestBrowserRequestLifecycle files a request that needs two approvals and
// drives it through review, second approval and implementation, each step by
// the person whose role it is, then reads the timeline as the requester.
func TestBrowserRequestLifecycle(t *testing.T) {
	b := newBrowserEnv(t)

	// Alice files the request: two rules, the second added through htmx.
	a := b.login(btAlice)
	title := "Partner API reaches the public site " + btUniq()
	a.open("/requests/new", 200)
	a.fillRequestHeader(title, "The partner's integration calls our public API over TLS; without it orders stop.")
	a.fillRule(0, btRule{source: "203.0.113.0/28", destination: "127.10.0.10", protocol: "tcp", ports: "443", service: "http"})
	a.addRule(1)
	a.fillRule(1, btRule{source: "office", destination: "127.40.0.15", protocol: "tcp", ports: "8443"})
	a.submitForm("save and submit", "#save-submit", 200)
	id := a.requestIDFromURL()
	a.wantFlash(fmt.Sprintf("Request #%d submitted for review.", id))
	a.wantState("submitted")
	if s := a.text("#summary"); !strings.Contains(s, "needs two approvals") {
		a.fail("the summary of a request from the internet should say it needs two approvals; it reads:\n%s", s)
	}
	rules := a.tableRows("Rules")
	if len(rules) != 2 {
		a.fail("want 2 rules in the rules table, got %d: %q", len(rules), rules)
	}
	btWantAll(a, "rule 1", rules[0], "203.0.113.0/28", "127.10.0.10", "tcp", "443", "http", "ingress")
	btWantAll(a, "rule 2", rules[1], "office", "127.40.0.15", "tcp", "8443", "ingress")

	// Rita reviews it from her queue: the first of two approvals.
	r := b.login(btRita)
	r.open("/queue/review", 200)
	reviewLink := fmt.Sprintf(`a.button[href="/requests/%d/review"]`, id)
	if row := r.rowOf(reviewLink); !strings.Contains(row, title) {
		r.fail("the review queue's row for #%d does not show its title %q: %q", id, title, row)
	}
	r.submitForm("open the review page", reviewLink, 200)
	r.wantPath(fmt.Sprintf("/requests/%d/review", id))
	r.step("confirm the zones", chromedp.Click(chromedp.CSS("#zone_confirmed")))
	r.passChecklist()
	// Rule 2 (office, a low zone, to the CRM in apps, a medium one) breaks
	// the zone matrix: Rita takes the exception path.
	controls := r.fillControls(func(name string) string {
		return "Source limited to the jump host 127.30.0.7 on the office firewall (" + name + ")."
	})
	if _, ok := controls["control.1:zone-path"]; !ok {
		r.fail("the exception path should ask for a compensating control for rule 2's zone-path finding (control.1:zone-path); it asks for %v", slices.Sorted(maps.Keys(controls)))
	}
	r.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	r.step("write a comment", chromedp.SendKeys(chromedp.CSS("#comment"), "Baseline checked; TLS only."))
	r.submitForm("record the review", "#decide", 200)
	r.wantPath(fmt.Sprintf("/requests/%d", id))
	r.wantFlash(fmt.Sprintf("Your decision on request #%d is recorded.", id))
	r.wantState("in review")
	if s := r.text("#awaiting-second"); !strings.Contains(s, btRita) || !strings.Contains(s, "awaiting the second approval") {
		r.fail("#awaiting-second should name the first approver %s and say it awaits the second approval; it reads %q", btRita, s)
	}
	if r.count("#exception") != 1 {
		r.fail("a request approved on the exception path should show the #exception badge")
	}

	// Lee gives the second approval from his queue.
	l := b.login(btLee)
	l.open("/queue/approval", 200)
	approveLink := fmt.Sprintf(`a.button[href="/requests/%d/approve"]`, id)
	if row := l.rowOf(approveLink); !strings.Contains(row, title) {
		l.fail("the approval queue's row for #%d does not show its title %q: %q", id, title, row)
	}
	l.submitForm("open the second-approval page", approveLink, 200)
	l.wantPath(fmt.Sprintf("/requests/%d/approve", id))
	if h := l.text("h1"); !strings.Contains(h, fmt.Sprintf("Second approval of #%d", id)) {
		l.fail("the second-approval page's heading is %q", h)
	}
	l.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	l.submitForm("record the second approval", "#decide", 200)
	l.wantPath(fmt.Sprintf("/requests/%d", id))
	l.wantState("approved")
	if l.count("#awaiting-second") != 0 {
		l.fail("an approved request still shows #awaiting-second")
	}
	if s := l.text("#exception"); s != "policy exception" {
		l.fail("the approved exception's #exception badge reads %q, want \"policy exception\"", s)
	}

	// Ivan implements it from his queue.
	i := b.login(btIvan)
	i.open("/queue/implementation", 200)
	implementLink := fmt.Sprintf(`a.button[href="/requests/%d/implement"]`, id)
	if row := i.rowOf(implementLink); !strings.Contains(row, title) {
		i.fail("the implementation queue's row for #%d does not show its title %q: %q", id, title, row)
	}
	i.submitForm("open the implementation page", implementLink, 200)
	i.wantPath(fmt.Sprintf("/requests/%d/implement", id))
	const note = "Rule added on edge-fw-2."
	i.step("fill the change reference", chromedp.SendKeys(chromedp.CSS("#change_ref"), "CHG-7777"), chromedp.SendKeys(chromedp.CSS("#note"), note))
	i.submitForm("mark implemented", "#mark-implemented", 200)
	i.wantPath(fmt.Sprintf("/requests/%d", id))
	i.wantFlash(fmt.Sprintf("Request #%d marked implemented.", id))
	// The verification scan starts as soon as the request is implemented and
	// can be done before a page is read (the second rule's port is closed
	// here), so its outcome may already show.
	i.wantStateOneOf("implemented", "verification failed")

	// Alice reads the whole story on her request's page.
	a.open(fmt.Sprintf("/requests/%d", id), 200)
	a.wantStateOneOf("implemented", "verification failed")
	if ref := a.text("#change-ref"); ref != "CHG-7777" {
		a.fail("#change-ref reads %q, want CHG-7777", ref)
	}
	if s := a.text("#summary"); !strings.Contains(s, "CHG-7777") || !strings.Contains(s, note) {
		a.fail("the summary should show the change reference CHG-7777 and the note %q; it reads:\n%s", note, s)
	}
	timeline := a.texts("#timeline > li")
	t.Logf("timeline of #%d as %s reads it:\n%s", id, btAlice, strings.Join(timeline, "\n"))
	want := []struct{ actor, action string }{
		{btAlice, "create"}, {btAlice, "submit"}, {btRita, "claim"},
		{btRita, "first approve"}, {btLee, "second approve"}, {btIvan, "implement"},
	}
	if len(timeline) == len(want)+1 && strings.Contains(timeline[len(want)], "(implemented → verification failed)") {
		timeline = timeline[:len(want)] // the verification's entry, when it was quicker than Alice
	}
	if len(timeline) != len(want) {
		a.fail("the timeline has %d entries, want %d (%v):\n%s", len(timeline), len(want), want, strings.Join(timeline, "\n"))
	}
	for k, w := range want {
		if !strings.Contains(timeline[k], w.actor+" "+w.action) {
			a.fail("timeline entry %d is %q, want %q by %s; whole timeline:\n%s", k+1, timeline[k], w.action, w.actor, strings.Join(timeline, "\n"))
		}
	}
	if !strings.Contains(timeline[5], "change CHG-7777: "+note) {
		a.fail("the implement entry of the timeline should read \"change CHG-7777: %s\": %q", note, timeline[5])
	}
	if !strings.Contains(timeline[5], "approved → implemented") || !strings.Contains(timeline[4], "in review → approved") {
		a.fail("the timeline should show the state changes of the last two steps:\n%s", strings.Join(timeline, "\n"))
	}
}

// TestBrowserSelfApprovalRefused checks separation of duties through the
// pages: a reviewer cannot approve their own request, and a requester cannot
// open a review page at all.
func TestBrowserSelfApprovalRefused(t *testing.T) {
	b := newBrowserEnv(t)

	p := b.login(btPat)
	title := "Pat's own CRM opening " + btUniq()
	p.open("/requests/new", 200)
	p.fillRequestHeader(title, "Security tooling polls the CRM's health endpoint.")
	p.fillRule(0, btRule{source: "office", destination: "127.40.0.15", protocol: "tcp", ports: "8080", service: "http"})
	p.submitForm("save and submit", "#save-submit", 200)
	id := p.requestIDFromURL()
	p.wantState("submitted")
	if p.count(fmt.Sprintf(`a[href="/requests/%d/review"]`, id)) != 0 {
		p.fail("the requester's own request page offers him a Review button")
	}

	// Pat opens the review page by its address and tries to approve.
	p.open(fmt.Sprintf("/requests/%d/review", id), 200)
	p.step("confirm the zones", chromedp.Click(chromedp.CSS("#zone_confirmed")))
	p.passChecklist()
	p.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	p.submitForm("approve his own request", "#decide", 403)
	if msg := p.text("#error-message"); !strings.Contains(msg, "separation of duties") {
		p.fail("the refusal should mention separation of duties; it reads %q", msg)
	}
	if h := p.text("h1"); h != "Not allowed" {
		p.fail("the refusal page's heading is %q, want \"Not allowed\"", h)
	}
	p.open(fmt.Sprintf("/requests/%d", id), 200)
	p.wantState("submitted")
	if tl := p.texts("#timeline > li"); len(tl) != 2 {
		p.fail("after the refused approval the timeline should hold only create and submit:\n%s", strings.Join(tl, "\n"))
	}

	// Alice, a requester only, may not open a review page at all.
	a := b.login(btAlice)
	a.open(fmt.Sprintf("/requests/%d/review", id), 403)
	if msg := a.text("#error-message"); !strings.Contains(msg, "you need the reviewer or approver role") {
		a.fail("the refusal should say a reviewer or approver role is needed; it reads %q", msg)
	}
	if a.count("#decide") != 0 || a.count("#zone_confirmed") != 0 {
		a.fail("the refusal page still shows the review form")
	}
}

// TestBrowserFormErrors sends the new-request form with a port out of range
// and no justification: the form comes back with the messages next to the
// fields, and nothing is created.
func TestBrowserFormErrors(t *testing.T) {
	b := newBrowserEnv(t)

	a := b.login(btAlice)
	title := "Broken form " + btUniq()
	a.open("/requests/new", 200)
	a.fillRequestHeader(title, "")
	a.fillRule(0, btRule{source: "office", destination: "127.40.0.15", protocol: "tcp", ports: "70000"})
	a.submitForm("save the form", "#save", 400)
	a.wantPath("/requests")
	if s := a.text("#form-error"); !strings.Contains(s, "not saved") {
		a.fail("#form-error should say the request was not saved; it reads %q", s)
	}
	if s := a.text("#justification-error"); !strings.Contains(s, "justification is required") {
		a.fail("#justification-error reads %q, want it to say a justification is required", s)
	}
	if s := a.text(`[id="rules[0].ports-error"]`); !strings.Contains(s, "70000") || !strings.Contains(s, "out of range") {
		a.fail("the ports error reads %q, want it to say port 70000 is out of range", s)
	}
	// The messages sit next to their fields and are tied to them.
	for _, f := range []struct{ field, errID string }{
		{"#justification", "justification-error"},
		{`[id="rules[0].ports"]`, "rules[0].ports-error"},
	} {
		attrs := a.attrs(f.field)
		if attrs["aria-invalid"] != "true" || !strings.Contains(attrs["aria-describedby"], f.errID) {
			a.fail("%s should be aria-invalid and described by #%s; attributes %v", f.field, f.errID, attrs)
		}
		if !a.eval(fmt.Sprintf(`document.querySelector(%s).parentElement.contains(document.getElementById(%s))`, btJS(f.field), btJS(f.errID))) {
			a.fail("the message #%s is not next to its field %s", f.errID, f.field)
		}
	}
	if a.count("#title-error") != 0 {
		a.fail("the title was given, yet the form shows a title error")
	}
	// What was typed is kept.
	if v := a.value("#title"); v != title {
		a.fail("the title came back as %q, want %q", v, title)
	}
	if v := a.value(`[id="rules[0].ports"]`); v != "70000" {
		a.fail("the ports came back as %q, want 70000", v)
	}
	if v := a.value(`[id="rules[0].source"]`); v != "office" {
		a.fail("the source came back as %q, want office", v)
	}

	// No request of that title exists.
	a.open("/requests?mine=1", 200)
	list := a.text("#request-results")
	if strings.Contains(list, title) {
		a.fail("the refused request was created: /requests?mine=1 lists %q:\n%s", title, list)
	}
	if !strings.Contains(list, "CRM reaches its Redis cache") {
		a.fail("/requests?mine=1 should list alice's demo requests (a sanity check of the list); it reads:\n%s", list)
	}
	a.open("/requests?q="+url.QueryEscape(title), 200)
	if s := a.text("#request-results"); !strings.Contains(s, "No request matches.") {
		a.fail("a search for the refused request's title finds something:\n%s", s)
	}
}

// ---------------------------------------------------------------------------
// The environment: server, browser, people.

// btUniq makes titles unique within a run.
func btUniq() string { return strconv.FormatInt(time.Now().UnixNano()%1e9, 36) }

// btBuffer is an io.Writer safe for the server goroutine and the test.
type btBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *btBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *btBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// btTail is the end of a long text, for logs.
func btTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// btChromium finds Chromium, or skips the test (fails it when CI=true).
func btChromium(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/chromium-headless-shell"}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := "browser test needs Chromium: none of " + strings.Join(candidates, ", ") + " exists (install it with: apt-get install -y chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true, so a missing browser is a failure")
	}
	t.Skip(msg)
	return ""
}

var (
	btServingLine = regexp.MustCompile(`Portcullis is serving on (\S+)`)
	btIssuerLine  = regexp.MustCompile(`development identity provider \((\S+)\)`)
)

// btStartServer runs "portcullis serve --demo" in-process on loopback and
// returns its URL, its identity provider's and its database file. The
// server stops at cleanup.
func btStartServer(t *testing.T) (base, issuer, db string) {
	t.Helper()
	dir := t.TempDir() // first: it is removed after the server has stopped
	db = filepath.Join(dir, "p.db")
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &btBuffer{}, &btBuffer{}
	done := make(chan error, 1)
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--demo-idp-addr", "127.0.0.1:0", "--db", db}
	go func() { done <- run(ctx, args, func(string) string { return "" }, stdout, stderr) }()
	stopped := false
	t.Cleanup(func() {
		cancel()
		if !stopped {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("portcullis serve ended with an error: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("portcullis serve did not return within 15s of its context's end")
			}
		}
		if t.Failed() {
			t.Logf("server stderr (end):\n%s", btTail(stderr.String(), 6000))
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		out := stdout.String()
		m, mi := btServingLine.FindStringSubmatch(out), btIssuerLine.FindStringSubmatch(out)
		if m != nil && mi != nil {
			base, issuer = m[1], mi[1]
			break
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("portcullis serve returned before serving: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
		case <-deadline:
			t.Fatalf("portcullis serve printed no URL within 30s\nstdout:\n%s\nstderr:\n%s", out, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, u := range []string{base, issuer} {
		pu, err := url.Parse(u)
		if err != nil || pu.Hostname() != "127.0.0.1" {
			t.Fatalf("the server announced %q: the browser tests only go to 127.0.0.1", u)
		}
	}
	return base, issuer, db
}

// browserEnv is one server and one headless Chromium for a test.
type browserEnv struct {
	t            *testing.T
	root         context.Context
	base, issuer string
	db           string // the server's SQLite file, for tests that check what was stored

	mu      sync.Mutex
	seen    int      // requests the pages made
	foreign []string // requests a page made to anything but 127.0.0.1
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	return newBrowserEnvFor(t, browserTestTimeout)
}

// newBrowserEnvFor is newBrowserEnv for a test that needs the browser
// longer than browserTestTimeout.
func newBrowserEnvFor(t *testing.T, timeout time.Duration) *browserEnv {
	t.Helper()
	exe := btChromium(t)
	base, issuer, db := btStartServer(t)
	b := &browserEnv{t: t, base: base, issuer: issuer, db: db}

	chromeOut := &btBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(chromeOut),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication"),
		// Belt and braces: no name resolves, no proxy is asked; the tests
		// use the literal address 127.0.0.1 only.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1280, 1024),
	)
	overall, cancelOverall := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(overall, opts...)
	root, cancelRoot := chromedp.NewContext(allocCtx)
	b.root = root
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc() // waits for Chromium to exit, before its data dir goes
		cancelOverall()
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.foreign) > 0 {
			t.Errorf("pages made requests to addresses other than 127.0.0.1: %q", b.foreign)
		}
		if b.seen == 0 && !t.Skipped() {
			t.Errorf("the watch on the pages' requests saw none: it is broken")
		}
		if t.Failed() {
			t.Logf("Chromium output (end):\n%s", btTail(chromeOut.String(), 3000))
		}
	})
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start Chromium (%s): %v\n%s", exe, err, btTail(chromeOut.String(), 3000))
	}
	return b
}

// watch records every request a page makes to a host other than 127.0.0.1.
func (b *browserEnv) watch(ev any) {
	e, ok := ev.(*network.EventRequestWillBeSent)
	if !ok || e.Request == nil {
		return
	}
	b.mu.Lock()
	b.seen++
	b.mu.Unlock()
	u, err := url.Parse(e.Request.URL)
	if err != nil || (u.Scheme != "data" && u.Scheme != "about" && u.Hostname() != "127.0.0.1") {
		b.mu.Lock()
		b.foreign = append(b.foreign, e.Request.URL)
		b.mu.Unlock()
	}
}

// btPerson is one logged-in user in a browser context of their own (own
// cookies, so sessions never mix).
type btPerson struct {
	t     *testing.T
	email string
	ctx   context.Context
	base  string
}

// login opens a fresh browser context and logs email in the way a person
// does: the app's login button, the identity provider's form, back to the app.
func (b *browserEnv) login(email string) *btPerson {
	b.t.Helper()
	return b.loginFor(b.t, email)
}

// loginFor is login for a subtest: the person reports to t, and their
// browser context closes when t ends.
func (b *browserEnv) loginFor(t *testing.T, email string) *btPerson {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.watch))
	t.Cleanup(cancel)
	p := &btPerson{t: t, email: email, ctx: ctx, base: b.base}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a browser context: %v", email, err)
	}
	p.step("watch the pages' htmx requests", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: btHTMXWatch})
		return err
	}))
	p.open("/", 200)
	p.wantPath("/login")
	p.submitForm("click the login button", "#login", 200)
	if loc := p.location(); !strings.HasPrefix(loc, b.issuer+"/authorize?") {
		p.fail("the login button should lead to the identity provider's login form at %s/authorize, not %s", b.issuer, loc)
	}
	p.step("fill the identity provider's login form",
		chromedp.SendKeys(chromedp.CSS("#username"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
	)
	p.submitForm("sign in at the identity provider", `form button[type="submit"]`, 200)
	p.wantPath("/")
	if n := p.count(fmt.Sprintf(`header .who a[title=%q]`, email)); n != 1 {
		p.fail("after login the header should show %s as the logged-in user", email)
	}
	return p
}

// fail reports a failure with the page as it stands: its address, its text
// and a screenshot.
func (p *btPerson) fail(format string, args ...any) {
	p.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		body = "(page text unavailable: " + err.Error() + ")"
	}
	shot := "(no screenshot)"
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		name := filepath.Join(p.t.ArtifactDir(), fmt.Sprintf("%s-%d.png", strings.SplitN(p.email, "@", 2)[0], time.Now().UnixNano()))
		if os.WriteFile(name, png, 0o644) == nil {
			shot = name
		}
	}
	p.t.Fatalf("%s: %s\n--- page %s (screenshot %s) ---\n%s\n---", p.email, msg, loc, shot, btTail(body, 4000))
}

// step runs actions that stay on the page.
func (p *btPerson) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// load runs actions that load a page and checks the HTTP status of the
// document finally shown (after redirects).
func (p *btPerson) load(what string, wantStatus int, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		p.fail("%s: %v", what, err)
	}
	if resp == nil {
		p.fail("%s: no page was loaded", what)
	}
	if int(resp.Status) != wantStatus {
		p.fail("%s: HTTP status %d (%s), want %d", what, resp.Status, resp.URL, wantStatus)
	}
}

// open goes to a path of the app.
func (p *btPerson) open(path string, wantStatus int) {
	p.t.Helper()
	p.load("open "+path, wantStatus, chromedp.Navigate(p.base+path))
}

// submitForm clicks a button or link that loads a page.
func (p *btPerson) submitForm(what, sel string, wantStatus int) {
	p.t.Helper()
	p.load(what, wantStatus, chromedp.Click(chromedp.CSS(sel)))
}

func (p *btPerson) location() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		p.fail("read the address: %v", err)
	}
	return loc
}

// wantPath checks that the page shown is path of the app (query ignored).
func (p *btPerson) wantPath(path string) {
	p.t.Helper()
	loc := p.location()
	u, err := url.Parse(loc)
	if err != nil || u.Scheme+"://"+u.Host != p.base || u.Path != path {
		p.fail("want the page %s%s, the browser shows %s", p.base, path, loc)
	}
}

var btRequestPath = regexp.MustCompile(`^/requests/(\d+)$`)

// requestIDFromURL reads the id of the request page shown.
func (p *btPerson) requestIDFromURL() int {
	p.t.Helper()
	loc := p.location()
	u, err := url.Parse(loc)
	if err != nil || u.Scheme+"://"+u.Host != p.base {
		p.fail("want a request page, the browser shows %s", loc)
	}
	m := btRequestPath.FindStringSubmatch(u.Path)
	if m == nil {
		p.fail("want a request page /requests/ID, the browser shows %s", loc)
	}
	id, _ := strconv.Atoi(m[1])
	return id
}

// text is the visible text of the first element matching sel, once there
// is one. The element is found and read in one turn of the page's script:
// read as two steps (chromedp.Text), a live page that swapped its content
// between them gave the old, detached element's text as "".
func (p *btPerson) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	read := `(() => { const e = document.querySelector(` + btJS(sel) + `); if (!e) return null;
		return (e.offsetWidth || e.offsetHeight || e.getClientRects().length) ? e.innerText : ""; })()`
	for {
		// An error is a page being replaced (a form posted, a redirect): read again.
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*string](read))
		if err == nil && s != nil {
			return strings.TrimSpace(*s)
		}
		if ctx.Err() != nil {
			if err == nil {
				err = errors.New("no such element")
			}
			p.fail("read the text of %s: %v", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *btPerson) value(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	s, err := btRetrySwapped(ctx, func() (string, error) { return chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel))) })
	if err != nil {
		p.fail("read the value of %s: %v", sel, err)
	}
	return s
}

func (p *btPerson) attrs(sel string) map[string]string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	m, err := btRetrySwapped(ctx, func() (map[string]string, error) { return chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS(sel))) })
	if err != nil {
		p.fail("read the attributes of %s: %v", sel, err)
	}
	return m
}

// btRetrySwapped runs read again when the node it found was replaced before
// it was read: a live update swaps the page's content in place, so a node id
// can vanish between the query and the read. Other errors end it at once.
func btRetrySwapped[T any](ctx context.Context, read func() (T, error)) (T, error) {
	for {
		v, err := read()
		if err == nil || !strings.Contains(err.Error(), "No node with given id") || ctx.Err() != nil {
			return v, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func btJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (p *btPerson) eval(expr string) bool {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		p.fail("evaluate %s: %v", expr, err)
	}
	return ok
}

// count is the number of elements matching sel, now (no waiting).
func (p *btPerson) count(sel string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+btJS(sel)+`).length`))
	if err != nil {
		p.fail("count %s: %v", sel, err)
	}
	return n
}

// texts is the visible text of every element matching sel, now.
func (p *btPerson) texts(sel string) []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+btJS(sel)+`), e => e.innerText.trim())`))
	if err != nil {
		p.fail("read the texts of %s: %v", sel, err)
	}
	return out
}

// tableRows is the text of each body row of the table with this caption.
func (p *btPerson) tableRows(caption string) []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	js := `(() => { const t = Array.from(document.querySelectorAll("table")).find(t => t.caption && t.caption.innerText.trim() === ` + btJS(caption) + `);
		return t ? Array.from(t.tBodies[0].rows, r => r.innerText.trim()) : null; })()`
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[*[]string](js))
	if err != nil {
		p.fail("read the table %q: %v", caption, err)
	}
	if rows == nil {
		p.fail("there is no table captioned %q", caption)
	}
	return *rows
}

// rowOf is the text of the table row holding the element sel.
func (p *btPerson) rowOf(sel string) string {
	p.t.Helper()
	if p.count(sel) == 0 {
		p.fail("there is no %s on this page", sel)
	}
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+btJS(sel)+`).closest("tr").innerText`))
	if err != nil {
		p.fail("read the row of %s: %v", sel, err)
	}
	return s
}

func (p *btPerson) wantState(label string) {
	p.t.Helper()
	p.wantStateOneOf(label)
}

// wantStateOneOf is wantState where more than one state may be reached by
// the time the page is read.
func (p *btPerson) wantStateOneOf(labels ...string) {
	p.t.Helper()
	if got := p.text("#summary .badge"); !slices.Contains(labels, got) {
		p.fail("the request's state reads %q, want %s", got, strings.Join(labels, " or "))
	}
}

func (p *btPerson) wantFlash(msg string) {
	p.t.Helper()
	if got := p.text(`main .flash[role="status"]`); got != msg {
		p.fail("the flash message reads %q, want %q", got, msg)
	}
}

func btWantAll(p *btPerson, what, s string, parts ...string) {
	p.t.Helper()
	for _, part := range parts {
		if !strings.Contains(s, part) {
			p.fail("%s should show %q: %q", what, part, s)
		}
	}
}

type btRule struct{ source, destination, protocol, ports, service string }

func (p *btPerson) fillRequestHeader(title, justification string) {
	p.t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#title"), title)}
	if justification != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.CSS("#justification"), justification))
	}
	p.step("fill the title and justification", actions...)
}

func btRuleField(i int, name string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[name="rules[%d].%s"]`, i, name))
}

func (p *btPerson) fillRule(i int, r btRule) {
	p.t.Helper()
	p.step(fmt.Sprintf("fill rule %d", i+1),
		chromedp.SendKeys(btRuleField(i, "source"), r.source),
		chromedp.SendKeys(btRuleField(i, "destination"), r.destination),
		btChoose(fmt.Sprintf(`[name="rules[%d].protocol"]`, i), r.protocol),
		chromedp.SendKeys(btRuleField(i, "ports"), r.ports),
		btChoose(fmt.Sprintf(`[name="rules[%d].service"]`, i), r.service),
	)
	p.settle()
}

// btChoose picks an option of a select the way a person does: the value
// changes and the page hears "input" and "change" (htmx listens for them).
// It fails when the select has no such option.
func btChoose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => {
		const e = document.querySelector(` + btJS(sel) + `);
		if (!e) throw new Error("no element " + ` + btJS(sel) + `);
		e.value = ` + btJS(value) + `;
		if (e.value !== ` + btJS(value) + `) throw new Error(` + btJS(sel) + ` + " has no option " + ` + btJS(value) + `);
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
}

// btHTMXWatch runs in every page before its own scripts: it notes when the
// person last typed or htmx last requested or swapped something, and how
// many htmx requests are under way, for settle.
const btHTMXWatch = `(() => {
	if (window.__bt) return;
	const s = window.__bt = {last: performance.now(), inflight: 0};
	const touch = () => { s.last = performance.now(); };
	for (const e of ["input", "change", "keydown"]) document.addEventListener(e, touch, true);
	document.addEventListener("htmx:beforeRequest", () => { s.inflight++; touch(); });
	document.addEventListener("htmx:afterRequest", () => { s.inflight = Math.max(0, s.inflight - 1); touch(); });
	document.addEventListener("htmx:afterSettle", touch);
})()`

// btQuietMillis is how long a page must be still before settle trusts it:
// longer than the form's htmx trigger delay (500 ms), so a trigger still
// pending would have fired.
const btQuietMillis = 900

// settle leaves the field being typed in (as a person does before
// reaching for a button) and waits until htmx has nothing pending: no
// delayed trigger, no request under way, no swap to come. Otherwise the
// live findings panel can grow under the pointer between chromedp
// measuring a button and clicking it, and the click lands elsewhere.
func (p *btPerson) settle() {
	p.t.Helper()
	p.step("leave the field and let htmx settle",
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement !== document.body && document.activeElement.blur()`),
		chromedp.Poll[chromedp.Void](`window.__bt && window.__bt.inflight === 0 && !document.querySelector(".htmx-request") && performance.now() - window.__bt.last > `+strconv.Itoa(btQuietMillis),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browserStepTimeout)),
	)
}

// addRule clicks "Add a rule" and waits for htmx to append rule i+1 in
// place, without leaving the page.
func (p *btPerson) addRule(i int) {
	p.t.Helper()
	before := p.location()
	p.step("add a rule", chromedp.Click(chromedp.CSS("#add-rule")), chromedp.WaitReady(btRuleField(i, "source")))
	if after := p.location(); after != before {
		p.fail("adding a rule should happen in place through htmx; the page went from %s to %s", before, after)
	}
	if n := p.count("#rules > fieldset"); n != i+1 {
		p.fail("after adding a rule the form has %d rules, want %d", n, i+1)
	}
	if n := p.count("#add-rule"); n != 1 {
		p.fail("after adding a rule there are %d #add-rule buttons, want 1", n)
	}
	if got, want := p.attrs("#add-rule")["hx-get"], fmt.Sprintf("/requests/rule-row?index=%d", i+1); got != want {
		p.fail("the new #add-rule button fetches %q, want %q", got, want)
	}
}

// passChecklist answers every checklist item "pass": the baseline items and
// the ones the policy's findings add (named checklist.control-...); it
// returns the names of the items it answered.
func (p *btPerson) passChecklist() []string {
	p.t.Helper()
	names := p.elementNames(`input[type=radio][value="pass"][name^="checklist."]`)
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, item := range requests.BaselineChecklist {
		if !have["checklist."+item.ID] {
			p.fail("the review form lacks the baseline checklist item %s (it has %q)", item.ID, names)
		}
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "checklist.control-") && !slices.ContainsFunc(requests.BaselineChecklist, func(b struct{ ID, Text string }) bool { return "checklist."+b.ID == n }) {
			p.fail("the review form has a checklist item %s that is neither a baseline item nor a control the policy requires", n)
		}
	}
	var actions []chromedp.Action[chromedp.Void]
	for _, n := range names {
		actions = append(actions, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[type=radio][name=%q][value="pass"]`, n))))
	}
	p.step("mark every checklist item pass", actions...)
	for _, n := range names {
		if !p.eval(fmt.Sprintf(`document.querySelector('input[name=%q][value="pass"]').checked`, n)) {
			p.fail("checklist item %s is not ticked pass", n)
		}
	}
	return names
}

// elementNames is the name attribute of every element matching sel, in page order.
func (p *btPerson) elementNames(sel string) []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+btJS(sel)+`), e => e.name)`))
	if err != nil {
		p.fail("read the names of %s: %v", sel, err)
	}
	return out
}

// fillControls writes a compensating control into every textarea of the
// review page's exception path and returns them by field name.
func (p *btPerson) fillControls(text func(name string) string) map[string]string {
	p.t.Helper()
	names := p.elementNames(`#exception-path textarea`)
	if len(names) == 0 {
		p.fail("the review page shows no compensating-control field in #exception-path")
	}
	controls := map[string]string{}
	var actions []chromedp.Action[chromedp.Void]
	for _, n := range names {
		controls[n] = text(n)
		actions = append(actions, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#exception-path textarea[name=%q]`, n)), controls[n]))
	}
	p.step("write the compensating controls", actions...)
	return controls
}
