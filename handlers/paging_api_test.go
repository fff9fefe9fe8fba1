package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/requests"
)

// apiWalk reads every page of an API list as name, calling grow between
// pages, and returns the value of field of every item, in order.
func (a *app) apiWalk(name, path, items, field string, limit int, grow func()) []string {
	a.t.Helper()
	var out []string
	cursor := ""
	for n := 0; ; n++ {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		var page map[string]any
		if st := a.api(name, http.MethodGet, u, nil, &page); st != http.StatusOK {
			a.t.Fatalf("GET %s: %d %v", u, st, page)
		}
		list, _ := page[items].([]any)
		if len(list) > limit {
			a.t.Fatalf("GET %s: %d items, more than the limit", u, len(list))
		}
		for _, it := range list {
			out = append(out, fmt.Sprint(it.(map[string]any)[field]))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			return out
		}
		if next == "" {
			a.t.Fatalf("GET %s: next_cursor is present but empty", u)
		}
		if grow != nil {
			grow()
		}
		cursor = next
		if n > 500 {
			a.t.Fatal("the pages never end")
		}
	}
}

func TestAPIListsPage(t *testing.T) {
	a := newApp(t)
	ctx := t.Context()
	var u models.User
	if err := a.svc.DB().Where("email = ?", email("alice")).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	alice, err := a.svc.Identity.ActorByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	in := requests.Input{Title: "Paging", Justification: "rows to walk", Rules: []requests.RuleInput{{Source: "transit", Destination: "127.50.0.10", Protocol: "tcp", Ports: "443"}}}
	for range 7 {
		if _, err := a.svc.Requests.Create(ctx, alice, in); err != nil {
			t.Fatal(err)
		}
	}
	var before []models.Request
	a.svc.DB().Order("id DESC").Find(&before)
	want := make([]string, len(before))
	for i, r := range before {
		want[i] = fmt.Sprint(r.ID)
	}
	// Every request once, newest first, while new ones are filed between pages.
	got := a.apiWalk("aude", "/requests", "requests", "id", 3, func() {
		if _, err := a.svc.Requests.Create(ctx, alice, in); err != nil {
			t.Fatal(err)
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("walking /requests: %v, want %v", got, want)
	}
	// Filters stay with the cursor.
	for _, id := range a.apiWalk("aude", "/requests?state=draft,submitted&q=paging", "requests", "id", 2, nil) {
		var r models.Request
		a.svc.DB().First(&r, id)
		if (r.State != "draft" && r.State != "submitted") || r.Title != "Paging" {
			t.Errorf("filtered walk returned #%s (%s, %q)", id, r.State, r.Title)
		}
	}

	// The register, the zones and the assets page the same way.
	var inForce int64
	a.svc.DB().Model(&models.Request{}).Where("state IN ?", requests.InForceStates).Count(&inForce)
	rules := a.apiWalk("aude", "/rules", "rules", "request_id", 1, nil)
	if int64(len(slices.Compact(slices.Clone(rules)))) != inForce || inForce == 0 {
		t.Errorf("register walk %v, want the rules of %d requests in force", rules, inForce)
	}
	for _, l := range []struct {
		path, items, field string
		model              any
	}{
		{"/zones", "zones", "name", &models.Zone{}},
		{"/assets", "assets", "address", &models.Asset{}},
	} {
		var n int64
		a.svc.DB().Model(l.model).Count(&n)
		got := a.apiWalk("alice", l.path, l.items, l.field, 2, nil)
		if int64(len(got)) != n || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("walking %s: %v, want each of %d once, in order", l.path, got, n)
		}
	}

	// Bad paging parameters name the culprit.
	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=x", "limit"}, {"cursor=not-a-cursor", "cursor"},
	} {
		var e apiErr
		if st := a.api("aude", http.MethodGet, "/requests?"+c.query, nil, &e); st != http.StatusBadRequest || e.Error.Field != c.field {
			t.Errorf("?%s: %d %+v, want 400 on %s", c.query, st, e, c.field)
		}
	}
}

func TestPagesLinkTheirNextPage(t *testing.T) {
	a := newApp(t)
	aude := a.as("aude")
	body := a.body(a.get(aude, "/requests?limit=2&q=e"))
	m := regexp.MustCompile(`href="(/requests\?[^"]*cursor=[^"]*)"[^>]*>Next page`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no next page link in %s", body)
	}
	next := html.UnescapeString(m[1])
	if !strings.Contains(next, "q=e") || !strings.Contains(next, "limit=2") {
		t.Fatalf("the next link %q drops the filters", next)
	}
	second := a.body(a.get(aude, next))
	if !strings.Contains(second, "First page") {
		t.Error("the second page has no link back to the first")
	}
	for _, path := range []string{"/register?limit=1", "/assets?limit=2", "/queue/review?limit=1"} {
		c := aude
		if strings.HasPrefix(path, "/queue") {
			c = a.as("rita")
		}
		resp := a.get(c, path)
		if b := a.body(resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "Next page") {
			t.Errorf("%s: %d, no next page link", path, resp.StatusCode)
		}
	}
	if resp := a.get(aude, "/requests?cursor=bogus"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad cursor: %d, want 400", resp.StatusCode)
	}
}
