package live_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/live"
)

func TestParseStamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want live.Stamp
		ok   bool
	}{
		{"0.0.0.0", live.Stamp{}, true},
		{"1200.34.2.1", live.Stamp{Seq: 1200, Scans: 34, Queued: 2, Running: 1}, true},
		{"", live.Stamp{}, false},
		{"1.2.3", live.Stamp{}, false},
		{"a.b.c.d", live.Stamp{}, false},
		{"-1.2.3.4", live.Stamp{}, false},
	} {
		got, err := live.ParseStamp(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseStamp(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && core.ErrorCodeOf(err) != core.CodeInvalid {
			t.Errorf("ParseStamp(%q): %v is not a refusal of bad input", tc.in, err)
		}
	}
}

// The page's "since" comes from the browser: whatever it holds, parsing
// refuses it or reads a stamp that writes back as the same stamp.
func FuzzParseStamp(f *testing.F) {
	for _, s := range []string{"0.0.0.0", "18446744073709551615.4294967295.1.1", "1.2.3.4.5", "1..2.3", " 1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := live.ParseStamp(in)
		if err != nil {
			return
		}
		again, err := live.ParseStamp(s.String())
		if err != nil || again != s {
			t.Fatalf("%q read as %+v, which writes as %q and reads back as %+v (%v)", in, s, s.String(), again, err)
		}
	})
}

func next(ch <-chan live.Stamp, wait time.Duration) (live.Stamp, bool) {
	select {
	case s := <-ch:
		return s, true
	case <-time.After(wait):
		return live.Stamp{}, false
	}
}

// A commit on this instance wakes the feed at once; another instance's
// commit (another Store over the same database) is seen by the poll.
func TestFeedSeesCommits(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		st := core.NewStore(db, modelstest.Logger())
		feed := live.New(st)
		feed.SetIntervals(time.Hour, 0) // no poll: only commits wake it
		ch, stop := feed.Subscribe()
		defer stop()
		first, ok := next(ch, 5*time.Second)
		if !ok {
			t.Fatal("no first stamp")
		}
		if err := st.AuditNow(ctx, core.SystemActor, "test.event", "request", 7, nil); err != nil {
			t.Fatal(err)
		}
		got, ok := next(ch, 5*time.Second)
		if !ok || got.Seq != first.Seq+1 {
			t.Fatalf("after a commit the feed gave %+v (%v), want seq %d", got, ok, first.Seq+1)
		}
		other := core.NewStore(db, modelstest.Logger())
		if err := other.AuditNow(ctx, core.SystemActor, "test.event", "request", 7, nil); err != nil {
			t.Fatal(err)
		}
		if s, ok := next(ch, 300*time.Millisecond); ok {
			t.Fatalf("without a poll, another instance's commit reached the feed: %+v", s)
		}
		stop()

		polled := live.New(st)
		polled.SetIntervals(50*time.Millisecond, 0)
		ch2, stop2 := polled.Subscribe()
		defer stop2()
		next(ch2, 5*time.Second)
		if err := other.AuditNow(ctx, core.SystemActor, "test.event", "request", 7, nil); err != nil {
			t.Fatal(err)
		}
		if got, ok := next(ch2, 5*time.Second); !ok || got.Seq != first.Seq+3 {
			t.Fatalf("the poll gave %+v (%v), want seq %d", got, ok, first.Seq+3)
		}
	})
}

// Each page's watch answers only for what it shows.
func TestWatches(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		st := core.NewStore(db, modelstest.Logger())
		feed := live.New(st)
		stamp := func() live.Stamp {
			s, err := feed.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		audit := func(objectType string, id uint) {
			if err := st.AuditNow(ctx, core.SystemActor, "test.event", objectType, id, nil); err != nil {
				t.Fatal(err)
			}
		}
		ask := func(w live.Watch, from, to live.Stamp) bool {
			changed, err := w(ctx, from, to)
			if err != nil {
				t.Fatal(err)
			}
			return changed
		}
		s0 := stamp()
		audit("request", 2)
		s1 := stamp()
		audit("drift", 5)
		s2 := stamp()
		reqID := uint(1)
		if err := db.Create(&models.ScanRun{Kind: "verification", Profile: "verification", Targets: "127.0.0.1", RequestID: &reqID, Status: "queued", RequestedBy: "system", QueuedAt: time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		s3 := stamp()
		for _, tc := range []struct {
			name     string
			w        live.Watch
			from, to live.Stamp
			want     bool
		}{
			{"request 2, its own event", feed.Request(2), s0, s1, true},
			{"request 1, another request's event", feed.Request(1), s0, s1, false},
			{"request 1, a drift event", feed.Request(1), s1, s2, false},
			{"request 1, its verification queued", feed.Request(1), s2, s3, true},
			{"request 2, another request's verification", feed.Request(2), s2, s3, false},
			{"drift, a request's event", feed.Drift(), s0, s1, false},
			{"drift, a drift event", feed.Drift(), s1, s2, true},
			{"drift, a scan queued", feed.Drift(), s2, s3, false},
			{"scans, events only", feed.Scans(), s0, s2, false},
			{"scans, a scan queued", feed.Scans(), s2, s3, true},
		} {
			if got := ask(tc.w, tc.from, tc.to); got != tc.want {
				t.Errorf("%s: changed = %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

// BenchmarkStampAndWatch reads the stamp and asks a request page's and the
// drift page's question on a store with a long audit log: what every open
// page costs when anything changes, and what each instance pays per poll.
func BenchmarkStampAndWatch(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var db *gorm.DB
			if kind == "sqlite" {
				db = modelstest.SQLite(b)
			} else {
				db = modelstest.Postgres(b)
			}
			const events, runs = 200_000, 20_000
			batch := make([]models.AuditEvent, 0, 5000)
			for i := range events {
				objType := []string{"request", "drift", "scan", "user"}[i%4]
				batch = append(batch, models.AuditEvent{Seq: uint64(i + 1), At: time.Now(), Actor: "system", Action: "bench", ObjectType: objType, ObjectID: uint(i % 5000), Detail: "{}"})
				if len(batch) == cap(batch) {
					if err := db.CreateInBatches(batch, 500).Error; err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			runBatch := make([]models.ScanRun, 0, runs)
			for i := range runs {
				status := "done"
				if i%1000 == 0 {
					status = "queued"
				}
				runBatch = append(runBatch, models.ScanRun{Kind: "daily", Profile: "common", Targets: fmt.Sprint("10.0.", i%250, ".1"), Status: status, RequestedBy: "system", QueuedAt: time.Now()})
			}
			if err := db.CreateInBatches(runBatch, 500).Error; err != nil {
				b.Fatal(err)
			}
			if kind == "postgres" {
				db.Exec("ANALYZE")
			}
			feed := live.New(core.NewStore(db, modelstest.Logger()))
			ctx := context.Background()
			to, err := feed.Current(ctx)
			if err != nil {
				b.Fatal(err)
			}
			from := live.Stamp{Seq: to.Seq - 50, Scans: to.Scans - 1, Queued: to.Queued, Running: to.Running}
			request, drift := feed.Request(1234), feed.Drift()
			b.Run("stamp", func(b *testing.B) {
				for b.Loop() {
					if _, err := feed.Current(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("request", func(b *testing.B) {
				for b.Loop() {
					if _, err := request(ctx, from, to); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("drift", func(b *testing.B) {
				for b.Loop() {
					if _, err := drift(ctx, from, to); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
