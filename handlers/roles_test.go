package handlers

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// actorOf is a demo user as the domain sees them.
func (a *app) actorOf(name string) core.Actor {
	a.t.Helper()
	act, err := a.svc.Identity.ActorByID(context.Background(), a.user(name).ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return act
}

// navCount reads the badge of the navigation link to href (0: none).
func navCount(t *testing.T, page, href string) int {
	t.Helper()
	m := regexp.MustCompile(`href="` + regexp.QuoteMeta(href) + `"[^>]*>[^<]*<span class="nav-count" data-count="(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// inboxWant counts, from the rows themselves and by other means than the
// application, what waits for a person: the numbers the navigation must show.
func (a *app) inboxWant(name string) map[string]int {
	a.t.Helper()
	u := a.user(name)
	roles := core.SplitRoles(u.Roles)
	has := func(rs ...core.Role) bool {
		return slices.ContainsFunc(rs, func(r core.Role) bool { return slices.Contains(roles, r) })
	}
	var reqs []models.Request
	if err := a.svc.DB().Preload("Reviews").Find(&reqs).Error; err != nil {
		a.t.Fatal(err)
	}
	approvedBy := func(r models.Request, kind string, by uint) bool {
		for _, rv := range r.Reviews {
			if !rv.Voided && rv.Decision == "approve" && (kind == "" || rv.Kind == kind) && (by == 0 || rv.ReviewerID == by) {
				return true
			}
		}
		return false
	}
	want := map[string]int{}
	for _, r := range reqs {
		own := r.RequesterID == u.ID
		if has(core.RoleReviewer, core.RoleApprover) && !own &&
			(r.State == "submitted" || (r.State == "in_review" && !approvedBy(r, "", 0))) {
			want["/queue/review"]++
		}
		if has(core.RoleApprover) && !own && r.State == "in_review" && r.NeedsSecondApproval &&
			approvedBy(r, "review", 0) && !approvedBy(r, "review", u.ID) {
			want["/queue/approval"]++
		}
		if has(core.RoleImplementer) && (r.State == "approved" || r.State == "verification_failed") {
			want["/queue/implementation"]++
		}
	}
	var items []models.Recertification
	a.svc.DB().Where("status = ?", "pending").Find(&items)
	for _, it := range items {
		if it.RequesterID == u.ID || (u.Team != "" && it.Team == u.Team) {
			want["/recertification"]++
		}
	}
	var assets []models.Asset
	a.svc.DB().Where("owner_team = ?", u.Team).Find(&assets)
	var drift []models.DriftItem
	a.svc.DB().Where("state IN ?", []string{"open", "acknowledged"}).Find(&drift)
	for _, d := range drift {
		if u.Team != "" && slices.ContainsFunc(assets, func(as models.Asset) bool { return as.Address == d.Address }) {
			want["/assets"]++
		}
	}
	return want
}

// inboxWorld starts a re-certification campaign and records drift on the
// payments team's database (two live items, one resolved): every count of
// the inbox has something to count.
func inboxWorld(t *testing.T, a *app) {
	t.Helper()
	ctx := t.Context()
	if _, n, err := a.svc.Recert.StartCampaign(ctx, a.actorOf("lee"), "H1 review", time.Now().AddDate(0, 0, 120)); err != nil || n == 0 {
		t.Fatalf("campaign: %d items, %v", n, err)
	}
	now := time.Now().UTC()
	err := a.svc.InTx(ctx, func(tx *gorm.DB) error {
		for i, st := range []string{"open", "acknowledged", "resolved"} {
			d := models.DriftItem{Key: fmt.Sprintf("open-unapproved|127.50.0.11|tcp|%d", 7000+i), Kind: "open-unapproved", Severity: []string{"critical", "high", "low"}[i],
				Address: "127.50.0.11", Zone: "apps", Protocol: "tcp", Port: 7000 + i, State: st, FirstSeen: now.AddDate(0, 0, -3-i), LastSeen: now, Evidence: "{}"}
			if st == "resolved" {
				d.ResolvedAt = &now
			}
			if err := tx.Create(&d).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every role's navigation counts what waits for that person: the queues
// they work less their own requests, their re-certifications, the live
// drift on their team's assets.
func TestNavCountsPerRole(t *testing.T) {
	a := newApp(t)
	inboxWorld(t, a)
	hrefs := []string{"/queue/review", "/queue/approval", "/queue/implementation", "/recertification", "/assets"}
	seen := map[string]map[string]int{}
	for _, name := range []string{"alice", "pat", "rita", "lee", "ivan", "aude", "adam"} {
		page := a.body(a.get(a.as(name), "/"))
		want, got := a.inboxWant(name), map[string]int{}
		for _, h := range hrefs {
			got[h] = navCount(t, page, h)
		}
		for _, h := range hrefs {
			if got[h] != want[h] {
				t.Errorf("%s's navigation counts %d at %s, want %d", name, got[h], h, want[h])
			}
		}
		seen[name] = got
	}
	// The world has something in each count, so the comparison above is not
	// of zeros with zeros.
	for _, c := range []struct {
		name, href string
	}{{"alice", "/recertification"}, {"alice", "/assets"}, {"rita", "/queue/review"}, {"lee", "/queue/approval"}, {"ivan", "/queue/implementation"}} {
		if seen[c.name][c.href] == 0 {
			t.Errorf("%s's navigation counts nothing at %s", c.name, c.href)
		}
	}
	if seen["alice"]["/assets"] != 2 {
		t.Errorf("alice's team has 2 live drift items on its assets, the navigation counts %d", seen["alice"]["/assets"])
	}
	// Pat filed one of the requests waiting for review: Rita may review it, Pat may not.
	if seen["pat"]["/queue/review"] != seen["rita"]["/queue/review"]-1 {
		t.Errorf("pat's review count %d, rita's %d: pat's own request should be the difference", seen["pat"]["/queue/review"], seen["rita"]["/queue/review"])
	}
	// A new submission shows at once (the counts are kept until something changes).
	ctx := t.Context()
	alice := a.actorOf("alice")
	r, err := a.svc.Requests.Create(ctx, alice, requests.Input{Title: "Another", Justification: "to count", Rules: []requests.RuleInput{{Source: "transit", Destination: "127.50.0.10", Protocol: "tcp", Ports: "8443"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Requests.Submit(ctx, alice, r.ID); err != nil {
		t.Fatal(err)
	}
	if got := navCount(t, a.body(a.get(a.as("rita"), "/")), "/queue/review"); got != seen["rita"]["/queue/review"]+1 {
		t.Errorf("after a submission rita's review count is %d, want %d", got, seen["rita"]["/queue/review"]+1)
	}
	// The badge says what it counts to a screen reader, in the page's language.
	if _, body := a.getIn(a.as("alice"), "/", "zh-CN"); !strings.Contains(body, "项复核待你处理") {
		t.Error("alice's Chinese navigation does not read out her re-certification count")
	}
}

// statOf reads the number on the card with the id.
func statOf(t *testing.T, page, id string) (int, bool) {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `"[^>]*>\s*<div class="stat">([\d,]+)</div>`).FindStringSubmatch(page)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	return n, true
}

// Each role lands on its own work: the requester on New request, their
// re-certifications and their team's drifting assets; reviewers on their
// queues; auditors and admins on what needs them.
func TestRoleHomes(t *testing.T) {
	a := newApp(t)
	inboxWorld(t, a)
	// One campaign overdue: its pending items are what auditors chase.
	if err := a.svc.InTx(t.Context(), func(tx *gorm.DB) error {
		return tx.Model(&models.RecertCampaign{}).Where("name = ?", "H1 review").Update("due_by", time.Now().AddDate(0, 0, -1)).Error
	}); err != nil {
		t.Fatal(err)
	}
	var pending, critical, high int64
	a.svc.DB().Model(&models.Recertification{}).Where("status = ?", "pending").Count(&pending)
	a.svc.DB().Model(&models.DriftItem{}).Where("state IN ? AND severity = ?", []string{"open", "acknowledged"}, "critical").Count(&critical)
	a.svc.DB().Model(&models.DriftItem{}).Where("state IN ? AND severity = ?", []string{"open", "acknowledged"}, "high").Count(&high)
	var db models.Asset
	a.svc.DB().Where("address = ?", "127.50.0.11").First(&db)

	alice := a.body(a.get(a.as("alice"), "/"))
	for _, want := range []string{`id="new-request" href="/requests/new"`, `id="home-recerts"`, `id="home-team-drift"`, fmt.Sprintf(`href="/assets/%d"`, db.ID)} {
		if !strings.Contains(alice, want) {
			t.Errorf("alice's home lacks %s", want)
		}
	}
	rita := a.body(a.get(a.as("rita"), "/"))
	if strings.Contains(rita, `id="new-request"`) || !strings.Contains(rita, `id="home-queues"`) || strings.Contains(rita, `id="home-needs"`) {
		t.Error("rita's home should show her queues, and neither New request nor an auditor's list")
	}
	for _, c := range []struct {
		name, id string
		want     int
	}{
		{"aude", "need-overdue", int(pending)},
		{"aude", "need-critical", int(critical)},
		{"aude", "need-high", int(high)},
		{"adam", "need-overdue", int(pending)},
		{"adam", "need-failed-alerts", 0},
	} {
		page := a.body(a.get(a.as(c.name), "/"))
		got, ok := statOf(t, page, c.id)
		if !ok || got != c.want {
			t.Errorf("%s's home: #%s reads %d (shown: %v), want %d", c.name, c.id, got, ok, c.want)
		}
	}
	if pending == 0 || critical == 0 {
		t.Fatal("the world has nothing overdue or critical: the home's counts were compared with zero")
	}
	if _, ok := statOf(t, a.body(a.get(a.as("aude"), "/")), "need-failed-alerts"); ok {
		t.Error("failed alert deliveries are an admin's to fix, not shown to auditors")
	}
}

// queueRow is a request's row in a queue page.
func queueRow(page string, id uint) string {
	m := regexp.MustCompile(`(?s)<tr data-request="` + strconv.Itoa(int(id)) + `">(.*?)</tr>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

func requestTitled(t *testing.T, a *app, title string) models.Request {
	t.Helper()
	var r models.Request
	if err := a.svc.DB().Preload("Rules").Where("title = ?", title).First(&r).Error; err != nil {
		t.Fatalf("%q: %v", title, err)
	}
	return r
}

// A reviewer's queue never offers Review on their own request; every row
// shows its most severe finding, the exception path and two approvals; the
// approver reads the review before deciding; the implementer sees each rule.
func TestQueueRules(t *testing.T) {
	a := newApp(t)
	own := requestTitled(t, a, "Security scanner to the apps zone") // pat's, submitted
	review := fmt.Sprintf(`href="/requests/%d/review"`, own.ID)
	patQueue := a.body(a.get(a.as("pat"), "/queue/review"))
	row := queueRow(patQueue, own.ID)
	if row == "" || strings.Contains(row, review) || !strings.Contains(row, "not-offered") {
		t.Errorf("pat's review queue offers pat's own request #%d: %s", own.ID, row)
	}
	ritaQueue := a.body(a.get(a.as("rita"), "/queue/review"))
	if row := queueRow(ritaQueue, own.ID); !strings.Contains(row, review) {
		t.Errorf("rita's review queue does not offer pat's request #%d: %s", own.ID, row)
	}
	// Each row's marks follow the request's findings and flags.
	var waiting []models.Request
	a.svc.DB().Where("state IN ?", []string{"submitted", "in_review"}).Find(&waiting)
	marked := 0
	for _, r := range waiting {
		row := queueRow(ritaQueue, r.ID)
		if row == "" {
			continue
		}
		worst, blocking := "", false
		for _, f := range requests.FindingsOf(r) {
			blocking = blocking || f.Blocking
			if worst == "" || f.Severity.Rank() > policy.Severity(worst).Rank() {
				worst = string(f.Severity)
			}
		}
		if worst != "" && !strings.Contains(row, `badge sev-`+worst) {
			t.Errorf("request #%d's row lacks its %s severity: %s", r.ID, worst, row)
		}
		if got := strings.Contains(row, "mark-exception"); got != (blocking || r.Exception) {
			t.Errorf("request #%d's row marks the exception path: %v, want %v", r.ID, got, blocking || r.Exception)
		}
		if got := strings.Contains(row, "mark-two"); got != r.NeedsSecondApproval {
			t.Errorf("request #%d's row marks two approvals: %v, want %v", r.ID, got, r.NeedsSecondApproval)
		}
		if worst != "" {
			marked++
		}
	}
	if marked == 0 {
		t.Error("no row of the review queue has a finding: the marks were not checked")
	}
	// The security lead reads Rita's review and checklist before the second approval.
	gw := requestTitled(t, a, "Payment gateway from the partner acquirer")
	if !gw.NeedsSecondApproval || gw.State != "in_review" {
		t.Fatalf("the demo's gateway request is %s (two approvals: %v), want in review awaiting the second", gw.State, gw.NeedsSecondApproval)
	}
	approve := a.body(a.get(a.as("lee"), fmt.Sprintf("/requests/%d/approve", gw.ID)))
	first, _, _ := strings.Cut(approve[strings.Index(approve, `id="first-review"`)+1:], `<form`)
	if !strings.Contains(approve, `id="first-review"`) || !strings.Contains(first, "Baseline checked on the hosts.") || !strings.Contains(first, `class="checklist"`) {
		t.Errorf("the second approval form does not show the reviewer's comment and checklist")
	}
	// The implementer sees what to put on the firewall.
	web := requestTitled(t, a, "Website over HTTPS")
	impl := queueRow(a.body(a.get(a.as("ivan"), "/queue/implementation")), web.ID)
	for _, want := range []string{web.Rules[0].Source, web.Rules[0].Destination, "tcp/" + web.Rules[0].Ports, web.Rules[0].Service, fmt.Sprintf(`href="/requests/%d/implement"`, web.ID)} {
		if !strings.Contains(impl, want) {
			t.Errorf("the implementation queue's row of #%d lacks %q: %s", web.ID, want, impl)
		}
	}
}
