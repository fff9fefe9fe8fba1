package main

// Every role's main flow, walked in Chromium in English and in Chinese, on a
// desktop and on a phone: the outcome of each step is read from stable hooks
// (ids, data-state and other data-* attributes, addresses, the database),
// never from English words, so the same walk holds in both languages.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/auditlog"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
)

// bfWalks are the languages and widths each flow is walked in.
var bfWalks = []struct {
	lang, acceptLanguage string
	width                int
}{
	{"en", "en", btDesktopWidth},
	{"en", "en", btPhoneWidth},
	{"zh-CN", "zh-CN,zh;q=0.9", btDesktopWidth},
	{"zh-CN", "zh-CN,zh;q=0.9", btPhoneWidth},
}

// TestBrowserRoleFlows walks every role's main flow in English and in
// Chinese, at 1440 px and at 390 px (the phone navigating through its
// folded menu): the admin turns drift into a request; the requester files a
// request that needs two approvals (an over-long justification and an
// over-long comment are refused, keeping what was typed); the reviewer
// reviews it with the checklist, the approver gives the second approval,
// the implementer implements it and the scanner verifies it; the owner lets
// another opening lapse (an over-long reason refused first, kept); the
// reviewer revokes the verified one behind its confirmation, with a reason;
// the auditor filters the audit log to the request and downloads the log's
// export, whose chain verifies; the admin adds an asset. After each step
// axe-core finds no serious or critical violation, the page does not
// scroll sideways on the phone, the Chinese pages show no English outside
// data, and a screenshot is kept as a test artefact. The four walks share
// one server and run side by side.
func TestBrowserRoleFlows(t *testing.T) {
	axe := btAxeSource(t)
	start := time.Now()
	b := newBrowserEnvFor(t, 15*time.Minute) // a bound for a loaded machine
	shots := t.ArtifactDir()
	t.Logf("screenshots go to %s (keep them: go test -artifacts -outputdir DIR)", shots)
	db := bfOpenDB(t, b.db)

	// The drift page has items to turn into requests once the demo's first
	// scan is over.
	b.login(btLee).waitFirstDemoScan()
	drift := &bfDriftPool{items: bfRequestableDrift(t, db)}
	inForce := bfInForceOf(t, db, btAlice)
	if len(drift.items) < len(bfWalks) || len(inForce) < len(bfWalks) {
		t.Fatalf("each walk needs a drift item of its own to turn into a request and an opening of alice's to let lapse: the demo has %d and %d, want %d each", len(drift.items), len(inForce), len(bfWalks))
	}
	t.Logf("the demo's first scan was over after %s", time.Since(start).Round(time.Second))

	t.Run("walk", func(t *testing.T) {
		for i, c := range bfWalks {
			w := &bfWalk{index: i, b: b, db: db, axe: axe, shots: shots, lang: c.lang, acceptLanguage: c.acceptLanguage, width: c.width, driftPool: drift, lapse: inForce[i]}
			t.Run(fmt.Sprintf("%s-%d", c.lang, c.width), func(t *testing.T) {
				t.Parallel()
				w.t = t
				began := time.Now()
				t.Cleanup(func() { t.Logf("walked %d steps in %s (%s)", w.steps, time.Since(began).Round(time.Second), &w.spent) })
				w.run()
			})
		}
	})
	t.Logf("the four walks took %s in all", time.Since(start).Round(time.Second))
}

// bfWalk is one walk of every flow, in one language at one width.
type bfWalk struct {
	t                *testing.T
	index            int // in bfWalks
	b                *browserEnv
	db               *gorm.DB
	axe, shots       string
	lang             string
	acceptLanguage   string
	width            int
	driftPool        *bfDriftPool
	drift            models.DriftItem // the item this walk turns into a request
	lapse            uint             // the demo opening this walk lets lapse
	steps            int
	spent            btSpent
	people           map[string]*btPerson
	alice, rita, lee *btPerson
	ivan, aude, adam *btPerson
}

func (w *bfWalk) run() {
	w.alice, w.rita, w.lee = w.person(btAlice), w.person(btRita), w.person(btLee)
	w.ivan, w.aude, w.adam = w.person(btIvan), w.person(baAude), w.person(bpAdam)

	w.driftToRequest()
	id := w.fileRequest()
	w.review(id)
	w.secondApproval(id)
	w.implement(id)
	w.verified(id)
	w.letLapse()
	w.revoke(id)
	w.audit(id)
	w.addAsset()
}

// person logs someone in, in the walk's language and at its width.
func (w *bfWalk) person(email string) *btPerson {
	p := w.b.loginFor(w.t, email)
	p.acceptLanguage(w.acceptLanguage)
	if w.width == btPhoneWidth {
		p.step("phone width", chromedp.EmulateViewport(int64(w.width), 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	} else {
		p.step("desktop width", chromedp.EmulateViewport(int64(w.width), 900))
	}
	return p
}

// check looks at the page a step ends on: its language, no sideways
// scrolling on the phone (the header on one line on the desktop), no
// serious or critical axe-core violation, no English outside data on a
// Chinese page; and keeps a screenshot. Errorf, not Fatalf: the flow goes on.
func (w *bfWalk) check(p *btPerson, step string) {
	p.t.Helper()
	defer w.spent.since("checks", time.Now())
	w.steps++
	where := fmt.Sprintf("step %d (%s, as %s)", w.steps, step, p.who())
	if lang := p.attrs("html")["lang"]; lang != w.lang {
		p.t.Errorf("%s: <html lang=%q>, want %s", where, lang, w.lang)
	}
	if w.width == btPhoneWidth {
		p.step("let the page lay itself out", chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => setTimeout(r)))`, chromedp.EvalAwaitPromise))
		if over := p.overflow(w.width); over != "" {
			p.t.Errorf("%s at %d px scrolls sideways: %s", where, w.width, over)
		}
	} else if problem := p.navProblem(); problem != "" {
		p.t.Errorf("%s at %d px: %s", where, w.width, problem)
	}
	p.axeCheck(w.axe, "html", where, w.lang, w.width, &w.spent)
	if w.lang != "en" {
		if words := p.untranslated(); len(words) > 0 {
			p.t.Errorf("%s shows English to a reader of Chinese:\n  %s", where, strings.Join(words, "\n  "))
		}
	}
	p.screenshotNamed(filepath.Join(w.shots, fmt.Sprintf("%s-%d-flow-%02d-%s-%s.jpg", w.lang, w.width, w.steps, p.who(), step)), &w.spent)
}

// navigate follows the navigation's link to href, as a person does: on the
// phone the menu opens first, and a link in a group opens its group.
func (w *bfWalk) navigate(p *btPerson, href string) {
	p.t.Helper()
	a := `a[href="` + href + `"]`
	link := `header nav ` + a
	visible := func(sel string) bool {
		return p.eval(`(e => !!e && e.checkVisibility())(document.querySelector(` + btJS(sel) + `))`)
	}
	if w.width == btPhoneWidth {
		if visible(link) {
			p.fail("at %d px the navigation's links should be folded behind the menu button", w.width)
		}
		p.step("open the menu", chromedp.Click(chromedp.CSS("header .menu > summary")))
	}
	if !visible(link) {
		group := `header .nav-group:has(` + a + `) > details > summary`
		if !visible(group) {
			p.fail("neither the link to %s nor its menu group shows (menu open: %v)", href, p.eval(`document.querySelector("header .menu").open`))
		}
		p.step("open the menu group of "+href, chromedp.Click(chromedp.CSS(group)))
	}
	p.submitForm("follow the navigation to "+href, link, 200)
	p.wantPath(href)
}

// state is the state the request page's badge says, as stored.
func bfState(p *btPerson) string {
	p.t.Helper()
	return p.attrs("#summary [data-state]")["data-state"]
}

func bfWantState(p *btPerson, want ...string) {
	p.t.Helper()
	if got := bfState(p); !slices.Contains(want, got) {
		p.fail("the request's state is %q, want %s", got, strings.Join(want, " or "))
	}
}

// bfWantFlash checks the page says the step went well (the flash of kind ok).
func bfWantFlash(p *btPerson) {
	p.t.Helper()
	if p.count(`main .flash[role="status"][data-kind="ok"]`) != 1 {
		p.fail("the page shows no flash of kind ok after the step")
	}
}

// dbRequest reads a request as stored.
func (w *bfWalk) dbRequest(id uint) models.Request {
	w.t.Helper()
	var r models.Request
	if err := w.db.First(&r, id).Error; err != nil {
		w.t.Fatalf("read request #%d: %v", id, err)
	}
	return r
}

// tag makes what a walk types unique and says which walk typed it.
func (w *bfWalk) tag() string { return fmt.Sprintf("%s-%d-%s", w.lang, w.width, btUniq()) }

// driftToRequest: the admin turns the walk's drift item into a draft.
func (w *bfWalk) driftToRequest() {
	w.drift = w.driftPool.take()
	a, d := w.adam, w.drift
	w.navigate(a, "/drift")
	row := fmt.Sprintf("#drift-%d", d.ID)
	if attrs := a.attrs(row); attrs["data-kind"] != d.Kind || attrs["data-state"] != "open" {
		a.fail("drift row %s reads kind %q state %q, want %s and open", row, attrs["data-kind"], attrs["data-state"], d.Kind)
	}
	w.check(a, "drift")
	turn := fmt.Sprintf(`%s a.button[href="/requests/new?drift=%d"]`, row, d.ID)
	a.submitForm("turn the drift item into a request", turn, 200)
	a.wantPath("/requests/new")
	if v := a.value(`input[type="hidden"][name="drift_id"]`); v != strconv.Itoa(int(d.ID)) {
		a.fail("the form's drift_id is %q, want %d", v, d.ID)
	}
	if v := a.value(string(btRuleField(0, "destination"))); v != d.Address {
		a.fail("the prefilled destination is %q, want the drift item's %s", v, d.Address)
	}
	if v := a.value(string(btRuleField(0, "ports"))); v != strconv.Itoa(d.Port) {
		a.fail("the prefilled ports are %q, want %d", v, d.Port)
	}
	w.check(a, "drift-request-form")
	a.step("fill the source", chromedp.SendKeys(btRuleField(0, "source"), "office"))
	a.settle()
	a.submitForm("save the draft", "#save", 200)
	id := a.requestIDFromURL()
	bfWantState(a, "draft")
	bfWantFlash(a)
	var stored models.DriftItem
	if err := w.db.First(&stored, d.ID).Error; err != nil {
		w.t.Fatal(err)
	}
	if stored.FiledRequestID == nil || *stored.FiledRequestID != uint(id) {
		a.fail("drift #%d records the request filed from it as %v, want #%d", d.ID, stored.FiledRequestID, id)
	}
	w.check(a, "drift-request-saved")
}

// fileRequest: the requester files a request from the internet to the DMZ
// web host (two approvals); an over-long justification, then an over-long
// comment, are refused with what was typed kept.
func (w *bfWalk) fileRequest() uint {
	a := w.alice
	a.open("/", 200)
	a.submitForm("press New request on the home page", "#new-request", 200)
	a.wantPath("/requests/new")
	w.check(a, "new-request")

	title := "Partner API " + w.tag()
	// A /23 of the internet: broader than the policy's /24, a high finding.
	rule := btRule{source: "203.0.112.0/23", destination: "127.10.0.10", protocol: "tcp", ports: "8443", service: "https"}
	tooLong := strings.Repeat("j", core.Limits.Justification+1)
	a.fillRequestHeader(title, "")
	// Pasted into a browser that ignores maxlength: the server refuses it.
	a.step("paste an over-long justification", chromedp.SetValue(chromedp.CSS("#justification"), tooLong))
	a.fillRule(0, rule)
	a.submitForm("save and submit", "#save-submit", 400)
	if a.count("#justification-error") != 1 || a.attrs("#justification")["aria-invalid"] != "true" {
		a.fail("the over-long justification is not marked in error next to its field")
	}
	for sel, want := range map[string]string{"#title": title, "#justification": tooLong, string(btRuleField(0, "source")): rule.source,
		string(btRuleField(0, "destination")): rule.destination, string(btRuleField(0, "ports")): rule.ports, string(btRuleField(0, "service")): rule.service} {
		if v := a.value(sel); v != want {
			a.fail("%s came back as %q (%d characters), want what was typed (%d characters)", sel, btTail(v, 40), len(v), len(want))
		}
	}
	var n int64
	if err := w.db.Model(&models.Request{}).Where("title = ?", title).Count(&n).Error; err != nil || n != 0 {
		a.fail("the refused request was stored (%d, %v)", n, err)
	}
	w.check(a, "request-refused")

	a.step("shorten the justification", chromedp.SetValue(chromedp.CSS("#justification"), "The partner's integration calls our public API over TLS."))
	a.settle()
	a.submitForm("save and submit", "#save-submit", 200)
	id := uint(a.requestIDFromURL())
	bfWantState(a, "submitted")
	bfWantFlash(a)
	if a.count("#needs-two") != 1 || !w.dbRequest(id).NeedsSecondApproval {
		a.fail("a request from the internet should need two approvals (#needs-two)")
	}
	w.check(a, "request-submitted")

	comment := strings.Repeat("c", core.Limits.Comment+1)
	a.step("paste an over-long comment", chromedp.SetValue(chromedp.CSS("#body"), comment))
	a.submitForm("post the comment", "#post-comment", 400)
	if a.count("#body-error") != 1 || a.attrs("#body")["aria-invalid"] != "true" {
		a.fail("the over-long comment is not marked in error next to its field")
	}
	if v := a.value("#body"); v != comment {
		a.fail("the refused comment came back with %d characters, want the %d typed", len(v), len(comment))
	}
	w.check(a, "comment-refused")
	a.step("shorten the comment", chromedp.SetValue(chromedp.CSS("#body"), "The partner's addresses are fixed: 203.0.112.0/23."))
	a.submitForm("post the comment", "#post-comment", 200)
	a.wantPath(fmt.Sprintf("/requests/%d", id))
	var comments int64
	w.db.Model(&models.Comment{}).Where("request_id = ?", id).Count(&comments)
	if a.count(".comment") != 1 || comments != 1 {
		a.fail("after posting, the page shows %d comments and %d are stored, want 1", a.count(".comment"), comments)
	}
	w.check(a, "comment-posted")
	return id
}

// queueRow opens a queue through the navigation and the request's row
// there, with the button leading to action.
func (w *bfWalk) fromQueue(p *btPerson, queue string, id uint, action, step string) {
	p.t.Helper()
	w.navigate(p, queue)
	row := fmt.Sprintf(`#queue tr[data-request="%d"]`, id)
	if p.count(row) != 1 {
		p.fail("%s has no row for request #%d", queue, id)
	}
	if queue == "/queue/review" && p.count(row+" .mark-two") != 1 {
		p.fail("the review queue does not mark #%d as needing two approvals", id)
	}
	w.check(p, step+"-queue")
	p.submitForm("open #"+strconv.Itoa(int(id))+" from "+queue, fmt.Sprintf(`%s a.button[href="/requests/%d/%s"]`, row, id, action), 200)
	p.wantPath(fmt.Sprintf("/requests/%d/%s", id, action))
	w.check(p, step+"-form")
}

// review: the reviewer confirms the zones, passes the checklist and
// approves: the first of two approvals.
func (w *bfWalk) review(id uint) {
	r := w.rita
	w.fromQueue(r, "/queue/review", id, "review", "review")
	r.step("confirm the zones", chromedp.Click(chromedp.CSS("#zone_confirmed")))
	r.passChecklist()
	if r.count("#exception-path textarea") > 0 {
		r.fillControls(func(name string) string {
			return "Source limited to the partner's /28 on the edge firewall (" + name + ")."
		})
	}
	r.step("choose approve and comment", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)),
		chromedp.SendKeys(chromedp.CSS("#comment"), "Baseline checked; TLS only."))
	r.submitForm("record the review", "#decide", 200)
	r.wantPath(fmt.Sprintf("/requests/%d", id))
	bfWantState(r, "in_review")
	bfWantFlash(r)
	if r.count("#awaiting-second") != 1 {
		r.fail("after the first approval the page should say it awaits the second (#awaiting-second)")
	}
	w.check(r, "first-approval")
}

// secondApproval: the approver gives the second approval.
func (w *bfWalk) secondApproval(id uint) {
	l := w.lee
	w.fromQueue(l, "/queue/approval", id, "approve", "second-approval")
	l.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	l.submitForm("record the second approval", "#decide", 200)
	l.wantPath(fmt.Sprintf("/requests/%d", id))
	bfWantState(l, "approved")
	bfWantFlash(l)
	if st := w.dbRequest(id).State; st != "approved" {
		l.fail("request #%d is stored %s after the second approval", id, st)
	}
	w.check(l, "approved")
}

// implement: the implementer records the change.
func (w *bfWalk) implement(id uint) {
	i := w.ivan
	w.fromQueue(i, "/queue/implementation", id, "implement", "implement")
	ref := "CHG-" + w.tag()
	i.step("fill the change reference", chromedp.SendKeys(chromedp.CSS("#change_ref"), ref), chromedp.SendKeys(chromedp.CSS("#note"), "Rule added on edge-fw-2."))
	i.submitForm("mark implemented", "#mark-implemented", 200)
	i.wantPath(fmt.Sprintf("/requests/%d", id))
	// The verification scan is queued with the step and may be over already.
	bfWantState(i, "implemented", "verified", "active")
	bfWantFlash(i)
	if got := i.text("#change-ref"); got != ref || w.dbRequest(id).ChangeRef != ref {
		i.fail("the change reference reads %q on the page, want %s, stored too", got, ref)
	}
	w.check(i, "implemented")
}

// verified: the requester's page shows the scan's proof: verified, with
// evidence that answers as approved, and the whole story in the timeline.
func (w *bfWalk) verified(id uint) {
	a := w.alice
	deadline := time.Now().Add(bpScanTimeout)
	for {
		a.open(fmt.Sprintf("/requests/%d", id), 200)
		st := bfState(a)
		if st == "verification_failed" {
			a.fail("the verification of #%d failed; the demo services answer now: %s\n(another demo server, e.g. another go test process, may have held their fixed loopback addresses when this one started)", id, bpDialDemo())
		}
		if (st == "verified" || st == "active") && a.count(`#verification[data-status="done"]`) == 1 {
			break
		}
		if time.Now().After(deadline) {
			a.fail("within %s of its implementation #%d is %s, not verified", bpScanTimeout, id, st)
		}
		time.Sleep(bpPollEvery)
	}
	if a.count(`#evidence tbody tr[data-approved="yes"]`) == 0 || a.count(`#evidence tbody tr[data-approved="no"]`) != 0 {
		a.fail("the evidence of #%d should show tcp/8443 answering as approved", id)
	}
	want := []string{"create", "submit", "claim", "first_approve", "second_approve", "implement", "verify"}
	all := a.elementAttrs("#timeline > li", "data-action")
	// Others (activate) may come between or after.
	if got := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return !slices.Contains(want, s) }); !slices.Equal(got, want) {
		a.fail("the timeline's steps are %q, want %q in that order", all, want)
	}
	w.check(a, "verified")
}

// letLapse: an admin starts a re-certification campaign; the owner lets
// the walk's opening lapse, the over-long reason refused first and kept.
func (w *bfWalk) letLapse() {
	d := w.adam
	w.navigate(d, "/recertification")
	// The flash repeats the name, a plain text that cannot mark it as data:
	// a Chinese reader names it in Chinese.
	name := "Flow " + w.tag()
	if w.lang != "en" {
		name = fmt.Sprintf("复核批次 %d-%d", w.width, time.Now().UnixNano()%1e6)
	}
	d.step("name the campaign and its deadline", chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SetValue(chromedp.CSS("#due_by"), time.Now().UTC().AddDate(2, 0, 0).Format(time.DateOnly)))
	d.submitForm("start the campaign", "#start-campaign", 200)
	if !strings.HasPrefix(strings.TrimPrefix(d.location(), d.base), "/recertification/campaigns/") {
		d.fail("starting a campaign leads to %s, want its page", d.location())
	}
	bfWantFlash(d)
	w.check(d, "campaign")

	a := w.alice
	w.navigate(a, "/recertification")
	card := fmt.Sprintf(`.recert[data-request="%d"]`, w.lapse)
	if a.count(card) != 1 {
		a.fail("alice's re-certifications hold no item for #%d", w.lapse)
	}
	item := strings.TrimPrefix(a.attrs(card)["id"], "recert-")
	w.check(a, "recertification")
	confirm := "#lapse-" + item
	a.step("ask to let it lapse", chromedp.Click(chromedp.CSS(card+" "+confirm+" > summary")))
	tooLong := strings.Repeat("l", core.Limits.Reason+1)
	a.step("paste an over-long reason", chromedp.SetValue(chromedp.CSS(confirm+"-reason"), tooLong))
	a.submitForm("let it lapse", confirm+"-submit", 400)
	if a.count(confirm+"-reason-error") != 1 || !a.eval(`document.querySelector(`+btJS(confirm)+`).open`) {
		a.fail("the over-long reason is not shown in error in the open confirmation")
	}
	if v := a.value(confirm + "-reason"); v != tooLong {
		a.fail("the refused reason came back with %d characters, want the %d typed", len(v), len(tooLong))
	}
	if st := w.dbRequest(w.lapse).State; !slices.Contains(requests.InForceStates, requests.State(st)) {
		a.fail("after the refused lapse #%d is stored %s", w.lapse, st)
	}
	w.check(a, "lapse-refused")
	a.step("shorten the reason", chromedp.SetValue(chromedp.CSS(confirm+"-reason"), "The project ended; nobody uses it."))
	a.submitForm("let it lapse", confirm+"-submit", 200)
	bfWantFlash(a)
	if st := w.dbRequest(w.lapse).State; st != "expired" {
		a.fail("after letting it lapse #%d is stored %s, want expired", w.lapse, st)
	}
	if a.count(card) != 0 {
		a.fail("the lapsed opening #%d still waits on the re-certification page", w.lapse)
	}
	w.check(a, "lapsed")
}

// revoke: the reviewer revokes the verified opening: the confirmation
// asks for a reason and does not go without one.
func (w *bfWalk) revoke(id uint) {
	r := w.rita
	r.open(fmt.Sprintf("/requests/%d", id), 200)
	if r.eval(`document.getElementById("confirm-revoke-reason").checkVisibility()`) {
		r.fail("the revoke reason shows before the person asked to revoke")
	}
	r.step("ask to revoke", chromedp.Click(chromedp.CSS("#confirm-revoke > summary")))
	if !r.eval(`document.getElementById("confirm-revoke-reason").checkVisibility()`) {
		r.fail("asking to revoke does not show the reason")
	}
	w.check(r, "revoke-confirm")
	r.step("confirm without a reason", chromedp.Click(chromedp.CSS("#confirm-revoke-submit")))
	if !r.eval(`!document.getElementById("confirm-revoke-reason").validity.valid`) {
		r.fail("the browser let the revocation go without a reason")
	}
	const reason = "The partner contract ended."
	r.step("give the reason", chromedp.SendKeys(chromedp.CSS("#confirm-revoke-reason"), reason))
	r.submitForm("revoke", "#confirm-revoke-submit", 200)
	bfWantState(r, "revoked")
	bfWantFlash(r)
	if acts := r.elementAttrs("#timeline > li", "data-action"); len(acts) == 0 || acts[len(acts)-1] != "revoke" {
		r.fail("the timeline's last step is not the revocation: %q", acts)
	}
	if st := w.dbRequest(id).State; st != "revoked" {
		r.fail("request #%d is stored %s after the revocation", id, st)
	}
	w.check(r, "revoked")
}

// audit: the auditor filters the log to the request, then downloads the
// log's export and verifies its chain.
func (w *bfWalk) audit(id uint) {
	a := w.aude
	w.navigate(a, "/audit")
	key := ""
	if a.count("#verifier-key") == 1 {
		key = a.text("#verifier-key")
	}
	w.check(a, "audit")
	a.submitForm("browse the log", "#browse-log", 200)
	a.wantPath("/audit/log")
	a.step("filter to the request", btChoose("#object_type", "request"), chromedp.SendKeys(chromedp.CSS("#object_id"), strconv.Itoa(int(id))))
	a.submitForm("show the request's events", `#audit-filter button[type="submit"]`, 200)
	if q := bpQuery(a); q.Get("object_type") != "request" || q.Get("object_id") != strconv.Itoa(int(id)) {
		a.fail("the filter's address is %s", a.location())
	}
	href := fmt.Sprintf("/requests/%d", id)
	rows := a.count("#audit-events tbody tr")
	if rows < 8 || a.count(fmt.Sprintf(`#audit-events tbody tr a[href="%s"]`, href)) != rows {
		a.fail("the filtered log has %d rows, want at least 8, each of request #%d", rows, id)
	}
	w.check(a, "audit-log")

	a.open("/audit", 200)
	dir := a.t.TempDir()
	baAllowDownloads(a, dir)
	a.step("choose the JSON chain", btChoose("#format", "json"))
	dl := baDownloadOf(a, "download the audit log", "#export", dir)
	rep, err := auditlog.VerifyJSON(bytes.NewReader(dl.data), key)
	if err != nil || !rep.OK() {
		a.fail("the downloaded audit log does not verify: %v %+v", err, rep)
	}
	var doc struct {
		Events []models.ChainedEvent `json:"events"`
	}
	if err := json.Unmarshal(dl.data, &doc); err != nil {
		a.fail("the downloaded audit log does not parse: %v", err)
	}
	var mine []string
	for _, e := range doc.Events {
		if e.ObjectType == "request" && e.ObjectID == id {
			mine = append(mine, e.ToState)
		}
	}
	if !slices.Contains(mine, "revoked") || !slices.Contains(mine, "approved") {
		a.fail("the downloaded log's events of #%d reach the states %q, want approved and revoked among them", id, mine)
	}
}

// addAsset: the admin adds an asset to the inventory.
func (w *bfWalk) addAsset() {
	d := w.adam
	w.navigate(d, "/assets")
	d.submitForm("open the new asset form", `main a[href="/assets/new"]`, 200)
	d.wantPath("/assets/new")
	w.check(d, "asset-form")
	address := fmt.Sprintf("127.60.%d.10", w.index)
	d.step("fill the asset", chromedp.SendKeys(chromedp.CSS("#address"), address), chromedp.SendKeys(chromedp.CSS("#hostname"), "flow-"+w.tag()),
		chromedp.SendKeys(chromedp.CSS("#owner_team"), "platform"))
	d.submitForm("save the asset", "#save-asset", 200)
	d.wantPath("/assets")
	bfWantFlash(d)
	var stored models.Asset
	if err := w.db.Where("address = ?", address).First(&stored).Error; err != nil {
		d.fail("the new asset %s is not stored: %v", address, err)
	}
	w.check(d, "asset-saved")
}

// elementAttrs is the attribute attr of every element matching sel, in page order.
func (p *btPerson) elementAttrs(sel, attr string) []string {
	p.t.Helper()
	ctx, cancel := bpStepCtx(p)
	defer cancel()
	out, err := bpEval[[]string](ctx, `Array.from(document.querySelectorAll(`+btJS(sel)+`), e => e.getAttribute(`+btJS(attr)+`) || "")`)
	if err != nil {
		p.fail("read %s of %s: %v", attr, sel, err)
	}
	return out
}

// bfOpenDB opens the server's database beside it, to check what was stored.
func bfOpenDB(t *testing.T, file string) *gorm.DB {
	t.Helper()
	db, err := models.Open(t.Context(), file, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// bfDriftPool hands each walk a drift item of its own when it reaches the
// step: the demo web server's 8443 first, to the walks that start first,
// since it resolves once a walk's request for it is verified (a walk may
// start only when another ends: -parallel).
type bfDriftPool struct {
	mu    sync.Mutex
	items []models.DriftItem
}

func (p *bfDriftPool) take() models.DriftItem {
	p.mu.Lock()
	defer p.mu.Unlock()
	it := p.items[0]
	p.items = p.items[1:]
	return it
}

// bfRequestableDrift lists the live drift items one may turn into a
// request, the demo web server's 8443 first (bfDriftPool).
func bfRequestableDrift(t *testing.T, db *gorm.DB) []models.DriftItem {
	t.Helper()
	var items []models.DriftItem
	if err := db.Where("state = ? AND kind = ? AND filed_request_id IS NULL AND port > 0", "open", "open-unapproved").Order("id").Find(&items).Error; err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(items, func(a, b models.DriftItem) int {
		rank := func(d models.DriftItem) int {
			if d.Address == "127.10.0.10" && d.Port == 8443 {
				return 0
			}
			return 1
		}
		return rank(a) - rank(b)
	})
	return items
}

// bfInForceOf lists the openings in force that email owns.
func bfInForceOf(t *testing.T, db *gorm.DB, email string) []uint {
	t.Helper()
	var ids []uint
	err := db.Model(&models.Request{}).Joins("JOIN users ON users.id = requests.requester_id").
		Where("users.email = ? AND requests.state IN ?", email, requests.InForceStates).Order("requests.id").Pluck("requests.id", &ids).Error
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
