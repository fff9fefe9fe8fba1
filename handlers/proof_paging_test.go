package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
)

// addDrift writes n drift items straight into the database, spread over the
// severities and live states.
func addDrift(t *testing.T, a *app, from, n int) {
	t.Helper()
	sevs := []string{"critical", "high", "medium", "low", "info"}
	states := []string{"open", "acknowledged"}
	now := time.Now().UTC()
	for i := from; i < from+n; i++ {
		d := models.DriftItem{Key: fmt.Sprintf("open-unapproved|127.64.0.%d|tcp|%d", i%250, 1000+i), Kind: "open-unapproved", Severity: sevs[i%len(sevs)],
			Address: fmt.Sprintf("127.64.0.%d", i%250), Protocol: "tcp", Port: 1000 + i, State: states[i%len(states)], FirstSeen: now, LastSeen: now}
		if err := a.svc.DB().Create(&d).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestDriftAPIPaging walks GET /api/v1/drift?state=open,acknowledged page by
// page while items are added between pages: every item that was there when
// the walk began comes exactly once, in the list's order.
func TestDriftAPIPaging(t *testing.T) {
	a := newApp(t)
	addDrift(t, a, 0, 23)
	var before []uint
	a.svc.DB().Model(&models.DriftItem{}).Where("state IN ?", []string{"open", "acknowledged"}).Pluck("id", &before)

	seen := map[uint]int{}
	rank := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
	lastRank, lastID := -1, uint(0)
	cursor, pages := "", 0
	for {
		var body struct {
			Drift []struct {
				ID       uint   `json:"id"`
				Severity string `json:"severity"`
			} `json:"drift"`
			Next string `json:"next_cursor"`
		}
		path := "/drift?state=open,acknowledged&limit=4"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if st := a.api("rita", http.MethodGet, path, nil, &body); st != http.StatusOK {
			t.Fatalf("page %d: status %d", pages, st)
		}
		if len(body.Drift) > 4 {
			t.Fatalf("page of %d items with limit 4", len(body.Drift))
		}
		for _, d := range body.Drift {
			seen[d.ID]++
			r := rank[d.Severity]
			if r < lastRank || (r == lastRank && d.ID >= lastID) {
				t.Fatalf("item %d (%s) out of order after rank %d id %d", d.ID, d.Severity, lastRank, lastID)
			}
			lastRank, lastID = r, d.ID
		}
		pages++
		addDrift(t, a, 100+pages*3, 3) // newer items arrive while the client walks
		if body.Next == "" {
			break
		}
		cursor = body.Next
		if pages > 100 {
			t.Fatal("the walk does not end")
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Fatalf("item %d seen %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("item %d seen %d times", id, n)
		}
	}
	// Bad paging input names the parameter.
	var e struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	if st := a.api("rita", http.MethodGet, "/drift?limit=500", nil, &e); st != http.StatusBadRequest || !strings.Contains(fmt.Sprint(e), "limit") {
		t.Fatalf("limit=500: %d %+v", st, e)
	}
	if st := a.api("rita", http.MethodGet, "/drift?cursor=nonsense", nil, &e); st != http.StatusBadRequest || !strings.Contains(fmt.Sprint(e), "cursor") {
		t.Fatalf("bad cursor: %d %+v", st, e)
	}
}

// TestScansAPIPaging walks GET /api/v1/scans while runs are queued between
// pages: every run there at the start comes exactly once, newest first.
func TestScansAPIPaging(t *testing.T) {
	a := newApp(t)
	addRuns := func(n int) {
		for i := 0; i < n; i++ {
			run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "127.0.0.1", Status: "done", RequestedBy: "test", Progress: "{}", QueuedAt: time.Now().UTC()}
			if err := a.svc.DB().Create(&run).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	addRuns(11)
	var before []uint
	a.svc.DB().Model(&models.ScanRun{}).Pluck("id", &before)
	seen := map[uint]int{}
	cursor, lastID, pages := "", uint(1<<31), 0
	for {
		var body struct {
			Scans []struct {
				ID     uint            `json:"id"`
				Report json.RawMessage `json:"report"`
			} `json:"scans"`
			Next string `json:"next_cursor"`
		}
		path := "/scans?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if st := a.api("aude", http.MethodGet, path, nil, &body); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		for _, s := range body.Scans {
			if s.ID >= lastID {
				t.Fatalf("run %d after %d: not newest first", s.ID, lastID)
			}
			if len(s.Report) > 0 {
				t.Fatalf("the list carries run %d's report", s.ID)
			}
			lastID = s.ID
			seen[s.ID]++
		}
		pages++
		addRuns(2)
		if body.Next == "" {
			break
		}
		cursor = body.Next
		if pages > 10 {
			t.Fatal("the walk does not end")
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Fatalf("run %d seen %d times", id, seen[id])
		}
	}
	if st := a.api("alice", http.MethodGet, "/scans", nil, nil); st != http.StatusForbidden {
		t.Fatalf("a requester lists scans: %d", st)
	}
}

// TestDriftPagePagesWithItsFilters: the drift page shows a page and a "Next
// page" link that keeps the filters.
func TestDriftPagePagesWithItsFilters(t *testing.T) {
	a := newApp(t)
	addDrift(t, a, 0, 120)
	c := a.as("rita")
	body := a.body(a.get(c, "/drift?severity=high&limit=10"))
	if strings.Count(body, `<tr id="drift-`) > 10 {
		t.Fatalf("the first page shows %d items", strings.Count(body, `<tr id="drift-`))
	}
	if !strings.Contains(body, `rel="next"`) || !strings.Contains(body, "severity=high") {
		t.Fatal("no next link keeping the severity filter")
	}
	resp := a.get(c, "/drift?cursor=bogus")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", resp.StatusCode)
	}
}
