package scanner

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Options configures a scan. Zero values take the defaults noted.
type Options struct {
	TCPPorts []uint16 // ports to connect to; see ParsePorts and Profile
	UDPPorts []uint16 // ports to probe over UDP (DNS, NTP, SNMP, SIP, Kerberos probes)
	Profile  string   // recorded in the report ("common", "full", "custom"...)

	// Method is how open TCP ports are found: MethodSYN (raw sockets, root or
	// CAP_NET_RAW), MethodConnect, or "" for SYN when allowed, else connect.
	Method string
	Rate   int // 200000: SYN probes per second, all hosts together

	Concurrency int           // 4096: connection attempts in flight, all hosts together
	PerHost     int           // 64: attempts in flight against one host that answers (its accept queue)
	Hosts       int           // hosts connect-scanned at once; default 2*512/PerHost, at least 4
	Timeout     time.Duration // 1.5s: longest wait for a TCP handshake; shorter once round trips are measured
	Retries     int           // 1: extra attempts for a port whose handshake timed out (never for refusals); more on a path that has shown loss
	DownAfter   int           // 100: unanswered attempts after which a host that never answered is down; negative: never

	SkipIdentify bool          // report open ports without naming their services
	SkipChecks   bool          // name services but do not test for weak configurations
	BannerWait   time.Duration // 1.5s: longest greeting wait (a near host: 4 round trips, 300ms at least)
	ProbeTimeout time.Duration // 1.2s: longest wait for a probe's answer (TCP or UDP)
	Identify     int           // ports identified at once, all hosts together; default 32

	// TarpitPorts are the ports, very unlikely to be in use, that reveal a host
	// answering every port; default 6 random ports in 61000-65535.
	TarpitPorts []uint16

	AllStates  bool // also report closed and filtered ports
	MaxTargets int  // 0: DefaultMaxTargets; negative: no limit

	Progress         func(Progress) // called from one goroutine while the scan runs
	ProgressInterval time.Duration  // 500ms

	// HostTook, when set, is told how long each host took, from its first
	// probe to its entry being ready, just before the entry is emitted: the
	// hosts that hold a scan up (tarpits, firewalls that drop) stand out.
	HostTook func(addr netip.Addr, took time.Duration)

	// connect replaces the TCP handshake in tests that simulate what loopback
	// cannot: dropped packets and local resource exhaustion.
	connect func(ctx context.Context, target netip.AddrPort, timeout time.Duration) connectOutcome
	// handshakeTook, beside connect, says how long a simulated handshake
	// took, so that a test's hosts are near or far whatever the machine's load.
	handshakeTook func(started time.Time) time.Duration
}

// Progress is a snapshot of a running scan.
type Progress struct {
	HostsDone, HostsTotal int
	PortsDone, PortsTotal int64 // port attempts (a port skipped on a down host counts as done)
	Phase                 string
	Elapsed               time.Duration
	Rate                  float64       // ports per second so far
	Remaining             time.Duration // estimate; 0 when unknown
}

// ErrNoTargets and ErrNoPorts are returned by Scan for an empty request.
var (
	ErrNoTargets = errors.New("no targets to scan")
	ErrNoPorts   = errors.New("no ports to scan")
)

const (
	defaultConcurrency = 4096
	defaultRate        = 200000
	defaultPerHost     = 64
	defaultTimeout     = 1500 * time.Millisecond
	defaultDownAfter   = 100
	minConnectTimeout  = 250 * time.Millisecond
	initialTimeout     = time.Second // before a host's round trip is measured
	tarpitPortCount    = 6
)

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.PerHost <= 0 {
		o.PerHost = defaultPerHost
	}
	if o.PerHost > o.Concurrency {
		o.PerHost = o.Concurrency
	}
	if o.Hosts <= 0 {
		o.Hosts = max(4, 2*min(o.Concurrency, 512)/o.PerHost)
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = 1
	}
	if o.DownAfter == 0 {
		o.DownAfter = defaultDownAfter
	}
	if o.Identify <= 0 {
		o.Identify = max(4, min(o.Concurrency, 512)/16)
	}
	if o.Rate <= 0 {
		o.Rate = defaultRate
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 500 * time.Millisecond
	}
	if o.Profile == "" {
		o.Profile = "custom"
	}
	return o
}
