package handlers

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
)

// stream is an open change stream, read line by line into events.
type stream struct {
	events chan string // "changed", or "end: <data>"
	close  func()
}

var liveSrcAttr = regexp.MustCompile(`id="live" hidden data-src="([^"]+)"`)

// openLive loads a page as the client, finds its change stream and opens it.
func (a *app) openLive(t *testing.T, c *http.Client, page string) *stream {
	t.Helper()
	resp := a.get(c, page)
	body := a.body(resp)
	m := liveSrcAttr.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("%s: %d, no change stream on the page", page, resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+html.UnescapeString(m[1]), nil)
	sc := *c
	sc.Timeout = 0 // the stream's own life is bounded by cancel
	r, err := sc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if ct := r.Header.Get("Content-Type"); r.StatusCode != http.StatusOK || ct != "text/event-stream" {
		cancel()
		t.Fatalf("stream %s: %d %s", m[1], r.StatusCode, ct)
	}
	s := &stream{events: make(chan string, 16), close: func() { cancel(); r.Body.Close() }}
	t.Cleanup(s.close)
	go func() {
		defer close(s.events)
		lines := bufio.NewScanner(r.Body)
		event := ""
		for lines.Scan() {
			line := lines.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "end":
				s.events <- "end: " + strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, "data: ") && event == "changed":
				s.events <- "changed"
			}
		}
	}()
	return s
}

// next waits for the stream's next event; "" when none comes within wait.
func (s *stream) next(wait time.Duration) string {
	select {
	case e := <-s.events:
		return e
	case <-time.After(wait):
		return ""
	}
}

func actorIn(t *testing.T, svc *workflow.App, name string) core.Actor {
	t.Helper()
	var u models.User
	if err := svc.DB().Where("email = ?", email(name)).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	act, err := svc.Identity.ActorByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return act
}

func submittedRequest(t *testing.T, svc *workflow.App, title string) uint {
	t.Helper()
	alice := actorIn(t, svc, "alice")
	in := requests.Input{Title: title, Justification: "the settlement job reads it", Rules: []requests.RuleInput{{Source: "transit", Destination: "127.50.0.10", Protocol: "tcp", Ports: "443"}}}
	r, err := svc.Requests.Create(t.Context(), alice, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Requests.Submit(t.Context(), alice, r.ID); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// quiet is how long a stream must stay silent when nothing it shows changed.
const quiet = 700 * time.Millisecond

// Issue 13 item 6: a request's page follows its state. A change made
// through the workflow — on this instance, or on another one sharing the
// PostgreSQL database — reaches an open stream; a change to another
// request does not.
func TestRequestStreamSeesChanges(t *testing.T) {
	check := func(t *testing.T, a *app, other *workflow.App) {
		a.svc.Live.SetIntervals(150*time.Millisecond, 20*time.Millisecond)
		id := submittedRequest(t, a.svc, "Live page")
		bystander := submittedRequest(t, a.svc, "Someone else's")
		alice := a.as("alice")
		s := a.openLive(t, alice, "/requests/"+fmt.Sprint(id))
		if e := s.next(quiet); e != "" {
			t.Fatalf("an unchanged request's stream said %q", e)
		}
		if _, err := other.Requests.AddComment(t.Context(), actorIn(t, other, "rita"), bystander, "not this one"); err != nil {
			t.Fatal(err)
		}
		if e := s.next(quiet); e != "" {
			t.Fatalf("a comment on another request reached the stream: %q", e)
		}
		if _, err := other.Requests.Cancel(t.Context(), actorIn(t, other, "alice"), id, "not needed after all"); err != nil {
			t.Fatal(err)
		}
		if e := s.next(10 * time.Second); e != "changed" {
			t.Fatalf("after the request was cancelled the stream said %q, want changed", e)
		}
		// The page, fetched again, shows the new state.
		if body := a.body(a.get(alice, "/requests/"+fmt.Sprint(id))); !strings.Contains(body, "state-cancelled") && !strings.Contains(body, ">Cancelled<") {
			t.Errorf("the page after the change does not show the cancelled request")
		}
	}
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newAppOn(t, db)
		check(t, a, a.svc)
	})
	t.Run("postgres, change on a second instance", func(t *testing.T) {
		dsn := modelstest.PostgresSchema(t)
		open := func() *gorm.DB {
			db, err := models.Open(context.Background(), dsn, modelstest.Logger())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if sqlDB, err := db.DB(); err == nil {
					sqlDB.Close()
				}
			})
			return db
		}
		a := newAppOn(t, open())
		check(t, a, workflow.New(open(), modelstest.Logger()))
	})
}

// The drift and scan lists follow their items.
func TestDriftAndScanListStreams(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newAppOn(t, db)
		a.svc.Live.SetIntervals(150*time.Millisecond, 20*time.Millisecond)
		item := models.DriftItem{Key: "open-unapproved|127.50.0.10|tcp|8080", Kind: "open-unapproved", Severity: "high", Address: "127.50.0.10",
			Protocol: "tcp", Port: 8080, State: "open", Evidence: `{"State":"open","Product":"nginx","Version":"1.25.3","TLS":true}`,
			FirstSeen: time.Now().UTC(), LastSeen: time.Now().UTC()}
		if err := a.svc.DB().Create(&item).Error; err != nil {
			t.Fatal(err)
		}
		rita := a.as("rita")
		driftStream := a.openLive(t, rita, "/drift")
		scanStream := a.openLive(t, rita, "/scans")
		if _, err := a.svc.Drift.Acknowledge(t.Context(), a.actorOf("rita"), item.ID, "looking into it"); err != nil {
			t.Fatal(err)
		}
		if e := driftStream.next(10 * time.Second); e != "changed" {
			t.Fatalf("after an acknowledgement the drift stream said %q", e)
		}
		if e := scanStream.next(quiet); e != "" {
			t.Fatalf("an acknowledged drift item reached the scan list's stream: %q", e)
		}
		a.svc.DB().Model(&models.ScanRun{}).Where("status = ?", "queued").Update("status", "failed")
		if _, err := a.svc.Scans.RequestScan(t.Context(), a.actorOf("rita"), []string{"127.50.0.10"}, "common"); err != nil {
			t.Fatal(err)
		}
		if e := scanStream.next(10 * time.Second); e != "changed" {
			t.Fatalf("after a scan was queued the scan list's stream said %q", e)
		}
	})
}

// A request's stream ends with the session, as the scan stream does.
func TestRequestStreamEndsWithTheSession(t *testing.T) {
	a := newApp(t, func(c *Config) { c.StreamSessionCheck = 100 * time.Millisecond })
	id := submittedRequest(t, a.svc, "Ends with the session")
	alice := a.as("alice")
	s := a.openLive(t, alice, "/requests/"+fmt.Sprint(id))
	if r := a.post(alice, "/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if e := s.next(10 * time.Second); !strings.Contains(e, "session ended") {
		t.Fatalf("after logout the stream said %q", e)
	}
	if _, open := <-s.events; open {
		t.Fatal("the stream went on after it ended")
	}
}

// The drift page shows the scanner's evidence as named fields, not JSON.
func TestDriftPageShowsEvidenceFields(t *testing.T) {
	a := newApp(t)
	item := models.DriftItem{Key: "open-unapproved|127.50.0.10|tcp|8080", Kind: "open-unapproved", Severity: "high", Address: "127.50.0.10",
		Protocol: "tcp", Port: 8080, State: "open", Evidence: `{"State":"open","Banner":"SSH-2.0-OpenSSH_9.6","Product":"OpenSSH","Version":"9.6","TLS":false,"Findings":["weak-kex"]}`,
		FirstSeen: time.Now().UTC(), LastSeen: time.Now().UTC()}
	if err := a.svc.DB().Create(&item).Error; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"<dt>Port state</dt>", ">open</dd>", "<dt>Product</dt>", ">OpenSSH 9.6</dd>", "<dt>Banner</dt>", ">SSH-2.0-OpenSSH_9.6</dd>", "<dt>Weak configuration</dt>", ">weak-kex</dd>"}},
		{"zh-CN", []string{"<dt>端口状态</dt>", ">开放</dd>", "<dt>产品</dt>", "<dt>弱配置</dt>"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := a.as("rita")
			req, _ := http.NewRequest(http.MethodGet, a.url+"/drift", nil)
			req.Header.Set("Accept-Language", tc.lang)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := a.body(resp)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the drift page lacks %q", w)
				}
			}
			if strings.Contains(body, `&#34;Banner&#34;`) || strings.Contains(body, `"Banner"`) || strings.Contains(body, "<dt>TLS</dt>") {
				t.Error("the drift page shows raw evidence or a TLS field that was not seen")
			}
		})
	}
}

// Auditors reach every event of a request from its timeline.
func TestTimelineLinksToTheAuditLog(t *testing.T) {
	a := newApp(t)
	id := submittedRequest(t, a.svc, "Audited")
	link := `href="/audit/log?object_type=request&amp;object_id=` + fmt.Sprint(id) + `"`
	if body := a.body(a.get(a.as("aude"), "/requests/"+fmt.Sprint(id))); !strings.Contains(body, link) {
		t.Fatalf("an auditor's request page lacks %s", link)
	}
	if body := a.body(a.get(a.as("alice"), "/requests/"+fmt.Sprint(id))); strings.Contains(body, "/audit/log") {
		t.Error("a requester, who cannot read the audit log, is offered a link to it")
	}
	body := a.body(a.get(a.as("aude"), "/audit/log?object_type=request&object_id="+fmt.Sprint(id)))
	if !strings.Contains(body, "submit") {
		t.Errorf("the filtered audit log lacks the request's submission")
	}
}
