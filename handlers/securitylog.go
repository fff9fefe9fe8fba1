package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
)

// maxSummaryKeys bounds the windows kept at once; beyond it, further
// clients share one window per action, so a flood from many addresses
// cannot grow memory or the log without bound either.
const maxSummaryKeys = 10_000

// securityLog writes security events (refused logins, rejected tokens) to
// the audit log, summarised: per action and client, the first event of a
// minute is written at once and the rest of that minute become one event
// with a count, written when the minute is over. A flood of guesses is then
// a handful of rows, not one per try.
type securityLog struct {
	write func(ctx context.Context, actor core.Actor, action string, detail map[string]any)
	now   func() time.Time

	mu      sync.Mutex
	windows map[summaryKey]*summaryWindow
}

type summaryKey struct{ action, client string }

type summaryWindow struct {
	end    time.Time
	extra  int            // events after the first, not yet written
	last   map[string]any // the detail of the latest of them
	actor  core.Actor
	client string
}

func newSecurityLog(write func(ctx context.Context, actor core.Actor, action string, detail map[string]any)) *securityLog {
	return &securityLog{write: write, now: time.Now, windows: map[summaryKey]*summaryWindow{}}
}

// record notes one event from a request's client.
func (l *securityLog) record(ctx context.Context, actor core.Actor, action string, detail map[string]any) {
	client := core.ClientAddr(ctx)
	now := l.now()
	l.mu.Lock()
	due := l.takeDue(now)
	k := summaryKey{action, client}
	if _, ok := l.windows[k]; !ok && len(l.windows) >= maxSummaryKeys {
		k.client = "*"
	}
	w, ok := l.windows[k]
	if ok {
		w.extra++
		w.last, w.actor = detail, actor
	} else {
		l.windows[k] = &summaryWindow{end: now.Truncate(time.Minute).Add(time.Minute), client: k.client}
	}
	l.mu.Unlock()
	l.writeSummaries(due)
	if !ok {
		l.write(ctx, actor, action, detail)
	}
}

// flush writes the summaries of the minutes that are over by now.
func (l *securityLog) flush(now time.Time) {
	l.mu.Lock()
	due := l.takeDue(now)
	l.mu.Unlock()
	l.writeSummaries(due)
}

type dueSummary struct {
	key summaryKey
	w   *summaryWindow
}

func (l *securityLog) takeDue(now time.Time) []dueSummary {
	var due []dueSummary
	for k, w := range l.windows {
		if !now.Before(w.end) {
			delete(l.windows, k)
			if w.extra > 0 {
				due = append(due, dueSummary{k, w})
			}
		}
	}
	return due
}

func (l *securityLog) writeSummaries(due []dueSummary) {
	for _, d := range due {
		detail := map[string]any{"repeated": d.w.extra, "until": d.w.end.UTC().Format(time.RFC3339), "last": d.w.last}
		ctx := core.WithClientAddr(context.Background(), d.w.client)
		l.write(ctx, d.w.actor, d.key.action, detail)
	}
}

// SummariseSecurityEvents writes the pending summaries every few seconds
// until ctx ends, and what is left then.
func (s *Server) SummariseSecurityEvents(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.security.flush(time.Now().Add(time.Minute)) // every window, over or not
			return
		case <-t.C:
			s.security.flush(time.Now())
		}
	}
}

// securityEvent records a security event of a request.
func (s *Server) securityEvent(r *http.Request, actor core.Actor, action string, detail map[string]any) {
	s.security.record(r.Context(), actor, action, detail)
}

// writeSecurityEvent appends one event; a failure is logged, never shown.
func (s *Server) writeSecurityEvent(ctx context.Context, actor core.Actor, action string, detail map[string]any) {
	if err := s.app.AuditNow(context.WithoutCancel(ctx), actor, action, "security", 0, detail); err != nil {
		s.log.Error("audit a security event", "action", action, "err", err)
	}
}

// downloads are the routes whose successful answers are audited: what an
// auditor took away, and who.
var downloads = map[string]string{
	"GET /audit/export":          "audit.exported",
	"GET /audit/reports":         "report.downloaded",
	"GET /api/v1/audit/export":   "audit.exported",
	"GET /api/v1/reports/{kind}": "report.downloaded",
	"GET /reports/{id}/pdf":      "report.downloaded",
}

// auditDownload wraps a download route: a successful download is recorded
// with what was asked for.
func (s *Server) auditDownload(action string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.status != 0 && rec.status != http.StatusOK {
			return
		}
		actor, _ := actorFrom(r)
		s.writeSecurityEvent(r.Context(), actor, action, map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery})
	}
}

// statusRecorder remembers the status a handler wrote; it passes flushes on.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
