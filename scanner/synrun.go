package scanner

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"
)

const (
	synBlockHosts = 256   // hosts whose ports are interleaved at once, at most
	synHostRate   = 50000 // probes per second to one host, at most, from the walk's share
	synLiveHosts  = 16384 // hosts with state at once
	synMinTimeout = 100 * time.Millisecond
)

// blockFor is how many hosts' ports are interleaved at once: enough that no
// host gets more than synHostRate of the rate.
func blockFor(rate int) int {
	return min(max((rate+synHostRate-1)/synHostRate, 1), synBlockHosts)
}

// synScan finds open TCP ports with SYN probes on raw sockets, then hands each
// finished host to workers that identify its open ports (with connections) and
// emit it.
func (r *run) synScan(ctx context.Context, targets *TargetSet, sockets *rawSockets) {
	o := r.opts
	downAfter := o.DownAfter
	if downAfter < 0 {
		downAfter = -1
	}
	cfg := synConfig{rate: float64(o.Rate), retries: min(o.Retries, maxTries-1), downAfter: downAfter,
		initTimeout: min(time.Second, o.Timeout), minTimeout: min(synMinTimeout, o.Timeout), maxTimeout: o.Timeout,
		blockHosts: blockFor(o.Rate), liveHosts: synLiveHosts, allStates: o.AllStates}
	finished := newHostQueue()
	localFor := func(dst netip.Addr) (netip.Addr, error) {
		if !sockets.supports(dst) {
			return netip.Addr{}, errors.New("no raw socket for this address family")
		}
		return localAddrFor(dst)
	}
	replies := make(chan tcpReply, 1<<16)
	sockets.receive(func(rep tcpReply) {
		select {
		case replies <- rep:
		default: // the engine is behind: this reply is lost, a retransmission may recover it
		}
	})
	senders := newSynSendQueue(sockets, runtime.GOMAXPROCS(0))
	defer senders.close()
	e := newSynEngine(cfg, senders, targets, o.TCPPorts, rand.Uint64(), localFor, finished.push)
	e.portsDone = &r.portsDone
	// Identification and UDP start during discovery: an open port as soon as
	// its SYN-ACK comes (while the host has few), a host's UDP ports at its
	// first answer. At a high rate discovery is over in seconds; waiting for it
	// to end before naming anything would add the whole identification after.
	e.opened = func(h *synHost, port uint16) { r.startIdentify(ctx, h.workFor(), h.addr, port) }
	if len(o.UDPPorts) > 0 {
		e.up = func(h *synHost) { r.startUDP(ctx, h.workFor(), h.addr, udpPerHost) }
	}
	// A host with many open ports may answer every port: whether it does, and
	// which of its likely ports an application answers on, is looked at while
	// the rest of the ports are walked.
	// Once it is known to answer every port, the rest of its ports tell
	// nothing more: the engine stops walking them.
	tarpits := make(chan *synHost, 256)
	e.suspect = func(h *synHost) {
		r.startTarpitCheck(ctx, h.workFor(), h.addr, func() {
			select {
			case tarpits <- h:
			default: // only a saving: the host's walk goes on
			}
		})
	}
	r.phase.Store("syn")
	var wg sync.WaitGroup
	for range max(o.Hosts, 64) {
		wg.Go(func() {
			for {
				h := finished.pop()
				if h == nil {
					return
				}
				r.finishSynHost(ctx, h)
			}
		})
	}
	e.run(ctx, synSignals{replies: replies, failures: senders.failures, room: senders.room, tarpits: tarpits})
	finished.close()
	wg.Wait()
}

// finishSynHost turns what the SYN engine learnt of a host into its report entry.
func (r *run) finishSynHost(ctx context.Context, h *synHost) {
	defer r.hostsDone.Add(1)
	if ctx.Err() != nil {
		return
	}
	f := tcpFindings{responded: h.responded, down: !h.responded, dropping: h.dropping, open: h.open}
	// A host (or a device in front of it) that answers every port: open ports on
	// most of what was scanned, confirmed on ports nothing should use.
	if w := h.work; w != nil && w.tarpit != nil {
		<-w.tarpit.done
		f.tarpit, f.looked, f.answering = w.tarpit.tarpit, w.tarpit.looked, w.tarpit.answering
	} else if len(h.open) > 0 && (2*len(h.open) > len(r.opts.TCPPorts) || len(h.open) >= synSuspectOpen) {
		f.tarpit = r.looksLikeTarpit(ctx, h.addr)
	}
	if r.opts.AllStates && h.responded {
		f.closed = h.closed
		for _, p := range r.opts.TCPPorts {
			if _, found := slices.BinarySearch(h.open, p); found {
				continue
			}
			if _, found := slices.BinarySearch(h.closed, p); found {
				continue
			}
			f.filtered = append(f.filtered, p)
		}
	}
	host := r.describe(ctx, h.addr, f, h.work)
	if ctx.Err() == nil {
		r.tookSince(h.addr, h.began)
		r.emit(host)
	}
}

// earlyWork is what the scan started for a host while its ports were still
// being discovered. The engine's goroutine starts it; describe waits for it.
type earlyWork struct {
	mu        sync.Mutex // guards the tcp fields, filled on the engine's goroutine, read by a worker
	tcp       map[uint16]*pendingPort
	tcpCtx    context.Context // of the identifications in tcp
	tcpCancel context.CancelFunc
	dropped   []*pendingPort // identifications stopped: waited for, never used
	stopped   bool           // a tarpit: no more early identifications
	udp       *pendingUDP
	tarpit    *pendingTarpit
}

// dropTCP stops the host's early identifications and forgets them: on a
// tarpit they were started on ports found open before it was recognised,
// where nothing answers and each would wait out every probe (seconds, after
// the rest of the host is done). Ports where an application answers are
// identified again by describe.
func (w *earlyWork) dropTCP() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tcpCancel != nil {
		w.tcpCancel()
	}
	for _, p := range w.tcp {
		w.dropped = append(w.dropped, p)
	}
	clear(w.tcp)
	w.stopped = true
}

// pendingTarpit is the tarpit check of a host, and on a tarpit the look at its
// likely ports for an application's answer.
type pendingTarpit struct {
	done      chan struct{}
	tarpit    bool
	looked    map[uint16]bool // the ports looked at
	answering []uint16        // those where an application answered
}

// startTarpitCheck looks at whether addr answers every port; found calls back
// when it does (from the checking goroutine).
func (r *run) startTarpitCheck(ctx context.Context, w *earlyWork, addr netip.Addr, found func()) {
	if w.tarpit != nil {
		return
	}
	t := &pendingTarpit{done: make(chan struct{})}
	w.tarpit = t
	go func() {
		defer close(t.done)
		if t.tarpit = r.looksLikeTarpit(ctx, addr); !t.tarpit {
			return
		}
		w.dropTCP()
		found()
		// All its ports will be open: look at those a report would keep.
		candidates := tarpitCandidates(r.opts.TCPPorts)
		t.looked = make(map[uint16]bool, len(candidates))
		for _, p := range candidates {
			t.looked[p] = true
		}
		t.answering = r.answering(ctx, addr, candidates)
	}()
}

type pendingPort struct {
	done chan struct{}
	port Port
}

type pendingUDP struct {
	done  chan struct{}
	ports []Port // in the order of Options.UDPPorts
}

func newEarlyWork() *earlyWork { return &earlyWork{tcp: map[uint16]*pendingPort{}} }

func (h *synHost) workFor() *earlyWork {
	if h.work == nil {
		h.work = newEarlyWork()
	}
	return h.work
}

func (r *run) startIdentify(ctx context.Context, w *earlyWork, addr netip.Addr, port uint16) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tcp[port] != nil || w.stopped {
		return
	}
	if w.tcpCtx == nil {
		w.tcpCtx, w.tcpCancel = context.WithCancel(ctx)
	}
	tctx := w.tcpCtx
	p := &pendingPort{done: make(chan struct{})}
	w.tcp[port] = p
	go func() {
		defer close(p.done)
		p.port = r.identifyTCP(tctx, addr, port)
	}()
}

func (r *run) startUDP(ctx context.Context, w *earlyWork, addr netip.Addr, perHost int) {
	if w.udp != nil {
		return
	}
	u := &pendingUDP{done: make(chan struct{})}
	w.udp = u
	go func() {
		defer close(u.done)
		u.ports = r.scanUDPPorts(ctx, addr, perHost)
	}()
}

// wait waits for everything started, so that no probe of the host outlives it.
func (w *earlyWork) wait() {
	if w == nil {
		return
	}
	if w.tarpit != nil {
		<-w.tarpit.done
	}
	w.mu.Lock()
	pending := append(slices.Collect(maps.Values(w.tcp)), w.dropped...)
	w.mu.Unlock()
	for _, p := range pending {
		<-p.done
	}
	w.mu.Lock()
	if w.tcpCancel != nil {
		w.tcpCancel()
	}
	w.mu.Unlock()
	if w.udp != nil {
		<-w.udp.done
	}
}

// localAddrFor is the source address the kernel would use towards dst: connecting
// a UDP socket only looks up the route, it sends nothing.
func localAddrFor(dst netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// hostQueue hands finished hosts from the engine, which must never block, to the
// workers. It holds only hosts waiting for a worker.
type hostQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []*synHost
	closed bool
}

func newHostQueue() *hostQueue {
	q := &hostQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *hostQueue) push(h *synHost) {
	q.mu.Lock()
	q.items = append(q.items, h)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *hostQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// pop waits for a host; nil once closed and empty.
func (q *hostQueue) pop() *synHost {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return nil
	}
	h := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return h
}

// identified is the identification started early for port, if any.
func (w *earlyWork) identified(port uint16) *pendingPort {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tcp[port]
}
