package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRequestPageUpdatesItself: Alice keeps her request's page open
// while security approves it in sessions of their own; her page shows the
// approval by itself, in place (no reload), and says it was updated.
func TestBrowserRequestPageUpdatesItself(t *testing.T) {
	b := newBrowserEnv(t)

	a := b.login(btAlice)
	// On a phone, where its wide tables scroll in their boxes.
	a.step("phone width", chromedp.EmulateViewport(btPhoneWidth, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	a.open("/requests/new", 200)
	a.fillRequestHeader("Live page "+btUniq(), "The CRM's health endpoint is polled by the office monitoring box.")
	a.fillRule(0, btRule{source: "office", destination: "127.40.0.15", protocol: "tcp", ports: "8080", service: "http"})
	a.submitForm("save and submit", "#save-submit", 200)
	id := a.requestIDFromURL()
	a.wantState("submitted")
	submitted := a.text(`main > .flash[data-kind="ok"]`)
	if a.count("#live[data-src]") != 1 {
		a.fail("the request page has no change stream (#live)")
	}
	// A reload would lose this mark.
	a.step("mark the page", chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`))

	r := b.login(btRita)
	r.open(fmt.Sprintf("/requests/%d/review", id), 200)
	r.step("confirm the zones", chromedp.Click(chromedp.CSS("#zone_confirmed")))
	r.passChecklist()
	if r.count("#exception-path textarea") > 0 {
		r.fillControls(func(name string) string {
			return "Source limited to the monitoring host on the office firewall (" + name + ")."
		})
	}
	r.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	r.step("write a comment", chromedp.SendKeys(chromedp.CSS("#comment"), "Checked; HTTP health only."))
	r.submitForm("record the review", "#decide", 200)
	if r.text("#summary .badge") != "approved" {
		// It needs a second approval: Lee gives it.
		l := b.login(btLee)
		l.open(fmt.Sprintf("/requests/%d/approve", id), 200)
		l.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
		l.submitForm("record the second approval", "#decide", 200)
		l.wantState("approved")
	}

	a.step("wait for Alice's open page to show the approval",
		chromedp.Poll[chromedp.Void](`(() => { const b = document.querySelector("#summary .badge"); return !!b && b.innerText.trim() === "approved"; })()`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(browserStepTimeout)))
	if !a.eval(`window.__notReloaded === true`) {
		a.fail("the page was reloaded rather than updated in place")
	}
	if s := a.text("#live-status"); !strings.Contains(s, "Updated") {
		a.fail("the page does not say it was updated; #live-status reads %q", s)
	}
	// The confirmation of her own step is shown once; the swap keeps it.
	if got := a.text(`main > .flash[data-kind="ok"]`); got != submitted || submitted == "" {
		a.fail("after the live update the flash reads %q, want the submission's %q kept", got, submitted)
	}
	if tl := strings.Join(a.texts("#timeline > li"), "\n"); !strings.Contains(tl, btRita) {
		a.fail("the updated timeline lacks Rita's review:\n%s", tl)
	}
	// The swapped-in tables that scroll in their boxes are reachable with
	// the keyboard, as on a page loaded whole (tables.js marks them).
	wide := `Array.from(document.querySelectorAll("main table, main .table-scroll")).filter(t => t.scrollWidth > t.clientWidth + 1)`
	if n := a.count("main table"); n == 0 || !a.eval(wide+`.length > 0`) {
		a.fail("at %d px the request page should have a table wider than its box (%d tables)", btPhoneWidth, n)
	}
	if !a.eval(wide + `.every(t => t.getAttribute("tabindex") === "0")`) {
		a.fail("after the live update a table that scrolls in its box cannot be reached with the keyboard (no tabindex)")
	}
}
