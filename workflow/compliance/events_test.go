package compliance_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// TestEventsPageNewestFirst walks the audit browser while events are
// appended between pages: every event that existed at the start appears
// once, newest first, and none appended later slips into a later page.
func TestEventsPageNewestFirst(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := busyWorld(t, db)
		var total int64
		workflowtest.Must(t, db.Table("audit_events").Count(&total).Error)
		seen := map[uint64]int{}
		var prev uint64
		page := paging.Request[compliance.EventKey]{Limit: 7}
		for n := 0; ; n++ {
			p, err := w.App.Compliance.Events(w.Ctx, w.Aude, compliance.EventQuery{}, page)
			workflowtest.Must(t, err)
			for _, e := range p.Items {
				if prev != 0 && e.Seq >= prev {
					t.Fatalf("seq %d after %d: not newest first", e.Seq, prev)
				}
				prev = e.Seq
				seen[e.Seq]++
			}
			// Someone works while the auditor pages.
			w.Submitted(t, workflowtest.LowRisk())
			if p.Next == "" {
				break
			}
			page, err = paging.Parse[compliance.EventKey]("7", p.Next)
			workflowtest.Must(t, err)
		}
		for seq := uint64(1); seq <= uint64(total); seq++ {
			if seen[seq] != 1 {
				t.Fatalf("event %d seen %d times", seq, seen[seq])
			}
		}
		if len(seen) != int(total) {
			t.Fatalf("saw %d events, %d existed at the start", len(seen), total)
		}
	})
}

func TestEventsFilters(t *testing.T) {
	w := busyWorld(t, modelstest.SQLite(t))
	// One request's timeline.
	p, err := w.App.Compliance.Events(w.Ctx, w.Aude, compliance.EventQuery{ObjectType: "request", ObjectID: 2}, paging.First[compliance.EventKey]())
	workflowtest.Must(t, err)
	if len(p.Items) < 4 {
		t.Fatalf("request 2 has %d events", len(p.Items))
	}
	for _, e := range p.Items {
		if e.ObjectType != "request" || e.ObjectID != 2 {
			t.Fatalf("event of %s #%d in request 2's timeline", e.ObjectType, e.ObjectID)
		}
	}
	// Before a day that precedes everything: nothing; before tomorrow: everything.
	p, err = w.App.Compliance.Events(w.Ctx, w.Aude, compliance.EventQuery{Before: time.Now().AddDate(0, 0, -1)}, paging.First[compliance.EventKey]())
	workflowtest.Must(t, err)
	if len(p.Items) != 0 {
		t.Fatalf("%d events before yesterday", len(p.Items))
	}
	p, err = w.App.Compliance.Events(w.Ctx, w.Aude, compliance.EventQuery{Before: time.Now().AddDate(0, 0, 1)}, paging.First[compliance.EventKey]())
	workflowtest.Must(t, err)
	if len(p.Items) == 0 {
		t.Fatal("no event before tomorrow")
	}
	for _, q := range []compliance.EventQuery{{ObjectType: "request"}, {ObjectID: 3}, {ObjectType: "nonsense", ObjectID: 1}} {
		_, err = w.App.Compliance.Events(w.Ctx, w.Aude, q, paging.First[compliance.EventKey]())
		workflowtest.MustCode(t, err, core.CodeInvalid)
	}
	_, err = w.App.Compliance.Events(w.Ctx, w.Alice, compliance.EventQuery{}, paging.First[compliance.EventKey]())
	workflowtest.MustCode(t, err, core.CodeForbidden)
}

// TestExportPeriodWithAClockThatWentBack: the period's events are exported
// by their time even when the clock went back between appends, so that the
// seq range of the period holds events outside it.
func TestExportPeriodWithAClockThatWentBack(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{base, base.AddDate(0, 0, 5), base.AddDate(0, 0, 1), base.AddDate(0, 0, 6), base.AddDate(0, 0, 2)} {
		w.App.SetClock(func() time.Time { return at })
		workflowtest.Must(t, w.App.InTx(w.Ctx, func(tx *gorm.DB) error {
			return w.App.Audit(tx, core.SystemActor, "tick", "settings", 0, "", "", nil, at.Format(time.DateOnly))
		}))
	}
	var buf bytes.Buffer
	f := compliance.AuditFilter{From: base.AddDate(0, 0, 1).Truncate(24 * time.Hour), To: base.AddDate(0, 0, 3).Truncate(24 * time.Hour)}
	workflowtest.Must(t, w.App.Compliance.ExportAudit(w.Ctx, w.Aude, f, "csv", &buf))
	rows, err := csv.NewReader(&buf).ReadAll()
	workflowtest.Must(t, err)
	var got []string
	comment := slices.Index(rows[0], "comment")
	for _, r := range rows[1:] {
		if r[4] == "tick" {
			got = append(got, r[comment])
		}
	}
	if len(got) != 2 || got[0] != "2026-03-11" || got[1] != "2026-03-12" {
		t.Fatalf("period export holds %v (rows %v)", got, rows)
	}
}
