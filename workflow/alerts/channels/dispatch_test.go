package channels

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scriptedChannel fails with the errors in script, one per attempt, then
// succeeds.
type scriptedChannel struct {
	name   string
	mu     sync.Mutex
	script []error
	calls  int
}

func (c *scriptedChannel) Name() string { return c.name }

func (c *scriptedChannel) Deliver(ctx context.Context, a Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if len(c.script) == 0 {
		return nil
	}
	err := c.script[0]
	c.script = c.script[1:]
	return err
}

// funcChannel delivers by calling its function.
type funcChannel struct {
	name    string
	deliver func(ctx context.Context, a Alert) error
}

func (c funcChannel) Name() string                               { return c.name }
func (c funcChannel) Deliver(ctx context.Context, a Alert) error { return c.deliver(ctx, a) }

// fakeClock records the waits a Dispatcher asks for and moves time on by
// them instead of sleeping.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) dispatcher(maxAttempts int) *Dispatcher {
	return &Dispatcher{MaxAttempts: maxAttempts, Now: c.Now, Sleep: c.Sleep, Random: func() float64 { return 0 }}
}

var errUnavailable = errors.New("receiver unavailable")

func TestDispatcherBackoff(t *testing.T) {
	tests := []struct {
		name          string
		dispatcher    func(*fakeClock) *Dispatcher
		script        []error
		wantWaits     []time.Duration
		wantAttempts  int
		wantDelivered bool
		wantErr       string
	}{
		{
			name:          "succeeds on the fourth attempt",
			dispatcher:    func(c *fakeClock) *Dispatcher { return c.dispatcher(5) },
			script:        []error{errUnavailable, errUnavailable, errUnavailable},
			wantWaits:     []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			wantAttempts:  4,
			wantDelivered: true,
		},
		{
			name: "gives up, waits capped",
			dispatcher: func(c *fakeClock) *Dispatcher {
				d := c.dispatcher(6)
				d.MaxDelay = 5 * time.Second
				return d
			},
			script:       []error{errUnavailable, errUnavailable, errUnavailable, errUnavailable, errUnavailable, errUnavailable},
			wantWaits:    []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second},
			wantAttempts: 6,
			wantErr:      "gave up after 6 attempts: receiver unavailable",
		},
		{
			name: "jitter shortens waits by up to a fifth",
			dispatcher: func(c *fakeClock) *Dispatcher {
				d := c.dispatcher(3)
				d.BaseDelay = 10 * time.Second
				d.Random = func() float64 { return 0.5 }
				return d
			},
			script:        []error{errUnavailable, errUnavailable},
			wantWaits:     []time.Duration{9 * time.Second, 18 * time.Second},
			wantAttempts:  3,
			wantDelivered: true,
		},
		{
			name:         "permanent error stops at once",
			dispatcher:   func(c *fakeClock) *Dispatcher { return c.dispatcher(5) },
			script:       []error{errUnavailable, Permanent(errors.New("400 Bad Request"))},
			wantWaits:    []time.Duration{time.Second},
			wantAttempts: 2,
			wantErr:      "400 Bad Request",
		},
		{
			name:         "default of five attempts",
			dispatcher:   func(c *fakeClock) *Dispatcher { return c.dispatcher(0) },
			script:       []error{errUnavailable, errUnavailable, errUnavailable, errUnavailable, errUnavailable},
			wantWaits:    []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			wantAttempts: 5,
			wantErr:      "gave up after 5 attempts: receiver unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			ch := &scriptedChannel{name: "webhook", script: tt.script}
			results := tt.dispatcher(clock).DeliverTo(context.Background(), testAlert(), []Channel{ch})
			if len(results) != 1 {
				t.Fatalf("%d results", len(results))
			}
			res := results[0]
			if diff := cmp.Diff(tt.wantWaits, clock.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			var waited time.Duration
			for _, w := range tt.wantWaits {
				waited += w
			}
			want := Result{Channel: "webhook", Attempts: tt.wantAttempts, Delivered: tt.wantDelivered, LastAttempt: start.Add(waited)}
			got := res
			got.Err = nil
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if errText := fmt.Sprint(res.Err); (tt.wantErr == "" && res.Err != nil) || (tt.wantErr != "" && errText != tt.wantErr) {
				t.Errorf("Err = %v, want %q", res.Err, tt.wantErr)
			}
			if ch.calls != tt.wantAttempts {
				t.Errorf("channel called %d times, want %d", ch.calls, tt.wantAttempts)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	d := &Dispatcher{BaseDelay: time.Second, MaxDelay: 30 * time.Second}
	var got []time.Duration
	for attempt := 1; attempt <= 7; attempt++ {
		got = append(got, d.Backoff(attempt))
	}
	want := []time.Duration{1e9, 2e9, 4e9, 8e9, 16e9, 30e9, 30e9}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	huge := &Dispatcher{BaseDelay: time.Hour, MaxDelay: 1<<63 - 1}
	if got := huge.Backoff(100); got != 1<<63-1 {
		t.Errorf("Backoff(100) with no practical cap = %v, want the cap, not an overflow", got)
	}
}

func TestDispatcherDeliversToRoutedChannelsInParallel(t *testing.T) {
	// Both channels must be attempted at the same time: each waits for the
	// other before answering.
	var started sync.WaitGroup
	started.Add(2)
	both := func(ctx context.Context, a Alert) error {
		started.Done()
		started.Wait()
		return nil
	}
	router, err := NewRouter(
		Route{Channel: funcChannel{name: "webhook", deliver: both}},
		Route{MinSeverity: SeverityCritical, Channel: funcChannel{name: "pager", deliver: both}},
		Route{Channel: funcChannel{name: "email", deliver: both}},
	)
	if err != nil {
		t.Fatal(err)
	}
	results := (&Dispatcher{Router: router}).Deliver(context.Background(), testAlert())
	var names []string
	for _, r := range results {
		if !r.Delivered || r.Attempts != 1 || r.Err != nil {
			t.Errorf("%s: %+v", r.Channel, r)
		}
		names = append(names, r.Channel)
	}
	if diff := cmp.Diff([]string{"webhook", "email"}, names); diff != "" {
		t.Errorf("channels (-want +got):\n%s", diff)
	}
}

func TestDispatcherCancelledWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := funcChannel{name: "webhook", deliver: func(context.Context, Alert) error {
		cancel() // the context ends during the hour-long wait that follows
		return errUnavailable
	}}
	d := &Dispatcher{BaseDelay: time.Hour, MaxDelay: time.Hour}
	start := time.Now()
	results := d.DeliverTo(ctx, testAlert(), []Channel{ch})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Deliver took %v", elapsed)
	}
	res := results[0]
	if res.Delivered || res.Attempts != 1 || !errors.Is(res.Err, context.Canceled) || !errors.Is(res.Err, errUnavailable) {
		t.Errorf("result %+v, want one attempt, cancelled, with the last error", res)
	}
}

func TestDispatcherCancelledDuringAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := funcChannel{name: "syslog", deliver: func(ctx context.Context, a Alert) error {
		cancel()
		<-ctx.Done()
		return fmt.Errorf("syslog: %w", ctx.Err())
	}}
	results := (&Dispatcher{}).DeliverTo(ctx, testAlert(), []Channel{ch})
	res := results[0]
	if res.Attempts != 1 || !errors.Is(res.Err, context.Canceled) || strings.Count(res.Err.Error(), "canceled") != 1 {
		t.Errorf("result %+v, want one attempt ending in a single context.Canceled", res)
	}
}

func TestDispatcherAlreadyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ch := &scriptedChannel{name: "email"}
	res := (&Dispatcher{}).DeliverTo(ctx, testAlert(), []Channel{ch})[0]
	if res.Attempts != 0 || ch.calls != 0 || !errors.Is(res.Err, context.Canceled) {
		t.Errorf("result %+v after %d calls, want no attempt", res, ch.calls)
	}
}

func TestDispatcherAttemptTimeout(t *testing.T) {
	clock := newFakeClock()
	d := clock.dispatcher(2)
	d.AttemptTimeout = 20 * time.Millisecond
	ch := funcChannel{name: "stalled", deliver: func(ctx context.Context, a Alert) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	res := d.DeliverTo(context.Background(), testAlert(), []Channel{ch})[0]
	if res.Attempts != 2 || !errors.Is(res.Err, context.DeadlineExceeded) || IsPermanent(res.Err) {
		t.Errorf("result %+v, want two timed-out attempts", res)
	}
}

func TestDispatcherRefusesAlertWithoutID(t *testing.T) {
	ch := &scriptedChannel{name: "webhook"}
	a := testAlert()
	a.ID = ""
	res := (&Dispatcher{}).DeliverTo(context.Background(), a, []Channel{ch})[0]
	if res.Attempts != 0 || ch.calls != 0 || !IsPermanent(res.Err) {
		t.Errorf("result %+v, want a permanent refusal without attempts", res)
	}
}

func TestDispatcherSurvivesPanickingChannel(t *testing.T) {
	ch := funcChannel{name: "buggy", deliver: func(context.Context, Alert) error { panic("nil map") }}
	res := (&Dispatcher{}).DeliverTo(context.Background(), testAlert(), []Channel{ch})[0]
	if res.Delivered || !IsPermanent(res.Err) || !strings.Contains(res.Err.Error(), "nil map") {
		t.Errorf("result %+v, want a permanent error naming the panic", res)
	}
}

func TestDispatcherWithoutRouter(t *testing.T) {
	if got := (&Dispatcher{}).Deliver(context.Background(), testAlert()); got != nil {
		t.Errorf("Deliver without a router = %v, want no results", got)
	}
}

func TestPermanent(t *testing.T) {
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	err := fmt.Errorf("webhook: %w", Permanent(errUnavailable))
	if !IsPermanent(err) || !errors.Is(err, errUnavailable) || err.Error() != "webhook: receiver unavailable" {
		t.Errorf("wrapped permanent error %v lost its mark or its cause", err)
	}
	if IsPermanent(errUnavailable) || IsPermanent(nil) {
		t.Error("IsPermanent true for an unmarked error")
	}
}
