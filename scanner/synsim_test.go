package scanner

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"
)

// simNet is a simulated network for the SYN engine, on a virtual clock: a
// bottleneck link of limited packets per second with a bounded queue, a one-way
// latency, random loss, and hosts that answer, refuse, drop some ports or drop
// everything. Hosts keep TCP's half-open state as a real stack does: an open
// port answers a SYN with a SYN-ACK and holds the connection until our kernel
// resets it (it has no socket there) or the SYN-ACK's retransmissions run out;
// meanwhile a SYN of the same 4-tuple is answered as RFC 793 says, and as Linux
// does. It is deterministic for a given seed.
type simNet struct {
	now      time.Time
	rng      *rand.Rand
	latency  time.Duration // one way
	loss     float64       // probability that a probe, or a reply, is lost
	pps      float64       // bottleneck towards the targets; 0: unlimited
	queueMax time.Duration // queueing delay beyond which the bottleneck drops
	linkFree time.Time
	hosts    map[netip.Addr]*simHost
	events   simEvents
	local    netip.Addr
	sent     map[netip.Addr]int   // probes sent per host
	firstTry map[string]int       // first attempts per host:port
	dropped  int                  // at the bottleneck
	refuse   map[netip.Addr]error // send errors, as the kernel's for a missing route
	resets   int                  // half-open connections a second SYN reset
}

type simHost struct {
	open     map[uint16]bool
	allow    map[uint16]bool // when set, every other port is dropped (a firewall)
	dropAll  bool
	halfOpen map[simTuple]*simRequest
	// loseFirst: the first SYN to each of these ports is lost on the way.
	loseFirst map[uint16]bool
}

// simTuple names a connection at the host: our address and port, its port.
type simTuple struct {
	peer         netip.Addr
	sport, dport uint16
}

// simRequest is a half-open connection: SYN received, SYN-ACK sent.
type simRequest struct{ isn uint32 }

// simWindow is the receive window a host announces in its SYN-ACK: a SYN of the
// same 4-tuple within it of the expected sequence number resets the connection.
const simWindow = 64240

type simEvent struct {
	at time.Time
	r  tcpReply           // a segment for the engine
	fn func(at time.Time) // or something that happens in the network
}

type simEvents []simEvent

func (q simEvents) Len() int           { return len(q) }
func (q simEvents) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q simEvents) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simEvents) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simEvents) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

const simSourcePort = 61777

func newSimNet(seed uint64) *simNet {
	return &simNet{now: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(seed, 7)),
		latency: 2 * time.Millisecond, hosts: map[netip.Addr]*simHost{}, local: netip.MustParseAddr("192.0.2.1"),
		sent: map[netip.Addr]int{}, firstTry: map[string]int{}}
}

func (n *simNet) sourcePort() uint16 { return simSourcePort }

func (n *simNet) lost() bool { return n.loss > 0 && n.rng.Float64() < n.loss }

func (n *simNet) send(src, dst netip.Addr, sport, dport uint16, seq uint32) error {
	if err := n.refuse[dst]; err != nil {
		return err
	}
	n.sent[dst]++
	n.firstTry[fmt.Sprintf("%s:%d:%d:%d", dst, sport, dport, seq)]++
	arrive := n.now
	if n.pps > 0 {
		start := n.now
		if n.linkFree.After(start) {
			start = n.linkFree
		}
		if start.Sub(n.now) > n.queueMax {
			n.dropped++
			return nil
		}
		n.linkFree = start.Add(time.Duration(float64(time.Second) / n.pps))
		arrive = start
	}
	arrive = arrive.Add(n.latency)
	if n.lost() {
		return nil
	}
	h := n.hosts[dst]
	if h == nil || h.dropAll || h.allow != nil && !h.allow[dport] {
		return nil
	}
	if h.loseFirst[dport] {
		delete(h.loseFirst, dport)
		return nil
	}
	heap.Push(&n.events, simEvent{at: arrive, fn: func(at time.Time) { n.receiveSYN(at, h, src, dst, sport, dport, seq) }})
	return nil
}

// receiveSYN is the host's TCP stack taking a SYN.
func (n *simNet) receiveSYN(at time.Time, h *simHost, src, dst netip.Addr, sport, dport uint16, seq uint32) {
	if !h.open[dport] {
		n.answer(at, dst, src, dport, sport, tcpRST|tcpACK, seq+1)
		return
	}
	if h.halfOpen == nil {
		h.halfOpen = map[simTuple]*simRequest{}
	}
	key := simTuple{src, sport, dport}
	req := h.halfOpen[key]
	switch {
	case req == nil:
		req = &simRequest{isn: seq}
		h.halfOpen[key] = req
		n.answer(at, dst, src, dport, sport, tcpSYN|tcpACK, seq+1)
		n.retransmitSynAck(at.Add(time.Second), time.Second, h, key, req, dst)
	case seq == req.isn: // the same SYN again: the SYN-ACK again
		n.answer(at, dst, src, dport, sport, tcpSYN|tcpACK, seq+1)
	case seq-(req.isn+1) < simWindow: // another SYN within the window: reset
		delete(h.halfOpen, key)
		n.resets++
		n.answer(at, dst, src, dport, sport, tcpRST|tcpACK, seq+1)
	default: // outside it: an ACK of what the host expects
		n.answer(at, dst, src, dport, sport, tcpACK, req.isn+1)
	}
}

// retransmitSynAck resends the SYN-ACK of a connection still half-open, with
// the exponential backoff and the five retries of Linux.
func (n *simNet) retransmitSynAck(at time.Time, rto time.Duration, h *simHost, key simTuple, req *simRequest, addr netip.Addr) {
	heap.Push(&n.events, simEvent{at: at, fn: func(at time.Time) {
		if h.halfOpen[key] != req {
			return
		}
		n.answer(at, addr, key.peer, key.dport, key.sport, tcpSYN|tcpACK, req.isn+1)
		if rto < 32*time.Second {
			n.retransmitSynAck(at.Add(2*rto), 2*rto, h, key, req, addr)
		} else {
			delete(h.halfOpen, key)
		}
	}})
}

// answer sends a segment from a host back to us, unless it is lost.
func (n *simNet) answer(at time.Time, from, to netip.Addr, sport, dport uint16, flags uint8, ack uint32) {
	if n.lost() {
		return
	}
	heap.Push(&n.events, simEvent{at: at.Add(n.latency), r: tcpReply{src: from, dst: to, sport: sport,
		dport: dport, seq: 99, ack: ack, flags: flags}})
}

// deliver runs what is due: segments reach the engine, and a SYN-ACK makes our
// kernel, which has no socket on the scan's port, send a reset that ends the
// host's half-open connection.
func (n *simNet) deliver(e *synEngine) {
	for n.events.Len() > 0 && !n.events[0].at.After(n.now) {
		ev := heap.Pop(&n.events).(simEvent)
		if ev.fn != nil {
			ev.fn(ev.at)
			continue
		}
		e.handleReply(ev.r, n.now)
		if ev.r.flags&(tcpSYN|tcpACK) != tcpSYN|tcpACK || n.lost() {
			continue
		}
		h, key := n.hosts[ev.r.src], simTuple{ev.r.dst, ev.r.dport, ev.r.sport}
		heap.Push(&n.events, simEvent{at: ev.at.Add(n.latency), fn: func(time.Time) { delete(h.halfOpen, key) }})
	}
}

// simulate runs the engine on the network until every host is finished, in
// one-millisecond steps, and returns the virtual time taken and the hosts.
func simulate(t *testing.T, n *simNet, cfg synConfig, targets []netip.Addr, ports []uint16) (time.Duration, map[netip.Addr]*synHost, *synEngine) {
	t.Helper()
	done := map[netip.Addr]*synHost{}
	e := newSynEngine(cfg, n, NewTargetSet(targets), ports, 1,
		func(netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { done[h.addr] = h })
	start := n.now
	for !e.done() {
		n.deliver(e)
		e.poll(n.now)
		n.now = n.now.Add(time.Millisecond)
		if n.now.Sub(start) > 10*time.Minute {
			t.Fatalf("no end after %v of virtual time", n.now.Sub(start))
		}
	}
	return n.now.Sub(start), done, e
}

func simConfig() synConfig {
	return synConfig{rate: 30000, retries: 1, downAfter: 100, initTimeout: time.Second, minTimeout: 100 * time.Millisecond,
		maxTimeout: 1500 * time.Millisecond, blockHosts: synBlockHosts, liveHosts: synLiveHosts}
}

func allPorts() []uint16 { p, _ := Profile("full"); return p }

func portSet(ports ...uint16) map[uint16]bool {
	m := map[uint16]bool{}
	for _, p := range ports {
		m[p] = true
	}
	return m
}

// TestSynEngineFirewalledHostsOnlyPortLostOnce: a host whose firewall drops
// all but one port, whose first SYN to that port is lost, is found up with
// the port open: the port is tried again however many silent ports timed out
// before it.
func TestSynEngineFirewalledHostsOnlyPortLostOnce(t *testing.T) {
	t.Parallel()
	var ports []uint16
	for p := uint16(1000); p < 1060; p++ {
		ports = append(ports, p)
	}
	for seed := uint64(1); seed <= 8; seed++ {
		n := newSimNet(seed)
		host := netip.MustParseAddr("192.0.2.20")
		n.hosts[host] = &simHost{open: portSet(1059), allow: portSet(1059), loseFirst: portSet(1059)}
		_, hosts, _ := simulate(t, n, simConfig(), []netip.Addr{host}, ports)
		if h := hosts[host]; h == nil || h.down || fmt.Sprint(h.open) != "[1059]" {
			t.Errorf("seed %d: the firewalled host's only port, its first SYN lost, was not found (host %v)", seed, h != nil && !h.down)
		}
	}
}

func TestSynEngineCleanNetwork(t *testing.T) {
	t.Parallel()
	n := newSimNet(1)
	plain, firewalled, silent := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11"), netip.MustParseAddr("192.0.2.12")
	n.hosts[plain] = &simHost{open: portSet(22, 80, 443, 31337, 65535)}
	n.hosts[firewalled] = &simHost{open: portSet(22, 40000), allow: portSet(22, 40000)}
	n.hosts[silent] = &simHost{dropAll: true}
	took, hosts, _ := simulate(t, n, simConfig(), []netip.Addr{plain, firewalled, silent}, allPorts())

	if h := hosts[plain]; fmt.Sprint(h.open) != "[22 80 443 31337 65535]" || h.closedCount != 65535-5 || !h.responded {
		t.Errorf("plain host: open %v, %d closed", h.open, h.closedCount)
	}
	if n.sent[plain] != 65535 {
		t.Errorf("plain host: %d probes for 65535 ports on a lossless network", n.sent[plain])
	}
	if h := hosts[firewalled]; fmt.Sprint(h.open) != "[22 40000]" || !h.dropping {
		t.Errorf("firewalled host: open %v, dropping %v", h.open, h.dropping)
	}
	// A silent filter is not a lossy path: only a sample of its ports is retried.
	if s := n.sent[firewalled]; s > 65535+65535/synRetrySample+200 {
		t.Errorf("firewalled host: %d probes", s)
	}
	if h := hosts[silent]; !h.down || h.responded || n.sent[silent] > 2*100 {
		t.Errorf("silent host: down %v, %d probes", h.down, n.sent[silent])
	}
	// Three hosts, all ports, at 30,000 probes a second: the rate is the limit.
	if limit := time.Duration(2*65535+200) * time.Second / 30000; took > limit+2*time.Second {
		t.Errorf("took %v of virtual time, want about %v", took, limit)
	}
	// Every first attempt (try 0: the seq is the cookie) went out once: the walk
	// covers each (host, port) exactly once.
	for k, c := range n.firstTry {
		if c != 1 {
			t.Fatalf("%s sent %d times", k, c)
		}
	}
}

func TestSynEngineLossyNetwork(t *testing.T) {
	t.Parallel()
	n := newSimNet(2)
	n.loss = 0.10
	var targets []netip.Addr
	var open []uint16
	for p := uint16(100); p < 2100; p += 40 {
		open = append(open, p)
	}
	for i := range 4 {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(20 + i)})
		targets = append(targets, a)
		n.hosts[a] = &simHost{open: portSet(open...)}
	}
	cfg := simConfig()
	cfg.retries = 3
	ports := allPorts()[:4000]
	_, hosts, e := simulate(t, n, cfg, targets, ports)
	for _, a := range targets {
		h := hosts[a]
		if fmt.Sprint(h.open) != fmt.Sprint(open) {
			t.Errorf("%s: open %v, want %v", a, h.open, open)
		}
		if want := len(ports) - len(open); h.closedCount < want*99/100 {
			t.Errorf("%s: %d closed of %d", a, h.closedCount, want)
		}
		if h.retryAnswered == 0 || h.dropping {
			t.Errorf("%s: loss not seen as loss: %d retries answered, dropping %v", a, h.retryAnswered, h.dropping)
		}
		if h.ssthresh >= synMaxHostWindow {
			t.Errorf("%s: window never cut on loss", a)
		}
	}
	if e.gssthresh >= synMaxGlobalWindow {
		t.Error("global window never cut on loss")
	}
}

// A rate far above what the path carries: the windows, not the rate, must keep
// the bottleneck's queue from overflowing most of the time.
func TestSynEngineBottleneck(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) (time.Duration, int, int, map[netip.Addr]*synHost) {
		n := newSimNet(seed)
		n.pps, n.queueMax, n.latency = 5000, 20*time.Millisecond, 5*time.Millisecond
		var targets []netip.Addr
		for i := range 4 {
			a := netip.AddrFrom4([4]byte{192, 0, 2, byte(40 + i)})
			targets = append(targets, a)
			n.hosts[a] = &simHost{open: portSet(22, 2222, 4444)}
		}
		cfg := simConfig()
		cfg.rate, cfg.retries = 500000, 3
		took, hosts, _ := simulate(t, n, cfg, targets, allPorts()[:5000])
		total := 0
		for _, s := range n.sent {
			total += s
		}
		return took, total, n.dropped, hosts
	}
	took, sent, dropped, hosts := run(3)
	t.Logf("%d probes sent for 20000 ports, %d dropped at the bottleneck (took %v)", sent, dropped, took)
	for a, h := range hosts {
		if fmt.Sprint(h.open) != "[22 2222 4444]" || h.closedCount != 5000-3 {
			t.Errorf("%s: open %v, %d closed; dropping %v, retries answered %d, lost %d, silent first %d, answered first %d", a, h.open, h.closedCount, h.dropping, h.retryAnswered, h.retryLost, h.silentFirst, h.answeredFirst)
		}
	}
	// 20,000 probes through 5,000 per second take at least 4 s; without congestion
	// control most of the 500,000/s would be dropped and retried.
	if sent > 20000*11/10 || dropped > sent/20 || took > 6*time.Second {
		t.Errorf("%d probes sent for 20000 ports, %d dropped at the bottleneck (took %v)", sent, dropped, took)
	}
	// Deterministic: the same seed gives the same run.
	took2, sent2, dropped2, _ := run(3)
	if took != took2 || sent != sent2 || dropped != dropped2 {
		t.Errorf("runs differ: %v %d %d / %v %d %d", took, sent, dropped, took2, sent2, dropped2)
	}
}

// Hosts the kernel cannot route to (an error on sending, or no source address)
// finish at once, down, without holding up the others.
func TestSynEngineUnreachableHosts(t *testing.T) {
	t.Parallel()
	n := newSimNet(4)
	live, noRoute, full := netip.MustParseAddr("192.0.2.50"), netip.MustParseAddr("192.0.2.51"), netip.MustParseAddr("192.0.2.52")
	n.hosts[live] = &simHost{open: portSet(80)}
	n.refuse = map[netip.Addr]error{noRoute: syscall.EHOSTUNREACH}
	busy := 0
	n.hosts[full] = &simHost{open: portSet(443)}
	done := map[netip.Addr]*synHost{}
	e := newSynEngine(simConfig(), &refusingOnce{simNet: n, busy: &busy, addr: full}, NewTargetSet([]netip.Addr{live, noRoute, full}), allPorts()[:1000], 1,
		func(a netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { done[h.addr] = h })
	n.drive(t, e)
	if h := done[noRoute]; h == nil || !h.down || !h.unreachable || n.sent[noRoute] != 0 {
		t.Errorf("unroutable host: %+v", h)
	}
	if h := done[live]; h == nil || fmt.Sprint(h.open) != "[80]" {
		t.Errorf("live host: %+v", h)
	}
	// ENOBUFS is our machine's, not the target's: the probe waits and goes out later.
	if h := done[full]; h == nil || fmt.Sprint(h.open) != "[443]" || h.closedCount != 999 || busy == 0 {
		t.Errorf("host behind full buffers: %+v (%d refusals)", h, busy)
	}
}

// refusingOnce answers ENOBUFS to every tenth probe to addr, as a full send
// buffer would.
type refusingOnce struct {
	*simNet
	busy *int
	addr netip.Addr
	n    int
}

func (r *refusingOnce) send(src, dst netip.Addr, sport, dport uint16, seq uint32) error {
	if dst == r.addr {
		r.n++
		if r.n%10 == 0 {
			*r.busy++
			return syscall.ENOBUFS
		}
	}
	return r.simNet.send(src, dst, sport, dport, seq)
}

// Behind a long path with random loss and no bottleneck (issue 10: 30 ms round
// trip, 1% lost each way): random loss is not congestion, so the sweep runs near
// the rate instead of at a window that each loss halves.
func TestSynEngineRandomLossLongPath(t *testing.T) {
	t.Parallel()
	n := newSimNet(5)
	n.loss, n.latency = 0.01, 15*time.Millisecond
	var targets []netip.Addr
	for i := range 15 {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(60 + i)})
		targets = append(targets, a)
		n.hosts[a] = &simHost{open: portSet(22, 443, 8080)}
	}
	took, hosts, _ := simulate(t, n, simConfig(), targets, allPorts())
	t.Logf("15 hosts x 65535 ports in %v of virtual time", took)
	for _, a := range targets {
		if h := hosts[a]; fmt.Sprint(h.open) != "[22 443 8080]" {
			t.Errorf("%s: open %v", a, h.open)
		}
	}
	// 983,025 probes at 30,000/s: 33 s at the rate.
	if took > 45*time.Second {
		t.Errorf("took %v of virtual time, want near 33 s (the rate)", took)
	}
}

// A host that drops everything is decided down within one initial timeout (its
// first attempts and their retransmissions at half of it each); a host that
// answers later than the retransmission but before the decision is still up.
func TestSynEngineSilentHostDecidedQuickly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		latency time.Duration
		up      bool
	}{
		{"drops everything", 0, false},
		{"answers after 700 ms", 350 * time.Millisecond, true},
	} {
		n := newSimNet(6)
		a := netip.MustParseAddr("192.0.2.90")
		n.latency = tc.latency
		n.hosts[a] = &simHost{dropAll: !tc.up, open: portSet(22)}
		took, hosts, _ := simulate(t, n, simConfig(), []netip.Addr{a}, allPorts())
		h := hosts[a]
		if tc.up {
			if h.down || fmt.Sprint(h.open) != "[22]" {
				t.Errorf("%s: down %v, open %v", tc.name, h.down, h.open)
			}
			continue
		}
		if !h.down || took > 1100*time.Millisecond {
			t.Errorf("%s: down %v after %v of virtual time, want down within 1.1 s", tc.name, h.down, took)
		}
	}
}

// Issue 10's open ports missed behind a lossy path: when the SYN-ACK of a first
// attempt is lost, the host still holds that connection half-open. A
// retransmission on the same 4-tuple with another sequence number falls inside
// its window, and the host answers it with a reset (RFC 793; Linux counts it in
// TcpExtEmbryonicRsts): the open port looked closed. Each attempt must be a
// connection of its own, and a port that answered a SYN-ACK once is open.
func TestSynEngineLostSynAckIsNotClosed(t *testing.T) {
	t.Parallel()
	n := newSimNet(8)
	n.loss, n.latency = 0.05, 15*time.Millisecond
	a := netip.MustParseAddr("192.0.2.95")
	var open []uint16
	for p := uint16(10); p <= 3000; p += 10 {
		open = append(open, p)
	}
	n.hosts[a] = &simHost{open: portSet(open...)}
	cfg := simConfig()
	cfg.allStates = true
	_, hosts, _ := simulate(t, n, cfg, []netip.Addr{a}, allPorts()[:3000])
	h := hosts[a]
	for _, p := range h.closed {
		if n.hosts[a].open[p] {
			t.Errorf("open port %d reported closed", p)
		}
	}
	if n.resets > 0 {
		t.Errorf("%d half-open connections reset by a later attempt on the same 4-tuple", n.resets)
	}
	if fmt.Sprint(h.open) != fmt.Sprint(open) {
		t.Errorf("found %d of %d open ports; missing %v", len(h.open), len(open), missing(open, h.open))
	}
}

func missing(want, got []uint16) []uint16 {
	var out []uint16
	for _, p := range want {
		if !slices.Contains(got, p) {
			out = append(out, p)
		}
	}
	return out
}

// plainHosts adds count hosts from 192.0.2.first on, with the given ports open.
func (n *simNet) plainHosts(first, count int, open ...uint16) []netip.Addr {
	var out []netip.Addr
	for i := range count {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(first + i)})
		out = append(out, a)
		n.hosts[a] = &simHost{open: portSet(open...)}
	}
	return out
}

// drive runs e on n in one-millisecond steps until every host is finished.
func (n *simNet) drive(t *testing.T, e *synEngine) {
	t.Helper()
	for i := 0; !e.done(); i++ {
		n.deliver(e)
		e.poll(n.now)
		n.now = n.now.Add(time.Millisecond)
		if i > 600000 {
			t.Fatal("no end after 10 minutes of virtual time")
		}
	}
}

// The hosts' open ports are handed on as they are found, so that identification
// overlaps discovery, but not those of a device answering every port: it would
// start hundreds of identifications of nothing.
func TestSynEngineHandsOnOpenPortsEarly(t *testing.T) {
	t.Parallel()
	n := newSimNet(11)
	plain, tarpit := netip.MustParseAddr("192.0.2.150"), netip.MustParseAddr("192.0.2.151")
	n.hosts[plain] = &simHost{open: portSet(22, 80, 5000)}
	every := map[uint16]bool{}
	for _, p := range allPorts() {
		every[p] = true
	}
	n.hosts[tarpit] = &simHost{open: every}
	handed := map[netip.Addr][]uint16{}
	var upAt []netip.Addr
	finished := map[netip.Addr]bool{}
	ports := allPorts()[:6000]
	e := newSynEngine(simConfig(), n, NewTargetSet([]netip.Addr{plain, tarpit}), ports, 1,
		func(netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { finished[h.addr] = true })
	e.opened = func(h *synHost, port uint16) {
		if finished[h.addr] {
			t.Errorf("%s:%d handed on after the host finished", h.addr, port)
		}
		handed[h.addr] = append(handed[h.addr], port)
	}
	e.up = func(h *synHost) { upAt = append(upAt, h.addr) }
	n.drive(t, e)
	got := slices.Clone(handed[plain])
	slices.Sort(got)
	if fmt.Sprint(got) != "[22 80 5000]" {
		t.Errorf("plain host: handed on %v, want each open port once", handed[plain])
	}
	if len(handed[tarpit]) > 8 {
		t.Errorf("device answering every port: %d ports handed on", len(handed[tarpit]))
	}
	if len(upAt) != 2 {
		t.Errorf("up called for %v, want each host once", upAt)
	}
}

// Issue 10's firewalled host (one port open, the rest dropped) at 100,000
// probes a second: once it is known to drop, its silent probes wait many at a time, on
// timeouts from its measured round trip, and the full range is done in about
// the time the rate allows.
func TestSynEngineFirewalledHostAtHighRate(t *testing.T) {
	t.Parallel()
	n := newSimNet(12)
	n.latency = 500 * time.Microsecond
	a := netip.MustParseAddr("192.0.2.160")
	n.hosts[a] = &simHost{open: portSet(22), allow: portSet(22)}
	cfg := simConfig()
	cfg.rate = 100000
	took, hosts, _ := simulate(t, n, cfg, []netip.Addr{a}, allPorts())
	if h := hosts[a]; fmt.Sprint(h.open) != "[22]" || !h.dropping {
		t.Errorf("open %v, dropping %v", h.open, h.dropping)
	}
	if s := n.sent[a]; s > 65535+65535/synRetrySample+200 {
		t.Errorf("%d probes", s)
	}
	// 65,535 probes at 100,000/s: 0.66 s; the last ones' timeout and the
	// sample of retries after.
	if took > 1500*time.Millisecond {
		t.Errorf("took %v of virtual time, want under 1.5 s", took)
	}
}

// busySenders takes perTick probes a millisecond, as the senders' queue does
// when the senders fall behind the rate, and refuses the rest as busy.
type busySenders struct {
	*simNet
	perTick, taken int
	tick           time.Time
	refused        int
}

func (b *busySenders) send(src, dst netip.Addr, sport, dport uint16, seq uint32) error {
	if b.now != b.tick {
		b.tick, b.taken = b.now, 0
	}
	if b.taken >= b.perTick {
		b.refused++
		return errSendersBusy
	}
	b.taken++
	return b.simNet.send(src, dst, sport, dport, seq)
}

// Senders slower than the rate: the scan runs at what they carry, loses no
// port, and takes their slowness for no sign of congestion.
func TestSynEngineBusySenders(t *testing.T) {
	t.Parallel()
	n := newSimNet(6)
	n.latency = 100 * time.Microsecond
	addr := netip.MustParseAddr("192.0.2.70")
	n.hosts[addr] = &simHost{open: portSet(22, 443, 60000)}
	b := &busySenders{simNet: n, perTick: 50}
	cfg := simConfig()
	cfg.rate = 100000
	done := map[netip.Addr]*synHost{}
	e := newSynEngine(cfg, b, NewTargetSet([]netip.Addr{addr}), allPorts(), 1,
		func(netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { done[h.addr] = h })
	start := n.now
	n.drive(t, e)
	took := n.now.Sub(start)
	h := done[addr]
	if h == nil || fmt.Sprint(h.open) != "[22 443 60000]" || h.closedCount != 65535-3 {
		t.Fatalf("host: %+v", h)
	}
	if b.refused == 0 {
		t.Fatal("the senders never refused: the test does not test what it says")
	}
	// 65,535 probes at 50 a millisecond: 1.3 s; at the windows a congestion
	// cut would leave, several times that.
	if took > 1600*time.Millisecond || n.sent[addr] > 65535*21/20 {
		t.Errorf("took %v of virtual time and %d probes, want near 1.3 s and 65,535", took, n.sent[addr])
	}
}

// A probe the machine refuses after it was queued (a local firewall, no route)
// makes a host that never answered down at once, as a refusal on sending does.
func TestSynEngineSendFailedLater(t *testing.T) {
	t.Parallel()
	n := newSimNet(7)
	live, blocked := netip.MustParseAddr("192.0.2.80"), netip.MustParseAddr("192.0.2.81")
	n.hosts[live] = &simHost{open: portSet(80)}
	n.hosts[blocked] = &simHost{dropAll: true}
	done := map[netip.Addr]*synHost{}
	e := newSynEngine(simConfig(), n, NewTargetSet([]netip.Addr{live, blocked}), allPorts()[:1000], 1,
		func(netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { done[h.addr] = h })
	e.poll(n.now)
	e.sendFailed(sendFailure{dst: blocked, err: syscall.EPERM}, n.now)
	// Failures for hosts not in the scan, or reported twice, change nothing.
	e.sendFailed(sendFailure{dst: netip.MustParseAddr("192.0.2.99"), err: syscall.EPERM}, n.now)
	e.sendFailed(sendFailure{dst: blocked, err: syscall.EPERM}, n.now)
	start := n.now
	n.drive(t, e)
	if h := done[blocked]; h == nil || !h.down || !h.unreachable {
		t.Errorf("refused host: %+v", h)
	}
	if h := done[live]; h == nil || fmt.Sprint(h.open) != "[80]" || h.closedCount != 999 {
		t.Errorf("live host: %+v", h)
	}
	if took := n.now.Sub(start); took > 900*time.Millisecond {
		t.Errorf("took %v: the refused host was waited for (a host that drops everything takes about 1 s)", took)
	}
}

// A host found to answer every port has the rest of its walk skipped: what
// was sent is still waited for, nothing more goes to it, and the other hosts
// are walked to the end.
func TestSynEngineStopWalk(t *testing.T) {
	t.Parallel()
	n := newSimNet(8)
	tarpit, plain := netip.MustParseAddr("192.0.2.90"), netip.MustParseAddr("192.0.2.91")
	all := portSet(allPorts()...)
	n.hosts[tarpit] = &simHost{open: all}
	n.hosts[plain] = &simHost{open: portSet(22)}
	done := map[netip.Addr]*synHost{}
	cfg := simConfig()
	cfg.blockHosts = 2
	e := newSynEngine(cfg, n, NewTargetSet([]netip.Addr{tarpit, plain}), allPorts(), 1,
		func(netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { done[h.addr] = h })
	var suspected *synHost
	e.suspect = func(h *synHost) { suspected = h }
	for i := 0; !e.done(); i++ {
		n.deliver(e)
		e.poll(n.now)
		if suspected != nil {
			e.stopWalk(suspected, n.now)
			e.stopWalk(suspected, n.now) // twice changes nothing
			suspected = nil
		}
		n.now = n.now.Add(time.Millisecond)
		if i > 600000 {
			t.Fatal("no end after 10 minutes of virtual time")
		}
	}
	h := done[tarpit]
	if h == nil || len(h.open) < synSuspectOpen || n.sent[tarpit] > 2000 {
		t.Fatalf("tarpit: %d open, %d probes sent to it", len(h.open), n.sent[tarpit])
	}
	if p := done[plain]; p == nil || fmt.Sprint(p.open) != "[22]" || p.closedCount != 65535-1 {
		t.Errorf("plain host: %+v", p)
	}
	if e.queued != 0 || e.portsDone.Load() != 2*65535 {
		t.Errorf("%d probes still queued, %d ports counted done, want 0 and %d", e.queued, e.portsDone.Load(), 2*65535)
	}
}

// Hosts are walked a block at a time, and the walk goes no faster than the
// rate even while ports wait for their host's window: each host is done in
// about its block's share of the scan, not the whole scan's time (where a
// firewalled host beside fifteen others took as long as all of them).
func TestSynEngineHostTimeIsItsBlocks(t *testing.T) {
	t.Parallel()
	n := newSimNet(7)
	targets := n.plainHosts(10, 12, 22, 443)
	cfg := simConfig()
	cfg.rate, cfg.blockHosts = 200000, blockFor(200000)
	tookHost := map[netip.Addr]time.Duration{}
	e := newSynEngine(cfg, n, NewTargetSet(targets), allPorts(), 1,
		func(netip.Addr) (netip.Addr, error) { return n.local, nil },
		func(h *synHost) { tookHost[h.addr] = n.now.Sub(h.began) })
	start := n.now
	n.drive(t, e)
	total := n.now.Sub(start)
	if len(tookHost) != len(targets) {
		t.Fatalf("%d hosts finished, want %d", len(tookHost), len(targets))
	}
	for addr, took := range tookHost {
		if took > total/2 {
			t.Errorf("%s took %v of a %v scan: it shared the rate with hosts of other blocks", addr, took, total)
		}
	}
	// The rate is still the limit of the whole scan.
	if limit := time.Duration(12*65535) * time.Second / 200000; total > limit+2*time.Second {
		t.Errorf("took %v of virtual time, want about %v", total, limit)
	}
}

// A sweep of mostly empty addresses: each silent host costs its first
// attempts, not a probe per port, and blocks of them follow one another as
// fast as they are found silent, while the blocks of answering hosts wait
// for the rate.
func TestSynEngineSweepPassesSilentHostsQuickly(t *testing.T) {
	t.Parallel()
	n := newSimNet(11)
	var targets []netip.Addr
	for i := range 400 {
		a := netip.AddrFrom4([4]byte{198, 51, byte(i / 250), byte(1 + i%250)})
		n.hosts[a] = &simHost{dropAll: true}
		targets = append(targets, a)
	}
	cfg := simConfig()
	cfg.rate, cfg.blockHosts = 100000, blockFor(100000)
	took, hosts, _ := simulate(t, n, cfg, targets, allPorts()[:2000])
	for _, h := range hosts {
		if !h.down || h.responded {
			t.Fatalf("%s: down %v, responded %v", h.addr, h.down, h.responded)
		}
	}
	// A probe per port would be 400 × 2,000 / 100,000 = 8 s; their first
	// attempts and retries are under 1 s of sending, plus the waits.
	if took > 5*time.Second {
		t.Errorf("400 silent hosts took %v of virtual time", took)
	}
}
