package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
)

// Issue 12 item 4: posting the new-request form with drift_id linked an
// item the requester cannot see to an unrelated request, which hid "Turn
// into a request" from security.
func TestNewRequestFormDriftLink(t *testing.T) {
	a := newApp(t)
	now := time.Now().UTC()
	d := models.DriftItem{Key: "open-unapproved|127.40.0.15|tcp|8080", Kind: "open-unapproved", Severity: "high",
		Address: "127.40.0.15", Protocol: "tcp", Port: 8080, State: "open", FirstSeen: now, LastSeen: now}
	if err := a.svc.DB().Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	form := func(dest, ports string) url.Values {
		return url.Values{"title": {"Build dashboard"}, "justification": {"the team's build dashboard"}, "action": {"save"},
			"drift_id":        {strconv.FormatUint(uint64(d.ID), 10)},
			"rules[0].source": {"transit"}, "rules[0].destination": {dest}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {ports}, "rules[0].direction": {"ingress"}}
	}
	linked := func() *uint {
		var got models.DriftItem
		if err := a.svc.DB().First(&got, d.ID).Error; err != nil {
			t.Fatal(err)
		}
		return got.FiledRequestID
	}
	countRequests := func() int64 {
		var n int64
		a.svc.DB().Model(&models.Request{}).Count(&n)
		return n
	}
	before := countRequests()

	// Alice (requester only) cannot see drift.
	resp := a.post(a.as("alice"), "/requests", form("127.40.0.16", "6379"))
	if body := a.body(resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cannot see drift item") {
		t.Errorf("alice: %d %s", resp.StatusCode, body)
	}
	// Pat sees drift, but the request does not open what the item found.
	pat := a.as("pat")
	resp = a.post(pat, "/requests", form("127.40.0.16", "6379"))
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "none of the rules opens what drift item") || !strings.Contains(body, "127.40.0.16") {
		t.Errorf("pat, unrelated rules: %d %s", resp.StatusCode, body)
	}
	if linked() != nil || countRequests() != before {
		t.Fatalf("a refused link saved something: linked %v, requests %d -> %d", linked(), before, countRequests())
	}
	resp = a.post(pat, "/requests", form("127.40.0.15", "8080"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pat, matching rule: %d %s", resp.StatusCode, a.body(resp))
	}
	if linked() == nil {
		t.Fatal("the matching request was not linked")
	}
}
