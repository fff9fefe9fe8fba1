package scanner

import (
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/portcullis/portcullis/scanner/fingerprint"
)

// Scan scans the targets and returns the report, hosts in the order of targets. It
// sends packets to the given addresses only. It returns an error for an empty or
// oversized request; when cancelled, the hosts finished so far together with
// ctx.Err().
func Scan(ctx context.Context, targets []netip.Addr, opts Options) (*Report, error) {
	limit := opts.MaxTargets
	if limit == 0 {
		limit = DefaultMaxTargets
	}
	if limit > 0 && len(targets) > limit {
		return nil, &TooManyTargetsError{Count: bigInt(len(targets)), Limit: limit}
	}
	order := make(map[netip.Addr]int, len(targets))
	for i, a := range targets {
		if _, seen := order[a.Unmap()]; !seen {
			order[a.Unmap()] = i
		}
	}
	var mu sync.Mutex
	hosts := []Host{}
	sum, err := ScanStream(ctx, NewTargetSet(targets), opts, func(h Host) {
		mu.Lock()
		defer mu.Unlock()
		hosts = append(hosts, h)
	})
	if sum == nil {
		return nil, err
	}
	slices.SortFunc(hosts, func(a, b Host) int {
		return order[netip.MustParseAddr(a.Address)] - order[netip.MustParseAddr(b.Address)]
	})
	return &Report{Schema: sum.Schema, StartedAt: sum.StartedAt, FinishedAt: sum.FinishedAt,
		Profile: sum.Profile, Method: sum.Method, Hosts: hosts}, err
}

// Summary describes a scan run; with the hosts it makes the report. It is the last
// line of `scan --format ndjson`.
type Summary struct {
	Schema     string    `json:"schema"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Profile    string    `json:"profile"`
	Method     string    `json:"method"` // MethodSYN or MethodConnect
	Hosts      int       `json:"hosts"`  // hosts emitted
}

// Discovery methods recorded in Report.Method and Summary.Method.
const (
	MethodSYN     = "syn"
	MethodConnect = "connect"
)

// ErrNeedPrivilege is returned when Options.Method asks for SYN scanning without
// the right to open raw sockets.
var ErrNeedPrivilege = errors.New("SYN scanning needs root or CAP_NET_RAW (use the connect method)")

// ScanStream scans the targets and calls emit with each host as soon as it is
// finished (identified, checked), one call at a time, in no particular order. It
// keeps no host after emitting it, so memory stays flat on any number of targets.
// It returns the run's summary; when cancelled, the summary of the hosts emitted so
// far with ctx.Err() (a host interrupted midway is not emitted).
func ScanStream(ctx context.Context, targets *TargetSet, opts Options, emit func(Host)) (*Summary, error) {
	opts = opts.withDefaults()
	if targets.Len() == 0 {
		return nil, ErrNoTargets
	}
	if len(opts.TCPPorts) == 0 && len(opts.UDPPorts) == 0 {
		return nil, ErrNoPorts
	}
	limit := opts.MaxTargets
	if limit == 0 {
		limit = DefaultMaxTargets
	}
	if limit > 0 && targets.Len() > uint64(limit) {
		return nil, &TooManyTargetsError{Count: new(big.Int).SetUint64(targets.Len()), Limit: limit}
	}
	engine, err := fingerprint.New(nil, fingerprint.Config{
		DialTimeout: 2 * opts.Timeout,
		BannerWait:  opts.BannerWait,
		ReadTimeout: opts.ProbeTimeout,
		SkipChecks:  opts.SkipChecks,
	})
	if err != nil {
		return nil, err
	}
	r := &run{
		opts:       opts,
		engine:     engine,
		connSlots:  make(chan struct{}, opts.Concurrency),
		idSlots:    make(chan struct{}, opts.Identify),
		udpSlots:   make(chan struct{}, udpPerIdentify*opts.Identify),
		portsTotal: int64(targets.Len()) * int64(len(opts.TCPPorts)+len(opts.UDPPorts)),
		connect:    connectOnce,
	}
	if opts.connect != nil {
		r.connect = opts.connect
	}
	var sockets *rawSockets
	method := MethodConnect
	if len(opts.TCPPorts) > 0 && opts.connect == nil && opts.Method != MethodConnect {
		sockets, err = openRawSockets()
		switch {
		case err == nil:
			method = MethodSYN
			defer sockets.close()
		case opts.Method == MethodSYN && errors.Is(err, errNoPrivilege):
			return nil, ErrNeedPrivilege
		case opts.Method == MethodSYN:
			return nil, err
		}
	}
	started := time.Now()
	sum := &Summary{Schema: Schema, StartedAt: started.UTC().Truncate(time.Second), Profile: opts.Profile, Method: method}
	var emitMu sync.Mutex
	r.emit = func(h Host) {
		emitMu.Lock()
		defer emitMu.Unlock()
		sum.Hosts++
		emit(h)
	}
	stopProgress := r.reportProgress(ctx, started, int(min(targets.Len(), 1<<31-1)))
	if method == MethodSYN {
		r.synScan(ctx, targets, sockets)
	} else {
		r.connectScan(ctx, targets)
	}
	stopProgress()
	sum.FinishedAt = time.Now().UTC().Truncate(time.Second)
	return sum, ctx.Err()
}

// connectBusyHosts is how many hosts have their ports found by connections
// at once while they answer. On a LAN the machine's cost per connection is the
// limit, not the hosts: a few at a time get the ports a second that many do,
// and each is done in its share of the scan rather than all at the end. Hosts
// that cost waits rather than work do not count: far, silent, behind a
// filter that drops, or with their ports found (naming them and UDP are
// mostly waits); up to Options.Hosts run beside the busy ones.
const connectBusyHosts = 4

// connectScan scans hosts a few at a time with TCP connections.
func (r *run) connectScan(ctx context.Context, targets *TargetSet) {
	var (
		mu      sync.Mutex
		running = map[*hostScan]bool{}
		wg      sync.WaitGroup
	)
	ended := make(chan struct{}, 1)
	mayStart := func() bool {
		mu.Lock()
		defer mu.Unlock()
		busy := 0
		for h := range running {
			if h.busy() {
				busy++
			}
		}
		return len(running) < r.opts.Hosts && busy < connectBusyHosts
	}
	for i := range targets.Len() {
		for !mayStart() && ctx.Err() == nil {
			// A running host may turn out silent, or finish finding its
			// ports, without ending: look again soon.
			select {
			case <-ended:
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		h := newHostScan(r, targets.At(i).Unmap())
		mu.Lock()
		running[h] = true
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(running, h)
				mu.Unlock()
				select {
				case ended <- struct{}{}:
				default:
				}
			}()
			began := time.Now()
			host := r.scanHost(ctx, h)
			r.hostsDone.Add(1)
			if ctx.Err() == nil {
				r.tookSince(h.addr, began)
				r.emit(host)
			}
		})
	}
	wg.Wait()
}

// run is the shared state of one scan.
type run struct {
	opts       Options
	engine     *fingerprint.Engine
	connSlots  chan struct{} // global connection attempts in flight
	idSlots    chan struct{} // TCP ports under identification
	udpSlots   chan struct{} // UDP ports being asked
	portsTotal int64
	portsDone  atomic.Int64
	connect    func(ctx context.Context, target netip.AddrPort, timeout time.Duration) connectOutcome
	hostsDone  atomic.Int32
	phase      atomic.Value
	emit       func(Host)
}

// tookSince tells Options.HostTook how long a host took.
func (r *run) tookSince(addr netip.Addr, began time.Time) {
	if r.opts.HostTook != nil {
		r.opts.HostTook(addr, time.Since(began))
	}
}

func (r *run) reportProgress(ctx context.Context, started time.Time, hosts int) (stop func()) {
	if r.opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.opts.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-done:
			case <-ctx.Done():
			}
			elapsed := time.Since(started)
			p := Progress{HostsDone: int(r.hostsDone.Load()), HostsTotal: hosts,
				PortsDone: r.portsDone.Load(), PortsTotal: r.portsTotal, Elapsed: elapsed}
			if ph, ok := r.phase.Load().(string); ok {
				p.Phase = ph
			}
			if s := elapsed.Seconds(); s > 0 {
				p.Rate = float64(p.PortsDone) / s
			}
			if p.Rate > 0 && p.PortsDone < p.PortsTotal {
				p.Remaining = time.Duration(float64(p.PortsTotal-p.PortsDone) / p.Rate * float64(time.Second))
			}
			r.opts.Progress(p)
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			default:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// hostScan is the state of one host during its connect scan.
type hostScan struct {
	r    *run
	addr netip.Addr

	mu            sync.Mutex
	cond          *sync.Cond    // signalled when an attempt ends
	giveUp        func()        // cancels the attempts in flight once the host is down
	inflight      int           // attempts in flight
	srtt          time.Duration // smoothed handshake round trip (RFC 6298 style)
	minRTT        time.Duration // the shortest handshake
	rttvar        time.Duration
	samples       int
	responded     bool // any SYN/ACK or RST seen
	silentStreak  int  // attempts without an answer while the host never answered
	silentFirst   int  // first attempts that timed out
	retryAnswered int  // retries answered: the path loses packets
	maxAnswered   int  // the highest attempt number answered
	retryLost     int  // retries unanswered too: a filter drops them
	dropping      bool // answers some ports and silently drops the others
	down          atomic.Bool
	discovered    atomic.Bool      // its TCP ports are found
	tcp           [65536]portState // by port: a fixed array is smaller than a map of 65,535 entries
}

// connectDropWindow is how many attempts may wait at once on a host known to
// drop: they wait on a filter, not on the host's accept queue.
const connectDropWindow = 4096

// limit is the number of attempts allowed in flight: PerHost against a host that
// answers (its accept queue), enough to conclude on a host that never answered,
// many on a host whose firewall drops most ports.
func (h *hostScan) limit() int {
	o := &h.r.opts
	switch {
	case !h.responded:
		return max(o.PerHost, min(o.DownAfter, o.Concurrency))
	case h.dropping:
		return max(o.PerHost, min(connectDropWindow, o.Concurrency))
	}
	return o.PerHost
}

// connectFarRTT is the shortest handshake of a far host: its attempts in
// flight, not the machine, bound its pace. The shortest, not the average: on a
// loaded machine the average handshake to a near host is long too.
const connectFarRTT = 10 * time.Millisecond

func (h *hostScan) acquire() {
	h.mu.Lock()
	for h.inflight >= h.limit() && !h.down.Load() {
		h.cond.Wait()
	}
	h.inflight++
	h.mu.Unlock()
}

func (h *hostScan) release() {
	h.mu.Lock()
	h.inflight--
	h.mu.Unlock()
	h.cond.Broadcast()
}

// tcpFindings is what port discovery learnt about a host.
type tcpFindings struct {
	responded, down, tarpit bool
	// On a tarpit, the ports already looked at for an application's answer
	// (during a SYN scan's discovery), and those that answered.
	looked           map[uint16]bool
	answering        []uint16
	dropping         bool // answers some ports, silently drops most
	open             []uint16
	closed, filtered []uint16 // with AllStates only
}

func newHostScan(r *run, addr netip.Addr) *hostScan {
	h := &hostScan{r: r, addr: addr}
	h.cond = sync.NewCond(&h.mu)
	return h
}

// busy tells whether finding the host's ports costs the machine work rather
// than waits (see connectBusyHosts). A host not yet heard from is busy until
// its first attempts time out.
func (h *hostScan) busy() bool {
	if h.down.Load() || h.discovered.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.dropping:
		return false
	case h.samples > 0:
		return h.minRTT < connectFarRTT
	}
	return h.responded || h.silentStreak == 0
}

func (r *run) scanHost(ctx context.Context, h *hostScan) Host {
	addr := h.addr
	r.phase.Store("tcp")
	var f tcpFindings
	if len(r.opts.TCPPorts) > 0 {
		tarpit := make(chan bool, 1)
		go func() { tarpit <- h.looksLikeTarpit(ctx) }()
		hctx, cancel := context.WithCancel(ctx)
		h.giveUp = cancel
		h.scanTCP(hctx)
		h.discovered.Store(true)
		cancel()
		f.tarpit = <-tarpit
	}
	f.responded, f.down = h.responded, h.down.Load()
	h.mu.Lock()
	f.dropping = h.dropping
	h.mu.Unlock()
	for port, state := range h.tcp {
		switch {
		case state == portOpen:
			f.open = append(f.open, uint16(port))
		case state == portClosed && r.opts.AllStates:
			f.closed = append(f.closed, uint16(port))
		case state == portFiltered && r.opts.AllStates:
			f.filtered = append(f.filtered, uint16(port))
		}
	}
	return r.describe(ctx, addr, f, nil)
}

// describe completes a host whose TCP ports were found: tarpit filtering,
// identification of open ports, UDP. What early (the SYN scan) started during
// discovery is used, not done again.
func (r *run) describe(ctx context.Context, addr netip.Addr, f tcpFindings, early *earlyWork) Host {
	defer early.wait()
	out := Host{Address: addr.String(), State: HostDown, Tarpit: f.tarpit, Ports: []Port{}}
	open := f.open
	if f.tarpit {
		r.phase.Store("tarpit")
		var rest []uint16
		open = nil
		// Looked at during discovery (f.looked): the candidates of every port
		// asked for, which cover what a report keeps; the open ports found
		// before the walk stopped are a random few more, not worth a round of waits.
		if f.looked == nil {
			rest = tarpitCandidates(f.open)
		}
		// Where an application answered, the port is open, whether or not
		// discovery got to it: on a host found to answer every port, the
		// SYN scan stops walking its ports.
		open = append(open, f.answering...)
		open = append(open, r.answering(ctx, addr, rest)...)
	}
	if f.responded || f.tarpit {
		out.State = HostUp
	}

	// UDP alongside the identification of the open TCP ports, udpPerHost at a
	// time per host; all UDP ports at once on a host that answered nothing over
	// TCP or drops most ports: no service to overload, and one probe wait
	// instead of several.
	udp := func() []Port { return nil }
	switch {
	case early != nil && early.udp != nil:
		udp = func() []Port { <-early.udp.done; return early.udp.ports }
	case len(r.opts.UDPPorts) > 0:
		perHost := udpPerHost
		if !f.responded && !f.tarpit || f.dropping {
			perHost = len(r.opts.UDPPorts)
		}
		var ports []Port
		done := make(chan struct{})
		go func() {
			defer close(done)
			ports = r.scanUDPPorts(ctx, addr, perHost)
		}()
		udp = func() []Port { <-done; return ports }
	}

	// Identify open ports, a few at a time per host.
	r.phase.Store("identify")
	results := make([]Port, len(open))
	perHost := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, port := range open {
		if p := early.identified(port); p != nil {
			wg.Go(func() {
				<-p.done
				results[i] = p.port
			})
			continue
		}
		perHost <- struct{}{}
		wg.Go(func() {
			defer func() { <-perHost }()
			results[i] = r.identifyTCP(ctx, addr, port)
		})
	}
	wg.Wait()
	for _, p := range results {
		if f.tarpit && p.Service == "unknown" && p.Banner == "" {
			continue // the tarpit itself, not an application
		}
		out.Ports = append(out.Ports, p)
	}
	if r.opts.AllStates && !f.down && !f.tarpit {
		for _, list := range []struct {
			ports []uint16
			state string
		}{{f.closed, StateClosed}, {f.filtered, StateFiltered}} {
			for _, port := range list.ports {
				out.Ports = append(out.Ports, Port{Port: port, Protocol: "tcp", State: list.state, Service: "unknown", Findings: []Finding{}})
			}
		}
	}

	for _, p := range udp() {
		if p.State == StateOpen || p.State == StateClosed {
			out.State = HostUp
		}
		if p.State == StateOpen || r.opts.AllStates {
			out.Ports = append(out.Ports, p)
		}
	}
	slices.SortFunc(out.Ports, func(a, b Port) int {
		if a.Protocol != b.Protocol {
			if a.Protocol < b.Protocol {
				return -1
			}
			return 1
		}
		return int(a.Port) - int(b.Port)
	})
	return out
}

// scanUDPPorts probes the UDP ports of a host, perHost at a time.
func (r *run) scanUDPPorts(ctx context.Context, addr netip.Addr, perHost int) []Port {
	out := make([]Port, len(r.opts.UDPPorts))
	slots := make(chan struct{}, perHost)
	var wg sync.WaitGroup
	for i, port := range r.opts.UDPPorts {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			out[i] = r.scanUDP(ctx, addr, port)
		})
	}
	wg.Wait()
	return out
}

func (r *run) identifyTCP(ctx context.Context, addr netip.Addr, port uint16) Port {
	p := Port{Port: port, Protocol: "tcp", State: StateOpen, Service: "unknown", Findings: []Finding{}}
	if r.opts.SkipIdentify {
		return p
	}
	select {
	case r.idSlots <- struct{}{}:
	case <-ctx.Done():
		return p
	}
	defer func() { <-r.idSlots }()
	return fromResult(p, r.engine.IdentifyTCP(ctx, netip.AddrPortFrom(addr, port)))
}

// udpPerIdentify is how many UDP ports may be asked at once per TCP
// identification slot: asking a UDP port is a few datagrams on one socket, and
// a silent port (most of them) holds its slot for the whole probe timeout
// doing nothing; with the TCP identifications' 32 slots, a lab of 16 hosts x
// 13 UDP ports queued for seconds after discovery was over.
const udpPerIdentify = 8

// udpPerHost is how many UDP ports of a host that answers are asked at once:
// the common lists fit in one probe wait; more would outrun the burst of
// port-unreachable messages a target's kernel sends, and closed ports would
// look silent.
const udpPerHost = 16

func (r *run) scanUDP(ctx context.Context, addr netip.Addr, port uint16) Port {
	defer r.portsDone.Add(1)
	p := Port{Port: port, Protocol: "udp", State: StateOpenFiltered, Service: "unknown", Findings: []Finding{}}
	select {
	case r.udpSlots <- struct{}{}:
	case <-ctx.Done():
		return p
	}
	defer func() { <-r.udpSlots }()
	res := r.engine.IdentifyUDP(ctx, netip.AddrPortFrom(addr, port))
	p.State = res.State
	return fromResult(p, res.Result)
}

func fromResult(p Port, res fingerprint.Result) Port {
	p.Service, p.Product, p.Version, p.TLS, p.Banner = res.Service, res.Product, res.Version, res.TLS, res.Banner
	for _, f := range res.Findings {
		p.Findings = append(p.Findings, Finding{ID: f.ID, Severity: f.Severity, Detail: f.Detail})
	}
	return p
}

// discoveryPorts are tried first on every host: if any answers, the host is up and
// the long tail of silent ports will not make it look down.
var discoveryPorts = []uint16{80, 443, 22, 3389, 445, 139, 135, 21, 23, 25, 53, 110, 143,
	993, 995, 8080, 8443, 3306, 5432, 1433, 6379, 27017, 5900, 111, 587, 465, 389, 636, 9200, 11211}

// portOrder puts the requested discovery ports first, then the rest, each part shuffled.
func portOrder(ports []uint16) []uint16 {
	wanted := map[uint16]bool{}
	for _, p := range discoveryPorts {
		wanted[p] = true
	}
	var first, rest []uint16
	for _, p := range ports {
		if wanted[p] {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	rand.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	rand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(first, rest...)
}

func (h *hostScan) scanTCP(ctx context.Context) {
	r := h.r
	order := portOrder(slices.Clone(r.opts.TCPPorts))
	var wg sync.WaitGroup
	for i, port := range order {
		h.acquire()
		if h.down.Load() || ctx.Err() != nil {
			h.release()
			r.portsDone.Add(int64(len(order) - i))
			break
		}
		select {
		case r.connSlots <- struct{}{}:
		case <-ctx.Done():
			h.release()
			continue
		}
		wg.Go(func() {
			defer func() { <-r.connSlots; h.release(); r.portsDone.Add(1) }()
			h.tcp[port] = h.probePort(ctx, port) // each port is written by one goroutine only
		})
	}
	wg.Wait()
}

// connectOutcome classifies one connection attempt.
type connectOutcome int

const (
	outcomeOpen connectOutcome = iota
	outcomeClosed
	outcomeTimeout     // no answer: dropped, or the host is gone
	outcomeUnreachable // ICMP unreachable or a local firewall
	outcomeLocal       // our side ran out of something: retry later
	outcomeCancelled
)

// portState is what the connect scan learnt about a port.
type portState uint8

const (
	portNotScanned portState = iota
	portOpen
	portClosed
	portFiltered
)

func (s portState) String() string {
	switch s {
	case portOpen:
		return StateOpen
	case portClosed:
		return StateClosed
	case portFiltered:
		return StateFiltered
	}
	return ""
}

// probePort finds the state of one port, retrying timeouts (not refusals) and local
// resource errors, which never make a port look closed.
func (h *hostScan) probePort(ctx context.Context, port uint16) portState {
	backoff := 10 * time.Millisecond
	for attempt := 0; ; {
		if h.down.Load() {
			return portFiltered
		}
		timeout := h.timeout() << attempt
		timeout = min(timeout, h.r.opts.Timeout)
		start := time.Now()
		outcome := h.r.connect(ctx, netip.AddrPortFrom(h.addr, port), timeout)
		rtt := time.Since(start)
		if h.r.opts.handshakeTook != nil {
			rtt = h.r.opts.handshakeTook(start)
		}
		switch outcome {
		case outcomeOpen, outcomeClosed:
			h.answered(rtt, attempt)
			if outcome == outcomeOpen {
				return portOpen
			}
			return portClosed
		case outcomeLocal:
			select {
			case <-time.After(backoff + rand.N(backoff)):
			case <-ctx.Done():
				return portFiltered
			}
			backoff = min(2*backoff, time.Second)
			continue
		case outcomeCancelled:
			return portFiltered
		}
		attempt++
		if !h.unanswered(attempt > 1) || attempt > h.retries() || outcome == outcomeUnreachable {
			return portFiltered
		}
	}
}

func (h *hostScan) answered(rtt time.Duration, attempt int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.responded = true
	h.silentStreak = 0
	h.maxAnswered = max(h.maxAnswered, attempt)
	if attempt > 0 {
		h.retryAnswered++
		h.dropping = false
		return // which attempt was answered is unknown: no round-trip sample
	}
	if h.samples == 0 {
		h.srtt, h.rttvar = rtt, rtt/2
	} else {
		diff := h.srtt - rtt
		if diff < 0 {
			diff = -diff
		}
		h.rttvar = (3*h.rttvar + diff) / 4
		h.srtt = (7*h.srtt + rtt) / 8
	}
	h.samples++
	if h.minRTT == 0 || rtt < h.minRTT {
		h.minRTT = rtt
	}
}

// unanswered records an attempt that timed out and tells whether to try again. A
// host that answers some ports and keeps silent on retries too is a filter, not a
// lossy path: its silent ports are retried only by sample, and many more attempts
// may wait on it at once.
func (h *hostScan) unanswered(retry bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if retry {
		h.retryLost++
	} else {
		h.silentFirst++
	}
	if !h.responded {
		h.silentStreak++
		if h.r.opts.DownAfter > 0 && h.silentStreak >= h.r.opts.DownAfter {
			h.down.Store(true)
			h.giveUp()
			h.cond.Broadcast()
		}
	}
	h.dropping = h.responded && h.retryLost >= 8 && h.retryAnswered*8 <= h.retryLost
	return !h.dropping || h.silentFirst%synRetrySample == 0
}

// retries is how many times a silent port is tried again: Retries, and on a
// path that has shown loss one attempt more than the highest answered there (as
// in the SYN engine's retries).
func (h *hostScan) retries() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.r.opts.Retries == 0 {
		return 0
	}
	return min(max(h.r.opts.Retries, h.maxAnswered+1), maxTries-1)
}

// timeout is the handshake wait for the next attempt: the configured maximum until
// round trips are measured, then four deviations above the smoothed round trip.
func (h *hostScan) timeout() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.samples == 0 {
		return min(initialTimeout, h.r.opts.Timeout)
	}
	t := h.srtt + 4*h.rttvar
	return min(max(t, minConnectTimeout), h.r.opts.Timeout)
}

// connectDial makes one TCP handshake with the net package and closes at once
// with a reset (linger 0), which leaves no TIME_WAIT behind. Binding the local
// side first makes the kernel reserve the ephemeral port instead of sharing it
// across 4-tuples. (On Linux connectOnce asks the kernel instead; see
// connect_linux.go.)
func connectDial(ctx context.Context, target netip.AddrPort, timeout time.Duration) connectOutcome {
	local := &net.TCPAddr{IP: net.IPv4zero}
	if target.Addr().Is6() {
		local = &net.TCPAddr{IP: net.IPv6unspecified}
	}
	d := net.Dialer{Timeout: timeout, LocalAddr: local}
	conn, err := d.DialContext(ctx, "tcp", target.String())
	if err == nil {
		tc := conn.(*net.TCPConn)
		tc.SetLinger(0)
		tc.Close()
		return outcomeOpen
	}
	return classifyDialError(ctx, err)
}

func classifyDialError(ctx context.Context, err error) connectOutcome {
	var errno syscall.Errno
	switch {
	case ctx.Err() != nil:
		return outcomeCancelled
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return outcomeClosed
	case errors.As(err, &errno) && localErrnos[errno]:
		return outcomeLocal
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EHOSTDOWN):
		return outcomeUnreachable
	}
	return outcomeTimeout
}

// localErrnos are failures of this machine, not answers of the target.
var localErrnos = map[syscall.Errno]bool{
	syscall.EMFILE: true, syscall.ENFILE: true, syscall.EADDRNOTAVAIL: true,
	syscall.EADDRINUSE: true, syscall.ENOBUFS: true, syscall.ENOMEM: true, syscall.EAGAIN: true,
	syscall.EINTR: true,
}

// looksLikeTarpit connects to ports nothing should listen on. When every one of them
// completes the handshake, the host (or a device in front of it) accepts anything.
func (h *hostScan) looksLikeTarpit(ctx context.Context) bool { return h.r.looksLikeTarpit(ctx, h.addr) }

func (r *run) looksLikeTarpit(ctx context.Context, addr netip.Addr) bool {
	ports := r.opts.TarpitPorts
	if len(ports) == 0 {
		for range tarpitPortCount {
			ports = append(ports, uint16(61000+rand.IntN(65536-61000)))
		}
	}
	// One handshake lost on the path must not hide a tarpit: each of its ports
	// would then be identified in turn, for many minutes. So a port that timed
	// out is tried again, but only while the others accepted: a host where none
	// did is no tarpit, and costs one wait.
	accepted := 0
	for range tarpitTries {
		n, silent, refused := r.tarpitRound(ctx, addr, ports)
		accepted += n
		if refused || accepted == 0 || ctx.Err() != nil {
			return false
		}
		if len(silent) == 0 {
			return true
		}
		ports = silent
	}
	return false
}

// tarpitTries bounds the handshakes tried per port when looking for a tarpit.
const tarpitTries = 3

// tarpitRound connects to each port once (retrying only local failures) and
// counts the handshakes completed, lists the ports that timed out and tells
// whether one was refused.
func (r *run) tarpitRound(ctx context.Context, addr netip.Addr, ports []uint16) (accepted int, silent []uint16, refused bool) {
	outcomes := make([]connectOutcome, len(ports))
	var wg sync.WaitGroup
	for i, port := range ports {
		wg.Go(func() {
			for range 10 {
				outcomes[i] = r.connect(ctx, netip.AddrPortFrom(addr, port), r.opts.Timeout)
				if outcomes[i] != outcomeLocal {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for i, o := range outcomes {
		switch o {
		case outcomeOpen:
			accepted++
		case outcomeTimeout:
			silent = append(silent, ports[i])
		default:
			refused = true
		}
	}
	return accepted, silent, refused
}

// answering keeps the ports of a tarpit host where an application answers (a
// greeting, or a reply to the port's own probe), looked at many at a time.
func (r *run) answering(ctx context.Context, addr netip.Addr, ports []uint16) []uint16 {
	wait := min(r.opts.BannerWait, 500*time.Millisecond)
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	keep := make([]bool, len(ports))
	// 32 times the usual per-host limit (2,048 at the default): what accepts
	// every port is a device that completes handshakes itself, not one
	// application's accept queue, and each look waits out a silent port; the
	// common profile's candidates are looked at in one round of waits.
	perHost := make(chan struct{}, 32*r.opts.PerHost)
	var wg sync.WaitGroup
	for i, port := range ports {
		perHost <- struct{}{}
		select {
		case r.connSlots <- struct{}{}:
		case <-ctx.Done():
			<-perHost
			continue
		}
		wg.Go(func() {
			defer func() { <-r.connSlots; <-perHost }()
			keep[i] = r.engine.Answers(ctx, netip.AddrPortFrom(addr, port), wait)
		})
	}
	wg.Wait()
	var out []uint16
	for i, port := range ports {
		if keep[i] {
			out = append(out, port)
		}
	}
	return out
}

// tarpitCandidates limits identification on a tarpit host, where every scanned port
// "accepts": all of them when few, else those of the common profile.
func tarpitCandidates(open []uint16) []uint16 {
	if len(open) <= 1024 {
		return open
	}
	common, _ := Profile("common")
	set := map[uint16]bool{}
	for _, p := range common {
		set[p] = true
	}
	var out []uint16
	for _, p := range open {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}
