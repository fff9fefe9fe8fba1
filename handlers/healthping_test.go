package handlers

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestHealthChecksShareAPing: checks arriving while a ping is in flight get
// its answer, errors included, and the next check pings again; a caller who
// hangs up does not end the ping the others wait for.
func TestHealthChecksShareAPing(t *testing.T) {
	var p sharedPing
	var pings atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	down := errors.New("database down")
	ping := func(ctx context.Context) error {
		pings.Add(1)
		started <- struct{}{}
		select {
		case <-release:
			return down
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	gone, hangUp := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	wg.Add(1)
	go func() { defer wg.Done(); errs <- p.do(gone, ping) }()
	<-started
	for range 19 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- p.do(context.Background(), ping) }()
	}
	for waiting := 0; waiting < 20; {
		p.mu.Lock()
		waiting = p.pending.waiters
		p.mu.Unlock()
		runtime.Gosched()
	}
	hangUp()
	close(release)
	wg.Wait()
	close(errs)
	var down19, cancelled int
	for err := range errs {
		switch {
		case errors.Is(err, down):
			down19++
		case errors.Is(err, context.Canceled):
			cancelled++
		}
	}
	if n := pings.Load(); n != 1 {
		t.Errorf("20 checks at once pinged %d times, want 1", n)
	}
	if down19+cancelled != 20 || down19 < 19 {
		t.Errorf("answers: %d the ping's error, %d cancelled; want the ping's error for the 19 who stayed", down19, cancelled)
	}
	if err := p.do(context.Background(), func(context.Context) error { pings.Add(1); return nil }); err != nil || pings.Load() != 2 {
		t.Errorf("a check after the shared ping: %v, %d pings; want its own ping", err, pings.Load())
	}
}
