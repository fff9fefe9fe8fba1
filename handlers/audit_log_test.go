package handlers

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	seqCell  = regexp.MustCompile(`<td class="mono">(\d+)</td>`)
	nextLink = regexp.MustCompile(`<a class="button secondary" rel="next" href="([^"]+)"`)
)

// TestAuditLogBrowserWalksEveryEvent follows the Next links of the audit
// log from the newest event to the first: every event once, newest first.
func TestAuditLogBrowserWalksEveryEvent(t *testing.T) {
	a := newApp(t)
	aude := a.as("aude")
	var total int64
	if err := a.svc.DB().Table("audit_events").Count(&total).Error; err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	prev := 0
	href := "/audit/log?limit=40"
	for pages := 0; href != ""; pages++ {
		r := a.get(aude, href)
		body := a.body(r)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", href, r.StatusCode)
		}
		if pages > 0 && !strings.Contains(body, "First page") {
			t.Fatalf("page %d has no First page link", pages)
		}
		for _, m := range seqCell.FindAllStringSubmatch(body, -1) {
			seq, _ := strconv.Atoi(m[1])
			if seen[seq] || (prev != 0 && seq >= prev) {
				t.Fatalf("event %d after %d", seq, prev)
			}
			seen[seq], prev = true, seq
		}
		href = ""
		if m := nextLink.FindStringSubmatch(body); m != nil {
			href = html.UnescapeString(m[1])
			if !strings.Contains(href, "limit=40") {
				t.Fatalf("the Next link drops the filters: %s", href)
			}
		}
	}
	if len(seen) < int(total) || prev != 1 {
		t.Fatalf("walked %d events down to %d; the log holds %d", len(seen), prev, total)
	}
	// One request's timeline; bad filters are named.
	if body := a.body(a.get(aude, "/audit/log?object_type=request&object_id=1")); !strings.Contains(body, `href="/requests/1"`) || strings.Contains(body, "request #2<") {
		t.Fatal("the request filter shows other objects or none")
	}
	for _, q := range []string{"object_type=request", "object_id=x&object_type=request", "before=yesterday", "cursor=zz", "limit=500"} {
		if r := a.get(aude, "/audit/log?"+q); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d", q, r.StatusCode)
		}
	}
	if r := a.get(a.as("alice"), "/audit/log"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a requester reads the log: %d", r.StatusCode)
	}
}

// TestRecertificationListsPage walks a campaign's items one at a time by
// the Next links: every item once, the campaign's progress on every page.
func TestRecertificationListsPage(t *testing.T) {
	a := newApp(t)
	lee, aude := a.as("lee"), a.as("aude")
	due := time.Now().UTC().AddDate(1, 0, 0).Format("2006-01-02")
	r := a.post(lee, "/recertification/campaigns", url.Values{"name": {"Paged"}, "due_by": {due}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", r.StatusCode)
	}
	campaign := r.Header.Get("Location")
	var want int64
	if err := a.svc.DB().Table("recertifications").Count(&want).Error; err != nil || want < 2 {
		t.Fatalf("%d items (%v): the demo needs openings due", want, err)
	}
	item := regexp.MustCompile(`<a href="/requests/(\d+)">`)
	seen := map[string]bool{}
	href := campaign + "?limit=1"
	for href != "" {
		body := a.body(a.get(aude, href))
		if !strings.Contains(body, "Progress by owner team") {
			t.Fatalf("%s lost the progress table", href)
		}
		for _, m := range item.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("request %s listed twice", m[1])
			}
			seen[m[1]] = true
		}
		href = ""
		if m := nextLink.FindStringSubmatch(body); m != nil {
			href = html.UnescapeString(m[1])
		}
	}
	if int64(len(seen)) != want {
		t.Fatalf("walked %d items, the campaign has %d", len(seen), want)
	}
	if r := a.get(aude, "/recertification?campaigns_cursor=nonsense"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad cursor: %d", r.StatusCode)
	}
}
