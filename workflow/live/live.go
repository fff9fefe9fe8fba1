// Package live tells open pages when what they show has changed. One Feed
// per instance reads a stamp of the whole store — the audit log's last
// sequence number and the scan runs' newest id and queued and running
// counts, four index lookups — when this instance commits and on a timer
// (another instance's commits, on the same PostgreSQL, are seen by the
// timer). Each open page's stream asks its own cheap question only when
// that stamp moves: did anything it shows change between the two stamps?
// An idle instance costs one stamp read per poll, however many pages are
// open; a busy one at most one per MinGap.
package live

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// Stamp is the state of the store as far as live pages care: every change
// of state is an audit event, and scans move through their statuses.
type Stamp struct {
	Seq             uint64 // the audit log's last event
	Scans           uint   // the newest scan run
	Queued, Running int64  // scan runs waiting and running
}

// String is the stamp as a page carries it (its stream's "since").
func (s Stamp) String() string {
	return fmt.Sprintf("%d.%d.%d.%d", s.Seq, s.Scans, s.Queued, s.Running)
}

// ParseStamp reads a stamp written by String.
func ParseStamp(text string) (Stamp, error) {
	var s Stamp
	if _, err := fmt.Sscanf(text, "%d.%d.%d.%d", &s.Seq, &s.Scans, &s.Queued, &s.Running); err != nil {
		return Stamp{}, core.Invalid("since", core.M("err.live.bad_stamp", "{{.Stamp}} is not a page stamp", "Stamp", strconv.Quote(text)))
	}
	return s, nil
}

func (s Stamp) scansMoved(to Stamp) bool {
	return s.Scans != to.Scans || s.Queued != to.Queued || s.Running != to.Running
}

// Defaults: how often another instance's changes are looked for, and the
// least time between two stamp reads.
const (
	DefaultPoll   = 2 * time.Second
	DefaultMinGap = 250 * time.Millisecond
)

// Feed hands the store's latest stamp to the streams that subscribe. It
// reads the store only while someone listens.
type Feed struct {
	st           *core.Store
	poll, minGap time.Duration

	mu      sync.Mutex
	subs    map[chan Stamp]struct{}
	stopRun context.CancelFunc
}

// New makes a Feed over the store with the default intervals.
func New(st *core.Store) *Feed {
	return &Feed{st: st, poll: DefaultPoll, minGap: DefaultMinGap, subs: map[chan Stamp]struct{}{}}
}

// SetIntervals changes how often the store is polled and the least time
// between two reads (tests shorten them); call it before Subscribe.
func (f *Feed) SetIntervals(poll, minGap time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.poll, f.minGap = poll, minGap
}

// Current reads the store's stamp now.
func (f *Feed) Current(ctx context.Context) (Stamp, error) {
	var s Stamp
	err := f.st.DB().WithContext(ctx).Raw(`SELECT
		(SELECT COALESCE(MAX(seq), 0) FROM audit_events) AS seq,
		(SELECT COALESCE(MAX(id), 0) FROM scan_runs) AS scans,
		(SELECT COUNT(*) FROM scan_runs WHERE status = 'queued') AS queued,
		(SELECT COUNT(*) FROM scan_runs WHERE status = 'running') AS running`).Row().Scan(&s.Seq, &s.Scans, &s.Queued, &s.Running)
	return s, err
}

// Subscribe returns a channel that holds the latest stamp whenever it
// moves (a slow reader skips to the newest), and the function that ends
// the subscription.
func (f *Feed) Subscribe() (<-chan Stamp, func()) {
	ch := make(chan Stamp, 1)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	if f.stopRun == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.stopRun = cancel
		go f.run(ctx, f.poll, f.minGap)
	}
	f.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.subs, ch)
			if len(f.subs) == 0 && f.stopRun != nil {
				f.stopRun()
				f.stopRun = nil
			}
		})
	}
}

// run reads the stamp on each local commit and each poll, at most once per
// minGap, and hands it on when it moved.
func (f *Feed) run(ctx context.Context, poll, minGap time.Duration) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var last Stamp
	known := false
	for {
		// Taken before the read: a commit during the read wakes the next round.
		committed := f.st.Committed()
		cur, err := f.Current(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			f.st.Log().Warn("live pages: reading the store's stamp", "err", err)
		case !known || cur != last:
			last, known = cur, true
			f.publish(cur)
		}
		select {
		case <-ctx.Done():
			return
		case <-committed:
		case <-tick.C:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(minGap):
		}
	}
}

func (f *Feed) publish(s Stamp) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case <-ch: // replace what the reader has not taken yet
		default:
		}
		ch <- s
	}
}

// A Watch says whether what a page shows changed between two stamps.
type Watch func(ctx context.Context, from, to Stamp) (bool, error)

// Request watches a request's page: an event on its timeline (every
// transition, edit, comment and verdict is one), or a move of the scans
// while one of its verification scans is new, waiting or running.
func (f *Feed) Request(id uint) Watch {
	return func(ctx context.Context, from, to Stamp) (bool, error) {
		db := f.st.DB().WithContext(ctx)
		if to.Seq != from.Seq {
			var seqs []uint64
			if err := db.Model(&models.AuditEvent{}).Where("object_type = ? AND object_id = ? AND seq > ? AND seq <= ?", "request", id, from.Seq, to.Seq).
				Limit(1).Pluck("seq", &seqs).Error; err != nil || len(seqs) > 0 {
				return len(seqs) > 0, err
			}
		}
		if !from.scansMoved(to) {
			return false, nil
		}
		var ids []uint
		err := db.Model(&models.ScanRun{}).Where("request_id = ? AND kind = ? AND (id > ? OR status IN ?)", id, "verification", from.Scans, []string{"queued", "running"}).
			Limit(1).Pluck("id", &ids).Error
		return len(ids) > 0, err
	}
}

// Drift watches the drift list: any drift item opened, acknowledged,
// suppressed, resolved or turned into a request (each is an audit event).
// Only the events since the page's stamp are read.
func (f *Feed) Drift() Watch {
	return func(ctx context.Context, from, to Stamp) (bool, error) {
		if to.Seq == from.Seq {
			return false, nil
		}
		var seqs []uint64
		// "object_type || ''" keeps the planner off the object index, which
		// would visit every drift event ever (SQLite took 10 ms on 50,000):
		// the sequence index walks only the events since the page's stamp.
		err := f.st.DB().WithContext(ctx).Model(&models.AuditEvent{}).Where("seq > ? AND seq <= ? AND object_type || '' = ?", from.Seq, to.Seq, "drift").
			Order("seq").Limit(1).Pluck("seq", &seqs).Error
		return len(seqs) > 0, err
	}
}

// Scans watches the scan list: a scan queued, started or finished.
func (f *Feed) Scans() Watch {
	return func(_ context.Context, from, to Stamp) (bool, error) { return from.scansMoved(to), nil }
}
