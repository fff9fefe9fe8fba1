package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
)

// Issue 12 item 3, in the browser: the forms show each limit (maxlength
// and "up to N characters"), and over-long input is refused naming the
// field, with the form shown again holding what was typed.
func TestFormsShowAndKeepTextLimits(t *testing.T) {
	a := newApp(t)
	alice := a.as("alice")
	form := a.body(a.get(alice, "/requests/new"))
	for _, want := range []string{
		fmt.Sprintf(`maxlength="%d"`, core.Limits.Title), fmt.Sprintf("up to %d characters", core.Limits.Title),
		fmt.Sprintf(`maxlength="%d"`, core.Limits.Justification), fmt.Sprintf("up to %d characters", core.Limits.Justification),
	} {
		if !strings.Contains(form, want) {
			t.Errorf("the new request form lacks %q", want)
		}
	}
	in := url.Values{"title": {strings.Repeat("t", core.Limits.Title+1)}, "justification": {"kept <as typed>"}, "action": {"save"},
		"rules[0].source": {"transit"}, "rules[0].destination": {"127.50.0.10"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].direction": {"ingress"}}
	resp := a.post(alice, "/requests", in)
	body := a.body(resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="title-error"`) || !strings.Contains(body, "the title is 201 characters long") {
		t.Errorf("over-long title: %d, no error on the title", resp.StatusCode)
	}
	if !strings.Contains(body, html.EscapeString("kept <as typed>")) || !strings.Contains(body, strings.Repeat("t", core.Limits.Title+1)) {
		t.Error("the form shown again lost what was typed")
	}

	// A comment and a cancel reason on the request page.
	in.Set("title", "Within limits")
	resp = a.post(alice, "/requests", in)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", resp.StatusCode, a.body(resp))
	}
	page := resp.Header.Get("Location")
	if body := a.body(a.get(alice, page)); !strings.Contains(body, fmt.Sprintf("up to %d characters", core.Limits.Comment)) {
		t.Error("the comment box does not show its limit")
	}
	draft := strings.Repeat("c", core.Limits.Comment+1)
	resp = a.post(alice, page+"/comments", url.Values{"body": {draft}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="body-error"`) || !strings.Contains(body, draft) {
		t.Errorf("over-long comment: %d, error or draft missing", resp.StatusCode)
	}
	reason := strings.Repeat("r", core.Limits.Reason+1)
	resp = a.post(alice, page+"/cancel", url.Values{"reason": {reason}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "the reason is") || !strings.Contains(body, `value="`+reason+`"`) {
		t.Errorf("over-long cancel reason: %d, error or reason missing", resp.StatusCode)
	}
	// The API is bound by the same limits.
	var e apiErr
	if st := a.api("alice", http.MethodPost, page+"/cancel", map[string]string{"reason": reason}, &e); st != http.StatusBadRequest || e.Error.Field != "reason" {
		t.Errorf("API cancel with an over-long reason: %d %+v", st, e)
	}
}
