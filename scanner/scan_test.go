package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// quick are options for loopback tests: short waits everywhere.
func quick(ports ...uint16) Options {
	return Options{TCPPorts: ports, Timeout: 500 * time.Millisecond, BannerWait: 200 * time.Millisecond,
		ProbeTimeout: 300 * time.Millisecond}
}

// listen starts a TCP listener whose connections get handle.
func listen(t *testing.T, address string, handle func(net.Conn)) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				handle(c)
			})
		}
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func sshGreeting(c net.Conn) {
	c.Write([]byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"))
	io.Copy(io.Discard, c)
}

func silent(c net.Conn) { io.Copy(io.Discard, c) }

// freePort returns a port that was free a moment ago on the address.
func freePort(t *testing.T, address string) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", address+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// randomLoopback returns an address of 127/8 other than 127.0.0.1, so that tests do
// not see each other's listeners; Linux routes the whole block to lo.
func randomLoopback() string {
	return netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(250))}).String()
}

func TestScanLoopback(t *testing.T) {
	t.Parallel()
	addr := randomLoopback()
	ssh := listen(t, addr+":0", sshGreeting)
	quiet := listen(t, addr+":0", silent)
	hangup := listen(t, addr+":0", func(net.Conn) {})
	closed := freePort(t, addr)
	opts := quick(ssh, quiet, hangup, closed)
	opts.AllStates = true
	var progressCalls atomic.Int32
	opts.Progress = func(Progress) { progressCalls.Add(1) }
	opts.ProgressInterval = 50 * time.Millisecond
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr(addr)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := report.Host(addr)
	if h == nil || h.State != HostUp || h.Tarpit {
		t.Fatalf("host %+v", h)
	}
	want := map[uint16][3]string{ // state, service, banner emptiness
		ssh:    {StateOpen, "ssh", "banner"},
		quiet:  {StateOpen, "unknown", ""},
		hangup: {StateOpen, "unknown", ""},
		closed: {StateClosed, "unknown", ""},
	}
	for port, w := range want {
		p := h.Port("tcp", port)
		if p == nil {
			t.Errorf("port %d missing", port)
			continue
		}
		if p.State != w[0] || p.Service != w[1] || (p.Banner != "") != (w[2] != "") {
			t.Errorf("port %d: %+v, want %v", port, *p, w)
		}
	}
	if p := h.Port("tcp", ssh); p != nil && (p.Product != "OpenSSH" || p.Version != "9.6p1") {
		t.Errorf("ssh product %q version %q", p.Product, p.Version)
	}
	if !sort.SliceIsSorted(h.Ports, func(i, j int) bool { return h.Ports[i].Port < h.Ports[j].Port }) {
		t.Errorf("ports not sorted")
	}
	if progressCalls.Load() == 0 {
		t.Errorf("no progress reported")
	}
}

func TestScanWithoutAllStatesListsOpenOnly(t *testing.T) {
	t.Parallel()
	addr := randomLoopback()
	ssh := listen(t, addr+":0", sshGreeting)
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr(addr)}, quick(ssh, freePort(t, addr)))
	if err != nil {
		t.Fatal(err)
	}
	if ports := report.Hosts[0].Ports; len(ports) != 1 || ports[0].Port != ssh {
		t.Errorf("ports %+v", ports)
	}
}

func TestReportJSONContract(t *testing.T) {
	t.Parallel()
	addr := randomLoopback()
	ssh := listen(t, addr+":0", sshGreeting)
	opts := quick(ssh)
	opts.Profile = "common"
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr(addr)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if got := keys(doc); !slices.Equal(got, []string{"finished_at", "hosts", "method", "profile", "schema", "started_at"}) {
		t.Errorf("report keys %v", got)
	}
	if m := doc["method"]; m != MethodSYN && m != MethodConnect {
		t.Errorf("method %v", m)
	}
	if doc["schema"] != "portcullis.scan/v1" || doc["profile"] != "common" {
		t.Errorf("schema %v profile %v", doc["schema"], doc["profile"])
	}
	if _, err := time.Parse(time.RFC3339, doc["started_at"].(string)); err != nil || len(doc["started_at"].(string)) != len("2026-11-24T18:00:00Z") {
		t.Errorf("started_at %v", doc["started_at"])
	}
	host := doc["hosts"].([]any)[0].(map[string]any)
	if got := keys(host); !slices.Equal(got, []string{"address", "ports", "state", "tarpit"}) {
		t.Errorf("host keys %v", got)
	}
	port := host["ports"].([]any)[0].(map[string]any)
	if got := keys(port); !slices.Equal(got, []string{"banner", "findings", "port", "product", "protocol", "service", "state", "tls", "version"}) {
		t.Errorf("port keys %v", got)
	}
	if port["findings"] == nil {
		t.Errorf("findings must be an empty list, not null")
	}
}

func TestTarpitHost(t *testing.T) {
	t.Parallel()
	addr := randomLoopback()
	// The "device" accepts on the probe ports and on every scanned port, silently;
	// one real application greets.
	var tarpitPorts, scanned []uint16
	for range 4 {
		tarpitPorts = append(tarpitPorts, listen(t, addr+":0", silent))
	}
	for range 8 {
		scanned = append(scanned, listen(t, addr+":0", silent))
	}
	ssh := listen(t, addr+":0", sshGreeting)
	scanned = append(scanned, ssh)
	opts := quick(scanned...)
	opts.TarpitPorts = tarpitPorts
	checkTarpitWithSSH(t, addr, opts, ssh)
}

// checkTarpitWithSSH scans a tarpit whose one application is SSH on port ssh.
func checkTarpitWithSSH(t *testing.T, addr string, opts Options, ssh uint16) {
	t.Helper()
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr(addr)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := report.Hosts[0]
	if !h.Tarpit || h.State != HostUp {
		t.Fatalf("tarpit %v state %s", h.Tarpit, h.State)
	}
	if len(h.Ports) != 1 || h.Ports[0].Port != ssh || h.Ports[0].Service != "ssh" {
		t.Errorf("ports %+v, want only the ssh port", h.Ports)
	}
}

// A tarpit behind a lossy path: one of its probe ports loses the handshake once.
// The others accepted, so that port is tried again and the tarpit is still
// recognised; a host that accepts none of them costs one wait, no retry.
func TestTarpitSeenThroughALostHandshake(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tarpit bool
	}{{"tarpit", true}, {"filtered", false}} {
		var mu sync.Mutex
		calls := map[uint16]int{}
		probes := []uint16{61001, 61002, 61003}
		opts := quick(22)
		opts.SkipIdentify = true
		opts.TarpitPorts = probes
		opts.connect = func(_ context.Context, target netip.AddrPort, _ time.Duration) connectOutcome {
			mu.Lock()
			defer mu.Unlock()
			calls[target.Port()]++
			switch {
			case target.Port() == 22:
				return outcomeOpen
			case !tc.tarpit || target.Port() == 61002 && calls[61002] == 1:
				return outcomeTimeout
			}
			return outcomeOpen
		}
		report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("192.0.2.1")}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if h := report.Hosts[0]; h.Tarpit != tc.tarpit {
			t.Errorf("%s: tarpit %v", tc.name, h.Tarpit)
		}
		want := map[uint16]int{61001: 1, 61002: 2, 61003: 1}
		if !tc.tarpit {
			want[61002] = 1
		}
		for _, p := range probes {
			if calls[p] != want[p] {
				t.Errorf("%s: %d handshakes on %d, want %d", tc.name, calls[p], p, want[p])
			}
		}
	}
}

func TestSilentListenersAreNotATarpit(t *testing.T) {
	t.Parallel()
	addr := randomLoopback()
	var scanned []uint16
	for range 3 {
		scanned = append(scanned, listen(t, addr+":0", silent))
	}
	opts := quick(scanned...)
	opts.TarpitPorts = []uint16{freePort(t, addr), freePort(t, addr), freePort(t, addr)}
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr(addr)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := report.Hosts[0]
	if h.Tarpit || len(h.Ports) != 3 {
		t.Fatalf("tarpit %v ports %+v", h.Tarpit, h.Ports)
	}
	for _, p := range h.Ports {
		if p.Service != "unknown" || p.Banner != "" || p.State != StateOpen {
			t.Errorf("port %+v", p)
		}
	}
}

// A host that drops everything is down after one round of waits: its first
// DownAfter attempts wait at once, and when they time out it is given up,
// the attempts started meanwhile abandoned. The fake firewall's clock moves
// by events, not time: the first attempts' timeouts all expire once
// DownAfter of them wait together, and no later attempt's ever does, so the
// scan ends only if those timeouts were enough to give the host up.
func TestDroppingHostIsGivenUpQuickly(t *testing.T) {
	t.Parallel()
	const tarpitPort = 61001
	opts := quick()
	full, _ := Profile("full")
	opts.TCPPorts = slices.DeleteFunc(full, func(p uint16) bool { return p == tarpitPort })
	opts.Timeout = 100 * time.Millisecond
	opts.PerHost = 16 // fewer than DownAfter: a host not yet heard from is allowed DownAfter
	opts.DownAfter = 40
	opts.TarpitPorts = []uint16{tarpitPort}
	opts.AllStates = true
	var (
		mu                      sync.Mutex
		attempts, waiting, peak int
		firstRoundOver          = make(chan struct{})
		rescue                  = make(chan struct{})
		rescued                 atomic.Bool
	)
	// Should the scanner let fewer attempts wait at once, or keep waiting on
	// a host it gave up, nothing would end the scan: this turns that hang into
	// a failure, it times nothing the test checks.
	watchdog := time.AfterFunc(time.Minute, func() { rescued.Store(true); close(rescue) })
	defer watchdog.Stop()
	opts.connect = func(ctx context.Context, target netip.AddrPort, _ time.Duration) connectOutcome {
		if target.Port() == tarpitPort {
			return outcomeTimeout // not a tarpit: it drops these too
		}
		mu.Lock()
		attempts++
		first := attempts <= opts.DownAfter
		waiting++
		peak = max(peak, waiting)
		if attempts == opts.DownAfter { // none of the first has returned yet
			close(firstRoundOver)
		}
		mu.Unlock()
		defer func() { mu.Lock(); waiting--; mu.Unlock() }()
		if first {
			select { // a DROP firewall: nothing comes back
			case <-firstRoundOver:
				return outcomeTimeout
			case <-rescue:
				return outcomeTimeout
			}
		}
		select {
		case <-ctx.Done():
			return outcomeCancelled
		case <-rescue:
			return outcomeTimeout
		}
	}
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("192.0.2.1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if rescued.Load() {
		t.Errorf("the scan did not end on its own: %d attempts waited at once (want %d), %d in all", peak, opts.DownAfter, attempts)
	}
	h := report.Hosts[0]
	if h.State != HostDown || len(h.Ports) != 0 {
		t.Errorf("host %+v", h)
	}
	// Each first attempt of the round, and at most one retry each.
	if attempts > 2*opts.DownAfter || peak != opts.DownAfter {
		t.Errorf("%d attempts, %d at once, on a host that never answered; want at most %d, %d at once", attempts, peak, 2*opts.DownAfter, opts.DownAfter)
	}
}

func TestLocalErrorsAreRetriedNotClosed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	failures := map[uint16]int{}
	opts := quick(1, 2, 3)
	opts.SkipIdentify = true
	opts.AllStates = true
	opts.TarpitPorts = []uint16{61001}
	opts.connect = func(_ context.Context, target netip.AddrPort, _ time.Duration) connectOutcome {
		mu.Lock()
		defer mu.Unlock()
		if target.Port() == 61001 {
			return outcomeClosed
		}
		if failures[target.Port()] < 3 { // EMFILE, EADDRNOTAVAIL...
			failures[target.Port()]++
			return outcomeLocal
		}
		if target.Port() == 2 {
			return outcomeOpen
		}
		return outcomeClosed
	}
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("192.0.2.1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := report.Hosts[0]
	got := map[uint16]string{}
	for _, p := range h.Ports {
		got[p.Port] = p.State
	}
	if got[1] != StateClosed || got[2] != StateOpen || got[3] != StateClosed {
		t.Errorf("states %v", got)
	}
}

func TestTimeoutsAreRetriedRefusalsAreNot(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[uint16]int{}
	opts := quick(10, 20)
	opts.SkipIdentify = true
	opts.AllStates = true
	opts.Retries = 2
	opts.TarpitPorts = []uint16{61001}
	opts.connect = func(_ context.Context, target netip.AddrPort, _ time.Duration) connectOutcome {
		mu.Lock()
		defer mu.Unlock()
		calls[target.Port()]++
		switch target.Port() {
		case 10:
			return outcomeTimeout
		}
		return outcomeClosed
	}
	if _, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("192.0.2.1")}, opts); err != nil {
		t.Fatal(err)
	}
	if calls[10] != 3 || calls[20] != 1 {
		t.Errorf("attempts %v: want 3 for the timeout, 1 for the refusal", calls)
	}
}

// On a path that has shown loss (a retry answered), a silent port is tried once
// more than the highest attempt ever answered there: the port whose first two
// attempts were lost is found, where the configured single retry missed it.
func TestLossyPathEarnsMoreRetries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[uint16]int{}
	var ports []uint16
	for p := uint16(1); p <= 100; p++ {
		ports = append(ports, p)
	}
	opts := quick(ports...)
	opts.SkipIdentify = true
	opts.TarpitPorts = []uint16{61001}
	// Port 50's second loss must be judged after the other ports' retries were
	// answered. Its second attempt waits for progress to count every other port
	// done, which each is only after its answer was recorded: events, not a
	// sleep, set the order. The interval only sets how soon that is seen.
	othersDone := make(chan struct{})
	var closeOnce sync.Once
	opts.ProgressInterval = time.Millisecond
	opts.Progress = func(p Progress) {
		if p.PortsDone >= int64(len(ports)-1) {
			closeOnce.Do(func() { close(othersDone) })
		}
	}
	opts.connect = func(ctx context.Context, target netip.AddrPort, _ time.Duration) connectOutcome {
		mu.Lock()
		calls[target.Port()]++
		attempt := calls[target.Port()] - 1
		mu.Unlock()
		switch port := target.Port(); {
		case port == 61001:
			return outcomeClosed
		case port == 50 && attempt == 1:
			select { // lost again, seen once the others' retries answered
			case <-othersDone:
			case <-ctx.Done():
			}
			return outcomeTimeout
		case port == 50 && attempt == 0:
			return outcomeTimeout
		case port == 50:
			return outcomeOpen
		case attempt == 0 && port%4 == 0: // a few first attempts lost
			return outcomeTimeout
		}
		return outcomeClosed
	}
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("192.0.2.1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if h := report.Hosts[0]; len(h.Ports) != 1 || h.Ports[0].Port != 50 {
		t.Errorf("ports %+v, want 50 open", h.Ports)
	}
	if calls[50] != 3 || calls[20] != 2 || calls[21] != 1 {
		t.Errorf("attempts: port 50 %d, 20 %d, 21 %d; want 3, 2, 1", calls[50], calls[20], calls[21])
	}
}

func TestScanIPv6(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	ln.Close()
	port := listen(t, "[::1]:0", sshGreeting)
	report, err := Scan(context.Background(), []netip.Addr{netip.IPv6Loopback()}, quick(port))
	if err != nil {
		t.Fatal(err)
	}
	h := report.Hosts[0]
	if h.Address != "::1" || len(h.Ports) != 1 || h.Ports[0].Service != "ssh" {
		t.Errorf("host %+v", h)
	}
}

func TestScanRefusesTooManyTargets(t *testing.T) {
	t.Parallel()
	targets := make([]netip.Addr, 5)
	opts := quick(22)
	opts.MaxTargets = 4
	_, err := Scan(context.Background(), targets, opts)
	var tooMany *TooManyTargetsError
	if !errors.As(err, &tooMany) {
		t.Errorf("err %v", err)
	}
	if _, err := Scan(context.Background(), nil, opts); !errors.Is(err, ErrNoTargets) {
		t.Errorf("err %v", err)
	}
	if _, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Options{}); !errors.Is(err, ErrNoPorts) {
		t.Errorf("err %v", err)
	}
}

func TestScanCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	report, err := Scan(ctx, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, quick(1))
	if !errors.Is(err, context.Canceled) || report == nil {
		t.Errorf("report %v err %v", report, err)
	}
}

// A connect scan takes a few answering hosts at a time: the machine's
// connections a second are shared by fewer hosts, so each is done in its share
// of the scan, not all at its end. Counted, not timed: at no moment do more
// than a few hosts have connection attempts in flight.
func TestConnectScanTakesAFewHostsAtATime(t *testing.T) {
	t.Parallel()
	var ports []uint16
	for p := uint16(1); p <= 1500; p++ {
		ports = append(ports, p)
	}
	opts := quick(ports...)
	opts.SkipIdentify = true
	opts.Method = MethodConnect
	opts.TarpitPorts = []uint16{61001}
	var (
		mu           sync.Mutex
		inFlight     = map[netip.Addr]int{}
		mostAtOnce   int
		hostsStarted = map[netip.Addr]bool{}
	)
	// The machine: 64 handshakes at once, 200 µs each, however loaded the
	// machine running the test is.
	machine := make(chan struct{}, 64)
	opts.handshakeTook = func(time.Time) time.Duration { return 200 * time.Microsecond }
	opts.connect = func(ctx context.Context, target netip.AddrPort, _ time.Duration) connectOutcome {
		select {
		case machine <- struct{}{}:
		case <-ctx.Done():
			return outcomeCancelled
		}
		mu.Lock()
		inFlight[target.Addr()]++
		hostsStarted[target.Addr()] = true
		mostAtOnce = max(mostAtOnce, len(inFlight))
		mu.Unlock()
		time.Sleep(200 * time.Microsecond)
		mu.Lock()
		if inFlight[target.Addr()]--; inFlight[target.Addr()] == 0 {
			delete(inFlight, target.Addr())
		}
		mu.Unlock()
		<-machine
		if target.Port() == 22 {
			return outcomeOpen
		}
		return outcomeClosed
	}
	var targets []netip.Addr
	for i := range 12 {
		targets = append(targets, netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}))
	}
	rep, err := Scan(context.Background(), targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 12 || len(hostsStarted) != 12 {
		t.Fatalf("%d hosts reported, %d connected to", len(rep.Hosts), len(hostsStarted))
	}
	for _, h := range rep.Hosts {
		if len(h.Ports) != 1 || h.Ports[0].Port != 22 {
			t.Errorf("%s: ports %+v, want only 22 open", h.Address, h.Ports)
		}
	}
	if want := min(connectBusyHosts, len(targets)/2); mostAtOnce > want {
		t.Errorf("%d of %d hosts had connections in flight at once, want at most %d", mostAtOnce, len(targets), want)
	}
}
