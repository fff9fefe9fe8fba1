package main

// Browser tests of the policy engine: the live findings of the request
// form, the exception path with compensating controls, and the admin's
// what-if preview. The environment and helpers are in browser_test.go.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var btAdam = "adam@demo.portcullis.test" // admin

// TestBrowserPolicyException files a request the policy blocks (MySQL from
// the internet), sees the blocking finding live in the form before saving,
// and takes it through the exception path: refused without compensating
// controls, first approval with them, second approval by a security lead,
// and the exception marked on the request and in the register.
func TestBrowserPolicyException(t *testing.T) {
	b := newBrowserEnv(t)

	// Alice types the rule; htmx shows the findings before anything is saved.
	a := b.login(btAlice)
	title := "Partner reads the CRM cache database " + btUniq()
	a.open("/requests/new", 200)
	if a.count("#findings-table") != 0 {
		a.fail("the empty form already shows a findings table")
	}
	before := a.location()
	a.fillRequestHeader(title, "The partner's reporting tool reads the CRM tables directly; the export job is broken.")
	a.fillRule(0, btRule{source: "internet", destination: "127.40.0.16", protocol: "tcp", ports: "3306", service: "mysql"})
	a.waitRuleFinding(0, "internet-high-risk")
	if !a.eval(`Array.from(document.querySelectorAll("#rule-0-findings .finding")).some(e => e.innerText.includes("internet-high-risk") && e.innerText.includes("blocking"))`) {
		a.fail("the finding beside rule 1 is not marked blocking")
	}
	if after := a.location(); after != before {
		a.fail("the findings should appear in place through htmx; the page went from %s to %s", before, after)
	}
	a.submitForm("save and submit", "#save-submit", 200)
	id := a.requestIDFromURL()
	a.wantFlash(fmt.Sprintf("Request #%d submitted for review.", id))
	a.wantState("submitted")
	if row := a.findingRow("#findings-table", "internet-high-risk"); !strings.Contains(row, "blocking") {
		a.fail("the request page's finding internet-high-risk should be blocking: %q", row)
	}
	if a.count("#exception") != 0 {
		a.fail("a request nobody reviewed yet is marked #exception")
	}

	// Rita approves without compensating controls: refused, with the
	// message next to the control field, and nothing recorded.
	r := b.login(btRita)
	r.open(fmt.Sprintf("/requests/%d/review", id), 200)
	items := r.passChecklist()
	r.step("confirm the zones", chromedp.Click(chromedp.CSS("#zone_confirmed")))
	const key = "0:internet-high-risk"
	field, errID := "control."+key, "control."+key+"-error"
	if r.count(fmt.Sprintf(`#exception-path textarea[id=%q]`, field)) != 1 {
		r.fail("the exception path should offer the field %s for the blocking finding", field)
	}
	r.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	r.submitForm("approve without compensating controls", "#decide", 400)
	r.wantPath(fmt.Sprintf("/requests/%d/review", id))
	if s := r.text("#form-error"); !strings.Contains(s, "not recorded") {
		r.fail("#form-error should say the decision was not recorded; it reads %q", s)
	}
	if s := r.text(fmt.Sprintf(`[id=%q]`, errID)); !strings.Contains(s, "compensating control") || !strings.Contains(s, "internet-high-risk") {
		r.fail("the message next to %s should ask for the compensating control of internet-high-risk; it reads %q", field, s)
	}
	if !r.eval(fmt.Sprintf(`document.getElementById(%s).parentElement.contains(document.getElementById(%s))`, btJS(field), btJS(errID))) {
		r.fail("the message #%s is not next to its field #%s", errID, field)
	}
	if d := r.attrs(fmt.Sprintf(`[id=%q]`, field))["aria-describedby"]; !strings.Contains(d, errID) {
		r.fail("the field %s should be described by #%s; aria-describedby is %q", field, errID, d)
	}
	r.wantState("submitted")
	// What Rita answered is kept.
	for _, n := range items {
		if !r.eval(fmt.Sprintf(`document.querySelector('input[name=%q][value="pass"]').checked`, n)) {
			r.fail("after the refusal the checklist item %s is no longer ticked pass", n)
		}
	}
	if !r.eval(`document.getElementById("zone_confirmed").checked`) || !r.eval(`document.querySelector('input[name="decision"][value="approve"]').checked`) {
		r.fail("after the refusal the zone confirmation or the decision approve is no longer ticked")
	}
	a.open(fmt.Sprintf("/requests/%d", id), 200)
	a.wantState("submitted")
	if tl := a.texts("#timeline > li"); len(tl) != 2 {
		a.fail("after the refused approval the timeline should hold only create and submit:\n%s", strings.Join(tl, "\n"))
	}

	// Rita writes the controls and approves: the first of two approvals.
	controls := r.fillControls(func(string) string {
		return "MySQL reachable only through the partner's IPsec tunnel; TLS and per-partner account enforced."
	})
	if got := slices.Sorted(maps.Keys(controls)); !slices.Contains(got, field) {
		r.fail("the exception path asks for %v, want it to include %s", got, field)
	}
	control := controls[field]
	r.submitForm("approve with compensating controls", "#decide", 200)
	r.wantPath(fmt.Sprintf("/requests/%d", id))
	r.wantFlash(fmt.Sprintf("Your decision on request #%d is recorded.", id))
	r.wantState("in review")
	if s := r.text("#awaiting-second"); !strings.Contains(s, btRita) || !strings.Contains(s, "awaiting the second approval") {
		r.fail("#awaiting-second should name the first approver %s and say it awaits the second approval; it reads %q", btRita, s)
	}
	if s := r.text("#exception"); s != "policy exception" {
		r.fail("after the first approval on the exception path #exception reads %q, want \"policy exception\"", s)
	}

	// Lee gives the second approval.
	l := b.login(btLee)
	l.open(fmt.Sprintf("/requests/%d/approve", id), 200)
	if s := l.text("main"); !strings.Contains(s, "This request is a policy exception") || !strings.Contains(s, control) {
		l.fail("the second-approval page should say the request is a policy exception and show the compensating control %q", control)
	}
	l.step("choose approve", chromedp.Click(chromedp.CSS(`input[type=radio][name="decision"][value="approve"]`)))
	l.submitForm("record the second approval", "#decide", 200)
	l.wantPath(fmt.Sprintf("/requests/%d", id))
	l.wantState("approved")
	if s := l.text("#exception"); s != "policy exception" {
		l.fail("the approved exception's #exception reads %q, want \"policy exception\"", s)
	}
	if row := l.findingRow("#findings-table", "internet-high-risk"); !strings.Contains(row, "Compensating control: "+control) {
		l.fail("the request page should show the compensating control %q with its finding: %q", control, row)
	}

	// The register lists the rule, marked as an exception.
	l.open("/register", 200)
	row := l.rowOf(fmt.Sprintf(`a[href="/requests/%d"]`, id))
	btWantAll(l, "the register's row", row, title, "internet", "127.40.0.16", "tcp", "3306", "mysql", "approved", btRita, btLee)
	if l.count(fmt.Sprintf(`tr:has(a[href="/requests/%d"]) td:last-child .badge`, id)) != 1 || !strings.HasSuffix(strings.TrimSpace(row), "exception") {
		l.fail("the register's row for #%d should carry the exception badge in its Exception column: %q", id, row)
	}
}

// TestBrowserPolicyWhatIf previews a stricter zone matrix as the admin:
// the approved demo rule from the internet to the DMZ would become a
// violation, and nothing is saved.
func TestBrowserPolicyWhatIf(t *testing.T) {
	b := newBrowserEnv(t)

	m := b.login(btAdam)
	const cell = "#m\\.internet\\.dmz"
	m.open("/admin/policy", 200)
	if m.count("#what-if") != 0 {
		m.fail("the policy page shows #what-if before any preview")
	}
	if v := m.value(cell); v != "web" {
		m.fail("the matrix cell internet → dmz reads %q, want the shipped web", v)
	}
	m.step("deny internet → dmz", btChoose(cell, "deny"))
	m.submitForm("preview the matrix", "#matrix-preview", 200)
	m.wantPath("/admin/policy/matrix")
	if m.count(`main .flash[role="status"]`) != 0 {
		m.fail("a preview should not announce a save: %q", m.text(`main .flash[role="status"]`))
	}
	whatIf := m.text("#what-if")
	t.Logf("the what-if of internet → dmz: deny reads:\n%s", whatIf)
	if !strings.Contains(whatIf, "Nothing was saved yet") {
		m.fail("#what-if should say nothing was saved yet:\n%s", whatIf)
	}
	links := m.texts("#what-if > ul > li > a")
	if len(links) == 0 {
		m.fail("#what-if lists no active rule that would become a violation:\n%s", whatIf)
	}
	if !slices.ContainsFunc(links, func(s string) bool { return strings.Contains(s, `"Website over HTTPS"`) }) {
		m.fail("#what-if should list the approved demo rule \"Website over HTTPS\" (internet → DMZ on 80,443); it lists %q", links)
	}
	if h := m.text("#what-if h2"); !strings.HasPrefix(h, fmt.Sprintf("What if: %d of ", len(links))) {
		m.fail("#what-if's heading %q does not count the %d rules it lists", h, len(links))
	}
	if v := m.value(cell); v != "deny" {
		m.fail("the previewed matrix should keep the proposed deny in the cell; it reads %q", v)
	}

	// Nothing was saved: the policy page still shows the matrix in force.
	m.open("/admin/policy", 200)
	if v := m.value(cell); v != "web" {
		m.fail("after a mere preview the matrix cell internet → dmz reads %q, want web (nothing saved)", v)
	}
	if m.count("#what-if") != 0 {
		m.fail("the reloaded policy page still shows #what-if")
	}
}

// findingRow is the text of the row of table (a findings table) for code.
func (p *btPerson) findingRow(table, code string) string {
	p.t.Helper()
	if p.count(table) == 0 {
		p.fail("there is no findings table %s on this page", table)
	}
	var row string
	for _, r := range p.texts(table + " tbody tr") {
		if strings.Contains(r, code) {
			row = r
		}
	}
	if row == "" {
		p.fail("the findings table %s has no row for %s", table, code)
	}
	return row
}
