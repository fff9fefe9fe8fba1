package handlers

import (
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/report"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// TestReportsPage: the Reports page lists what each reader may see, shows
// a report, serves its PDF and keeps subscriptions; owners read their own
// team's reports only, security and auditors everything.
func TestReportsPage(t *testing.T) {
	a := newApp(t)
	redis := scans.Port{Port: 6379, Protocol: "tcp", State: "open", Service: "redis"}
	workflowtest.ScanMornings(t, a.svc,
		map[string][]scans.Port{"127.40.0.16": {redis}, "127.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http"}}},
		map[string][]scans.Port{"127.40.0.16": {redis, {Port: 8443, Protocol: "tcp", State: "open", Service: "http"}}, "127.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http"}}})
	a.svc.SetClock(func() time.Time { return time.Now().UTC() }) // sessions live in the present
	find := func(zone, team string) uint {
		var row models.PeriodicReport
		if err := a.svc.DB().Where("zone = ? AND team = ?", zone, team).Order("id DESC").Take(&row).Error; err != nil {
			t.Fatalf("report %s/%s: %v", zone, team, err)
		}
		return row.ID
	}
	appsZone, sales, payments := find("apps", ""), find("apps", "sales"), find("payments", "payments")
	path := func(id uint, suffix string) string { return "/reports/" + strconv.FormatUint(uint64(id), 10) + suffix }

	rita, aude, alice := a.as("rita"), a.as("aude"), a.as("alice")
	for _, tc := range []struct {
		who    *http.Client
		name   string
		path   string
		status int
		want   string
	}{
		{rita, "rita", "/reports", 200, path(appsZone, "")},
		{rita, "rita", path(appsZone, ""), 200, "<td>tcp/8443</td>"},
		{aude, "aude", path(sales, ""), 200, "Daily port report: zone apps, team sales"},
		{alice, "alice", path(payments, ""), 200, "team payments"},
		{alice, "alice", path(appsZone, ""), 403, "zone&#39;s report is for security"},
		{alice, "alice", path(sales, ""), 403, "your own team only"},
		{alice, "alice", path(sales, "/pdf"), 403, ""},
		{rita, "rita", "/reports/999999", 404, ""},
		{rita, "rita", "/reports?kind=monthly", 400, "not daily or weekly"},
		{rita, "rita", "/reports?cursor=bogus", 400, "cursor"},
	} {
		resp := a.get(tc.who, tc.path)
		body := a.body(resp)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s GET %s: %d, want %d and %q", tc.name, tc.path, resp.StatusCode, tc.status, tc.want)
		}
	}
	// Alice's history holds her team's reports and no other.
	body := a.body(a.get(alice, "/reports"))
	if !strings.Contains(body, path(payments, "")) || strings.Contains(body, path(sales, "")) || strings.Contains(body, path(appsZone, "")) {
		t.Errorf("alice's history shows other teams' or zones' reports")
	}
	if !strings.Contains(body, `href="/reports" aria-current="page"`) {
		t.Errorf("no current Reports link in the navigation")
	}
	// The history's headlines read in the reader's language, though stored in
	// the server's: apps' second morning opened 8443.
	if body := a.body(a.get(rita, "/reports")); !strings.Contains(body, "1 opened") {
		t.Errorf("the English history lacks the headline \"1 opened\"")
	}
	if _, body := a.getIn(rita, "/reports", "zh-CN"); !strings.Contains(body, "新开放 1 个") || strings.Contains(body, "1 opened") {
		t.Errorf("the Chinese history's headlines are not in Chinese")
	}

	// Subscriptions: alice opts out of her team's e-mails, rita subscribes to a zone.
	for _, tc := range []struct {
		who    *http.Client
		form   url.Values
		status int
		want   string
	}{
		{alice, url.Values{"zone": {"apps"}}, 403, ""},
		{alice, url.Values{"team": {"sales"}}, 403, ""},
		{rita, url.Values{}, 400, "choose a zone or a team"},
		{rita, url.Values{"zone": {"atlantis"}}, 400, "there is no zone"},
		{alice, url.Values{"team": {"payments"}, "action": {"unsubscribe"}}, 303, ""},
		{rita, url.Values{"zone": {"apps"}}, 303, ""},
	} {
		resp := a.post(tc.who, "/reports/subscriptions", tc.form)
		if body := a.body(resp); resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("subscribe %v: %d, want %d and %q", tc.form, resp.StatusCode, tc.status, tc.want)
		}
	}
	if body := a.body(a.get(alice, "/reports")); !strings.Contains(body, "unsubscribed") || !strings.Contains(body, "Subscribe again") {
		t.Errorf("alice's opt-out is not shown")
	}
	if body := a.body(a.get(rita, "/reports")); !strings.Contains(body, `zone <span translate="no">apps</span>`) {
		t.Errorf("rita's subscription is not shown")
	}

	fontInstalled := false
	for _, p := range report.DefaultFontPaths {
		if _, err := os.Stat(p); err == nil {
			fontInstalled = true
		}
	}
	if !fontInstalled {
		t.Log("no PDF font (fonts-wqy-microhei): the PDF download is not checked")
		return
	}
	resp := a.get(aude, path(appsZone, "/pdf"))
	if pdf := a.body(resp); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "portcullis-daily-apps-") {
		t.Errorf("PDF download: %d %v", resp.StatusCode, resp.Header)
	}
}
