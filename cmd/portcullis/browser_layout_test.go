package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The widths every page is checked at: a desktop and a phone.
const (
	btDesktopWidth = 1440
	btPhoneWidth   = 390
)

var btAude = "aude@demo.portcullis.test" // auditor

// btWalkPage is a page of the walk: a path and the status it answers with,
// or, when link is set, the page a link matching link on path leads to
// (pages whose ids the demo does not fix).
type btWalkPage struct {
	path   string
	status int
	link   string
}

// btLayoutWalk is every page of every role ("" is nobody logged in): each
// person's home page (their own navigation) and the pages of their work. A
// page that reads the same for several roles but for the navigation is
// walked by one of them. The demo's requests: #1 a draft, #2 submitted, #3
// sent back for changes, #5 awaiting its second approval, #6 approved, #8
// verified, #10 failed verification, #12 revoked.
var btLayoutWalk = []struct {
	who   string
	pages []btWalkPage
}{
	{"", []btWalkPage{{"/login", 200, ""}}},
	{btAlice, []btWalkPage{
		{"/", 200, ""}, {"/requests", 200, ""}, {"/requests/new", 200, ""}, {"/requests/1", 200, ""},
		{"/requests/1/edit", 200, ""}, {"/requests/3", 200, ""}, {"/requests/8", 200, ""}, {"/register", 200, ""},
		{"/recertification", 200, ""}, {"/reports", 200, ""}, {"/zones", 200, ""}, {"/assets", 200, ""},
		{"/assets/1", 200, ""}, {"/profile", 200, ""}, {"/no/such/page", 404, ""}, {"/admin/users", 403, ""},
	}},
	{btRita, []btWalkPage{
		{"/", 200, ""}, {"/dashboard", 200, ""}, {"/requests", 200, ""}, {"/queue/review", 200, ""},
		{"/requests/2/review", 200, ""}, {"/requests/5", 200, ""}, {"/drift", 200, ""}, {"/scans", 200, ""},
		{"/scans/1", 200, ""},
	}},
	{btLee, []btWalkPage{
		{"/", 200, ""}, {"/queue/approval", 200, ""}, {"/requests/5/approve", 200, ""}, {"/requests/12", 200, ""},
		{"/drift?state=all", 200, ""}, {"/assets/5", 200, ""}, {"/recertification", 200, ""},
	}},
	{btIvan, []btWalkPage{
		{"/", 200, ""}, {"/queue/implementation", 200, ""}, {"/requests/6/implement", 200, ""}, {"/requests/10", 200, ""},
	}},
	{btAude, []btWalkPage{
		{"/", 200, ""}, {"/audit", 200, ""}, {"/audit/log", 200, ""}, {"/admin/operations", 200, ""},
		{"/reports", 200, `a[href^="/reports/"]:not([href$="/pdf"])`},
	}},
	{btAdam, []btWalkPage{
		{"/", 200, ""}, {"/dashboard", 200, ""}, {"/zones", 200, ""}, {"/zones/new", 200, ""},
		{"/zones/1/edit", 200, ""}, {"/assets", 200, ""}, {"/assets/new", 200, ""}, {"/assets/import", 200, ""},
		{"/assets/1/edit", 200, ""}, {"/admin/operations", 200, ""}, {"/admin/jobs", 200, ""}, {"/admin/users", 200, ""},
		{"/admin/agents", 200, ""}, {"/admin/policy", 200, ""}, {"/admin/applications", 200, ""}, {"/admin/settings", 200, ""},
		{"/admin/credentials", 200, ""}, {"/recertification", 200, ""},
		{"/recertification", 200, `a[href^="/recertification/campaigns/"]`},
	}},
}

// TestBrowserLayoutAndAccessibility walks every page of every role in
// English and in Chinese, at 1440 px and at 390 px, and fails on a page
// that scrolls sideways on the phone, a navigation that takes more than one
// line on the desktop, or a serious or critical accessibility violation
// found by axe-core (WCAG 2.1 A and AA rules and axe's best practices). A
// screenshot of each page in each language and width is kept as a test
// artefact. Each person walks in a tab of their own, side by side.
func TestBrowserLayoutAndAccessibility(t *testing.T) {
	axe := btAxeSource(t)
	start := time.Now()
	b := newBrowserEnvFor(t, 20*time.Minute) // a bound for a loaded machine; idle, it takes a few
	shots := t.ArtifactDir()
	t.Logf("screenshots go to %s (keep them: go test -artifacts -outputdir DIR)", shots)

	// The drift and scan pages show rows once the demo's first scan is over.
	lee := b.login(btLee)
	lee.waitFirstDemoScan()
	t.Logf("logged in and waited for the demo's first scan in %s", time.Since(start).Round(time.Second))
	var walked atomic.Int64
	t.Run("walk", func(t *testing.T) {
		for _, w := range btLayoutWalk {
			var p *btPerson
			switch w.who {
			case "":
				p = b.anonymous()
			case btLee:
				p = lee
			default:
				p = b.login(w.who)
			}
			name := "nobody"
			if w.who != "" {
				name = strings.SplitN(w.who, "@", 2)[0]
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p.t = t
				var spent btSpent
				for _, lang := range []string{"en", "zh-CN"} {
					p.acceptLanguage(lang)
					for _, pg := range w.pages {
						path := pg.path
						if pg.link != "" {
							p.open(pg.path, 200)
							path = p.firstHref(pg.link)
							if path == "" {
								t.Logf("%s: no link %s on %s to follow", lang, pg.link, pg.path)
								continue
							}
						}
						p.checkLayout(axe, shots, path, pg.status, lang, &spent)
						walked.Add(1)
					}
				}
				t.Logf("%s walked %d pages in %s", name, 2*len(w.pages), &spent)
			})
		}
	})
	t.Logf("walked %d pages (each at %d and %d px, with axe-core and screenshots) in %s",
		walked.Load(), btDesktopWidth, btPhoneWidth, time.Since(start).Round(time.Second))
}

// waitFirstDemoScan waits until the demo's first scan (of its loopback
// services) is over: the drift and scan pages show rows from then on.
func (p *btPerson) waitFirstDemoScan() {
	p.t.Helper()
	for deadline := time.Now().Add(bpScanTimeout); ; time.Sleep(bpPollEvery) {
		p.open("/scans", 200)
		if st := p.firstDemoScanStatus(); st == "done" || st == "failed" {
			return
		}
		if time.Now().After(deadline) {
			p.fail("the demo's first scan did not finish within %s", bpScanTimeout)
		}
	}
}

// checkLayout opens path at the desktop width, then looks at it at the
// phone width; Errorf, not Fatalf, so that one walk reports every page.
func (p *btPerson) checkLayout(axe, shots, path string, status int, lang string, spent *btSpent) {
	p.t.Helper()
	defer spent.since("load and measure", time.Now())
	p.step("desktop width", chromedp.EmulateViewport(btDesktopWidth, 900))
	p.open(path, status)
	if problem := p.navProblem(); problem != "" {
		p.t.Errorf("%s %s at %d px: %s", lang, path, btDesktopWidth, problem)
	}
	// What differs from the phone is the header: axe-core looks at it here
	// and at the whole page on the phone (half the time of two whole runs).
	p.axeCheck(axe, "header", path, lang, btDesktopWidth, spent)
	p.screenshotAt(shots, path, lang, btDesktopWidth, spent)

	p.step("phone width", chromedp.EmulateViewport(btPhoneWidth, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		// The page's resize handlers run before anything is measured.
		chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => setTimeout(r)))`, chromedp.EvalAwaitPromise))
	if over := p.overflow(btPhoneWidth); over != "" {
		p.t.Errorf("%s %s at %d px scrolls sideways: %s", lang, path, btPhoneWidth, over)
	}
	p.axeCheck(axe, "html", path, lang, btPhoneWidth, spent)
	p.screenshotAt(shots, path, lang, btPhoneWidth, spent)
}

// btSpent adds up where one person's walk spends its time, for the log.
type btSpent struct {
	names []string
	total map[string]time.Duration
}

func (s *btSpent) since(what string, start time.Time) {
	if s.total == nil {
		s.total = map[string]time.Duration{}
	}
	if _, ok := s.total[what]; !ok {
		s.names = append(s.names, what)
	}
	s.total[what] += time.Since(start)
}

func (s *btSpent) String() string {
	var parts []string
	for _, n := range s.names {
		parts = append(parts, fmt.Sprintf("%s %s", n, s.total[n].Round(100*time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// firstHref is the path of the first link matching sel, "" if none.
func (p *btPerson) firstHref(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+btJS(sel)+`) || {getAttribute: () => ""}).getAttribute("href")`))
	if err != nil {
		p.fail("look for %s: %v", sel, err)
	}
	return href
}

// navProblem says what is wrong with the header on a desktop, "" if
// nothing: its items (the brand, each top-level entry of the navigation,
// the user's menu) must sit on one line, side by side, inside the window.
func (p *btPerson) navProblem() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](btNavProblemJS))
	if err != nil {
		p.fail("look at the navigation: %v", err)
	}
	return s
}

const btNavProblemJS = `(() => {
	const items = Array.from(document.querySelectorAll("header.top .brand, header.top nav > ul > li, header.top .who"))
		.map(el => ({el, r: el.getBoundingClientRect()})).filter(x => x.r.width > 0 && x.r.height > 0);
	const name = el => el.className ? "." + el.className : el.innerText.trim().split("\n")[0];
	for (let i = 1; i < items.length; i++) {
		const a = items[i - 1], b = items[i];
		if (b.r.top >= a.r.bottom - 1) return "the navigation takes more than one line: " + name(b.el) + " is below " + name(a.el);
		if (b.r.left < a.r.right - 1) return "the header's items overlap: " + name(a.el) + " and " + name(b.el);
	}
	const last = items[items.length - 1];
	if (last && last.r.right > innerWidth) return "the header is wider than the window: " + name(last.el) + " ends at " + Math.round(last.r.right) + " px";
	return "";
})()`

// overflow says what sticks out of a page wider than width, "" if nothing.
func (p *btPerson) overflow(width int) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(btOverflowJS, width)))
	if err != nil {
		p.fail("measure the page's width: %v", err)
	}
	return s
}

// btOverflowJS names the outermost elements sticking out of the viewport,
// not counting those inside a box that scrolls by itself.
const btOverflowJS = `(() => {
	const W = %d, se = document.scrollingElement;
	if (se.scrollWidth <= W && se.scrollWidth <= innerWidth) return "";
	const inScrollBox = el => {
		for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
			if (getComputedStyle(a).overflowX !== "visible") return true;
		}
		return false;
	};
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
	const out = [];
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (r.right <= W + 1 || r.width === 0) continue;
		const pr = el.parentElement.getBoundingClientRect();
		if (pr.right > W + 1 && el.parentElement !== document.body) continue;
		if (inScrollBox(el)) continue;
		out.push(name(el) + " (right edge at " + Math.round(r.right) + " px)");
		if (out.length === 5) break;
	}
	if (!out.length) {
		// Nothing outside a scroll box sticks out: name what does, anywhere.
		for (const el of document.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.right > W + 1 && r.width > 0) out.push(name(el) + (inScrollBox(el) ? " in a scroll box" : "") + " (right edge at " + Math.round(r.right) + " px)");
			if (out.length === 8) break;
		}
	}
	return "the page is " + se.scrollWidth + " px wide, the window " + innerWidth + " px; sticking out: " + (out.join(", ") || "(nothing found)");
})()`

// btAxeViolation is one rule axe-core found broken, with where.
type btAxeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeCheck runs axe-core on the part of the page sel selects and fails on
// serious and critical violations.
func (p *btPerson) axeCheck(axe, sel, path, lang string, width int, spent *btSpent) {
	p.t.Helper()
	defer spent.since("axe-core", time.Now())
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "undefined" ? (0, eval)(`+btJS(axe)+`) || true : true`)); err != nil {
		p.fail("load axe-core into %s: %v", path, err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]btAxeViolation](fmt.Sprintf(btAxeRunJS, btJS(sel)), chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("run axe-core on %s: %v", path, err)
	}
	var lines []string
	for _, v := range found {
		lines = append(lines, fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, " | ")))
	}
	if len(lines) > 0 {
		p.t.Errorf("%s %s at %d px as %s: axe-core finds %d serious or critical violations:\n  %s", lang, path, width, p.email, len(lines), strings.Join(lines, "\n  "))
	}
}

// btAxeRunJS runs the WCAG 2.1 A/AA rules and the best practices and keeps
// the serious and critical violations, with up to three elements each.
const btAxeRunJS = `axe.run(document.querySelector(%s) ? {include: [[%[1]s]]} : document, {
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
	resultTypes: ["violations"],
}).then(r => r.violations
	.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map(n => n.target.join(" ") + (n.failureSummary ? " [" + n.failureSummary.replace(/\s+/g, " ").slice(0, 160) + "]" : ""))})))`

// screenshotAt keeps the page as shown, whole, as a test artefact.
func (p *btPerson) screenshotAt(dir, path, lang string, width int, spent *btSpent) {
	p.t.Helper()
	page := strings.NewReplacer("/", "_", "?", "_", "=", "-", "&", "_").Replace(strings.Trim(path, "/"))
	if page == "" {
		page = "home"
	}
	p.screenshotNamed(filepath.Join(dir, fmt.Sprintf("%s-%d-%s-%s.jpg", lang, width, p.who(), page)), spent)
}

// screenshotNamed keeps the page as shown, whole, in the JPEG file name.
func (p *btPerson) screenshotNamed(name string, spent *btSpent) {
	p.t.Helper()
	defer spent.since("screenshots", time.Now())
	ctx, cancel := context.WithTimeout(p.ctx, 3*browserStepTimeout) // see screenshot
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(85)) // JPEG: a third of the time of PNG
	if err != nil {
		p.fail("screenshot for %s: %v", filepath.Base(name), err)
	}
	if err := os.WriteFile(name, shot, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// who is the person's e-mail address up to the @, for file names and logs.
func (p *btPerson) who() string { return strings.SplitN(p.email, "@", 2)[0] }

// btAxeDir holds the package.json that pins axe-core; npm ci installs it
// into node_modules there (never committed).
const btAxeDir = "testdata/axe"

// btAxeSource is axe-core's script, installed with npm ci when missing. It
// skips the test when npm is not there, except under CI=true, where a
// missing axe-core fails it.
func btAxeSource(t *testing.T) string {
	t.Helper()
	file := filepath.Join(btAxeDir, "node_modules", "axe-core", "axe.min.js")
	if src, err := os.ReadFile(file); err == nil {
		return string(src)
	}
	miss := func(why string) {
		msg := "the accessibility check needs axe-core (" + file + "): " + why + "; install it with: (cd cmd/portcullis/" + btAxeDir + " && npm ci)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true, so a missing axe-core is a failure")
		}
		t.Skip(msg)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		miss("npm is not installed (apt-get install -y npm)")
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = btAxeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		miss(fmt.Sprintf("npm ci failed: %v\n%s", err, btTail(string(out), 2000)))
	}
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		miss("npm ci did not install it")
	} else if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// TestBrowserNavigationDisclosure, with the page's scripts off: on a phone
// the navigation is folded behind its Menu button, which the keyboard
// reaches and opens; on a desktop the links show without it, and the
// admin links open from their menu.
func TestBrowserNavigationDisclosure(t *testing.T) {
	b := newBrowserEnv(t)
	p := b.login(btAdam)
	const link, users = `header nav a[href="/requests"]`, `header nav a[href="/admin/users"]`
	visible := func(sel string) bool {
		return p.eval(`(e => !!e && e.checkVisibility())(document.querySelector(` + btJS(sel) + `))`)
	}
	p.step("phone width, no scripts", chromedp.EmulateViewport(btPhoneWidth, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	p.open("/dashboard", 200)
	if visible(link) {
		p.fail("at %d px the navigation's links should be folded behind the Menu button", btPhoneWidth)
	}
	// Tab: the skip link, the brand, then the Menu button.
	p.step("tab to the Menu button", chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab))
	if focused := p.eval(`document.activeElement === document.querySelector("header .menu > summary")`); !focused {
		p.fail("three presses of Tab should reach the Menu button (after the skip link and the brand)")
	}
	p.step("open the menu with Enter", chromedp.KeyEvent(kb.Enter))
	if !visible(link) {
		p.fail("Enter on the Menu button should show the navigation's links")
	}
	if p.overflow(btPhoneWidth) != "" {
		p.fail("the open menu makes the page scroll sideways: %s", p.overflow(btPhoneWidth))
	}

	p.step("desktop width", chromedp.EmulateViewport(btDesktopWidth, 900))
	p.open("/dashboard", 200)
	if !visible(link) || visible("header .menu > summary") {
		p.fail("at %d px the navigation's links should show without a Menu button", btDesktopWidth)
	}
	if visible(users) {
		p.fail("the admin links should wait in their menu until it is opened")
	}
	p.step("open the admin menu", chromedp.Click(chromedp.CSS(`header .nav-group:has(a[href="/admin/users"]) summary`)))
	if !visible(users) {
		p.fail("opening the admin menu should show its links")
	}
	p.submitForm("follow the Users link", users, 200)
	p.wantPath("/admin/users")
}
