package fingerprint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Finding is a weak configuration confirmed on the wire.
type Finding struct {
	ID       string
	Severity string // low, medium, high, critical
	Detail   string
}

// Result is what identification learnt about one port.
type Result struct {
	Service  string // a word of the vocabulary, or "unknown"
	Product  string
	Version  string
	TLS      bool
	Banner   string // printable, at most 256 characters
	Answered bool   // the application sent something (a byte, or a TLS handshake)
	Findings []Finding
}

// Config tunes identification. Zero values take the defaults shown.
type Config struct {
	DialTimeout time.Duration // 3s
	BannerWait  time.Duration // 1.5s: longest wait for a silent port's greeting
	ReadTimeout time.Duration // 1.2s: longest wait for a probe's answer
	// MinWait (300ms) is the shortest greeting wait and the shortest wait for the
	// answer to an unlikely probe. Both are scaled from the round trip measured
	// when connecting (4 and 8 round trips), between MinWait and the two above: a
	// near host answers within milliseconds, a far one is given the full time.
	MinWait  time.Duration
	Parallel int // 6: probes in flight at once on one port
	// PerHost (6) caps the identification connections open at once to one host,
	// all its ports and checks together, so that a fragile service is not flooded.
	PerHost    int
	SkipChecks bool // identify only; do not test for weak configurations
	// Dial opens connections; nil means a net.Dialer. Tests and callers that need
	// a source address or a namespace set it.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func (c Config) withDefaults() Config {
	if c.DialTimeout <= 0 {
		c.DialTimeout = 3 * time.Second
	}
	if c.BannerWait <= 0 {
		c.BannerWait = 1500 * time.Millisecond
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 1200 * time.Millisecond
	}
	if c.MinWait <= 0 {
		c.MinWait = 300 * time.Millisecond
	}
	if c.Parallel <= 0 {
		c.Parallel = 6
	}
	if c.PerHost <= 0 {
		c.PerHost = 6
	}
	if c.Dial == nil {
		d := &net.Dialer{}
		c.Dial = d.DialContext
	}
	return c
}

// Engine identifies services. It is safe for concurrent use.
type Engine struct {
	db  *Database
	cfg Config

	mu    sync.Mutex
	hosts map[netip.Addr]*hostGate // hosts with an identification in progress
}

// New returns an engine over a probe and signature database (nil: the embedded one).
func New(db *Database, cfg Config) (*Engine, error) {
	if db == nil {
		var err error
		if db, err = DefaultDatabase(); err != nil {
			return nil, err
		}
	}
	return &Engine{db: db, cfg: cfg.withDefaults(), hosts: map[netip.Addr]*hostGate{}}, nil
}

const (
	maxAnswer    = 16 << 10
	settleWindow = 60 * time.Millisecond // more of an answer after the first bytes
	bannerLimit  = 256
)

// dialFunc opens one connection to the port under identification (plain or TLS).
type dialFunc func(ctx context.Context) (net.Conn, error)

// hostGate is what the identifications of one host's ports share: a cap on the
// connections open at once, and the shortest handshake round trip seen, which
// scales the waits.
type hostGate struct {
	slots chan struct{}
	users int // identifications in progress; guarded by Engine.mu

	mu  sync.Mutex
	rtt time.Duration // 0 until a connection was made
}

// gate returns the host's gate and the function that ends this use of it.
func (e *Engine) gate(addr netip.Addr) (*hostGate, func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.hosts[addr]
	if g == nil {
		g = &hostGate{slots: make(chan struct{}, e.cfg.PerHost)}
		e.hosts[addr] = g
	}
	g.users++
	return g, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if g.users--; g.users == 0 {
			delete(e.hosts, addr)
		}
	}
}

func (g *hostGate) sample(rtt time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rtt == 0 || rtt < g.rtt {
		g.rtt = rtt
	}
}

// scaled is n round trips, between floor and ceiling (ceiling when none was
// measured).
func (g *hostGate) scaled(n int, floor, ceiling time.Duration) time.Duration {
	g.mu.Lock()
	rtt := g.rtt
	g.mu.Unlock()
	if rtt == 0 {
		return ceiling
	}
	return min(max(time.Duration(n)*rtt, floor), ceiling)
}

func (e *Engine) greetingWait(g *hostGate) time.Duration {
	return g.scaled(4, min(e.cfg.MinWait, e.cfg.BannerWait), e.cfg.BannerWait)
}

func (e *Engine) quickWait(g *hostGate) time.Duration {
	return g.scaled(8, min(e.cfg.MinWait, e.cfg.ReadTimeout), e.cfg.ReadTimeout)
}

// gatedConn gives its slot of the host gate back when closed.
type gatedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *gatedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// plainDialer opens TCP connections to the target, each holding a slot of the
// host gate g (none when nil) until closed, and measures the round trip.
func (e *Engine) plainDialer(target netip.AddrPort, g *hostGate) dialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		if g != nil {
			select {
			case g.slots <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		dctx, cancel := context.WithTimeout(ctx, e.cfg.DialTimeout)
		defer cancel()
		start := time.Now()
		c, err := e.cfg.Dial(dctx, "tcp", target.String())
		if g == nil {
			return c, err
		}
		if err != nil {
			<-g.slots
			return nil, err
		}
		g.sample(time.Since(start))
		return &gatedConn{Conn: c, release: func() { <-g.slots }}, nil
	}
}

// closeNow closes a connection without lingering in TIME_WAIT.
func closeNow(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	inner := c
	if gc, ok := c.(*gatedConn); ok {
		inner = gc.Conn
	}
	if tc, ok := inner.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// readAnswer reads until the deadline, the peer's close, maxAnswer bytes, or shortly
// after done reports the answer complete. It returns what arrived and whether the
// peer closed.
func readAnswer(ctx context.Context, c net.Conn, wait time.Duration, done func([]byte) bool) ([]byte, bool) {
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	c.SetReadDeadline(deadline)
	var buf []byte
	chunk := make([]byte, 4096)
	settled := false
	for len(buf) < maxAnswer {
		n, err := c.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			return buf, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
		}
		if n > 0 && !settled && (done == nil || done(buf)) {
			settled = true
			if d := time.Now().Add(settleWindow); d.Before(deadline) {
				c.SetReadDeadline(d)
			}
		}
	}
	return buf, false
}

// IdentifyTCP names the service on an open TCP port and, unless configured not to,
// checks it for weak configurations. It never returns an error: a port it cannot
// identify is "unknown".
//
// It waits for a greeting (4 round trips, MinWait at least, BannerWait at most),
// then asks the probes of a silent port all at once, within the per-port and
// per-host caps: the likely ones (TLS, HTTP, those the port number suggests) are
// given ReadTimeout to answer, the others 8 round trips (MinWait at least). So a
// port takes about one greeting wait plus one probe round, not their sum.
func (e *Engine) IdentifyTCP(ctx context.Context, target netip.AddrPort) Result {
	g, release := e.gate(target.Addr())
	defer release()
	res, dial := e.identify(ctx, target, g, e.plainDialer(target, g), false, nil)
	if !e.cfg.SkipChecks && res.Service != "unknown" {
		if check := tcpChecks[res.Service]; check != nil {
			s := &session{ctx: ctx, dial: dial, target: target, cfg: e.cfg, result: &res}
			check(s)
		}
	}
	return res
}

// greeting is what a port sent unprompted.
type greeting struct {
	data   []byte
	closed bool
}

// probed is the verdict of a port's probes.
type probed struct {
	res  Result
	dial dialFunc
}

// identify names the service behind dial. conn, when not nil, is a connection
// already open (a completed TLS handshake) to read the greeting on. Inside TLS the
// probes start with the greeting wait, not after it: the plain side already proved
// that the port waits for its client, and the services that greet inside TLS (mail,
// FTP) answer a probe with their greeting first.
func (e *Engine) identify(ctx context.Context, target netip.AddrPort, g *hostGate, dial dialFunc, insideTLS bool, conn net.Conn) (Result, dialFunc) {
	res := Result{Service: "unknown", TLS: insideTLS}
	if conn == nil {
		var err error
		if conn, err = dial(ctx); err != nil {
			return res, dial
		}
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the probes and the greeting wait still running
	greeted := make(chan greeting, 1)
	go func() {
		data, closed := readAnswer(pctx, conn, e.greetingWait(g), nil)
		closeNow(conn)
		greeted <- greeting{data, closed}
	}()
	var verdict chan probed
	startProbes := func() {
		verdict = make(chan probed, 1)
		go func() {
			r, d := e.runProbes(pctx, target, g, dial, insideTLS)
			verdict <- probed{r, d}
		}()
	}
	if insideTLS {
		startProbes()
	}
	var gr greeting
	select {
	case gr = <-greeted:
	case v := <-verdict: // never ready outside TLS: a nil channel
		if v.res.Service != "unknown" {
			return v.res, v.dial
		}
		gr = <-greeted
		if len(gr.data) == 0 {
			return v.res, v.dial
		}
	}
	if len(gr.data) > 0 {
		cancel()
		return e.fromGreeting(ctx, target, dial, insideTLS, gr.data), dial
	}
	if gr.closed || ctx.Err() != nil {
		return res, dial // closed at once, or cancelled: nothing to identify
	}
	if verdict == nil {
		startProbes()
	}
	v := <-verdict
	return v.res, v.dial
}

// fromGreeting names the service from what it sent first, asking the probes meant
// for an unrecognised greeting when no signature knows it.
func (e *Engine) fromGreeting(ctx context.Context, target netip.AddrPort, dial dialFunc, insideTLS bool, banner []byte) Result {
	res := Result{Service: "unknown", TLS: insideTLS, Answered: true, Banner: printable(string(banner), bannerLimit)}
	if m, ok := e.db.Match("banner", banner); ok {
		res.apply(m)
		return res
	}
	// An unrecognised greeting: ask what it is, all such probes at once.
	var afterBanner []Probe
	for _, p := range e.db.Probes {
		if p.AfterBanner && p.Transport == "tcp" {
			afterBanner = append(afterBanner, p)
		}
	}
	matches := make([]*Match, len(afterBanner))
	var wg sync.WaitGroup
	for i, p := range afterBanner {
		wg.Go(func() {
			answer, _ := e.exchange(ctx, dial, target, p, e.cfg.ReadTimeout)
			if m, ok := e.db.Match(p.Name, answer); ok {
				matches[i] = &m
			}
		})
	}
	wg.Wait()
	for _, m := range matches {
		if m != nil {
			res.apply(*m)
			break
		}
	}
	return res
}

func (r *Result) apply(m Match) {
	r.Service, r.Product, r.Version = m.Service, m.Product, m.Version
}

// probeOutcome is the answer to one probe.
type probeOutcome struct {
	match     Match
	matched   bool
	answer    []byte
	inner     *Result // for the TLS probe: what runs inside
	innerDial dialFunc
}

// likely tells whether a probe is among the first asked of a silent port and
// given the full ReadTimeout: TLS, HTTP, and the probes of the port's number.
func likely(p Probe, port uint16) bool {
	return p.Ports[port] || p.Builder == "tls" || p.Name == "http-get"
}

// runProbes asks the probes of a silent port, the likely ones first, all at once
// within the caps, and settles on the first probe in priority order that is
// recognised, once every probe ahead of it has answered (or not): an HTTPS port
// answers the HTTP probe too, with an error page. A port that stops accepting
// connections is asked nothing more.
func (e *Engine) runProbes(ctx context.Context, target netip.AddrPort, g *hostGate, dial dialFunc, insideTLS bool) (Result, dialFunc) {
	probes := e.orderedProbes("tcp", target.Port(), insideTLS)
	slices.SortStableFunc(probes, func(a, b Probe) int {
		la, lb := likely(a, target.Port()), likely(b, target.Port())
		switch {
		case la && !lb:
			return -1
		case lb && !la:
			return 1
		}
		return 0
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outcomes := make([]chan probeOutcome, len(probes))
	for i := range outcomes {
		outcomes[i] = make(chan probeOutcome, 1)
	}
	sem := make(chan struct{}, e.cfg.Parallel)
	quick := e.quickWait(g)
	go func() {
		for i, p := range probes {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range outcomes[i:] {
					ch <- probeOutcome{}
				}
				return
			}
			wait := quick
			if likely(p, target.Port()) {
				wait = e.cfg.ReadTimeout
			}
			go func() {
				defer func() { <-sem }()
				o, refused := e.askProbe(ctx, target, g, dial, p, wait)
				if refused {
					cancel() // the port no longer accepts: the probes not sent are not sent
				}
				outcomes[i] <- o
			}()
		}
	}()
	res := Result{Service: "unknown", TLS: insideTLS}
	for i := range probes {
		o := <-outcomes[i]
		if len(o.answer) > 0 && !res.Answered {
			res.Answered = true
			res.Banner = printable(string(o.answer), bannerLimit)
		}
		if o.inner != nil {
			return *o.inner, o.innerDial
		}
		if o.matched {
			res.apply(o.match)
			res.Answered = true
			res.Banner = printable(string(o.answer), bannerLimit)
			return res, dial
		}
	}
	return res, dial
}

// askProbe asks one probe, waiting wait for its answer. refused reports that the
// port did not accept the connection (refused, reset or timed out: it is gone, or
// it is shedding load).
func (e *Engine) askProbe(ctx context.Context, target netip.AddrPort, g *hostGate, dial dialFunc, p Probe, wait time.Duration) (o probeOutcome, refused bool) {
	if p.Builder == "tls" {
		tlsDial := e.tlsDialerFrom(dial, target)
		conn, err := e.tlsHandshake(ctx, dial, wait)
		if err != nil {
			return probeOutcome{}, errors.Is(err, errNoConnection) && ctx.Err() == nil
		}
		inner, innerDial := e.identify(ctx, target, g, tlsDial, true, conn)
		inner.TLS, inner.Answered = true, true
		return probeOutcome{inner: &inner, innerDial: innerDial}, false
	}
	answer, err := e.exchange(ctx, dial, target, p, wait)
	if errors.Is(err, errNoConnection) && ctx.Err() == nil {
		return probeOutcome{}, true
	}
	m, ok := e.db.Match(p.Name, answer)
	return probeOutcome{match: m, matched: ok, answer: answer}, false
}

// errNoConnection wraps a failure to connect, as opposed to a failure after.
var errNoConnection = errors.New("no connection")

// tlsDialerFrom wraps a plain dialer in a TLS client.
func (e *Engine) tlsDialerFrom(plain dialFunc, target netip.AddrPort) dialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		return e.tlsHandshake(ctx, plain, e.cfg.ReadTimeout)
	}
}

// tlsHandshake opens a connection and completes a TLS handshake within wait.
func (e *Engine) tlsHandshake(ctx context.Context, plain dialFunc, wait time.Duration) (net.Conn, error) {
	raw, err := plain(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoConnection, err)
	}
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
	hctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := conn.HandshakeContext(hctx); err != nil {
		closeNow(raw)
		return nil, err
	}
	return conn, nil
}

// exchange sends one probe on a new connection and returns the answer, awaited
// for wait.
func (e *Engine) exchange(ctx context.Context, dial dialFunc, target netip.AddrPort, p Probe, wait time.Duration) ([]byte, error) {
	conn, err := dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoConnection, err)
	}
	defer closeNow(conn)
	var greeting []byte
	if p.AfterBanner {
		greeting, _ = readAnswer(ctx, conn, e.cfg.BannerWait, nil)
	}
	conn.SetWriteDeadline(time.Now().Add(wait))
	if _, err := conn.Write(e.payload(p, target)); err != nil {
		return greeting, err
	}
	answer, _ := readAnswer(ctx, conn, wait, func(b []byte) bool {
		_, ok := e.db.Match(p.Name, append(greeting[:len(greeting):len(greeting)], b...))
		return ok
	})
	return append(greeting, answer...), nil
}

func (e *Engine) payload(p Probe, target netip.AddrPort) []byte {
	if len(p.Payload) > 0 {
		return expandPayload(p.Payload, target)
	}
	return payloadBuilders[p.Builder](target)
}

// orderedProbes returns the probes of a transport: those that name the port first.
func (e *Engine) orderedProbes(transport string, port uint16, insideTLS bool) []Probe {
	var first, rest []Probe
	for _, p := range e.db.Probes {
		if p.Transport != transport || p.AfterBanner || (insideTLS && p.Builder == "tls") {
			continue
		}
		if p.Ports[port] {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	return append(first, rest...)
}

// UDPResult is what a UDP port did with our probes.
type UDPResult struct {
	State string // "open", "closed" or "open|filtered"
	Result
}

// IdentifyUDP sends every UDP probe to a port (those that name it first) and waits
// for answers. A port is open only when something answered; closed when the kernel
// reported an ICMP port unreachable; open|filtered otherwise.
func (e *Engine) IdentifyUDP(ctx context.Context, target netip.AddrPort) UDPResult {
	probes := e.orderedProbes("udp", target.Port(), false)
	type answer struct {
		data    []byte
		refused bool
	}
	answers := make([]answer, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			data, refused := e.askUDP(ctx, target, e.payload(p, target))
			answers[i] = answer{data, refused}
		})
	}
	wg.Wait()
	out := UDPResult{State: "open|filtered", Result: Result{Service: "unknown"}}
	refused := 0
	for i, a := range answers {
		if a.refused {
			refused++
		}
		if len(a.data) == 0 {
			continue
		}
		if !out.Answered {
			out.Answered = true
			out.State = "open"
			out.Banner = printable(string(a.data), bannerLimit)
		}
		if m, ok := e.db.Match(probes[i].Name, a.data); ok {
			out.apply(m)
			out.Banner = printable(string(a.data), bannerLimit)
			break
		}
	}
	if !out.Answered && refused > 0 {
		out.State = "closed"
	}
	if out.State == "open" && !e.cfg.SkipChecks {
		if check := udpChecks[out.Service]; check != nil {
			check(&session{ctx: ctx, target: target, cfg: e.cfg, result: &out.Result})
		}
	}
	return out
}

// askUDP sends a datagram on a connected socket, once more at half time, and
// returns the first answer, or whether the port was reported unreachable.
func (e *Engine) askUDP(ctx context.Context, target netip.AddrPort, payload []byte) ([]byte, bool) {
	dctx, cancel := context.WithTimeout(ctx, e.cfg.DialTimeout)
	conn, err := e.cfg.Dial(dctx, "udp", target.String())
	cancel()
	if err != nil {
		return nil, false
	}
	defer conn.Close()
	buf := make([]byte, 65535)
	half := e.cfg.ReadTimeout / 2
	for attempt := 0; attempt < 2; attempt++ {
		if _, err := conn.Write(payload); err != nil {
			return nil, errors.Is(err, syscall.ECONNREFUSED)
		}
		conn.SetReadDeadline(time.Now().Add(half))
		n, err := conn.Read(buf)
		if err == nil && n > 0 {
			return buf[:n], false
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
	}
	return nil, false
}

// Answers reports whether an application behind a port says anything within wait:
// a greeting, or an answer to the probe its number suggests (HTTP when none does).
// It is the cheap first look at ports of a host that accepts every connection,
// where full identification of thousands of silent ports would take minutes.
func (e *Engine) Answers(ctx context.Context, target netip.AddrPort, wait time.Duration) bool {
	dial := e.plainDialer(target, nil) // a first look, many ports at once: no host gate
	conn, err := dial(ctx)
	if err != nil {
		return false
	}
	defer closeNow(conn)
	if greeting, _ := readAnswer(ctx, conn, wait, nil); len(greeting) > 0 {
		return true
	}
	for _, p := range e.db.Probes {
		if p.Builder == "tls" && p.Ports[target.Port()] {
			// A TLS port: a completed handshake is an application answering.
			hctx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			if c, err := e.tlsDialerFrom(dial, target)(hctx); err == nil {
				closeNow(c)
				return true
			}
		}
	}
	probe := Probe{}
	for _, p := range e.db.Probes {
		if p.Transport == "tcp" && !p.AfterBanner && p.Builder != "tls" && (p.Ports[target.Port()] || p.Name == "http-get" && probe.Name == "") {
			probe = p
			if p.Ports[target.Port()] {
				break
			}
		}
	}
	if probe.Name == "" {
		return false
	}
	conn.SetWriteDeadline(time.Now().Add(wait))
	if _, err := conn.Write(e.payload(probe, target)); err != nil {
		return false
	}
	answer, _ := readAnswer(ctx, conn, wait, func([]byte) bool { return true })
	return len(answer) > 0
}
