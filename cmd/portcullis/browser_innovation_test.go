package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portcullis/portcullis/workflow/policy"
)

// TestBrowserInnovationTier: an admin makes the payment gateway's
// application a new business; the requester's form asks the security
// assessment as soon as the destination is that asset, refuses to submit
// without the answers (keeping what was typed), accepts them; the reviewer
// reads the answers and the control they add to the checklist; the
// approval takes two people.
func TestBrowserInnovationTier(t *testing.T) {
	b := newBrowserEnv(t)

	d := b.login("adam@demo.portcullis.test")
	d.open("/admin/applications", 200)
	row := `tr[data-application="Payment gateway"]`
	d.step("choose the innovation tier", btChoose(row+` select[name="tier"]`, "innovation"))
	d.submitForm("set the tier", row+` button[type="submit"]`, 200)
	d.wantFlash(`Application "Payment gateway" is now innovation tier.`)
	if v := d.value(row + ` select[name="tier"]`); v != "innovation" {
		d.fail("the Payment gateway's tier reads %q after setting it", v)
	}

	a := b.login(btAlice)
	title := "Wallet checkout " + btUniq()
	a.open("/requests/new", 200)
	if a.count(`#assessment textarea`) != 0 {
		a.fail("the empty form already asks the security assessment")
	}
	a.fillRequestHeader(title, "The new wallet's checkout calls the payment gateway.")
	a.fillRule(0, btRule{source: "transit", destination: "127.50.0.10", protocol: "tcp", ports: "443", service: "http"})
	a.step("wait for the questionnaire", chromedp.WaitVisible(chromedp.CSS(`[id="assessment.data_handled"]`)))
	if s := a.text("#assessment"); !strings.Contains(s, "Payment gateway") || !strings.Contains(s, "at most 30 days") {
		a.fail("the questionnaire should name the application and the 30-day limit; it reads:\n%s", s)
	}
	if n := a.count(`#assessment textarea`); n != 4 {
		a.fail("the questionnaire has %d questions, want the 4 defaults", n)
	}
	within := time.Now().UTC().AddDate(0, 0, 20).Format("2006-01-02")
	a.step("set an expiry within the limit", chromedp.SetValue(chromedp.CSS("#expires_at"), within))
	a.step("answer one question", chromedp.SendKeys(chromedp.CSS(`[id="assessment.data_handled"]`), "card tokens, no card numbers"))
	a.settle()

	// Submitting with three questions unanswered is refused; nothing is lost.
	a.submitForm("save and submit without every answer", "#save-submit", 400)
	if s := a.text(`[id="assessment.owner_on_call-error"]`); !strings.Contains(s, "needs an answer") {
		a.fail("the unanswered owner question should say it needs an answer; it reads %q", s)
	}
	if attrs := a.attrs(`[id="assessment.exposure"]`); attrs["aria-invalid"] != "true" {
		a.fail("the unanswered exposure question is not marked invalid: %v", attrs)
	}
	if v := a.value("#title"); v != title {
		a.fail("the title came back as %q, want %q", v, title)
	}
	if v := a.value(`[id="assessment.data_handled"]`); v != "card tokens, no card numbers" {
		a.fail("the typed answer came back as %q", v)
	}
	if v := a.value(`[id="rules[0].destination"]`); v != "127.50.0.10" {
		a.fail("the destination came back as %q", v)
	}
	answers := map[string]string{
		"exposure":       "the wallet's checkout service in transit only",
		"authentication": "mutual TLS with a client certificate per service",
		"owner_on_call":  "ventures team, on-call rota 'wallet'",
	}
	for id, text := range answers {
		a.step("answer "+id, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`[id="assessment.%s"]`, id)), text))
	}
	a.settle()
	a.submitForm("save and submit with every answer", "#save-submit", 200)
	id := a.requestIDFromURL()
	a.wantFlash(fmt.Sprintf("Request #%d submitted for review.", id))
	a.wantState("submitted")
	if s := a.text("#summary"); !strings.Contains(s, "innovation tier") || !strings.Contains(s, "needs two approvals") {
		a.fail("the summary should mark the innovation tier and two approvals; it reads:\n%s", s)
	}

	// Rita reads the assessment on the review page and approves: the first of two.
	r := b.login(btRita)
	r.open(fmt.Sprintf("/requests/%d/review", id), 200)
	s := r.text("#assessment-answers")
	for _, text := range append([]string{"card tokens, no card numbers"}, answers["owner_on_call"], answers["authentication"]) {
		if !strings.Contains(s, text) {
			r.fail("the review page's assessment lacks %q; it reads:\n%s", text, s)
		}
	}
	if page := r.text("main"); !strings.Contains(page, policy.ControlAssessment) {
		r.fail("the checklist does not carry the assessment control %q", policy.ControlAssessment)
	}
	r.step("confirm the zones", chromedp.Click(chromedp.CSS("#zone_confirmed")))
	r.passChecklist()
	r.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	r.submitForm("record the review", "#decide", 200)
	r.wantState("in review")
	if s := r.text("#awaiting-second"); !strings.Contains(s, "awaiting the second approval") {
		r.fail("an innovation request should await the second approval after the first; #awaiting-second reads %q", s)
	}

	// Lee gives the second approval, and reads the assessment there too.
	l := b.login(btLee)
	l.open(fmt.Sprintf("/requests/%d/approve", id), 200)
	if s := l.text("#assessment-answers"); !strings.Contains(s, answers["exposure"]) {
		l.fail("the second-approval page's assessment reads:\n%s", s)
	}
	l.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	l.submitForm("record the second approval", "#decide", 200)
	l.wantState("approved")

	// The rule register marks it.
	l.open("/register", 200)
	if row := l.rowOf(fmt.Sprintf(`a[href="/requests/%d"]`, id)); !strings.Contains(row, "innovation") {
		l.fail("the register's row for #%d should carry the innovation badge: %q", id, row)
	}
}
