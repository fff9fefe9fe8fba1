package channels

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Defaults of a Dispatcher's zero fields.
const (
	DefaultMaxAttempts    = 5
	DefaultBaseDelay      = time.Second
	DefaultMaxDelay       = time.Minute
	DefaultAttemptTimeout = 30 * time.Second
)

// jitterFraction is the most a wait is shortened at random, so that
// instances retrying against one recovering receiver spread out instead of
// arriving together.
const jitterFraction = 0.2

// Dispatcher delivers an alert to every channel its router matches,
// retrying failed attempts with exponential backoff.
//
// It does not remember what it delivered: deduplication (one alert per
// drift item) is the server's, which records one delivery per drift item
// and channel and stores the results. The channels are tried in
// parallel, and Deliver returns when every one has succeeded, failed for
// good, run out of attempts or been stopped by ctx; no goroutine outlives
// it.
//
// Now, Sleep and Random are called from several goroutines at once.
type Dispatcher struct {
	Router *Router

	MaxAttempts int           // attempts per channel; 0 means DefaultMaxAttempts
	BaseDelay   time.Duration // wait after the first failure; 0 means DefaultBaseDelay
	MaxDelay    time.Duration // longest wait; 0 means DefaultMaxDelay
	// AttemptTimeout bounds each attempt; 0 means DefaultAttemptTimeout.
	AttemptTimeout time.Duration

	// Now stamps Result.LastAttempt; nil means time.Now.
	Now func() time.Time
	// Sleep waits between attempts and must return early, with ctx's
	// error, when ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Random draws the jitter, in [0, 1); nil means math/rand/v2.Float64.
	Random func() float64
}

// Result is how delivering one alert to one channel went, for the server
// to store and show to admins.
type Result struct {
	Channel     string // the channel's Name
	Attempts    int    // attempts made, 0 if none could start
	Delivered   bool
	Err         error // the reason it was not delivered; IsPermanent tells whether a later retry is pointless
	LastAttempt time.Time
}

// Deliver sends a to the channels its routes match and returns one result
// per channel, in route order. No matching route means no results.
func (d *Dispatcher) Deliver(ctx context.Context, a Alert) []Result {
	if d.Router == nil {
		return nil
	}
	return d.DeliverTo(ctx, a, d.Router.Match(a))
}

// DeliverTo sends a to the given channels, ignoring the routes; the server
// can use it to retry only the channels that failed.
func (d *Dispatcher) DeliverTo(ctx context.Context, a Alert, channels []Channel) []Result {
	results := make([]Result, len(channels))
	if a.ID == "" {
		for i, ch := range channels {
			results[i] = Result{Channel: ch.Name(), Err: Permanent(errors.New("alert has no ID"))}
		}
		return results
	}
	var wg sync.WaitGroup
	for i, ch := range channels {
		wg.Go(func() { results[i] = d.deliverWithRetry(ctx, ch, a) })
	}
	wg.Wait()
	return results
}

func (d *Dispatcher) deliverWithRetry(ctx context.Context, ch Channel, a Alert) Result {
	res := Result{Channel: ch.Name()}
	maxAttempts := d.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			res.Err = stopped(err, lastErr)
			return res
		}
		res.Attempts = attempt
		res.LastAttempt = d.now()
		lastErr = d.attempt(ctx, ch, a)
		switch {
		case lastErr == nil:
			res.Delivered = true
			return res
		case IsPermanent(lastErr):
			res.Err = lastErr
			return res
		case ctx.Err() != nil:
			res.Err = stopped(ctx.Err(), lastErr)
			return res
		case attempt == maxAttempts:
			res.Err = fmt.Errorf("gave up after %d attempts: %w", attempt, lastErr)
			return res
		}
		if err := d.sleep(ctx, d.wait(attempt)); err != nil {
			res.Err = stopped(err, lastErr)
			return res
		}
	}
}

// stopped is the error of a delivery cut short by its context.
func stopped(ctxErr, lastErr error) error {
	if lastErr == nil {
		return fmt.Errorf("delivery stopped: %w", ctxErr)
	}
	if errors.Is(lastErr, ctxErr) {
		return lastErr
	}
	return fmt.Errorf("delivery stopped: %w; last error: %w", ctxErr, lastErr)
}

// attempt makes one bounded attempt. A panicking channel is a bug, but it
// must not take the server down with it: it becomes a permanent failure that
// admins see.
func (d *Dispatcher) attempt(ctx context.Context, ch Channel, a Alert) (err error) {
	timeout := d.AttemptTimeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("channel panicked: %v", p))
		}
	}()
	return ch.Deliver(ctx, a)
}

// Backoff is the nominal wait after the given failed attempt (counted from
// 1): BaseDelay doubled for every earlier failure, capped at MaxDelay.
// Deliver shortens each wait by up to a fifth at random.
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	base, limit := d.BaseDelay, d.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if limit <= 0 {
		limit = DefaultMaxDelay
	}
	wait := min(base, limit)
	for i := 1; i < attempt; i++ {
		if wait > limit/2 { // doubling would pass the cap, or overflow
			return limit
		}
		wait *= 2
	}
	return wait
}

func (d *Dispatcher) wait(attempt int) time.Duration {
	nominal := d.Backoff(attempt)
	random := rand.Float64
	if d.Random != nil {
		random = d.Random
	}
	return nominal - time.Duration(float64(nominal)*jitterFraction*random())
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, wait)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
