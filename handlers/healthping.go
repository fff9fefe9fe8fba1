package handlers

import (
	"context"
	"sync"
	"time"
)

// healthPingTimeout bounds one shared health ping of the database.
const healthPingTimeout = 5 * time.Second

// sharedPing lets the health checks that arrive while a ping of the
// database is in flight wait for its answer instead of each taking a
// connection: probers polling /healthz hard (32 at once in bench-web) held
// the pool the pages need, and the slowest checks waited half a second for
// a connection of their own. A check still reports the database as it is
// after the check arrived, give or take one ping already on its way.
type sharedPing struct {
	mu      sync.Mutex
	pending *pingCall
}

type pingCall struct {
	done    chan struct{}
	err     error
	waiters int // callers given this ping (under sharedPing.mu)
}

// do is ping's answer, from a ping of its own or the one in flight. The
// ping runs apart from the caller's context: the others waiting for it must
// not lose it when the first caller hangs up.
func (p *sharedPing) do(ctx context.Context, ping func(context.Context) error) error {
	// A caller already gone gets no answer: the select below would pick at
	// random between its end and a ping done meanwhile.
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	c := p.pending
	if c == nil {
		c = &pingCall{done: make(chan struct{})}
		p.pending = c
		go func() {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healthPingTimeout)
			c.err = ping(pctx)
			cancel()
			p.mu.Lock()
			p.pending = nil
			p.mu.Unlock()
			close(c.done)
		}()
	}
	c.waiters++
	p.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
