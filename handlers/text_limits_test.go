package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Issue 12 item 3, in the browser: the forms show each limit (maxlength
// and "up to N characters"), and over-long input is refused naming the
// field, with the form shown again holding what was typed.
func TestFormsShowAndKeepTextLimits(t *testing.T) {
	english := message.NewPrinter(language.English) // the hints group digits: 10,000
	a := newApp(t)
	alice := a.as("alice")
	form := a.body(a.get(alice, "/requests/new"))
	for _, want := range []string{
		fmt.Sprintf(`maxlength="%d"`, core.Limits.Title), english.Sprintf("up to %d characters", core.Limits.Title),
		fmt.Sprintf(`maxlength="%d"`, core.Limits.Justification), english.Sprintf("up to %d characters", core.Limits.Justification),
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
	if body := a.body(a.get(alice, page)); !strings.Contains(body, english.Sprintf("up to %d characters", core.Limits.Comment)) {
		t.Error("the comment box does not show its limit")
	}
	draft := strings.Repeat("c", core.Limits.Comment+1)
	resp = a.post(alice, page+"/comments", url.Values{"body": {draft}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="body-error"`) || !strings.Contains(body, draft) {
		t.Errorf("over-long comment: %d, error or draft missing", resp.StatusCode)
	}
	reason := strings.Repeat("r", core.Limits.Reason+1)
	resp = a.post(alice, page+"/cancel", url.Values{"reason": {reason}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "the reason is") || !strings.Contains(body, ">"+reason+"</textarea>") {
		t.Errorf("over-long cancel reason: %d, error or reason missing", resp.StatusCode)
	}
	// The API is bound by the same limits.
	var e apiErr
	if st := a.api("alice", http.MethodPost, page+"/cancel", map[string]string{"reason": reason}, &e); st != http.StatusBadRequest || e.Error.Field != "reason" {
		t.Errorf("API cancel with an over-long reason: %d %+v", st, e)
	}
}

// The drift and re-certification forms keep what was typed when over-long
// input is refused: suppress reason, re-certify justification, lapse reason
// and campaign name.
func TestRefusedDriftAndRecertFormsKeepText(t *testing.T) {
	a := newApp(t)
	lee, alice := a.as("lee"), a.as("alice")
	now := time.Now().UTC()
	d := models.DriftItem{Key: "open-unapproved|127.40.0.15|tcp|8081", Kind: "open-unapproved", Severity: "high",
		Address: "127.40.0.15", Protocol: "tcp", Port: 8081, State: "open", FirstSeen: now, LastSeen: now}
	if err := a.svc.DB().Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	until := now.AddDate(0, 1, 0).Format("2006-01-02")
	reason := strings.Repeat("s", core.Limits.Reason+1)
	dID := strconv.FormatUint(uint64(d.ID), 10)
	r := a.post(lee, "/drift/"+dID+"/suppress", url.Values{"reason": {reason}, "until": {until}})
	body := a.body(r)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="reason-`+dID+`-error"`) ||
		!strings.Contains(body, `value="`+reason+`"`) || !strings.Contains(body, `value="`+until+`"`) || !strings.Contains(body, "<details open") {
		t.Errorf("over-long suppress reason: %d; want 400 with the form open, its error and the typed reason and date", r.StatusCode)
	}
	r = a.post(lee, "/drift/"+dID+"/suppress", url.Values{"reason": {"maintenance window"}, "until": {"next week"}})
	if body := a.body(r); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `value="maintenance window"`) {
		t.Errorf("bad suppress date: %d; want 400 keeping the reason", r.StatusCode)
	}
	var still models.DriftItem
	if a.svc.DB().First(&still, d.ID); still.State != "open" {
		t.Errorf("drift item is %s after refused suppressions, want open", still.State)
	}

	name := strings.Repeat("n", core.Limits.Name+1)
	due := now.AddDate(1, 0, 0).Format("2006-01-02")
	r = a.post(lee, "/recertification/campaigns", url.Values{"name": {name}, "due_by": {due}})
	if body := a.body(r); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="name-error"`) || !strings.Contains(body, `value="`+name+`"`) || !strings.Contains(body, `value="`+due+`"`) {
		t.Errorf("over-long campaign name: %d; want 400 with the name's error and what was typed", r.StatusCode)
	}
	if r := a.post(lee, "/recertification/campaigns", url.Values{"name": {"Yearly"}, "due_by": {due}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", r.StatusCode, a.body(r))
	}
	m := regexp.MustCompile(`/recertification/items/(\d+)/recertify`).FindStringSubmatch(a.body(a.get(alice, "/recertification")))
	if m == nil {
		t.Fatal("alice has nothing to re-certify")
	}
	item := m[1]
	justification := strings.Repeat("j", core.Limits.Justification+1)
	expires := now.AddDate(0, 2, 0).Format("2006-01-02")
	r = a.post(alice, "/recertification/items/"+item+"/recertify", url.Values{"justification": {justification}, "expires_at": {expires}})
	if body := a.body(r); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="justification-`+item+`-error"`) ||
		!strings.Contains(body, ">"+justification+"</textarea>") || !strings.Contains(body, `value="`+expires+`"`) {
		t.Errorf("over-long justification: %d; want 400 with its error, the text and the date typed", r.StatusCode)
	}
	lapse := strings.Repeat("l", core.Limits.Reason+1)
	r = a.post(alice, "/recertification/items/"+item+"/lapse", url.Values{"reason": {lapse}})
	body = a.body(r)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="lapse-`+item+`-reason-error"`) || !strings.Contains(body, ">"+lapse+"</textarea>") {
		t.Errorf("over-long lapse reason: %d; want 400 with its error and the reason typed", r.StatusCode)
	}
	// The page's message names the field as the form does, not by its path.
	if strings.Contains(body, ">reason: ") || !strings.Contains(body, ">Reason: ") {
		t.Errorf("the refused lapse's message should name the field \"Reason\", not \"reason\"")
	}
	var rc models.Recertification
	if a.svc.DB().First(&rc, item); rc.Status != "pending" {
		t.Errorf("re-certification item is %s after refused decisions, want pending", rc.Status)
	}
}

// The drift list's acknowledge form takes the comment the handler always
// accepted (it had no input, so nothing typed reached it): labelled, its
// limit shown, an over-long one refused beside the field and kept, a good
// one written with the acknowledgement.
func TestDriftAcknowledgeTakesAComment(t *testing.T) {
	a := newApp(t)
	lee := a.as("lee")
	now := time.Now().UTC()
	d := models.DriftItem{Key: "open-unapproved|127.40.3.1|tcp|9100", Kind: "open-unapproved", Severity: "high",
		Address: "127.40.3.1", Protocol: "tcp", Port: 9100, State: "open", FirstSeen: now, LastSeen: now}
	if err := a.svc.DB().Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatUint(uint64(d.ID), 10)
	page := a.body(a.get(lee, "/drift"))
	for _, want := range []string{`<label for="ack-comment-` + id + `">Comment (optional)</label>`, `name="comment"`,
		fmt.Sprintf(`maxlength="%d"`, core.Limits.Comment), `id="ack-comment-` + id + `-limit"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the drift list lacks %s", want)
		}
	}
	long := strings.Repeat("c", core.Limits.Comment+1)
	r := a.post(lee, "/drift/"+id+"/acknowledge", url.Values{"comment": {long}})
	if body := a.body(r); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="ack-comment-`+id+`-error"`) || !strings.Contains(body, `value="`+long+`"`) {
		t.Errorf("over-long comment: %d; want 400 with the comment's error and what was typed", r.StatusCode)
	}
	if a.svc.DB().First(&d, d.ID); d.State != "open" {
		t.Fatalf("refused acknowledgement left the item %s", d.State)
	}
	if r := a.post(lee, "/drift/"+id+"/acknowledge", url.Values{"comment": {"seen; the owner is told"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", r.StatusCode)
	}
	var ev models.AuditEvent
	if err := a.svc.DB().Where("object_id = ? AND comment = ?", d.ID, "seen; the owner is told").First(&ev).Error; err != nil {
		t.Errorf("the acknowledgement's comment is not in the audit log: %v", err)
	}
}
