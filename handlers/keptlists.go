package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
)

// keptListBytes bounds what the kept lists hold in all: a page of 50 rows
// is 25–90 KB, so a few hundred readers' pages.
const keptListBytes = 16 << 20

// keptLists holds the rendered content of list pages, each with the
// database's generation of the areas it shows (core.DataGeneration) when it
// was drawn. At a company's size a
// page of 50 requests costs several times what the layout around it does
// (reading the rows, their rules and requesters, and drawing them), while
// what it shows changes a few times a day; a reader who opens it again
// before anything it shows was written gets the same bytes.
type keptLists struct {
	mu      sync.Mutex
	entries map[string]keptList
	size    int
	max     int
}

type keptList struct {
	generation int64
	page       keptPage
	drawn      time.Time
}

// keptPage is what is kept of a page: its title, when read with its
// content (a campaign's name), and the content.
type keptPage struct {
	title, content string
}

func (p keptPage) size() int { return len(p.title) + len(p.content) }

// keptListMaxAge bounds how long a page is kept even when nothing in its
// areas was written: what a draw reads through this instance's own kept
// summaries of other areas (the zones and tiers beside a list of requests)
// may lag another instance's commit by up to core.SummaryMaxAge, so the page
// kept from it by up to twice that (those of the page's own areas are
// counted again once its generation shows the change); and days left and
// the live pages' stamps move with the clock.
const keptListMaxAge = core.SummaryMaxAge

// maxKeptQuery is the longest query a kept page is kept for: the key holds
// it, and the bound counts keys as well as pages.
const maxKeptQuery = 1024

func newKeptLists(max int) *keptLists {
	return &keptLists{entries: map[string]keptList{}, max: max}
}

// get is the page kept under key when it was drawn at generation, less
// than keptListMaxAge before now.
func (k *keptLists) get(key string, generation int64, now time.Time) (keptPage, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[key]
	if !ok || e.generation != generation || now.Sub(e.drawn) >= keptListMaxAge {
		return keptPage{}, false
	}
	return e.page, true
}

// put keeps page under key, dropping others while the whole is over its
// bound: first those past their age, then any (a map's order). A page
// larger than the bound is not kept.
func (k *keptLists) put(key string, generation int64, page keptPage, drawn time.Time) {
	size := len(key) + page.size()
	if size > k.max {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.entries[key]; ok {
		// A later drawing may have been kept meanwhile; never go back.
		if old.generation > generation {
			return
		}
		k.size -= len(key) + old.page.size()
	}
	for _, aged := range []bool{true, false} {
		for other, e := range k.entries {
			if k.size+size <= k.max {
				break
			}
			if other != key && (!aged || drawn.Sub(e.drawn) >= keptListMaxAge) {
				delete(k.entries, other)
				k.size -= len(other) + e.page.size()
			}
		}
	}
	k.entries[key] = keptList{generation: generation, page: page, drawn: drawn}
	k.size += size
}

// keptListKey names one reader's view of one list: who reads it and with
// which roles and team (they decide which rows are seen and what may be
// done), in which language and time zone, on which UTC day, with which
// filters and cursor.
func keptListKey(ctx context.Context, list string, r *http.Request) string {
	a := actor(r)
	var b strings.Builder
	b.WriteString(list)
	b.WriteByte('|')
	b.WriteString(strconv.FormatUint(uint64(a.ID), 10))
	b.WriteByte('|')
	for _, role := range a.Roles {
		b.WriteString(string(role))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	b.WriteString(a.Team)
	b.WriteByte('|')
	b.WriteString(locale.Lang(ctx))
	b.WriteByte('|')
	b.WriteString(locale.Zone(ctx).String())
	b.WriteByte('|')
	b.WriteString(time.Now().UTC().Format(time.DateOnly))
	b.WriteByte('|')
	b.WriteString(r.URL.RawQuery)
	return b.String()
}

// kept is a list as this reader last had it when nothing in the areas it
// shows has been written since (by any instance: the database counts the
// writes), and otherwise what draw reads and draws afresh, kept for next
// time. The generation is read before the rows, so what is kept is never
// older than the number it is kept under.
func (s *Server) kept(r *http.Request, list string, areas []core.CountedArea, draw func() (keptPage, error)) (keptPage, error) {
	if len(r.URL.RawQuery) > maxKeptQuery {
		return draw()
	}
	ctx := r.Context()
	generation, err := s.app.DataGeneration(ctx, areas...)
	if err != nil {
		return keptPage{}, err
	}
	key := keptListKey(ctx, list, r)
	now := time.Now()
	if page, ok := s.keptLists.get(key, generation, now); ok {
		return page, nil
	}
	page, err := draw()
	if err != nil {
		return keptPage{}, err
	}
	s.keptLists.put(key, generation, page, now)
	return page, nil
}

// keptList is a list page whose content is kept (see kept):
// only the layout around it is drawn on every view.
func (s *Server) keptList(w http.ResponseWriter, r *http.Request, list, title string, areas []core.CountedArea, draw func() (templ.Component, error)) {
	s.keptTitled(w, r, list, areas, func() (string, templ.Component, error) {
		c, err := draw()
		return title, c, err
	})
}

// keptTitled is a kept page whose title is read with its content (a
// campaign's name): both are kept.
func (s *Server) keptTitled(w http.ResponseWriter, r *http.Request, list string, areas []core.CountedArea, draw func() (title string, c templ.Component, err error)) {
	page, err := s.kept(r, list, areas, func() (keptPage, error) {
		title, c, err := draw()
		if err != nil {
			return keptPage{}, err
		}
		var b strings.Builder
		err = c.Render(r.Context(), &b)
		return keptPage{title: title, content: b.String()}, err
	})
	var refused refusedPage
	if errors.As(err, &refused) {
		s.render(w, r, http.StatusBadRequest, web.PageOf(s.page(r, refused.title), refused.content))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.PageOf(s.page(r, page.title), templ.Raw(page.content)))
}

// refusedPage is what a kept page's draw gives instead of the page when
// what was asked (its filters) was refused: the page with why, answered
// with 400 and, as every error, not kept.
type refusedPage struct {
	err     error
	title   string
	content templ.Component
}

func (p refusedPage) Error() string { return p.err.Error() }
func (p refusedPage) Unwrap() error { return p.err }

// drawnOnce is a page drawn for this answer alone, never kept: a refused
// form, with what was typed and why it was refused, or a page drawn from
// values that may settle after a change (an auditor's home).
func (s *Server) drawnOnce(w http.ResponseWriter, r *http.Request, status int, title string, draw func() (templ.Component, error)) {
	c, err := draw()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, web.PageOf(s.page(r, title), c))
}

// keptJSON is an API list whose body is kept (see kept).
func (s *Server) keptJSON(w http.ResponseWriter, r *http.Request, list string, areas []core.CountedArea, draw func() (any, error)) {
	body, err := s.kept(r, "api:"+list, areas, func() (keptPage, error) {
		v, err := draw()
		if err != nil {
			return keptPage{}, err
		}
		var b strings.Builder
		err = json.NewEncoder(&b).Encode(v)
		return keptPage{content: b.String()}, err
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, body.content)
}

// requestLists is what the lists of requests (the queues, the register,
// /requests and their API calls) show.
var requestLists = []core.CountedArea{core.CountedRequests}

// campaignPages is what a campaign's page shows: its items, their requests
// and rules, and who decided them.
var campaignPages = []core.CountedArea{core.CountedRequests, core.CountedRecert}

// recertLists is what the re-certification page shows: each item's request,
// the campaigns, and the settings its forms' dates come from.
var recertLists = []core.CountedArea{core.CountedRequests, core.CountedRecert, core.CountedInventory}

// scanLists is what the scan list shows: the runs, and the zones to scan.
var scanLists = []core.CountedArea{core.CountedScans, core.CountedInventory}

// driftLists is what the drift list shows: the items, the assets and zones
// they are on, and the requests filed for them.
var driftLists = []core.CountedArea{core.CountedDrift, core.CountedInventory, core.CountedRequests}

// assetPages is what an asset's page shows: the asset, the rules reaching
// it, its last scan's ports and its scan history, and its live drift.
var assetPages = []core.CountedArea{core.CountedInventory, core.CountedRequests, core.CountedScans, core.CountedDrift}

// operationsPages is what the operations page shows: each zone's schedule,
// assets and last scheduled runs, and the alert deliveries.
var operationsPages = []core.CountedArea{core.CountedInventory, core.CountedScans, core.CountedAlerts}

// inventoryLists is what the asset list shows.
var inventoryLists = []core.CountedArea{core.CountedInventory}

// userLists is what the list of users shows: the people, their roles and
// when they last logged in (counted under requests: migration 00023).
var userLists = []core.CountedArea{core.CountedRequests}

// applicationPages is what the admin's applications page shows: the
// applications and their assets, the settings and the questionnaire.
var applicationPages = []core.CountedArea{core.CountedInventory}

// reportLists is what the reports page shows: the reports, the reader's
// subscriptions, and the zones and owner teams to subscribe to.
var reportLists = []core.CountedArea{core.CountedReports, core.CountedInventory}

// runLists is what the API's list of scans shows: the runs alone.
var runLists = []core.CountedArea{core.CountedScans}

// requestPages is what a request's page shows: the request, its rules,
// reviews, comments and timeline (its audit events, counted under requests
// since migration 00023), the zones and assets it reaches, the settings its
// findings were judged by, and its verification scans.
var requestPages = []core.CountedArea{core.CountedRequests, core.CountedInventory, core.CountedScans}

// auditLogs is what the audit log shows: its events, every one counted
// (migration 00023).
var auditLogs = []core.CountedArea{core.CountedAudit}
