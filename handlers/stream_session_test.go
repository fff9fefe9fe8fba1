package handlers

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/scans"
)

// Issue 12 item 10: the scan progress stream kept streaming after logout.
// It now reads its session again on every event and every
// StreamSessionCheck, and ends when the session is gone or the user no
// longer holds a role that may follow scans.
func TestScanStreamEndsWithTheSession(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		end        func(a *app, c *http.Client)
	}{
		{"logout", "session ended", func(a *app, c *http.Client) {
			if r := a.post(c, "/logout", nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", r.StatusCode)
			}
		}},
		{"role lost", "access withdrawn", func(a *app, c *http.Client) {
			if err := a.svc.DB().Model(&models.User{}).Where("email = ?", email("rita")).Update("roles", "requester").Error; err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, func(c *Config) { c.StreamSessionCheck = 100 * time.Millisecond })
			gate := gatedScanner{release: make(chan struct{})}
			defer close(gate.release)
			a.svc.Scans.SetScanner(gate, scans.Policy{LoopbackOnly: true})
			rita := a.as("rita")
			a.svc.DB().Model(&models.ScanRun{}).Where("status = ?", "queued").Update("status", "failed")
			r := a.post(rita, "/scans", map[string][]string{"targets": {"127.20.0.5"}, "profile": {"common"}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("start scan: %d %s", r.StatusCode, a.body(r))
			}
			page := r.Header.Get("Location")
			runID := a.queuedScan(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go a.svc.Scans.Run(ctx, runID, "test", 0)

			req, _ := http.NewRequest(http.MethodGet, a.url+page+"/events", nil)
			resp, err := rita.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// The guard: a stream that never ends fails the test rather than hanging it.
			guard := time.AfterFunc(20*time.Second, func() { resp.Body.Close() })
			defer guard.Stop()
			sc := bufio.NewScanner(resp.Body)
			events, ended := 0, ""
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "event: progress") {
					if events++; events == 2 {
						tc.end(a, rita)
					}
				}
				if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"reason"`) {
					ended = line
				}
			}
			if !strings.Contains(ended, tc.want) {
				t.Fatalf("the stream closed after %d events without ending for %q (last end event %q)", events, tc.want, ended)
			}
		})
	}
}
