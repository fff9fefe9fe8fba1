package recert_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestRecertificationCampaign(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		start := time.Now().UTC().Truncate(time.Microsecond) // what Postgres keeps
		clock := start
		w.App.SetClock(func() time.Time { return clock })
		approved := func(by core.Actor) uint {
			in := workflowtest.LowRisk()
			in.ExpiresAt = start.AddDate(0, 0, 300)
			r := w.Create(t, by, in)
			_, err := w.App.Requests.Submit(w.Ctx, by, r.ID)
			workflowtest.Must(t, err)
			_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
			workflowtest.Must(t, err)
			return r.ID
		}
		a1, a2, b1 := approved(w.Alice), approved(w.Alice), approved(w.Bob)
		// Five months on, nothing is due within a week; within two months all three are.
		clock = start.AddDate(0, 5, 0)
		_, n, err := w.App.Recert.StartCampaign(w.Ctx, w.Adam, "", clock.AddDate(0, 0, 7))
		workflowtest.Must(t, err)
		if n != 0 {
			t.Fatalf("%d due within a week, want 0", n)
		}
		_, _, err = w.App.Recert.StartCampaign(w.Ctx, w.Alice, "x", clock.AddDate(0, 1, 0))
		workflowtest.MustCode(t, err, core.CodeForbidden)
		camp, n, err := w.App.Recert.StartCampaign(w.Ctx, w.Lee, "H2 review", clock.AddDate(0, 1, 15))
		workflowtest.Must(t, err)
		if n != 3 {
			t.Fatalf("%d due, want 3", n)
		}
		minePage, err := w.App.Recert.MyRecertifications(w.Ctx, w.Alice, paging.First[recert.MineKey]())
		workflowtest.Must(t, err)
		mine := minePage.Items
		if len(mine) != 2 {
			t.Fatalf("alice owns %d items, want 2", len(mine))
		}
		// Her home's first pending items are the same, kept until a change.
		first, err := w.App.Recert.FirstPending(w.Ctx, w.Alice, 5)
		workflowtest.Must(t, err)
		if len(first) != 2 || first[0].ID != mine[0].ID || first[1].ID != mine[1].ID || first[0].Request.Title == "" || first[0].Campaign.Name != "H2 review" {
			t.Fatalf("first pending: %+v, want the page's two items with their request and campaign", first)
		}
		// Bob cannot re-certify alice's team's rule; alice needs a justification.
		_, err = w.App.Recert.Recertify(w.Ctx, w.Bob, mine[0].ID, "still needed", time.Time{})
		workflowtest.MustCode(t, err, core.CodeForbidden)
		_, err = w.App.Recert.Recertify(w.Ctx, w.Alice, mine[0].ID, " ", time.Time{})
		workflowtest.MustCode(t, err, core.CodeInvalid)
		newExpiry := clock.AddDate(0, 3, 0)
		r, err := w.App.Recert.Recertify(w.Ctx, w.Alice, mine[0].ID, "The gateway console is used daily by the payments team.", newExpiry)
		workflowtest.Must(t, err)
		if !r.ExpiresAt.Equal(newExpiry) || r.CertifiedAt == nil || !r.CertifiedAt.Equal(clock) {
			t.Fatalf("re-certified request: expires %v certified %v", r.ExpiresAt, r.CertifiedAt)
		}
		_, err = w.App.Recert.Recertify(w.Ctx, w.Alice, mine[0].ID, "again", newExpiry)
		workflowtest.MustCode(t, err, core.CodeConflict)
		if first, err = w.App.Recert.FirstPending(w.Ctx, w.Alice, 5); err != nil || len(first) != 1 || first[0].ID != mine[1].ID {
			t.Fatalf("first pending after re-certifying one: %+v, %v", first, err)
		}
		// Alice lets the second lapse: it expires now.
		r, err = w.App.Recert.LetLapse(w.Ctx, w.Alice, mine[1].ID, "the migration is done")
		workflowtest.Must(t, err)
		if requests.State(r.State) != requests.StateExpired {
			t.Fatalf("lapsed request is %s", r.State)
		}
		p, err := w.App.Recert.Campaign(w.Ctx, w.Aude, camp.ID)
		workflowtest.Must(t, err)
		progress := map[string]recert.TeamProgress{}
		for _, tp := range p.Teams {
			progress[tp.Team] = tp
		}
		if progress["payments"].Recertified != 1 || progress["payments"].Lapsed != 1 || progress["sales"].Pending != 1 || progress["payments"].Done() != 100 {
			t.Fatalf("progress %+v", p.Teams)
		}
		// The deadline passes: bob's rule was not re-certified and expires; the re-certified one stays.
		clock = camp.DueBy.Add(time.Hour)
		n, err = w.App.Recert.ExpireDue(w.Ctx)
		workflowtest.Must(t, err)
		if n != 1 || w.State(t, b1) != requests.StateExpired || w.State(t, a1) != requests.StateApproved || w.State(t, a2) != requests.StateExpired {
			t.Fatalf("after the deadline: expired %d; states %s %s %s", n, w.State(t, a1), w.State(t, a2), w.State(t, b1))
		}
		var events []models.AuditEvent
		db.Where("object_id = ? AND action = ?", b1, requests.EventExpire).Find(&events)
		if len(events) != 1 || !strings.Contains(events[0].Comment, "not re-certified") {
			t.Fatalf("expiry event %+v", events)
		}
		// And at its own expiry the re-certified rule ends too.
		clock = newExpiry.Add(time.Minute)
		n, err = w.App.Recert.ExpireDue(w.Ctx)
		workflowtest.Must(t, err)
		if n != 1 || w.State(t, a1) != requests.StateExpired {
			t.Fatalf("at expiry: %d, %s", n, w.State(t, a1))
		}
	})
}

type fakeMailer struct {
	sent []string // "to|subject|body"
}

func (m *fakeMailer) SendText(ctx context.Context, to []string, subject, body, id string) error {
	m.sent = append(m.sent, strings.Join(to, ",")+"|"+subject+"|"+body)
	return nil
}

func TestRecertificationReminders(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	mailer := &fakeMailer{}
	w.App.Recert.SetMailer(mailer, "https://portcullis.example")
	r := w.Submitted(t, workflowtest.LowRisk())
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	_, _, err = w.App.Recert.StartCampaign(w.Ctx, w.Lee, "Q1", time.Now().AddDate(1, 0, 0))
	workflowtest.Must(t, err)
	n, err := w.App.Recert.SendReminders(w.Ctx)
	workflowtest.Must(t, err)
	if n != 1 || len(mailer.sent) != 1 || !strings.HasPrefix(mailer.sent[0], "alice@example.test|") || !strings.Contains(mailer.sent[0], "https://portcullis.example/recertification") {
		t.Fatalf("reminders %v", mailer.sent)
	}
	// Not again within the week.
	n, _ = w.App.Recert.SendReminders(w.Ctx)
	if n != 0 || len(mailer.sent) != 1 {
		t.Fatalf("reminded twice: %v", mailer.sent)
	}
}

// TestReminderSpeaksTheOwnersLanguage: the reminder is in the language the
// owner chose on their profile; with no choice, in the server's default.
func TestReminderSpeaksTheOwnersLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, chosen string
		want         []string
	}{
		{"no choice: the server's default", "", []string{"opening(s) to re-certify", "These openings you own wait for your decision", "decide by"}},
		{"Chinese chosen", "zh-CN", []string{"1 项放通待复核", "以下由你负责的放通等待你的决定", "请于", "截止日期前未复核的放通将到期失效。"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := workflowtest.SQLiteWorld(t)
			workflowtest.Must(t, w.App.Identity.SetPreferences(w.Ctx, w.Alice, identity.Preferences{Language: tc.chosen, TimeZone: "Asia/Shanghai"}))
			mailer := &fakeMailer{}
			w.App.Recert.SetMailer(mailer, "https://portcullis.example")
			r := w.Submitted(t, workflowtest.LowRisk())
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
			workflowtest.Must(t, err)
			_, _, err = w.App.Recert.StartCampaign(w.Ctx, w.Lee, "Q1", time.Now().AddDate(1, 0, 0))
			workflowtest.Must(t, err)
			if _, err := w.App.Recert.SendReminders(w.Ctx); err != nil || len(mailer.sent) != 1 {
				t.Fatalf("reminders %v, %v", mailer.sent, err)
			}
			for _, want := range tc.want {
				if !strings.Contains(mailer.sent[0], want) {
					t.Errorf("the reminder lacks %q:\n%s", want, mailer.sent[0])
				}
			}
			if strings.Contains(mailer.sent[0], "mail.recert") {
				t.Errorf("a message id instead of its text:\n%s", mailer.sent[0])
			}
		})
	}
}

// TestRevokingAnOpeningLapsesItsPendingRecertification: the requests
// feature ends the opening, and re-certification (through the hook the
// wiring sets) lapses what was still pending, in the same transaction.
func TestRevokingAnOpeningLapsesItsPendingRecertification(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	start := time.Now().UTC().Truncate(time.Microsecond)
	clock := start
	w.App.SetClock(func() time.Time { return clock })
	in := workflowtest.LowRisk()
	in.ExpiresAt = start.AddDate(0, 0, 300)
	r := w.Submitted(t, in)
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	clock = start.AddDate(0, 5, 0)
	_, n, err := w.App.Recert.StartCampaign(w.Ctx, w.Lee, "H2 review", clock.AddDate(0, 1, 15))
	workflowtest.Must(t, err)
	if n != 1 {
		t.Fatalf("%d due, want 1", n)
	}
	_, err = w.App.Requests.Revoke(w.Ctx, w.Lee, r.ID, "the partner contract ended")
	workflowtest.Must(t, err)
	var rc models.Recertification
	workflowtest.Must(t, w.App.DB().Where("request_id = ?", r.ID).Take(&rc).Error)
	if rc.Status != recert.RecertLapsed || rc.DecidedBy != w.Lee.Email || rc.DecidedAt == nil {
		t.Fatalf("after the revocation the re-certification is %+v, want lapsed by %s", rc, w.Lee.Email)
	}
}

// TestRecertListsPage walks the owner's items, a campaign's items and the
// campaigns page by page, adding rows between pages: every row once.
func TestRecertListsPage(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		r, camp := approvedWithCampaign(t, w)
		other := w.Create(t, w.Bob, workflowtest.LowRisk()) // sales: not Alice's
		var alices, bobs []uint
		for i := 0; i < 7; i++ {
			alices = append(alices, newItem(t, db, r, camp, recert.RecertPending))
			bobs = append(bobs, newItem(t, db, other, camp, recert.RecertPending))
		}
		// Alice's: 3 at a time, two more added while she pages.
		seen := map[uint]int{}
		page := paging.Request[recert.MineKey]{Limit: 3}
		for n := 0; ; n++ {
			p, err := w.App.Recert.MyRecertifications(w.Ctx, w.Alice, page)
			workflowtest.Must(t, err)
			for _, it := range p.Items {
				seen[it.ID]++
				if it.Request.ID != r.ID || it.Campaign.ID != camp.ID {
					t.Fatalf("item %d: request %d campaign %d not loaded", it.ID, it.Request.ID, it.Campaign.ID)
				}
			}
			if n == 0 {
				alices = append(alices, newItem(t, db, r, camp, recert.RecertPending), newItem(t, db, r, camp, recert.RecertPending))
			}
			if p.Next == "" {
				break
			}
			page, err = paging.Parse[recert.MineKey]("3", p.Next)
			workflowtest.Must(t, err)
		}
		for _, id := range alices {
			if seen[id] != 1 {
				t.Fatalf("alice's item %d seen %d times", id, seen[id])
			}
		}
		if len(seen) != len(alices) {
			t.Fatalf("alice saw %d items, owns %d", len(seen), len(alices))
		}
		// The campaign's items, by team then request.
		got := 0
		ipage := paging.Request[recert.ItemKey]{Limit: 4}
		var last recert.ItemKey
		for {
			p, err := w.App.Recert.CampaignItems(w.Ctx, w.Aude, camp.ID, ipage)
			workflowtest.Must(t, err)
			for _, it := range p.Items {
				k := recert.ItemKey{Team: it.Team, RequestID: it.RequestID}
				if got > 0 && (k.Team < last.Team || (k.Team == last.Team && k.RequestID < last.RequestID)) {
					t.Fatalf("out of order: %+v after %+v", k, last)
				}
				last = k
				got++
			}
			if p.Next == "" {
				break
			}
			ipage, _ = paging.Parse[recert.ItemKey]("4", p.Next)
		}
		if got != len(alices)+len(bobs) {
			t.Fatalf("campaign pages held %d items, want %d", got, len(alices)+len(bobs))
		}
		// Campaigns, newest first, with progress counted per team.
		for i := 0; i < 3; i++ {
			workflowtest.Must(t, db.Create(&models.RecertCampaign{Name: "c", DueBy: time.Now().UTC(), CreatedBy: "x"}).Error)
		}
		cp, err := w.App.Recert.Campaigns(w.Ctx, w.Aude, paging.Request[recert.CampaignKey]{Limit: 2})
		workflowtest.Must(t, err)
		if len(cp.Items) != 2 || cp.Next == "" || cp.Items[0].Campaign.ID < cp.Items[1].Campaign.ID {
			t.Fatalf("first campaigns page %+v", cp)
		}
		next, _ := paging.Parse[recert.CampaignKey]("2", cp.Next)
		cp, err = w.App.Recert.Campaigns(w.Ctx, w.Aude, next)
		workflowtest.Must(t, err)
		if len(cp.Items) != 2 || cp.Next != "" || cp.Items[1].Campaign.ID != camp.ID {
			t.Fatalf("last campaigns page %+v", cp)
		}
		tot := cp.Items[1].Total()
		if tot.Pending != len(alices)+len(bobs) || len(cp.Items[1].Teams) != 2 {
			t.Fatalf("progress %+v", cp.Items[1].Teams)
		}
		_, err = w.App.Recert.Campaigns(w.Ctx, w.Alice, paging.First[recert.CampaignKey]())
		workflowtest.MustCode(t, err, core.CodeForbidden)
	})
}
