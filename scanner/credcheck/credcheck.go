// Package credcheck tries a short list of default credentials against the services
// a scan found, gently: only when asked, at most a handful of attempts per service,
// spaced out, stopping at the first sign of lockout or rate limiting. A login that
// succeeds becomes the finding default-credentials on the port (for SNMP, the
// finding snmp-default-community). Passwords never leave this package: logs and
// findings name the list entry ("builtin:redis#2", "admin-list#5") instead.
package credcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/scanner"
)

// Finding ids this package adds.
const (
	FindingDefaultCredentials = "default-credentials"
	FindingSNMPCommunity      = "snmp-default-community"
)

// Limits on the gentleness settings.
const (
	DefaultAttempts = 3
	MaxAttempts     = 5
	DefaultSpacing  = time.Second
	DefaultTimeout  = 5 * time.Second
)

// Options configures a Checker.
type Options struct {
	Attempts int           // per service per scan: DefaultAttempts when 0, at most MaxAttempts
	Spacing  time.Duration // pause between two attempts on one service: DefaultSpacing when 0
	Timeout  time.Duration // longest attempt: DefaultTimeout when 0
	List     []Entry       // the admin's entries (ParseList), tried before the built-in ones
	Parallel int           // services checked at once, all hosts together: 16 when 0
	Log      *slog.Logger  // every attempt is logged here, never its password
}

// Checker runs credential checks. It is safe for concurrent use.
type Checker struct {
	opts   Options
	log    *slog.Logger
	slots  chan struct{}
	probes map[string]prober
	// dial opens the TCP connection of an attempt; tests count through it.
	dial func(ctx context.Context, addr string) (net.Conn, error)
}

// New checks the options and makes a Checker.
func New(opts Options) (*Checker, error) {
	switch {
	case opts.Attempts < 0 || opts.Attempts > MaxAttempts:
		return nil, fmt.Errorf("credential attempts: %d is outside 1-%d (the checks are gentle, not a brute force)", opts.Attempts, MaxAttempts)
	case opts.Spacing < 0:
		return nil, errors.New("credential attempt spacing: must not be negative")
	case opts.Timeout < 0:
		return nil, errors.New("credential attempt timeout: must not be negative")
	}
	if opts.Attempts == 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Spacing == 0 {
		opts.Spacing = DefaultSpacing
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 16
	}
	for i, e := range opts.List {
		if e.Service != anyService && !isService(e.Service) {
			return nil, fmt.Errorf("credentials list entry %d: service %q unknown", i+1, e.Service)
		}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Checker{opts: opts, log: log, slots: make(chan struct{}, opts.Parallel)}
	c.dial = func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: c.opts.Timeout}
		return d.DialContext(ctx, "tcp", addr)
	}
	c.probes = map[string]prober{
		"ssh": sshProbe{}, "ftp": ftpProbe{}, "telnet": telnetProbe{}, "mysql": mysqlProbe{},
		"postgresql": postgresProbe{}, "redis": redisProbe{}, "mongodb": mongoProbe{},
		"snmp": snmpProbe{}, "mqtt": mqttProbe{}, "vnc": vncProbe{},
	}
	return c, nil
}

// outcome is what one login attempt showed.
type outcome int

const (
	rejected  outcome = iota // the credentials are wrong
	accepted                 // they log in
	throttled                // the service locks out or limits: stop trying it
)

func (o outcome) String() string {
	return [...]string{"rejected", "accepted", "throttled"}[o]
}

// attempt is one login try against one service.
type attempt struct {
	ctx     context.Context
	addr    string // host:port
	entry   Entry
	timeout time.Duration
	dial    func(ctx context.Context, addr string) (net.Conn, error)
}

// conn dials the service with the attempt's deadline set.
func (a *attempt) conn() (net.Conn, error) {
	c, err := a.dial(a.ctx, a.addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(a.timeout))
	return c, nil
}

// prober tries one entry. An error means the attempt proved nothing (the service
// went away, spoke something else): the service is not tried further.
type prober interface {
	try(a *attempt) (outcome, string, error) // the string says why, for the log
}

// target is one service of one host under check.
type target struct {
	service string
	addr    netip.AddrPort
	port    *scanner.Port
}

// CheckHost tries the host's services that take logins and adds the findings to
// its ports. It returns when every check is done or ctx is cancelled.
func (c *Checker) CheckHost(ctx context.Context, h *scanner.Host) {
	addr, err := netip.ParseAddr(h.Address)
	if err != nil || h.State != scanner.HostUp {
		return
	}
	var wg sync.WaitGroup
	for i := range h.Ports {
		p := &h.Ports[i]
		service, ok := checkable(p)
		if !ok {
			continue
		}
		t := target{service: service, addr: netip.AddrPortFrom(addr, p.Port), port: p}
		wg.Go(func() {
			select {
			case c.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-c.slots }()
			if f, ok := c.check(ctx, t); ok {
				// Ports of one host are checked at once; each writes only its own.
				t.port.Findings = append(t.port.Findings, f)
			}
		})
	}
	wg.Wait()
}

// CheckHosts checks every host, several at once.
func (c *Checker) CheckHosts(ctx context.Context, hosts []scanner.Host) {
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Go(func() { c.CheckHost(ctx, &hosts[i]) })
	}
	wg.Wait()
}

// Stream wraps a scan's emit callback: each host (of those only selects; nil:
// every host) is checked on its own goroutine as the scan hands it over, then
// passed to emit, one call at a time. Call wait after the scan returns: it
// returns once every host is emitted.
func (c *Checker) Stream(ctx context.Context, only func(address string) bool, emit func(scanner.Host)) (wrapped func(scanner.Host), wait func()) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrapped = func(h scanner.Host) {
		wg.Go(func() {
			if only == nil || only(h.Address) {
				c.CheckHost(ctx, &h)
			}
			mu.Lock()
			defer mu.Unlock()
			emit(h)
		})
	}
	return wrapped, wg.Wait
}

// checkable names the service a port's logins are tried on, if any.
func checkable(p *scanner.Port) (string, bool) {
	if p.Protocol == "udp" {
		// A device that ignores public and private never answers the scan's
		// probe, so its port stays open|filtered: the communities are tried there too.
		answering := p.State == scanner.StateOpen || p.State == scanner.StateOpenFiltered
		if answering && (p.Service == "snmp" || p.Port == 161) && !p.HasFinding(FindingSNMPCommunity) {
			return "snmp", true
		}
		return "", false
	}
	if p.State != scanner.StateOpen || p.TLS {
		return "", false
	}
	switch p.Service {
	case "redis":
		return "redis", !p.HasFinding("redis-no-auth")
	case "mongodb":
		return "mongodb", !p.HasFinding("mongodb-no-auth")
	case "vnc":
		return "vnc", !p.HasFinding("vnc-no-auth")
	case "mqtt":
		return "mqtt", !p.HasFinding("mqtt-anonymous")
	case "ssh", "ftp", "telnet", "mysql", "postgresql":
		return p.Service, true
	}
	return "", false
}

// check tries the service's candidates one after the other, spaced out, until one
// logs in, the service shows lockout or rate limiting, or the list ends.
func (c *Checker) check(ctx context.Context, t target) (scanner.Finding, bool) {
	probe := c.probes[t.service]
	list := candidates(t.service, c.opts.List, c.opts.Attempts)
	for i, e := range list {
		if i > 0 {
			select {
			case <-time.After(c.opts.Spacing):
			case <-ctx.Done():
				return scanner.Finding{}, false
			}
		}
		a := &attempt{ctx: ctx, addr: t.addr.String(), entry: e, timeout: c.opts.Timeout, dial: c.dial}
		actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		a.ctx = actx
		out, why, err := probe.try(a)
		cancel()
		// A server may echo what it was sent (a Telnet host that ignores our
		// refusal of its echo): the password never reaches the log.
		why = scrub(why, e.Password)
		attrs := []any{"target", t.addr.String(), "service", t.service, "user", e.User, "entry", e.Source,
			"attempt", strconv.Itoa(i+1) + "/" + strconv.Itoa(len(list))}
		if err != nil {
			c.log.Warn("credential attempt inconclusive; not trying this service further", append(attrs, "err", scrub(err.Error(), e.Password))...)
			return scanner.Finding{}, false
		}
		c.log.Info("credential attempt", append(attrs, "outcome", out.String(), "reply", why)...)
		switch out {
		case accepted:
			return finding(t.service, e), true
		case throttled:
			c.log.Warn("service limits login attempts; stopping its credential checks", attrs...)
			return scanner.Finding{}, false
		}
	}
	return scanner.Finding{}, false
}

func scrub(s, password string) string {
	if password == "" {
		return s
	}
	return strings.ReplaceAll(s, password, "[password]")
}

func finding(service string, e Entry) scanner.Finding {
	switch {
	case service == "snmp":
		return scanner.Finding{ID: FindingSNMPCommunity, Severity: "high",
			Detail: fmt.Sprintf("GET sysDescr.0 answered with the community of %s", e.Source)}
	case e.User == "":
		return scanner.Finding{ID: FindingDefaultCredentials, Severity: "critical",
			Detail: fmt.Sprintf("%s accepts the password of %s", service, e.Source)}
	}
	return scanner.Finding{ID: FindingDefaultCredentials, Severity: "critical",
		Detail: fmt.Sprintf("%s login as user %q succeeds with the password of %s", service, e.User, e.Source)}
}
