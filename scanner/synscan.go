package scanner

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// synNet is what the SYN engine needs of the network: raw sockets, or a simulated
// network in tests.
type synNet interface {
	send(src, dst netip.Addr, sport, dport uint16, seq uint32) error
	sourcePort() uint16 // the first of maxTries source ports, one per attempt
}

// synConfig tunes the SYN engine; see Options for the defaults.
type synConfig struct {
	rate        float64 // probes per second, all hosts together
	retries     int     // extra attempts of a silent port
	downAfter   int     // silent first attempts after which a host that never answered is down; <0: never
	initTimeout time.Duration
	minTimeout  time.Duration
	maxTimeout  time.Duration
	blockHosts  int  // hosts whose ports are interleaved at once
	liveHosts   int  // most hosts with state at once
	allStates   bool // keep closed ports
}

const (
	synEarlyOpen           = 32 // open ports of a host handed on as they are found, at most
	synSuspectOpen         = 64 // open ports after which a host is checked for a tarpit
	synNearRTT             = 10 * time.Millisecond
	synInitialHostWindow   = 32
	synMinWindow           = 4
	synMaxHostWindow       = 8192
	synInitialGlobalWindow = 1024
	synMaxGlobalWindow     = 1 << 17
	synDropWindow          = 16384                 // probes in flight to a host known to drop
	synReadyCap            = 1 << 20               // probes waiting for their host's window (4 bytes each)
	synRetrySample         = 16                    // on a dropping host, one silent port in this many is retried
	synHeldBack            = 20 * time.Millisecond // the budget full this long: windows, not the rate, bound sending
)

// synHost is the state of one host while its ports are probed: counters, windows
// and the ports found, never a per-port table.
type synHost struct {
	index       uint64 // in the target set
	addr, local netip.Addr
	handed      int         // ports taken from the walk (sent, queued or skipped)
	pending     []readyItem // probes waiting for the host's window
	retx        []readyItem // retransmissions waiting, sent before pending
	inflight    int
	responded   bool
	down        bool
	unreachable bool
	finished    bool
	dropping    bool      // answers some ports, silently drops the rest
	began       time.Time // when its block started

	cwnd, ssthresh float64
	lastCut        time.Time
	// The current round trip's answers, to tell congestion from the path's usual
	// random loss: first attempts answered, lost ones (their retransmission
	// answered), and the shortest round trip among them.
	epochStart    time.Time
	epochAnswered int
	epochLost     int
	epochMinRTT   time.Duration
	queuedEpochs  int     // round trips in a row whose fastest answer queued
	baseLoss      float64 // running estimate of the loss the path shows when not congested
	srtt, rttvar  time.Duration
	minRTT        time.Duration
	samples       int
	silentFirst   int // first attempts that timed out
	answeredFirst int // first attempts answered
	retryAnswered int // retransmissions answered: evidence of loss
	maxAnswered   int // the highest attempt number answered
	retryLost     int // retransmissions unanswered too: evidence of a filter
	firstSent     int
	young         bool // counted in synEngine.young
	open, closed  []uint16
	closedCount   int
	work          *earlyWork // what the scan started for the host during discovery
}

// rto is how long a probe to h is waited for. On a host that never answered,
// half the initial timeout: its first attempts and their retransmissions then
// decide it down within one initial timeout, while an answer that comes later
// than the retransmission but before the decision still counts.
func (h *synHost) rto(c *synConfig) time.Duration {
	if !h.responded {
		return c.initTimeout / 2
	}
	if h.samples == 0 {
		return c.initTimeout
	}
	return min(max(h.srtt+4*h.rttvar, c.minTimeout), c.maxTimeout)
}

// limit is the number of probes the host may have in flight: its congestion
// window; enough to conclude on a host that never answered; many on a host known
// to drop silently (they wait on a filter), unless it has lately shown loss.
func (h *synHost) limit(c *synConfig, now time.Time) int {
	w := int(h.cwnd)
	switch {
	case !h.responded:
		return max(w, c.downAfter)
	case h.dropping && now.Sub(h.lastCut) > time.Second:
		return max(w, synDropWindow)
	}
	return w
}

type probeKey struct {
	h    *synHost
	port uint16
}

type synProbe struct {
	h        *synHost
	port     uint16
	try      int
	sent     time.Time
	counted  bool // holds a slot of the global window
	answered bool
}

type readyItem struct {
	port uint16
	try  uint8
}

// walkSegment is one pass over hosts x ports in a random order.
type walkSegment struct {
	ports []uint16
	perm  permutation
	pos   uint64
}

// synEngine runs a SYN scan: one goroutine calls poll and handleReply; the
// receiving goroutine only parses.
type synEngine struct {
	cfg      synConfig
	net      synNet
	jar      cookieJar
	lport    uint16
	targets  *TargetSet
	first    []uint16 // discovery ports, walked before the others on each block
	rest     []uint16
	nports   int
	localFor func(netip.Addr) (netip.Addr, error)
	finish   func(*synHost)
	opened   func(h *synHost, port uint16) // a new open port, while few; nil: none
	up       func(h *synHost)              // the host's first answer; nil: none
	suspect  func(h *synHost)              // the host has synSuspectOpen open ports: perhaps it answers every port
	rng      *rand.Rand

	hostPerm  permutation
	nextHost  uint64 // next position in hostPerm
	block     []*synHost
	segments  []walkSegment
	hosts     map[netip.Addr]*synHost
	live      int
	outstand  map[probeKey]*synProbe
	sentQ     [maxTries]sentQueue // by attempt number: each in order of its timeouts
	waiting   []*synHost          // hosts with pending probes
	queued    int                 // pending probes, all hosts
	rr        int
	gcwnd     float64
	gssthresh float64
	ginflight int
	gLastCut  time.Time
	gLoss     lossEpoch // all hosts' answers together, judged for the global window
	tokens    float64
	burst     float64 // most tokens kept
	// young counts hosts that had their first attempts and no answer yet;
	// silentCredit is how many may be at once before the next block waits:
	// it doubles with each host found silent (a sweep of empty addresses) and
	// halves with each that answers (a LAN, where their answers are a round
	// trip away and their ports must not all be queued meanwhile).
	young, silentCredit int
	fullSince           time.Time // since when the rate's budget has been full: something else holds sending back
	sendersBusy         bool      // the senders' queue was full this tick
	lastPoll            time.Time

	portsDone *atomic.Int64 // ports taken from the walk, for progress
	sent      int64
}

func newSynEngine(cfg synConfig, n synNet, targets *TargetSet, ports []uint16, seed uint64,
	localFor func(netip.Addr) (netip.Addr, error), finish func(*synHost)) *synEngine {
	e := &synEngine{cfg: cfg, net: n, jar: newCookieJar(), lport: n.sourcePort(), targets: targets,
		nports: len(ports), localFor: localFor, finish: finish, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		hosts: map[netip.Addr]*synHost{}, outstand: map[probeKey]*synProbe{},
		gcwnd: synInitialGlobalWindow, gssthresh: synMaxGlobalWindow, portsDone: new(atomic.Int64)}
	e.first, e.rest = splitDiscovery(ports)
	e.hostPerm = newPermutation(targets.Len(), e.rng.Uint64())
	return e
}

// splitDiscovery separates the ports most likely to answer: a host that answers
// none of them nor the next ones is down.
func splitDiscovery(ports []uint16) (first, rest []uint16) {
	for _, p := range ports {
		if slices.Contains(discoveryPorts, p) {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	return first, rest
}

// done reports whether every host has finished.
func (e *synEngine) done() bool {
	return e.nextHost >= e.targets.Len() && len(e.segments) == 0 && e.live == 0
}

// startBlock takes the next hosts of the (permuted) target set, whose addresses
// are distinct.
func (e *synEngine) startBlock(now time.Time) bool {
	if e.nextHost >= e.targets.Len() || e.live+e.cfg.blockHosts > e.cfg.liveHosts || e.blockBusy(now) {
		return false
	}
	n := min(uint64(e.cfg.blockHosts), e.targets.Len()-e.nextHost)
	e.block = e.block[:0]
	for range n {
		idx := e.hostPerm.at(e.nextHost)
		e.nextHost++
		h := &synHost{index: idx, addr: e.targets.At(idx), cwnd: synInitialHostWindow, ssthresh: synMaxHostWindow, began: now}
		e.live++
		e.block = append(e.block, h)
		local, err := e.localFor(h.addr)
		if err != nil {
			h.down, h.unreachable = true, true
		} else {
			h.local = local
		}
		e.hosts[h.addr] = h
	}
	for _, ports := range [][]uint16{e.first, e.rest} {
		if len(ports) > 0 {
			e.segments = append(e.segments, walkSegment{ports: ports, perm: newPermutation(n*uint64(len(ports)), e.rng.Uint64())})
		}
	}
	for _, h := range e.block {
		if h.down {
			e.skipRest(h)
			e.maybeFinish(h, now)
		}
	}
	return true
}

// blockBusy tells whether the last block still has its hosts' ports to send
// at the rate: the next block then waits. Started at once, every block's
// ports would be queued together, every host would share the rate and each
// take as long as the whole scan. The next block does start when the rate is
// not what holds sending back (the budget is full: windows on a long or lossy
// path, or hosts that do not answer), so that more hosts, each with its own
// window, are probed at once.
func (e *synEngine) blockBusy(now time.Time) bool {
	if e.young > e.silentCredit {
		return true // hosts not heard from yet: their answers decide
	}
	if !e.fullSince.IsZero() && now.Sub(e.fullSince) >= synHeldBack {
		return false
	}
	backlog := 0
	for _, h := range e.block {
		// The ports of a silent host wait until it is found down or up.
		if h.down || h.finished || h.young {
			continue
		}
		backlog += h.queuedLen()
	}
	return float64(backlog) > e.burst
}

// skipRest counts the ports of a host not yet taken as done.
func (e *synEngine) skipRest(h *synHost) {
	e.portsDone.Add(int64(e.nports - h.handed))
	h.handed = e.nports
}

// nextFresh returns the next (host, port) of the walk.
func (e *synEngine) nextFresh(now time.Time) (*synHost, uint16, bool) {
	for {
		if len(e.segments) == 0 {
			if !e.startBlock(now) {
				return nil, 0, false
			}
			continue
		}
		seg := &e.segments[0]
		if seg.pos >= seg.perm.n {
			e.segments = e.segments[1:]
			continue
		}
		v := seg.perm.at(seg.pos)
		seg.pos++
		g := uint64(len(e.block))
		h, port := e.block[v%g], seg.ports[v/g]
		if h.handed >= e.nports { // skipped already (down)
			continue
		}
		h.handed++
		e.portsDone.Add(1)
		if h.down {
			e.maybeFinish(h, now)
			continue
		}
		return h, port, true
	}
}

func (e *synEngine) globalOK(h *synHost) bool {
	return exemptFromGlobal(h) || float64(e.ginflight) < e.gcwnd
}

// hostOK tells whether h may take one more probe (try is its attempt number). A
// host that never answered gets DownAfter first attempts, then only the
// retransmissions that decide whether it is down.
func (e *synEngine) hostOK(h *synHost, try int) bool {
	if try == 0 && e.undecided(h) {
		return false
	}
	return h.inflight < h.limit(&e.cfg, e.lastPoll)
}

// undecided tells whether a host that never answered has had its first
// attempts: its other ports wait until it is found down (and are dropped) or up.
func (e *synEngine) undecided(h *synHost) bool {
	return !h.responded && e.cfg.downAfter >= 0 && h.firstSent >= e.cfg.downAfter
}

// poll expires probes, retransmits and sends new ones within the rate and the
// windows. It is called every millisecond or so.
func (e *synEngine) poll(now time.Time) {
	burst := max(e.cfg.rate/200, 16)
	if !e.lastPoll.IsZero() {
		e.tokens = min(e.tokens+e.cfg.rate*now.Sub(e.lastPoll).Seconds(), burst)
	} else {
		e.tokens = burst
	}
	e.lastPoll, e.burst = now, burst
	if e.tokens < burst-1 {
		e.fullSince = time.Time{}
	} else if e.fullSince.IsZero() {
		e.fullSince = now
	}
	e.sendersBusy = false
	e.expire(now)

	// Retransmissions and probes that waited for their host's window go first,
	// host by host, starting after the host served last.
	if n := len(e.waiting); n > 0 {
		keep := make([]*synHost, 0, n)
		start := e.rr % n
		for i := range n {
			h := e.waiting[(start+i)%n]
			e.sendPending(h, now)
			if h.queuedLen() > 0 {
				keep = append(keep, h)
			}
		}
		e.waiting = keep
		e.rr++
	}
	for e.tokens >= 1 && !e.sendersBusy && e.queued < synReadyCap {
		h, port, ok := e.nextFresh(now)
		if !ok {
			return
		}
		if h.queuedLen() > 0 || !e.hostOK(h, 0) || !e.globalOK(h) || e.transmit(h, port, 0, now) == sendLater {
			e.enqueue(h, port, 0)
		}
	}
}

// enqueue makes a probe wait for its host's window; retransmissions go before
// fresh probes, so that loss or filtering is learnt early.
func (e *synEngine) enqueue(h *synHost, port uint16, try int) {
	if h.queuedLen() == 0 {
		e.waiting = append(e.waiting, h)
	}
	if try > 0 {
		h.retx = append(h.retx, readyItem{port: port, try: uint8(try)})
	} else {
		h.pending = append(h.pending, readyItem{port: port})
	}
	e.queued++
}

func (h *synHost) queuedLen() int { return len(h.retx) + len(h.pending) }

// sendPending sends what waits for h as far as the rate and windows allow.
func (e *synEngine) sendPending(h *synHost, now time.Time) {
	drop := func() {
		e.queued -= h.queuedLen()
		h.pending, h.retx = nil, nil
		e.maybeFinish(h, now)
	}
	if h.down || h.finished {
		drop()
		return
	}
	for _, q := range []*[]readyItem{&h.retx, &h.pending} {
		for len(*q) > 0 && e.tokens >= 1 && !e.sendersBusy && e.hostOK(h, int((*q)[0].try)) && e.globalOK(h) {
			it := (*q)[0]
			if e.transmit(h, it.port, int(it.try), now) == sendLater {
				return
			}
			*q = (*q)[1:]
			e.queued--
			if h.down { // unreachable
				drop()
				return
			}
		}
	}
	if h.queuedLen() == 0 {
		h.pending, h.retx = nil, nil
		e.maybeFinish(h, now)
	}
}

type sendResult uint8

const (
	sendDone   sendResult = iota
	sendLater             // the machine refused for now (full buffers): queue again
	sendFailed            // no route or a local firewall
)

// transmit sends one probe.
func (e *synEngine) transmit(h *synHost, port uint16, try int, now time.Time) sendResult {
	sport, seq := e.jar.probe(h.local, h.addr, e.lport, port, try)
	err := e.net.send(h.local, h.addr, sport, port, seq)
	e.tokens--
	switch {
	case err == nil:
	case errors.Is(err, errSendersBusy):
		// The senders are behind for a moment: stop for this tick, keeping the
		// rate's budget (unlike a full interface queue, this is no sign of a
		// path that cannot take the rate).
		e.tokens++
		e.sendersBusy = true
		return sendLater
	case busy(err):
		e.tokens = 0
		return sendLater
	default:
		h.unreachable = true
		if !h.responded {
			e.setDown(h, now)
		}
		e.maybeFinish(h, now)
		return sendFailed
	}
	e.sent++
	if try == 0 {
		h.firstSent++
		if !h.responded && !h.young && e.undecided(h) {
			h.young = true
			e.young++
		}
	}
	p := &synProbe{h: h, port: port, try: try, sent: now, counted: !exemptFromGlobal(h)}
	if old := e.outstand[probeKey{h, port}]; old != nil {
		e.settle(old) // a retransmission replaces its predecessor
	}
	e.outstand[probeKey{h, port}] = p
	e.sentQ[try].items = append(e.sentQ[try].items, p)
	h.inflight++
	if p.counted {
		e.ginflight++
	}
	return sendDone
}

// exemptFromGlobal is true when probes to h take no slot of the global window:
// hosts that never answered, or drop most ports. Their probes are bounded by the
// rate and per host; the global window guards the paths that carry answers.
func exemptFromGlobal(h *synHost) bool { return !h.responded || h.dropping }

// settle removes a probe from the windows.
func (e *synEngine) settle(p *synProbe) {
	if p.answered {
		return
	}
	p.answered = true
	delete(e.outstand, probeKey{p.h, p.port})
	p.h.inflight--
	if p.counted {
		e.ginflight--
	}
}

// sentQueue holds probes in the order they were sent.
type sentQueue struct {
	items []*synProbe
	head  int
}

// timeout is how long p is waited for: the host's timeout, doubled for each
// retransmission of a host that answered (RFC 6298's backoff), so that the
// attempts of a port spread beyond a burst of congestion; not on a host that
// never answered, whose attempts decide in bounded time that it is down.
func (e *synEngine) timeout(p *synProbe) time.Duration {
	t := p.h.rto(&e.cfg)
	if p.h.responded && p.try > 0 {
		t = min(t<<p.try, max(e.cfg.maxTimeout, t))
	}
	return t
}

func (e *synEngine) expire(now time.Time) {
	for i := range e.sentQ {
		q := &e.sentQ[i]
		for q.head < len(q.items) {
			p := q.items[q.head]
			if !p.answered && now.Sub(p.sent) < e.timeout(p) {
				break
			}
			q.items[q.head] = nil
			q.head++
			if p.answered {
				continue
			}
			e.settle(p)
			e.timedOut(p, now)
		}
		if q.head > 4096 && q.head*2 > len(q.items) {
			n := copy(q.items, q.items[q.head:])
			clear(q.items[n:])
			q.items = q.items[:n]
			q.head = 0
		}
	}
}

func (e *synEngine) timedOut(p *synProbe, now time.Time) {
	h := p.h
	if p.try == 0 {
		h.silentFirst++
	} else {
		h.retryLost++
	}
	// Down: silent on the first attempts and on their retransmissions too, so that
	// a congested path that lost a burst does not make a live host look down.
	if !h.responded && e.cfg.downAfter >= 0 && h.silentFirst >= e.cfg.downAfter &&
		(e.cfg.retries == 0 || h.retryLost >= min(e.cfg.downAfter, 8)) {
		e.setDown(h, now)
	}
	// Dropping: most first attempts unanswered, and their retransmissions too: a
	// filter, not a congested path (which answers most first attempts).
	h.dropping = h.responded && h.retryLost >= 8 && h.retryAnswered*16 <= h.retryLost && h.silentFirst > 4*h.answeredFirst
	// Every silent port of a host that has not answered yet is tried again,
	// not only the first few: behind a firewall that drops all but one port,
	// that port's answer is the only sign the host is up, and on a lossy path
	// its first attempt may be the one lost. A host that never answers costs
	// at most twice DownAfter probes.
	retry := p.try < e.retries(h) && !h.down && !h.finished
	if retry && h.dropping {
		// A consistently silent host is a filter, not a lossy path: retry only a
		// sample, which still notices loss if it starts.
		retry = h.silentFirst%synRetrySample == 0
	}
	if retry {
		e.enqueue(h, p.port, p.try+1)
	}
	e.maybeFinish(h, now)
}

// retries is how many times a silent port of h is tried again: the configured
// number, and on a path that has shown loss one attempt more than the highest
// that was ever answered there (nmap's rule). A lossy path's answers then keep
// coming through, at a cost only for the few ports that are silent there,
// while a silent host or a filter, whose retransmissions are never answered,
// costs no more than before.
func (e *synEngine) retries(h *synHost) int {
	if e.cfg.retries == 0 {
		return 0
	}
	return min(max(e.cfg.retries, h.maxAnswered+1), maxTries-1)
}

func (e *synEngine) setDown(h *synHost, now time.Time) {
	if h.down {
		return
	}
	h.down = true
	if h.young {
		h.young = false
		e.young--
		e.silentCredit = min(2*e.silentCredit+1, synLiveHosts)
	}
	e.skipRest(h)
	// Its pending probes are dropped when the waiting hosts are next walked.
}

// handleReply takes one segment from the receiver.
func (e *synEngine) handleReply(r tcpReply, now time.Time) {
	h := e.hosts[r.src]
	if h == nil || h.finished {
		return
	}
	if !r.dst.IsValid() {
		r.dst = h.local
	}
	kind, try := e.jar.classify(r, e.lport)
	if kind == replyNone {
		return
	}
	fresh, first := false, !h.responded
	// Identification and UDP overlap discovery only on a near host: on a far or
	// lossy path the probes of discovery would crowd out theirs.
	defer func() {
		// This reply may have settled the host's last probe, and a finished
		// host belongs to the worker that describes it: nothing more may be
		// started on it (describe identifies what is left).
		if h.finished {
			return
		}
		near := h.samples > 0 && h.srtt < synNearRTT
		if fresh && near {
			e.opened(h, r.sport)
		}
		if first && near && e.up != nil {
			e.up(h)
		}
	}()
	h.responded = true
	if h.young {
		h.young = false
		e.young--
		e.silentCredit /= 2
	}
	h.maxAnswered = max(h.maxAnswered, try)
	switch kind {
	case replyOpen:
		// While the host looks like a host (few open ports among its answers)
		// and not a device answering everything, each new open port is handed
		// on at once, so that its identification overlaps the rest of discovery.
		fresh = e.opened != nil && len(h.open) < synEarlyOpen && 4*(len(h.open)+1) <= h.closedCount+len(h.open)+1+16 &&
			!slices.Contains(h.open, r.sport)
		h.open = append(h.open, r.sport)
		if len(h.open) == synSuspectOpen && e.suspect != nil {
			e.suspect(h)
		}
	case replyClosed:
		h.closedCount++
		if e.cfg.allStates {
			h.closed = append(h.closed, r.sport)
		}
	}
	p := e.outstand[probeKey{h, r.sport}]
	if p == nil {
		return // a duplicate, or an answer after we stopped waiting: the port is recorded all the same
	}
	e.settle(p)
	switch {
	case try == p.try && try == 0:
		rtt := now.Sub(p.sent)
		h.answeredFirst++
		e.sampleRTT(h, rtt)
		e.grow(h, rtt)
		// Only probes sent since the last decrease tell about the window now.
		if p.sent.After(e.gLastCut) {
			e.gLoss.answered++
		}
		if p.sent.After(h.lastCut) {
			h.epochAnswered++
			if h.epochMinRTT == 0 || rtt < h.epochMinRTT {
				h.epochMinRTT = rtt
			}
		}
	case try > 0:
		// The first attempt was lost. The answer still clocks the window open
		// (no round-trip sample: Karn).
		h.retryAnswered++
		if p.sent.Add(-h.rto(&e.cfg)).After(h.lastCut) {
			h.epochLost++
		}
		if p.sent.Add(-h.rto(&e.cfg)).After(e.gLastCut) {
			e.gLoss.lost++
		}
		e.grow(h, 0)
	}
	e.endEpoch(h, p.sent, now)
	e.judgeGlobalLoss(h, p.sent, now)
	e.maybeFinish(h, now)
}

// Congestion signals, judged once per round trip of answers.
const (
	synEpochSamples   = 128  // outcomes a loss fraction is judged on, at least
	synLossFloor      = 0.05 // a loss fraction below this is never congestion
	synDelaySlack     = 2 * time.Millisecond
	synDelayDecrease  = 0.9 // a standing queue: shrink by its share of the round trip, this much at least
	synLossDecrease   = 0.5
	synBaseLossWeight = 0.125
	synAvoidGrowth    = 0.0625 // window growth per answer above the slow-start threshold
)

// endEpoch judges the round trip of answers just ended. Random loss is not
// congestion: a path that loses 1% of packets whatever the rate would keep a
// window that halves on every loss near 1.2/sqrt(0.01) = 12 probes. The windows
// shrink only when the loss over the round trip clearly exceeds what the path
// usually shows (twice the running estimate plus three standard deviations, so
// that the chance spread of a round trip's losses is not taken for it, and 5% at
// least), or when even the
// fastest answer of the round trip queued (its round trip more than twice the
// shortest ever seen): a standing queue at a bottleneck, seen before it drops.
func (e *synEngine) endEpoch(h *synHost, sent, now time.Time) {
	if h.epochStart.IsZero() {
		h.epochStart = now
		return
	}
	n := h.epochAnswered + h.epochLost
	if now.Sub(h.epochStart) < max(h.srtt, time.Millisecond) || n < 8 {
		return
	}
	queued := h.epochAnswered >= 8 && h.minRTT > 0 && h.epochMinRTT > 2*h.minRTT+synDelaySlack
	switch {
	case queued && h.queuedEpochs > 0:
		// Shrink in proportion to the queue, so that it drains within a round trip.
		factor := float64(h.minRTT) / float64(h.epochMinRTT)
		e.cut(h, sent, now, min(max(factor, synLossDecrease), synDelayDecrease), true)
	case n >= synEpochSamples:
		loss := float64(h.epochLost) / float64(n)
		if excessLoss(h.epochLost, n, h.baseLoss) {
			e.cut(h, sent, now, synLossDecrease, false)
		} else {
			h.baseLoss = nextBaseLoss(h.baseLoss, loss)
		}
	case !queued:
		return // too few outcomes to judge loss yet: the round trip goes on
	}
	// A queue must stand two round trips running: one round trip of late
	// answers is as likely our own process, or the machine, having stalled.
	h.queuedEpochs = 0
	if queued {
		h.queuedEpochs = 1
	}
	h.epochStart, h.epochAnswered, h.epochLost, h.epochMinRTT = now, 0, 0, 0
}

// lossEpoch counts the answers and losses of a round trip, all hosts together.
type lossEpoch struct {
	start          time.Time
	answered, lost int
	base           float64 // running estimate of the usual loss
}

// judgeGlobalLoss shrinks the global window when the loss over all hosts'
// answers of a round trip clearly exceeds the usual: a shared path congested.
func (e *synEngine) judgeGlobalLoss(h *synHost, sent, now time.Time) {
	g := &e.gLoss
	if g.start.IsZero() {
		g.start = now
	}
	n := g.answered + g.lost
	if now.Sub(g.start) < max(h.srtt, time.Millisecond) || n < synEpochSamples {
		return
	}
	loss := float64(g.lost) / float64(n)
	if excessLoss(g.lost, n, g.base) && now.Sub(e.gLastCut) > max(h.srtt, time.Millisecond) && sent.After(e.gLastCut) {
		e.gssthresh = max(e.gcwnd*synLossDecrease, synMinWindow*16)
		e.gcwnd = e.gssthresh
		e.gLastCut = now
	} else {
		g.base = nextBaseLoss(g.base, loss)
	}
	g.start, g.answered, g.lost = now, 0, 0
}

// excessLoss tells whether lost of n outcomes is clearly more than the usual
// fraction base: twice it plus three standard deviations (the chance spread of
// a round trip's losses), and 5% at least.
func excessLoss(lost, n int, base float64) bool {
	usual := base * float64(n)
	return float64(lost) > synLossFloor*float64(n) && float64(lost) > 2*usual+3*math.Sqrt(usual+1)
}

// nextBaseLoss moves the usual loss estimate toward a round trip's loss,
// capped: a path that loses more than 5% at random is rare, and a congested one
// must not teach the estimate that heavy loss is usual.
func nextBaseLoss(base, loss float64) float64 {
	return base + synBaseLossWeight*(min(loss, synLossFloor)-base)
}

func (e *synEngine) sampleRTT(h *synHost, rtt time.Duration) {
	if h.samples == 0 {
		h.srtt, h.rttvar = rtt, rtt/2
	} else {
		d := h.srtt - rtt
		if d < 0 {
			d = -d
		}
		h.rttvar = (3*h.rttvar + d) / 4
		h.srtt = (7*h.srtt + rtt) / 8
	}
	h.samples++
	if h.minRTT == 0 || rtt < h.minRTT {
		h.minRTT = rtt
	}
}

// grow opens the host's and the global window on an answer: by one per answer
// below the threshold (slow start), by a sixteenth above it: a sixteenth of the
// window per round trip, not TCP's one probe, so that a window halved on a burst
// of loss is back within a few round trips rather than hundreds. An answer that
// took twice the shortest round trip seen has queued somewhere: the window holds,
// which keeps the path's queues from overflowing before loss is even noticed.
func (e *synEngine) grow(h *synHost, rtt time.Duration) {
	if rtt > 2*h.minRTT+time.Millisecond {
		return
	}
	if h.cwnd < h.ssthresh {
		h.cwnd++
	} else {
		h.cwnd += synAvoidGrowth
	}
	h.cwnd = min(h.cwnd, synMaxHostWindow)
	if e.gcwnd < e.gssthresh {
		e.gcwnd++
	} else {
		e.gcwnd += synAvoidGrowth
	}
	e.gcwnd = min(e.gcwnd, synMaxGlobalWindow)
}

// cut shrinks the windows by factor on a congestion signal, at most once per
// round trip, and only on evidence (a probe sent at sent) that postdates the last
// decrease, so one burst of losses counts once and the answers of a window
// already cut do not cut it again. The global window shrinks here only on a standing
// queue; on loss, only when all hosts' answers together show it
// (judgeGlobalLoss): one host's few hundred answers are too noisy to slow every
// host.
func (e *synEngine) cut(h *synHost, sent, now time.Time, factor float64, global bool) {
	rtt := max(h.srtt, time.Millisecond)
	if now.Sub(h.lastCut) > rtt && sent.After(h.lastCut) {
		h.ssthresh = max(h.cwnd*factor, synMinWindow)
		h.cwnd = h.ssthresh
		h.lastCut = now
	}
	if global && now.Sub(e.gLastCut) > rtt && sent.After(e.gLastCut) {
		e.gssthresh = max(e.gcwnd*factor, synMinWindow*16)
		e.gcwnd = e.gssthresh
		e.gLastCut = now
	}
}

func (e *synEngine) maybeFinish(h *synHost, now time.Time) {
	if h.finished || h.handed < e.nports && !h.down || h.queuedLen() > 0 || h.inflight > 0 {
		return
	}
	if h.down && h.handed < e.nports {
		e.skipRest(h)
	}
	h.finished = true
	if h.young { // finished some other way than found down or answering
		h.young = false
		e.young--
	}
	e.live--
	if e.hosts[h.addr] == h {
		delete(e.hosts, h.addr)
	}
	slices.Sort(h.open)
	h.open = slices.Compact(h.open)
	slices.Sort(h.closed)
	h.closed = slices.Compact(h.closed)
	e.finish(h)
}

// sendFailed takes a probe the machine refused after it was queued (no route,
// a local firewall), as transmit does when sending is synchronous.
func (e *synEngine) sendFailed(f sendFailure, now time.Time) {
	h := e.hosts[f.dst]
	if h == nil || h.finished {
		return
	}
	h.unreachable = true
	if !h.responded {
		e.setDown(h, now)
	}
	e.maybeFinish(h, now)
}

// stopWalk sends nothing more to h: what was sent is still waited for.
func (e *synEngine) stopWalk(h *synHost, now time.Time) {
	if h.finished {
		return
	}
	if h.handed < e.nports {
		e.skipRest(h)
	}
	e.queued -= h.queuedLen()
	h.pending, h.retx = nil, nil
	e.maybeFinish(h, now)
}

// synSignals is what wakes the engine besides its tick; a nil channel never
// does.
type synSignals struct {
	replies  <-chan tcpReply
	failures <-chan sendFailure // probes the machine refused after they were queued
	room     <-chan struct{}    // the senders' queue, full at the last poll, has room again
	tarpits  <-chan *synHost    // hosts found to answer every port: the rest of their walk is skipped
}

// run drives the engine until every host has finished or ctx ends: replies as
// they come, sending on a one-millisecond tick, and at once when the senders
// catch up (waiting for the tick would leave them idle for the rest of it).
func (e *synEngine) run(ctx context.Context, sig synSignals) {
	replies := sig.replies
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	e.poll(time.Now())
	for !e.done() {
		select {
		case r := <-replies:
			now := time.Now()
			e.handleReply(r, now)
			for more := true; more; {
				select {
				case r := <-replies:
					e.handleReply(r, now)
				default:
					more = false
				}
			}
		case f := <-sig.failures:
			e.sendFailed(f, time.Now())
		case h := <-sig.tarpits:
			e.stopWalk(h, time.Now())
		case <-sig.room:
			if e.sendersBusy {
				e.poll(time.Now())
			}
		case <-tick.C:
			e.poll(time.Now())
		case <-ctx.Done():
			return
		}
	}
}
