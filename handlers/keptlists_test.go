package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
)

// TestListsKeptUntilAnyInstanceWrites: a list of requests shown again with
// nothing written since is the one kept (fewer statements, the same bytes),
// yet a request submitted through another instance on the same database, or
// renamed by an operator's SQL, is on the very next view — that instance's
// commits are invisible to this one, the database's count is not. What is
// kept for one reader, language or filter is never shown for another.
func TestListsKeptUntilAnyInstanceWrites(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newAppOn(t, db)
		other := workflow.New(db, modelstest.Logger())
		ctx := context.Background()
		rita, alice, pat := a.as("rita"), a.as("alice"), a.as("pat")
		view := func(c *http.Client, path string, header ...string) string {
			t.Helper()
			req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := a.body(resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
			}
			return body
		}
		// main is the page's content, without the layout drawn on every view.
		main := func(page string) string {
			_, after, _ := strings.Cut(page, "<main")
			content, _, _ := strings.Cut(after, "</main>")
			return content
		}
		apiTitles := func() string {
			t.Helper()
			var out struct {
				Requests []struct{ Title string } `json:"requests"`
			}
			if code := a.api("rita", http.MethodGet, "/requests?state=submitted", nil, &out); code != http.StatusOK {
				t.Fatalf("API list: status %d", code)
			}
			var titles []string
			for _, r := range out.Requests {
				titles = append(titles, r.Title)
			}
			return strings.Join(titles, "\n")
		}
		const probe, renamed = "Kept-list probe", "Renamed by an operator"
		lists := []string{"/queue/review", "/requests?state=submitted", "/requests?mine=1"}
		for _, p := range lists {
			if strings.Contains(view(rita, p), probe) {
				t.Fatalf("%s shows the probe before it was filed", p)
			}
		}
		if strings.Contains(apiTitles(), probe) {
			t.Fatal("the API list shows the probe before it was filed")
		}
		in := requests.Input{Title: probe, Justification: "the settlement job reads it", Rules: []requests.RuleInput{{Source: "transit", Destination: "127.50.0.10", Protocol: "tcp", Ports: "443"}}}
		r, err := other.Requests.Create(ctx, a.actorOf("alice"), in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Requests.Submit(ctx, a.actorOf("alice"), r.ID); err != nil {
			t.Fatal(err)
		}
		for _, p := range lists[:2] {
			if !strings.Contains(view(rita, p), probe) {
				t.Errorf("%s: a request submitted through another instance is missing", p)
			}
		}
		if !strings.Contains(apiTitles(), probe) {
			t.Error("API list: a request submitted through another instance is missing")
		}
		// Per reader: Alice's own requests hold it, Pat's (same address) do not.
		if !strings.Contains(view(alice, "/requests?mine=1"), probe) {
			t.Error("Alice's own requests lack the one she filed")
		}
		if strings.Contains(view(pat, "/requests?mine=1"), probe) {
			t.Error("Pat's own requests show Alice's request: a list kept for one reader was shown to another")
		}
		// Per language.
		en, zh := main(view(rita, "/queue/review")), main(view(rita, "/queue/review", "Accept-Language", "zh-CN"))
		if !strings.Contains(en, "oldest first") || strings.Contains(zh, "oldest first") || !strings.Contains(zh, "最早的在前") {
			t.Errorf("the review queue in English and Chinese:\n%s\n---\n%s", en, zh)
		}

		// Shown again unchanged: the kept content, without reading the queue.
		var statements atomic.Int64
		count := func(*gorm.DB) { statements.Add(1) }
		for _, cb := range []interface {
			Register(string, func(*gorm.DB)) error
		}{db.Callback().Query().After("gorm:query"), db.Callback().Row().After("gorm:row"), db.Callback().Raw().After("gorm:raw")} {
			if err := cb.Register("test:count", count); err != nil {
				t.Fatal(err)
			}
		}
		statements.Store(0)
		again := main(view(rita, "/queue/review"))
		kept := statements.Load()
		if again != en {
			t.Errorf("the queue shown again differs:\n%s\n---\n%s", again, en)
		}
		if err := db.Exec("UPDATE requests SET title = ? WHERE id = ?", renamed, r.ID).Error; err != nil {
			t.Fatal(err)
		}
		statements.Store(0)
		fresh := main(view(rita, "/queue/review"))
		drawn := statements.Load()
		if !strings.Contains(fresh, renamed) || strings.Contains(fresh, probe) {
			t.Errorf("the queue after an operator renamed the request in SQL still shows the old title:\n%s", fresh)
		}
		if kept >= drawn {
			t.Errorf("the queue shown again unchanged ran %d statements, drawn afresh %d: nothing was kept", kept, drawn)
		}
	})
}

// TestKeptListsStayWithinTheirBound: what is kept, keys included, never
// passes its bound in bytes, a drawing at an older generation never replaces
// a newer one, one larger than the whole bound is not kept, and nothing is
// given past its age.
func TestKeptListsStayWithinTheirBound(t *testing.T) {
	k := newKeptLists(100)
	now := time.Now()
	k.put("a", 1, keptPage{content: strings.Repeat("a", 39)}, now)
	k.put("b", 1, keptPage{content: strings.Repeat("b", 39)}, now)
	k.put("c", 1, keptPage{content: strings.Repeat("c", 39)}, now)
	if k.size > 100 || len(k.entries) != 2 {
		t.Errorf("after three of 40 bytes (key and content) within 100: %d bytes in %d entries, want at most 100 in 2", k.size, len(k.entries))
	}
	if _, ok := k.get("c", 1, now); !ok {
		t.Error("the content just kept was dropped")
	}
	if _, ok := k.get("c", 2, now); ok {
		t.Error("content kept at generation 1 was given for generation 2")
	}
	if _, ok := k.get("c", 1, now.Add(keptListMaxAge)); ok {
		t.Errorf("content kept %v ago was given", keptListMaxAge)
	}
	k.put("c", 3, keptPage{content: "new"}, now)
	k.put("c", 2, keptPage{content: "older"}, now)
	if got, ok := k.get("c", 3, now); !ok || got.content != "new" {
		t.Errorf("a drawing at generation 2 replaced the one at 3: %q, %v", got, ok)
	}
	k.put("huge", 4, keptPage{content: strings.Repeat("h", 97)}, now)
	if _, ok := k.get("huge", 4, now); ok || k.size > 100 {
		t.Errorf("key and content larger than the bound were kept (size %d)", k.size)
	}
	sum := 0
	for key, e := range k.entries {
		sum += len(key) + e.page.size()
	}
	if sum != k.size {
		t.Errorf("size %d, but the entries hold %d bytes", k.size, sum)
	}
	// Those past their age go first.
	k = newKeptLists(100)
	k.put("old", 1, keptPage{content: strings.Repeat("o", 27)}, now.Add(-keptListMaxAge))
	k.put("new", 1, keptPage{title: "t", content: strings.Repeat("n", 26)}, now)
	k.put("next", 1, keptPage{content: strings.Repeat("x", 40)}, now)
	if _, ok := k.get("new", 1, now); !ok {
		t.Error("a page in its age was dropped while one past it was kept")
	}
	if _, ok := k.entries["old"]; ok || k.size != 3+1+26+4+40 {
		t.Errorf("the page past its age is kept (size %d)", k.size)
	}
}

// keptCase is a page, who reads it, what a change writes, and what the page
// must show next.
type keptCase struct {
	name   string
	reader *http.Client
	path   string
	want   string
	change func() error
}

// TestKeptListsFollowTheirAreas: the home, the asset, scan and drift lists,
// an asset's page, the operations page and the re-certification page are
// kept too, and show another writer's change in what they read on the next
// view: a request filed, an asset added and a campaign started through
// another instance, a scan run and a drift item written in SQL.
func TestKeptListsFollowTheirAreas(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newAppOn(t, db)
		other := workflow.New(a.svc.DB(), modelstest.Logger())
		ctx := context.Background()
		adam, alice := a.as("adam"), a.as("alice")
		// An asset of Alice's team, for drift to be found on.
		if _, err := a.svc.Inventory.SaveAsset(ctx, a.actorOf("adam"), 0, inventory.AssetInput{Address: "127.50.9.10", Hostname: "kept-home-team-host", OwnerTeam: a.actorOf("alice").Team}); err != nil {
			t.Fatal(err)
		}
		cases := []keptCase{
			{"an asset added", adam, "/assets", "kept-probe-host", func() error {
				_, err := other.Inventory.SaveAsset(ctx, a.actorOf("adam"), 0, inventory.AssetInput{Address: "127.50.9.9", Hostname: "kept-probe-host", OwnerTeam: "payments"})
				return err
			}},
			{"a request filed", alice, "/", "Kept home probe", func() error {
				in := requests.Input{Title: "Kept home probe", Justification: "the ledger reads it", Rules: []requests.RuleInput{{Source: "transit", Destination: "127.50.0.11", Protocol: "tcp", Ports: "443"}}}
				// The latest requests a home lists are read through a kept
				// summary, counted again once the page's generation shows
				// another instance wrote requests.
				_, err := other.Requests.Create(ctx, a.actorOf("alice"), in)
				return err
			}},
			{"drift found on the team's asset", alice, "/", "kept-home-team-host", func() error {
				now := time.Now().UTC()
				return a.svc.DB().Create(&models.DriftItem{Key: "probe-home", Kind: "unapproved_open", Severity: "high", Address: "127.50.9.10", Protocol: "tcp", Port: 65002, State: drift.Open, FirstSeen: now, LastSeen: now}).Error
			}},
			{"a campaign started", alice, "/recertification", "/recertification/items/", func() error {
				_, n, err := other.Recert.StartCampaign(ctx, a.actorOf("lee"), "Kept probe", time.Now().AddDate(0, 4, 0))
				if err == nil && n == 0 {
					err = errors.New("the campaign holds no item")
				}
				return err
			}},
		}
		rita := a.as("rita")
		sql := func(stmt string) func() error { return func() error { return a.svc.DB().Exec(stmt).Error } }
		cases = append(cases, []keptCase{
			// The scanner writes its runs and findings outside any step, as
			// another process's SQL would.
			{"a scan queued", rita, "/scans", "127.64.7.7", sql("INSERT INTO scan_runs (kind, profile, targets, status, requested_by, queued_at) VALUES ('adhoc', 'quick', '127.64.7.7', 'queued', 'rita@demo.portcullis.test', CURRENT_TIMESTAMP)")},
			{"a drift item found", rita, "/drift?severity=high", "127.64.8.8", func() error {
				now := time.Now().UTC()
				return a.svc.DB().Create(&models.DriftItem{Key: "probe", Kind: "unapproved_open", Severity: "high", Address: "127.64.8.8", State: drift.Open, FirstSeen: now, LastSeen: now}).Error
			}},
		}...)
		adamActor := a.actorOf("adam")
		var first models.Asset
		if err := a.svc.DB().Order("id").First(&first).Error; err != nil {
			t.Fatal(err)
		}
		assetPath := "/assets/" + strconv.FormatUint(uint64(first.ID), 10)
		cases = append(cases, []keptCase{
			{"the asset renamed", rita, assetPath, "kept-probe-renamed", func() error {
				_, err := other.Inventory.SaveAsset(ctx, adamActor, first.ID, inventory.AssetInput{Address: first.Address, Hostname: "kept-probe-renamed", OwnerTeam: first.OwnerTeam, Application: first.Application})
				return err
			}},
			{"drift found on the asset", rita, assetPath, "Detail of the kept probe", func() error {
				now := time.Now().UTC()
				return a.svc.DB().Create(&models.DriftItem{Key: "probe-asset", Kind: "unapproved_open", Severity: "high", Address: first.Address, Protocol: "tcp", Port: 65001, Detail: "Detail of the kept probe", State: drift.Open, FirstSeen: now, LastSeen: now}).Error
			}},
			{"an alert delivery failed", adam, "/admin/operations", "kept-probe-channel", func() error {
				return a.svc.DB().Create(&models.AlertDelivery{DriftItemID: 1, Channel: "kept-probe-channel", Status: "failed", LastError: "refused", NextAttempt: time.Now(), CreatedAt: time.Now()}).Error
			}},
			// A login stamps only the person's row; the list of users shows it.
			{"a login", adam, "/admin/users", "2031", sql("UPDATE users SET last_login_at = '2031-05-06 07:08:09' WHERE email = 'ivan@demo.portcullis.test'")},
			{"a question added", adam, "/admin/applications", "Kept probe question", func() error {
				_, err := other.Inventory.SaveQuestionnaire(ctx, adamActor, []inventory.QuestionInput{{ID: "kept_probe", Text: "Kept probe question", Required: true}})
				return err
			}},
			{"a report made", a.as("aude"), "/reports", "Kept probe headline", sql("INSERT INTO periodic_reports (kind, zone, team, period, window_start, window_end, nothing_new, headline, headline_facts, content, created_at) VALUES ('daily', 'dmz', '', '2031-05-06', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, 'Kept probe headline', '', '{}', CURRENT_TIMESTAMP)")},
			{"a scan queued (API)", a.tokenClient("rita"), "/api/v1/scans", "127.64.7.8", sql("INSERT INTO scan_runs (kind, profile, targets, status, requested_by, queued_at) VALUES ('adhoc', 'quick', '127.64.7.8', 'queued', 'rita@demo.portcullis.test', CURRENT_TIMESTAMP)")},
			{"a rule's request renamed (API)", a.tokenClient("rita"), "/api/v1/rules", "Kept rules probe", func() error {
				var out struct {
					Rules []struct {
						RequestID uint `json:"request_id"`
					} `json:"rules"`
				}
				if code := a.api("rita", http.MethodGet, "/rules", nil, &out); code != http.StatusOK || len(out.Rules) == 0 {
					return fmt.Errorf("the register answered %d with %d rules", code, len(out.Rules))
				}
				return a.svc.DB().Exec("UPDATE requests SET title = 'Kept rules probe' WHERE id = ?", out.Rules[0].RequestID).Error
			}},
		}...)
		// What a reader may do is theirs: an admin's kept list is not shown
		// once they are an admin no more, though no asset changed.
		if !strings.Contains(a.body(a.get(adam, "/assets")), `href="/assets/new"`) {
			t.Fatal("the admin's asset list offers no new asset")
		}
		if err := a.svc.DB().Exec("UPDATE users SET roles = 'auditor' WHERE email = ?", email("adam")).Error; err != nil {
			t.Fatal(err)
		}
		if strings.Contains(a.body(a.get(adam, "/assets")), `href="/assets/new"`) {
			t.Error("the asset list kept for Adam as an admin was shown to him as an auditor")
		}
		if err := a.svc.DB().Exec("UPDATE users SET roles = 'admin' WHERE email = ?", email("adam")).Error; err != nil {
			t.Fatal(err)
		}
		check := func(cases []keptCase) {
			t.Helper()
			for _, c := range cases {
				for range 2 { // drawn, then kept
					if body := a.body(a.get(c.reader, c.path)); strings.Contains(body, c.want) {
						t.Fatalf("%s: %s shows %q before the change", c.name, c.path, c.want)
					}
				}
				if err := c.change(); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if body := a.body(a.get(c.reader, c.path)); !strings.Contains(body, c.want) {
					t.Errorf("%s: %s still lacks %q after the change", c.name, c.path, c.want)
				}
			}
		}
		check(cases)
		// The campaign started above: its page, and an item decided in SQL.
		var campaign models.RecertCampaign
		if err := a.svc.DB().Where("name = ?", "Kept probe").First(&campaign).Error; err != nil {
			t.Fatal(err)
		}
		// The request filed above: its page, a comment, an event on its
		// timeline and a verification scan.
		var filed models.Request
		if err := a.svc.DB().Where("title = ?", "Kept home probe").First(&filed).Error; err != nil {
			t.Fatal(err)
		}
		requestPath := fmt.Sprintf("/requests/%d", filed.ID)
		check([]keptCase{
			{"a comment added", alice, requestPath, "Kept comment probe", func() error {
				_, err := other.Requests.AddComment(ctx, a.actorOf("rita"), filed.ID, "Kept comment probe")
				return err
			}},
			{"an event on its timeline", alice, requestPath, "Kept timeline probe", func() error {
				return a.svc.DB().Exec("INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, comment) SELECT MAX(seq) + 1, CURRENT_TIMESTAMP, 'operator', 'request.noted', 'request', ?, 'Kept timeline probe' FROM audit_events", filed.ID).Error
			}},
			{"an event appended to the log", a.as("aude"), "/audit/log", "Kept log probe", func() error {
				return a.svc.DB().Exec("INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, comment) SELECT MAX(seq) + 1, CURRENT_TIMESTAMP, 'operator', 'zone.noted', 'zone', 1, 'Kept log probe' FROM audit_events").Error
			}},
			{"a comment added (API)", a.tokenClient("rita"), "/api/v1" + requestPath + "/comments", "Kept API comment probe", func() error {
				_, err := other.Requests.AddComment(ctx, a.actorOf("rita"), filed.ID, "Kept API comment probe")
				return err
			}},
			{"its title edited (API)", a.tokenClient("rita"), "/api/v1" + requestPath, "Kept API title probe", sql(fmt.Sprintf("UPDATE requests SET title = 'Kept API title probe' WHERE id = %d", filed.ID))},
			{"a verification scan queued", alice, requestPath, "/scans/987654", sql(fmt.Sprintf("INSERT INTO scan_runs (id, kind, profile, targets, status, requested_by, queued_at, request_id) VALUES (987654, 'verification', 'quick', '127.50.0.11', 'queued', 'system', CURRENT_TIMESTAMP, %d)", filed.ID))},
		})
		check([]keptCase{
			{"an item of the campaign decided", a.as("lee"), fmt.Sprintf("/recertification/campaigns/%d", campaign.ID), "Kept campaign probe", func() error {
				return a.svc.DB().Exec("UPDATE recertifications SET status = 'recertified', justification = 'Kept campaign probe', decided_by = 'alice@demo.portcullis.test' WHERE id = (SELECT MIN(id) FROM recertifications WHERE campaign_id = ?)", campaign.ID).Error
			}},
		})
	})
}

// tokenClient calls the API as name, with their token.
func (a *app) tokenClient(name string) *http.Client {
	return &http.Client{Transport: bearer{a.tokens[email(name)]}}
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestDashboardDrawnAgainWithItsCounts: the dashboard drawn from kept counts
// is drawn again once they are counted again, and per language.
func TestDashboardDrawnAgainWithItsCounts(t *testing.T) {
	a := newApp(t)
	a.svc.Dashboard.SetSettle(0)
	rita := a.as("rita")
	const zone = "kept-probe-zone"
	main := func(lang string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, a.url+"/dashboard", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Language", lang)
		resp, err := rita.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, after, _ := strings.Cut(a.body(resp), "<main")
		content, _, _ := strings.Cut(after, "</main>")
		return content
	}
	for range 2 {
		if strings.Contains(main("en"), zone) {
			t.Fatal("the dashboard shows the probe's zone before its drift was found")
		}
	}
	now := time.Now().UTC()
	if err := a.svc.InTx(context.Background(), func(tx *gorm.DB) error {
		return tx.Create(&models.DriftItem{Key: "probe", Kind: "unapproved_open", Severity: "critical", Address: "127.50.0.99", Zone: zone, State: drift.Open, FirstSeen: now, LastSeen: now}).Error
	}); err != nil {
		t.Fatal(err)
	}
	en, zh := main("en"), main("zh-CN")
	if !strings.Contains(en, zone) || !strings.Contains(zh, zone) {
		t.Error("the dashboard drawn before the drift was found is still shown")
	}
	if en == zh {
		t.Error("the dashboard drawn in English was shown to a Chinese reader")
	}
}
