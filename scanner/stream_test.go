package scanner

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestScanStreamEmitsEachHostOnce(t *testing.T) {
	t.Parallel()
	addr := randomLoopback()
	port := listen(t, addr+":0", sshGreeting)
	a := netip.MustParseAddr(addr)
	set, err := ParseTargetSet(context.Background(), []string{a.String(), a.Next().String(), a.Next().Next().String(), a.String()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"", MethodConnect} {
		opts := quick(port)
		opts.Method = method
		seen := map[string]int{}
		sum, err := ScanStream(context.Background(), set, opts, func(h Host) { seen[h.Address]++ })
		if err != nil {
			t.Fatal(err)
		}
		if sum.Hosts != 3 || len(seen) != 3 || sum.Schema != Schema || sum.Method == "" {
			t.Errorf("method %q: summary %+v, hosts %v", method, sum, seen)
		}
		for h, n := range seen {
			if n != 1 {
				t.Errorf("%s emitted %d times", h, n)
			}
		}
	}
}

// A cancelled run returns the hosts emitted before, and only those.
func TestScanStreamCancelledKeepsEmittedHosts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var emitted atomic.Int32
	opts := quick(1, 2, 3)
	opts.Method = MethodConnect
	opts.Hosts = 1
	opts.TarpitPorts = []uint16{61001}
	opts.connect = func(ctx context.Context, target netip.AddrPort, timeout time.Duration) connectOutcome {
		if target.Addr() == netip.MustParseAddr("192.0.2.1") {
			return outcomeClosed
		}
		<-ctx.Done() // the second host hangs until the run is cancelled
		return outcomeCancelled
	}
	set := NewTargetSet([]netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")})
	sum, err := ScanStream(ctx, set, opts, func(h Host) {
		emitted.Add(1)
		if h.Address != "192.0.2.1" || h.State != HostUp {
			t.Errorf("emitted %+v", h)
		}
		cancel()
	})
	if !errors.Is(err, context.Canceled) || sum == nil || sum.Hosts != 1 || emitted.Load() != 1 {
		t.Errorf("summary %+v, err %v, %d emitted", sum, err, emitted.Load())
	}
}
