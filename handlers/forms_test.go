package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
)

// TestRequestFormSpeaksToPeople: the new-request form offers the whole
// service catalog, examples from the inventory and its limits; a refused
// form names the field as the form shows it and keeps what was typed.
func TestRequestFormSpeaksToPeople(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	form := a.body(a.get(alice, "/requests/new"))
	for _, want := range []string{
		`<datalist id="services"`, `<option value="https">`, `list="services"`,
		"A request holds at most 100 rules.", "Up to 64 addresses or CIDRs",
		`placeholder="for example 127.`, // an asset of the inventory, not a made-up address
	} {
		if !strings.Contains(form, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	in := url.Values{"title": {"Typed title"}, "justification": {"Typed why"}, "action": {"save"},
		"rules[0].source": {"10.0.0.0/33"}, "rules[0].destination": {"127.40.0.15"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].service": {"https"}}
	resp := a.post(alice, "/requests", in)
	body := a.body(resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`id="form-problems"`, "Rule 1, source: ", `href="#rules[0].source"`, `value="Typed title"`, "Typed why", `value="10.0.0.0/33"`, `value="https"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	if strings.Contains(body, "rules[0].source:") {
		t.Error("the refused form names a field by its path")
	}
	// The service catalog's https is accepted, and so is an egress rule
	// written the way people write it.
	in.Set("rules[0].source", "127.50.0.10/32")
	in.Set("rules[0].destination", "203.0.113.5")
	in.Set("rules[0].direction", "egress")
	if resp := a.post(alice, "/requests", in); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("egress as written: %d %s", resp.StatusCode, a.body(resp))
	}
}

// TestLiveFindingsBesideEachRule: the live evaluation answers each rule's
// findings into the box beside that rule, and its labels by direction.
func TestLiveFindingsBesideEachRule(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	in := url.Values{
		"rules[0].source": {"office"}, "rules[0].destination": {"127.40.0.15"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].service": {"https"},
		"rules[1].source": {"internet"}, "rules[1].destination": {"127.40.0.15"}, "rules[1].protocol": {"tcp"}, "rules[1].ports": {"3389"},
		"rules[2].source": {"127.50.0.10"}, "rules[2].destination": {"internet"}, "rules[2].protocol": {"tcp"}, "rules[2].ports": {"443"}, "rules[2].direction": {"egress"},
	}
	body := a.body(a.post(alice, "/requests/evaluate", in))
	box := func(i int) string {
		start := strings.Index(body, fmt.Sprintf(`<section id="rule-%d-findings" hx-swap-oob="innerHTML">`, i))
		if start < 0 {
			t.Fatalf("no box for rule %d in %.500s", i+1, body)
		}
		end := strings.Index(body[start:], "</section>")
		return body[start : start+end]
	}
	if b := box(1); !strings.Contains(b, "internet-high-risk") {
		t.Errorf("rule 2 (RDP from the internet) box: %s", b)
	}
	if b := box(0); strings.Contains(b, "internet-high-risk") {
		t.Errorf("rule 1 shows rule 2's finding: %s", b)
	}
	if b := box(2); !strings.Contains(b, "egress") || strings.Contains(b, "has no addresses") {
		t.Errorf("rule 3 (egress to internet) box: %s", b)
	}
	if !strings.Contains(body, `<span id="rule-2-source-label" hx-swap-oob="outerHTML">`) || !strings.Contains(body, "our assets that connect out") {
		t.Error("the egress rule's labels are not swapped")
	}
}

// TestAPIErrorsNameFieldsForPeople: the API keeps the path in `field` and
// names the field as people see it in `message`.
func TestAPIErrorsNameFieldsForPeople(t *testing.T) {
	a := newApp(t)
	var e apiErr
	st := a.api("alice", http.MethodPost, "/requests", map[string]any{"title": "t", "justification": "j",
		"rules": []map[string]any{{"source": "10.0.0.0/33", "destination": []string{"127.40.0.15"}, "protocol": "tcp", "ports": "443"}}}, &e)
	if st != http.StatusBadRequest || e.Error.Field != "rules[0].source" || !strings.HasPrefix(e.Error.Message, "Rule 1, source: ") {
		t.Fatalf("%d %+v", st, e)
	}
}

// TestRefusedFormsKeepWhatWasTyped walks every form of a request's life
// with over-long or missing text: each is shown again with the error and
// what was typed.
func TestRefusedFormsKeepWhatWasTyped(t *testing.T) {
	a := newApp(t)
	alice, rita, ivan := a.as("alice"), a.as("rita"), a.as("ivan")
	file := func(title string) string {
		t.Helper()
		resp := a.post(alice, "/requests", url.Values{"title": {title}, "justification": {"x"}, "action": {"save"},
			"rules[0].source": {"transit"}, "rules[0].destination": {"127.50.0.10"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].service": {"https"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("file %s: %d %s", title, resp.StatusCode, a.body(resp))
		}
		return resp.Header.Get("Location")
	}
	step := func(c *http.Client, path string, form url.Values) {
		t.Helper()
		if resp := a.post(c, path, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, a.body(resp))
		}
	}
	draft := file("Draft")
	submitted := file("Submitted")
	step(alice, submitted+"/submit", nil)
	approved := file("Approved")
	step(alice, approved+"/submit", nil)
	review := url.Values{"decision": {"approve"}, "zone_confirmed": {"1"}}
	for _, item := range requests.BaselineChecklist {
		review.Set("checklist."+item.ID, "pass")
	}
	step(rita, approved+"/review", review)
	long := func(n int) string { return strings.Repeat("k", n+1) }
	cases := []struct {
		name   string
		as     *http.Client
		path   string
		form   url.Values
		typed  string // what must be shown again
		marker string // the error shown
	}{
		{"cancel without a reason", alice, draft + "/cancel", url.Values{"reason": {""}}, `<details class="confirm" id="confirm-cancel" open`, "a reason is required to cancel"},
		{"cancel with an over-long reason", alice, draft + "/cancel", url.Values{"reason": {long(core.Limits.Reason)}}, long(core.Limits.Reason), "the reason is"},
		{"comment", alice, draft + "/comments", url.Values{"body": {long(core.Limits.Comment)}}, long(core.Limits.Comment), `id="body-error"`},
		{"review comment", rita, submitted + "/review", url.Values{"decision": {"approve"}, "comment": {long(core.Limits.Comment)}}, long(core.Limits.Comment), "the comment is"},
		{"implement note", ivan, approved + "/implement", url.Values{"change_ref": {"CHG-1"}, "note": {long(core.Limits.ChangeNote)}}, long(core.Limits.ChangeNote), "the note is"},
		{"revoke with an over-long reason", rita, approved + "/revoke", url.Values{"reason": {long(core.Limits.Reason)}}, long(core.Limits.Reason), "the reason is"},
		{"revoke without a reason", rita, approved + "/revoke", url.Values{"reason": {" "}}, `<details class="confirm" id="confirm-revoke" open`, "a reason is required to revoke"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := a.post(c.as, c.path, c.form)
			body := a.body(resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if !strings.Contains(body, c.typed) {
				t.Errorf("what was typed is not shown again (%.60s…)", c.typed)
			}
			if !strings.Contains(body, c.marker) {
				t.Errorf("no %q", c.marker)
			}
		})
	}
}
