package scanner

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
)

func BenchmarkPermutationAt(b *testing.B) {
	p := newPermutation(65536*65535, 1)
	var sink uint64
	for i := range uint64(b.N) {
		sink += p.at(i)
	}
	_ = sink
}

// The firewalled host of issue 10 on the simulated network (2 ms each way), at
// the default rate: the virtual time of a full-range scan, in seconds.
func BenchmarkSynFirewalledHostSimulated(b *testing.B) {
	for b.Loop() {
		n := newSimNet(1)
		a := netip.MustParseAddr("192.0.2.11")
		n.hosts[a] = &simHost{open: portSet(22, 40000), allow: portSet(22, 40000)}
		cfg := simConfig()
		cfg.rate = float64(Options{}.withDefaults().Rate)
		took, _, _ := simulate(&testing.T{}, n, cfg, []netip.Addr{a}, allPorts())
		b.ReportMetric(took.Seconds(), "virtual-s")
	}
}

// A sweep of 16,384 mostly silent addresses x the common ports on the simulated
// network: the heap stays flat (reported as peak-MB) because hosts are walked in
// blocks and leave no state once finished.
func BenchmarkSynSilentSweepSimulated(b *testing.B) {
	common, _ := Profile("common")
	for b.Loop() {
		n := newSimNet(1)
		set, _ := ParseTargetSet(b.Context(), []string{"10.99.0.0/18"}, -1)
		for _, a := range []string{"10.99.0.10", "10.99.7.7"} {
			n.hosts[netip.MustParseAddr(a)] = &simHost{open: portSet(22, 443)}
		}
		var peak uint64
		var ms runtime.MemStats
		e := newSynEngine(simConfig(), n, set, common, 1,
			func(netip.Addr) (netip.Addr, error) { return n.local, nil }, func(*synHost) {})
		start := n.now
		for i := 0; !e.done(); i++ {
			n.deliver(e)
			e.poll(n.now)
			n.now = n.now.Add(time.Millisecond)
			if i%5000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				clear(n.firstTry) // the simulation's own bookkeeping, not the engine's
			}
		}
		b.ReportMetric(n.now.Sub(start).Seconds(), "virtual-s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
	}
}
