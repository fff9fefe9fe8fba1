package workflow

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

func TestRecertificationCampaign(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		start := time.Now().UTC().Truncate(time.Microsecond) // what Postgres keeps
		clock := start
		w.svc.SetClock(func() time.Time { return clock })
		approved := func(by Actor) uint {
			in := lowRisk()
			in.ExpiresAt = start.AddDate(0, 0, 300)
			r := w.create(t, by, in)
			_, err := w.svc.Submit(w.ctx, by, r.ID)
			must(t, err)
			_, err = w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
			must(t, err)
			return r.ID
		}
		a1, a2, b1 := approved(w.alice), approved(w.alice), approved(w.bob)
		// Five months on, nothing is due within a week; within two months all three are.
		clock = start.AddDate(0, 5, 0)
		_, n, err := w.svc.StartCampaign(w.ctx, w.adam, "", clock.AddDate(0, 0, 7))
		must(t, err)
		if n != 0 {
			t.Fatalf("%d due within a week, want 0", n)
		}
		_, _, err = w.svc.StartCampaign(w.ctx, w.alice, "x", clock.AddDate(0, 1, 0))
		mustCode(t, err, CodeForbidden)
		camp, n, err := w.svc.StartCampaign(w.ctx, w.lee, "H2 review", clock.AddDate(0, 1, 15))
		must(t, err)
		if n != 3 {
			t.Fatalf("%d due, want 3", n)
		}
		mine, err := w.svc.MyRecertifications(w.ctx, w.alice)
		must(t, err)
		if len(mine) != 2 {
			t.Fatalf("alice owns %d items, want 2", len(mine))
		}
		// Bob cannot re-certify alice's team's rule; alice needs a justification.
		_, err = w.svc.Recertify(w.ctx, w.bob, mine[0].ID, "still needed", time.Time{})
		mustCode(t, err, CodeForbidden)
		_, err = w.svc.Recertify(w.ctx, w.alice, mine[0].ID, " ", time.Time{})
		mustCode(t, err, CodeInvalid)
		newExpiry := clock.AddDate(0, 3, 0)
		r, err := w.svc.Recertify(w.ctx, w.alice, mine[0].ID, "The gateway console is used daily by the payments team.", newExpiry)
		must(t, err)
		if !r.ExpiresAt.Equal(newExpiry) || r.CertifiedAt == nil || !r.CertifiedAt.Equal(clock) {
			t.Fatalf("re-certified request: expires %v certified %v", r.ExpiresAt, r.CertifiedAt)
		}
		_, err = w.svc.Recertify(w.ctx, w.alice, mine[0].ID, "again", newExpiry)
		mustCode(t, err, CodeConflict)
		// Alice lets the second lapse: it expires now.
		r, err = w.svc.LetLapse(w.ctx, w.alice, mine[1].ID, "the migration is done")
		must(t, err)
		if State(r.State) != StateExpired {
			t.Fatalf("lapsed request is %s", r.State)
		}
		p, err := w.svc.Campaign(w.ctx, w.aude, camp.ID)
		must(t, err)
		progress := map[string]TeamProgress{}
		for _, tp := range p.Teams {
			progress[tp.Team] = tp
		}
		if progress["payments"].Recertified != 1 || progress["payments"].Lapsed != 1 || progress["sales"].Pending != 1 || progress["payments"].Done() != 100 {
			t.Fatalf("progress %+v", p.Teams)
		}
		// The deadline passes: bob's rule was not re-certified and expires; the re-certified one stays.
		clock = camp.DueBy.Add(time.Hour)
		n, err = w.svc.ExpireDue(w.ctx)
		must(t, err)
		if n != 1 || w.state(t, b1) != StateExpired || w.state(t, a1) != StateApproved || w.state(t, a2) != StateExpired {
			t.Fatalf("after the deadline: expired %d; states %s %s %s", n, w.state(t, a1), w.state(t, a2), w.state(t, b1))
		}
		var events []models.AuditEvent
		db.Where("object_id = ? AND action = ?", b1, EventExpire).Find(&events)
		if len(events) != 1 || !strings.Contains(events[0].Comment, "not re-certified") {
			t.Fatalf("expiry event %+v", events)
		}
		// And at its own expiry the re-certified rule ends too.
		clock = newExpiry.Add(time.Minute)
		n, err = w.svc.ExpireDue(w.ctx)
		must(t, err)
		if n != 1 || w.state(t, a1) != StateExpired {
			t.Fatalf("at expiry: %d, %s", n, w.state(t, a1))
		}
	})
}

func TestRunExclusiveRunsOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		runs := 0
		for i, holder := range []string{"a", "b", "a"} {
			ran, err := w.svc.RunExclusive(w.ctx, "expire", holder, time.Hour, func(ctx context.Context) error { runs++; return nil })
			must(t, err)
			if ran != (i == 0) {
				t.Fatalf("call %d by %s ran=%v", i, holder, ran)
			}
		}
		if runs != 1 {
			t.Fatalf("%d runs", runs)
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
	w := sqliteWorld(t)
	mailer := &fakeMailer{}
	w.svc.SetMailer(mailer, "https://portcullis.example")
	r := w.submitted(t, lowRisk())
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
	must(t, err)
	_, _, err = w.svc.StartCampaign(w.ctx, w.lee, "Q1", time.Now().AddDate(1, 0, 0))
	must(t, err)
	n, err := w.svc.SendRecertReminders(w.ctx)
	must(t, err)
	if n != 1 || len(mailer.sent) != 1 || !strings.HasPrefix(mailer.sent[0], "alice@example.test|") || !strings.Contains(mailer.sent[0], "https://portcullis.example/recertification") {
		t.Fatalf("reminders %v", mailer.sent)
	}
	// Not again within the week.
	n, _ = w.svc.SendRecertReminders(w.ctx)
	if n != 0 || len(mailer.sent) != 1 {
		t.Fatalf("reminded twice: %v", mailer.sent)
	}
}
