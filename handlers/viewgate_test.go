package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// gateHarness is a gate in front of a handler whose views run until the
// test lets them end, recording the order they started in.
type gateHarness struct {
	gate    http.Handler
	release chan struct{}

	mu      sync.Mutex
	started []string
	running atomic.Int32
	most    atomic.Int32
}

func newGateHarness(size int) *gateHarness {
	h := &gateHarness{release: make(chan struct{})}
	h.gate = newViewGate(size).middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.running.Add(1)
		defer h.running.Add(-1)
		for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
		}
		h.mu.Lock()
		h.started = append(h.started, r.URL.Query().Get("n"))
		h.mu.Unlock()
		if r.URL.Query().Get("hold") != "" {
			<-h.release
		}
		w.WriteHeader(http.StatusOK)
	}))
	return h
}

func (h *gateHarness) serve(method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.gate.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func (h *gateHarness) order() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.started)
}

// TestViewGateAdmitsInArrivalOrder holds both slots of a gate of two,
// queues three views one after another, then frees a slot at a time: the
// views run one by one in the order they arrived.
func TestViewGateAdmitsInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newGateHarness(2)
		var wg sync.WaitGroup
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			wg.Go(func() { h.serve(http.MethodGet, "/requests?hold=1&n="+n) })
			// Each is running or queued before the next arrives.
			synctest.Wait()
		}
		if got := h.order(); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("with both slots held, started %v; want [a b]", got)
		}
		for i, want := range [][]string{{"a", "b", "c"}, {"a", "b", "c", "d"}, {"a", "b", "c", "d", "e"}} {
			h.release <- struct{}{}
			synctest.Wait()
			if got := h.order(); !slices.Equal(got, want) {
				t.Fatalf("after %d views ended: started %v, want %v", i+1, got, want)
			}
		}
		close(h.release)
		wg.Wait()
		if h.most.Load() != 2 {
			t.Errorf("%d views ran at once, want at most (and here exactly) 2", h.most.Load())
		}
	})
}

// TestViewGateBoundsViewsAtOnce sends many views at once to a gate of
// three: never more than three run together, and every one is answered.
func TestViewGateBoundsViewsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newGateHarness(3)
		var wg sync.WaitGroup
		var ok atomic.Int32
		for range 40 {
			wg.Go(func() {
				if h.serve(http.MethodGet, "/register?hold=1").Code == http.StatusOK {
					ok.Add(1)
				}
			})
		}
		synctest.Wait()
		for range 40 {
			h.release <- struct{}{}
		}
		wg.Wait()
		if h.most.Load() != 3 || ok.Load() != 40 {
			t.Errorf("%d views at once (want 3), %d of 40 answered", h.most.Load(), ok.Load())
		}
	})
}

// TestViewGateLetsLongAndCheapCallsPass holds every slot, then sends what
// must not wait for a view's slot: writes, event streams, exports, static
// files, health checks and the login's return from the identity provider
// all run at once.
func TestViewGateLetsLongAndCheapCallsPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newGateHarness(1)
		go h.serve(http.MethodGet, "/dashboard?hold=1")
		synctest.Wait()
		for _, c := range []struct{ method, target string }{
			{http.MethodPost, "/requests/4/review"},
			{http.MethodGet, "/requests/4/events"},
			{http.MethodGet, "/drift/events"},
			{http.MethodGet, "/audit/export?format=csv"},
			{http.MethodGet, "/api/v1/audit/export"},
			{http.MethodGet, "/api/v1/reports/monthly"},
			{http.MethodGet, "/reports/3/pdf"},
			{http.MethodGet, "/static/app.css"},
			{http.MethodGet, "/healthz"},
			{http.MethodGet, RiverUIPrefix + "/api/jobs"},
			{http.MethodGet, "/auth/callback?code=x&state=y"},
		} {
			began := time.Now() // the bubble's clock: it moves only while all wait
			if rec := h.serve(c.method, c.target); rec.Code != http.StatusOK || time.Since(began) != 0 {
				t.Errorf("%s %s with the gate full: status %d after waiting %s; want 200 at once", c.method, c.target, rec.Code, time.Since(began))
			}
		}
		close(h.release)
	})
}

// TestViewGateNeverStopsAView holds the only slot past the gate's wait: the
// view waiting runs anyway, and one whose client gave up while waiting
// never runs.
func TestViewGateNeverStopsAView(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newGateHarness(1)
		go h.serve(http.MethodGet, "/assets/1?hold=1&n=holder")
		synctest.Wait()

		ctx, cancel := context.WithCancel(context.Background())
		gaveUp := make(chan int)
		go func() {
			rec := httptest.NewRecorder()
			h.gate.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/assets/2?n=gave-up", nil))
			gaveUp <- rec.Code
		}()
		synctest.Wait()
		cancel()
		<-gaveUp

		began := time.Now()
		if rec := h.serve(http.MethodGet, "/assets/3?n=late"); rec.Code != http.StatusOK {
			t.Errorf("the view that waited out the gate: status %d", rec.Code)
		}
		if waited := time.Since(began); waited != 5*time.Second {
			t.Errorf("it waited %s, want the gate's 5s", waited)
		}
		if got := h.order(); !slices.Equal(got, []string{"holder", "late"}) {
			t.Errorf("views started: %v, want [holder late] (the one whose client gave up must not run)", got)
		}
		close(h.release)
	})
}
