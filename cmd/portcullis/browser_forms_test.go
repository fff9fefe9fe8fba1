package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFormsSpeakToPeople walks the new-request form as a requester:
// she types a rule and sees its findings beside it, picks https from the
// searchable service list, sends the form with a bad source and reads
// "Rule 1, source" with everything she typed kept; then cancels a request,
// and a reviewer revokes an opening, each behind a confirmation that asks
// why.
func TestBrowserFormsSpeakToPeople(t *testing.T) {
	b := newBrowserEnv(t)

	a := b.login(btAlice)
	title := "Remote desktop for the vendor " + btUniq()
	a.open("/requests/new", 200)
	if a.count(`#services option[value="https"]`) != 1 || a.count(`#services option`) < 50 {
		a.fail("the service list does not hold the port catalog (https included): %d options", a.count(`#services option`))
	}
	if ph := a.attrs(`[id="rules[0].destination"]`)["placeholder"]; !strings.Contains(ph, "127.") {
		a.fail("the destination's example %q is not an asset of the inventory", ph)
	}
	a.fillRequestHeader(title, "The vendor supports the CRM host remotely.")
	a.fillRule(0, btRule{source: "internet", destination: "127.40.0.15", protocol: "tcp", ports: "3389"})
	a.waitRuleFinding(0, "internet-high-risk")
	if !a.eval(`document.getElementById("rule-0").contains(document.querySelector("#rule-0-findings .finding"))`) {
		a.fail("the finding is not shown beside (inside) rule 1")
	}
	if !a.eval(`!!(document.querySelector("#rule-0-findings").compareDocumentPosition(document.querySelector("#save")) & Node.DOCUMENT_POSITION_FOLLOWING)`) {
		a.fail("the rule's findings are below the buttons")
	}

	// The service picker searches the catalog as one types.
	a.step("search the service list", chromedp.SendKeys(btRuleField(0, "service"), "http"))
	if n := a.count(`#services option[value^="http"]`); n < 2 {
		a.fail("the catalog offers %d services starting with http", n)
	}
	a.step("pick https", chromedp.SendKeys(btRuleField(0, "service"), "s"))
	a.settle()
	if v := a.value(`[id="rules[0].service"]`); v != "https" {
		a.fail("the service reads %q, want https", v)
	}

	// A bad source: the form comes back naming the field as people see it.
	a.step("type a bad source", btClear(0, "source"), chromedp.SendKeys(btRuleField(0, "source"), "10.0.0.0/33"))
	a.settle()
	a.submitForm("save the form", "#save", 400)
	problems := a.text("#form-problems")
	btWantAll(a, "the list of problems", problems, "Rule 1, source")
	if strings.Contains(problems, "rules[0]") {
		a.fail("the problems name a field by its path: %q", problems)
	}
	for sel, want := range map[string]string{"#title": title, `[id="rules[0].source"]`: "10.0.0.0/33", `[id="rules[0].ports"]`: "3389", `[id="rules[0].service"]`: "https"} {
		if v := a.value(sel); v != want {
			a.fail("%s came back as %q, want %q", sel, v, want)
		}
	}

	// A sound rule saves; cancelling it asks to confirm, with a reason.
	a.step("fix the rule", btClear(0, "source"), chromedp.SendKeys(btRuleField(0, "source"), "transit"),
		btClear(0, "destination"), chromedp.SendKeys(btRuleField(0, "destination"), "127.50.0.10"),
		btClear(0, "ports"), chromedp.SendKeys(btRuleField(0, "ports"), "443"))
	a.settle()
	a.submitForm("save the draft", "#save", 200)
	id := a.requestIDFromURL()
	if a.eval(`document.getElementById("confirm-cancel-reason").checkVisibility()`) {
		a.fail("the cancel reason shows before the person asked to cancel")
	}
	a.step("ask to cancel", chromedp.Click(chromedp.CSS("#confirm-cancel > summary")))
	btWantAll(a, "the cancel confirmation", a.text("#confirm-cancel-question"), fmt.Sprintf("Cancel request #%d?", id), "Give a reason")
	a.step("confirm without a reason", chromedp.Click(chromedp.CSS("#confirm-cancel-submit")))
	time.Sleep(300 * time.Millisecond)
	if !a.eval(`!document.getElementById("confirm-cancel-reason").validity.valid`) {
		a.fail("the browser let the cancel go without a reason")
	}
	a.wantState("draft")
	a.step("give the reason", chromedp.SendKeys(chromedp.CSS("#confirm-cancel-reason"), "Filed against the wrong host."))
	a.submitForm("cancel the request", "#confirm-cancel-submit", 200)
	a.wantState("cancelled")
	btWantAll(a, "the timeline", a.text("#timeline"), "Filed against the wrong host.")

	// A reviewer revokes an opening in force the same way.
	r := b.login(btRita)
	r.open("/register", 200)
	href := r.attrs(`main a[href^="/requests/"]`)["href"]
	r.open(href, 200)
	r.step("ask to revoke", chromedp.Click(chromedp.CSS("#confirm-revoke > summary")))
	btWantAll(r, "the revoke confirmation", r.text("#confirm-revoke-question"), "Revoke request #", "Give a reason")
	r.step("give the reason", chromedp.SendKeys(chromedp.CSS("#confirm-revoke-reason"), "The vendor contract ended."))
	r.submitForm("revoke the opening", "#confirm-revoke-submit", 200)
	r.wantState("revoked")
}

// waitRuleFinding waits until the findings beside rule i show code.
func (p *btPerson) waitRuleFinding(i int, code string) {
	p.t.Helper()
	sel := fmt.Sprintf("#rule-%d-findings .finding", i)
	p.step(fmt.Sprintf("wait for the finding %s beside rule %d", code, i+1),
		chromedp.Poll[chromedp.Void](`Array.from(document.querySelectorAll(`+btJS(sel)+`)).some(e => e.innerText.includes(`+btJS(code)+`))`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browserStepTimeout)))
}

// btClear empties a field of rule i, as selecting its text and deleting it does.
func btClear(i int, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + btJS(fmt.Sprintf(`[name="rules[%d].%s"]`, i, name)) + `).value = ""`)
}
