package handlers

import (
	"net/http"
	"strings"
	"time"
)

// viewGate lets at most its size of page views and API reads run at once
// and admits the others in the order they arrived.
//
// Without it, every view of a burst asks the database pool for a
// connection once per statement, and database/sql hands a freed
// connection to a random waiter: a view of a dozen statements could lose
// that draw a dozen times, so under load the slowest views took three
// times the median. No bigger than the pool, the views it admits find a
// connection free, and the waiting is done once per view, first come,
// first served.
type viewGate struct{ slots chan struct{} }

// viewGateWait bounds how long a view waits for a slot before it runs
// anyway: the gate orders views, it must never stop them (a long call it
// did not expect could otherwise hold every slot).
const viewGateWait = 5 * time.Second

func newViewGate(size int) *viewGate {
	if size <= 0 {
		return nil
	}
	return &viewGate{slots: make(chan struct{}, size)}
}

// gates reports whether r is a view the gate orders: a GET that reads the
// database and ends quickly. Static files and health checks read no
// database; event streams, exports and River's UI run long, and a login
// waits on the identity provider: holding a slot for their whole length
// would take it from the views.
func gates(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/static/"), p == "/healthz", p == "/favicon.ico",
		strings.HasSuffix(p, "/events"),
		strings.HasSuffix(p, "/export"), strings.HasSuffix(p, "/pdf"),
		p == "/audit/reports", strings.HasPrefix(p, "/api/v1/reports/"),
		strings.HasPrefix(p, RiverUIPrefix), strings.HasPrefix(p, "/auth/"):
		return false
	}
	return true
}

func (g *viewGate) middleware(next http.Handler) http.Handler {
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !gates(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case g.slots <- struct{}{}:
		default:
			// Blocked senders on a channel are served in the order they
			// came: a freed slot goes to the view that waited longest.
			timer := time.NewTimer(viewGateWait)
			select {
			case g.slots <- struct{}{}:
				timer.Stop()
			case <-timer.C:
				next.ServeHTTP(w, r)
				return
			case <-r.Context().Done():
				timer.Stop()
				return
			}
		}
		defer func() { <-g.slots }()
		next.ServeHTTP(w, r)
	})
}
