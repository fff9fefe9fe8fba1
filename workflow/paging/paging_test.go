package paging

import (
	"errors"
	"testing"
	"time"
)

type byExpiry struct {
	ExpiresAt time.Time
	ID        uint
}

func TestParse(t *testing.T) {
	at := time.Date(2027, 2, 22, 0, 0, 0, 0, time.UTC)
	good := Encode(byExpiry{ExpiresAt: at, ID: 42})
	tests := []struct {
		name, limit, cursor string
		wantLimit           int
		wantAfter           *byExpiry
		wantField           string
	}{
		{name: "defaults", wantLimit: DefaultLimit},
		{name: "limit", limit: "7", wantLimit: 7},
		{name: "max", limit: "200", wantLimit: 200},
		{name: "over max", limit: "201", wantField: "limit"},
		{name: "zero", limit: "0", wantField: "limit"},
		{name: "not a number", limit: "ten", wantField: "limit"},
		{name: "cursor", cursor: good, wantLimit: DefaultLimit, wantAfter: &byExpiry{at, 42}},
		{name: "garbage cursor", cursor: "%%%", wantField: "cursor"},
		{name: "other shape", cursor: Encode(map[string]int{"X": 1}), wantField: "cursor"},
		{name: "trailing", cursor: good + "e30", wantField: "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Parse[byExpiry](tt.limit, tt.cursor)
			if tt.wantField != "" {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != tt.wantField {
					t.Fatalf("err = %v, want an input error on %q", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Limit != tt.wantLimit {
				t.Errorf("limit = %d, want %d", req.Limit, tt.wantLimit)
			}
			switch {
			case tt.wantAfter == nil && req.After != nil:
				t.Errorf("after = %+v, want none", *req.After)
			case tt.wantAfter != nil && (req.After == nil || !req.After.ExpiresAt.Equal(tt.wantAfter.ExpiresAt) || req.After.ID != tt.wantAfter.ID):
				t.Errorf("after = %+v, want %+v", req.After, *tt.wantAfter)
			}
		})
	}
}

// Walking pages of a list that grows between calls returns every row that
// existed at the start exactly once: keyset cursors do not shift.
func TestCutWalksGrowingList(t *testing.T) {
	rows := []uint{}
	for id := uint(1); id <= 23; id++ {
		rows = append(rows, id)
	}
	// The list is newest first: rows after a cursor have smaller ids.
	query := func(req Request[uint], all []uint) []uint {
		var out []uint
		for i := len(all) - 1; i >= 0 && len(out) < req.Fetch(); i-- {
			if req.After == nil || all[i] < *req.After {
				out = append(out, all[i])
			}
		}
		return out
	}
	seen := map[uint]int{}
	req := Request[uint]{Limit: 5}
	next := uint(24)
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page := Cut(req, query(req, rows), func(id uint) uint { return id })
		for _, id := range page.Items {
			seen[id]++
		}
		rows = append(rows, next, next+1) // new rows arrive at the top
		next += 2
		if page.Next == "" {
			break
		}
		var err error
		if req, err = Parse[uint]("5", page.Next); err != nil {
			t.Fatal(err)
		}
	}
	for id := uint(1); id <= 23; id++ {
		if seen[id] != 1 {
			t.Errorf("row %d seen %d times", id, seen[id])
		}
	}
	if len(seen) != 23 {
		t.Errorf("saw %d rows, want the 23 that existed at the start", len(seen))
	}
}

func TestCutLastPageHasNoCursor(t *testing.T) {
	page := Cut(Request[uint]{Limit: 3}, []uint{9, 8, 7}, func(id uint) uint { return id })
	if page.Next != "" || len(page.Items) != 3 {
		t.Fatalf("page = %+v, want 3 items and no next cursor", page)
	}
	page = Cut(Request[uint]{Limit: 3}, []uint{9, 8, 7, 6}, func(id uint) uint { return id })
	if page.Next == "" || len(page.Items) != 3 {
		t.Fatalf("page = %+v, want 3 items and a next cursor", page)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("50", Encode(byExpiry{ID: 1}))
	f.Add("", "eyJJRCI6MX0")
	f.Add("-1", "////")
	f.Fuzz(func(t *testing.T, limit, cursor string) {
		req, err := Parse[byExpiry](limit, cursor)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an input error", err)
			}
			return
		}
		if req.Limit < 1 || req.Limit > MaxLimit {
			t.Fatalf("limit %d accepted", req.Limit)
		}
	})
}
