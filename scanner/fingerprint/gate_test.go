package fingerprint

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingDial counts the connections made and those open at once.
type countingDial struct {
	dials, open, peak atomic.Int32
}

func (d *countingDial) dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.dials.Add(1)
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	n := d.open.Add(1)
	for p := d.peak.Load(); n > p && !d.peak.CompareAndSwap(p, n); p = d.peak.Load() {
	}
	return &countedConn{Conn: c, d: d}, nil
}

type countedConn struct {
	net.Conn
	d    *countingDial
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.d.open.Add(-1) })
	return c.Conn.Close()
}

func TestPerHostCap(t *testing.T) {
	t.Parallel()
	var d countingDial
	cfg := fastConfig
	cfg.PerHost, cfg.Dial = 3, d.dial
	cfg.ReadTimeout, cfg.MinWait = 400*time.Millisecond, 100*time.Millisecond
	e, err := New(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Three silent ports of one host, identified at once: every probe of each is
	// asked, never more than three connections open together.
	var wg sync.WaitGroup
	for range 3 {
		target := startTCP(t, silent)
		wg.Go(func() {
			if got := e.IdentifyTCP(context.Background(), target); got.Service != "unknown" || got.Answered {
				t.Errorf("silent port: %+v", got)
			}
		})
	}
	wg.Wait()
	if peak := d.peak.Load(); peak > 3 || peak < 2 {
		t.Errorf("%d connections open at once, want 2 or 3", peak)
	}
	if n := len(e.hosts); n != 0 {
		t.Errorf("%d host gates left after the identifications", n)
	}
}

func TestNoProbesAfterRefusal(t *testing.T) {
	t.Parallel()
	// The port accepts one connection and then nothing listens any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err == nil {
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	var d countingDial
	cfg := fastConfig
	cfg.Parallel, cfg.Dial = 2, d.dial
	e, err := New(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := e.IdentifyTCP(context.Background(), netip.MustParseAddrPort(ln.Addr().String()))
	if got.Service != "unknown" {
		t.Errorf("got %+v", got)
	}
	t.Logf("%d connection attempts", d.dials.Load())
	// The greeting connection, then at most the probes in flight when the first
	// refusal came back; not every probe of the database.
	if n := d.dials.Load(); n > 1+int32(cfg.Parallel) {
		t.Errorf("%d connection attempts, want at most %d", n, 1+cfg.Parallel)
	}
}

// A greeting that comes after the greeting wait still names the service: it
// arrives on the probes' connections, ahead of their answers.
func TestLateGreeting(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t) // greeting wait 300ms on loopback
	target := startTCP(t, func(c net.Conn) {
		time.Sleep(500 * time.Millisecond)
		greet("SSH-2.0-OpenSSH_9.6\r\n")(c)
	})
	got := e.IdentifyTCP(context.Background(), target)
	if got.Service != "ssh" || got.Product != "OpenSSH" || got.Version != "9.6" {
		t.Errorf("got %+v", got)
	}
}

func TestScaledWaits(t *testing.T) {
	const floor, ceiling = 300 * time.Millisecond, 1500 * time.Millisecond
	tests := []struct {
		rtt  time.Duration
		want time.Duration
	}{
		{0, ceiling}, // nothing measured: the full wait
		{50 * time.Microsecond, floor},
		{100 * time.Millisecond, 400 * time.Millisecond},
		{time.Second, ceiling},
	}
	for _, tc := range tests {
		g := &hostGate{}
		if tc.rtt > 0 {
			g.sample(2 * tc.rtt)
			g.sample(tc.rtt) // the shortest round trip counts
		}
		if got := g.scaled(4, floor, ceiling); got != tc.want {
			t.Errorf("rtt %v: wait %v, want %v", tc.rtt, got, tc.want)
		}
	}
}
