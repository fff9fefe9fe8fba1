// Package scancli is the command line of the scanner: `portcullis scan ARGS...`.
// cmd/portcullis/scan.go adapts Run to the program's subcommand dispatch.
package scancli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/portcullis/portcullis/scanner"
	"github.com/portcullis/portcullis/scanner/credcheck"
)

// UsageError is a mistake in the command line or its input; the program should exit
// with status 2 and print the message.
type UsageError struct{ Message string }

func (e *UsageError) Error() string { return e.Message }

func usage(format string, a ...any) error { return &UsageError{Message: fmt.Sprintf(format, a...)} }

const synopsis = `usage: portcullis scan [flags] TARGET... | -iL FILE
  targets: addresses, CIDR networks (192.0.2.0/24), ranges (192.0.2.1-20), host names
  -p SPEC             TCP ports: 22,80,8000-8100 | - (1-65535, also -p-) | common | full
  --profile NAME      common (default) or full
  -u SPEC             UDP ports, e.g. 53,123,161,5060 (none by default)
  -iL FILE            read targets from FILE (one or more per line, # comments)
  --format FORMAT     table (default), json, csv, or ndjson (one host per line as
                      each finishes, then a summary line)
  --all-states        also list closed and filtered ports
  --no-identify       find open ports only; do not name services or check them
  --connect           find open ports with TCP connections, even when SYN scanning
                      is possible (SYN is the default with root or CAP_NET_RAW)
  --syn               require SYN scanning: fail instead of falling back to connect
  --rate N            SYN probes per second, all hosts together (default 200000)
  --down-after N      unanswered probes after which a silent host is down
                      (default 100; -1: never, scan every port of silent hosts)
  --concurrency N     connection attempts in flight (default 4096)
  --per-host N        attempts in flight per host (default 64)
  --timeout DURATION  longest TCP handshake wait, e.g. 1500ms or 2s (default 1.5s)
  --yes-i-mean-it     allow more than 4096 target addresses
  --check-credentials try a few default user names and passwords on the services
                      found (SSH, FTP, Telnet, MySQL, PostgreSQL, Redis, MongoDB,
                      SNMP, MQTT, VNC): at most --credential-attempts per service,
                      one a second, stopping at any sign of lockout. Off by
                      default: only on systems you are allowed to log in to
  --credentials-file F  more SERVICE USER PASSWORD lines to try first
                      (implies nothing without --check-credentials)
  --credential-attempts N  attempts per service, 1-5 (default 3)
  -q                  no progress line
  -v                  on stderr, each host's time as it finishes (first probe to
                      its entry), to see which hosts hold a scan up`

// config is the parsed command line.
type config struct {
	ports, profile, udp, inputFile, format string
	allStates, quiet, verbose, confirmed   bool
	help                                   bool
	noIdentify, connect, syn               bool
	checkCredentials                       bool
	credentialsFile                        string
	credentialAttempts                     int
	concurrency, perHost, rate, downAfter  int
	timeout                                time.Duration
	targets                                []string
}

func parseArgs(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.ports, "p", "", "")
	fs.StringVar(&c.profile, "profile", "", "")
	fs.StringVar(&c.udp, "u", "", "")
	fs.StringVar(&c.inputFile, "iL", "", "")
	fs.StringVar(&c.format, "format", "table", "")
	fs.BoolVar(&c.allStates, "all-states", false, "")
	fs.BoolVar(&c.noIdentify, "no-identify", false, "")
	fs.BoolVar(&c.quiet, "q", false, "")
	fs.BoolVar(&c.verbose, "v", false, "")
	fs.BoolVar(&c.confirmed, "yes-i-mean-it", false, "")
	fs.BoolVar(&c.connect, "connect", false, "")
	fs.BoolVar(&c.syn, "syn", false, "")
	fs.BoolVar(&c.checkCredentials, "check-credentials", false, "")
	fs.StringVar(&c.credentialsFile, "credentials-file", "", "")
	fs.IntVar(&c.credentialAttempts, "credential-attempts", 0, "")
	fs.IntVar(&c.rate, "rate", 0, "")
	fs.IntVar(&c.downAfter, "down-after", 0, "")
	fs.IntVar(&c.concurrency, "concurrency", 0, "")
	fs.IntVar(&c.perHost, "per-host", 0, "")
	fs.Func("timeout", "", func(s string) error {
		d, err := parseDuration(s)
		c.timeout = d
		return err
	})
	fs.BoolVar(&c.help, "h", false, "")
	fs.BoolVar(&c.help, "help", false, "")

	// "-p-" is the customary spelling of all ports; the flag package would read it
	// as a flag named "p-".
	var norm []string
	for _, a := range args {
		if a == "-p-" || a == "--p-" {
			norm = append(norm, "-p", "-")
			continue
		}
		norm = append(norm, a)
	}
	// Targets and flags may be interleaved: parse, take a target, parse the rest.
	rest := norm
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, usage("scan: %v", err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			c.targets = append(c.targets, rest[1:]...)
			break
		}
		c.targets = append(c.targets, rest[0])
		rest = rest[1:]
	}
	if c.concurrency < 0 || c.perHost < 0 || c.rate < 0 {
		return nil, usage("scan: --concurrency, --per-host and --rate must be positive")
	}
	if c.connect && c.syn {
		return nil, usage("scan: give --connect or --syn, not both")
	}
	if !c.checkCredentials && (c.credentialsFile != "" || c.credentialAttempts != 0) {
		return nil, usage("scan: --credentials-file and --credential-attempts need --check-credentials")
	}
	if c.credentialAttempts < 0 || c.credentialAttempts > credcheck.MaxAttempts {
		return nil, usage("scan: --credential-attempts: %d is outside 1-%d", c.credentialAttempts, credcheck.MaxAttempts)
	}
	return c, nil
}

// parseDuration accepts Go durations ("1.5s", "800ms") and plain milliseconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

// Run executes `portcullis scan` with its arguments (the subcommand name excluded).
// It returns a *UsageError for a bad command line or input, another error for a
// failure while scanning. The credential checks log each attempt to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseArgs(args)
	if err != nil {
		return err
	}
	if c.help {
		fmt.Fprintln(stdout, synopsis)
		return nil
	}
	var checker *credcheck.Checker
	if c.checkCredentials {
		if checker, err = newChecker(c, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "warning: --check-credentials logs in to the services found with default passwords;"+
			" scan only systems you are allowed to, and expect failed logins in their logs")
	}
	switch c.format {
	case "table", "json", "csv", "ndjson":
	default:
		return usage("scan: unknown format %q (want table, json, csv or ndjson)", c.format)
	}
	opts := scanner.Options{AllStates: c.allStates, Concurrency: c.concurrency, PerHost: c.perHost, Timeout: c.timeout,
		SkipIdentify: c.noIdentify, Rate: c.rate, DownAfter: c.downAfter}
	switch {
	case c.connect:
		opts.Method = scanner.MethodConnect
	case c.syn:
		opts.Method = scanner.MethodSYN
	}
	if opts.TCPPorts, opts.Profile, err = choosePorts(c.ports, c.profile); err != nil {
		return err
	}
	if c.udp != "" {
		if opts.UDPPorts, err = scanner.ParsePorts(c.udp); err != nil {
			return usage("scan: -u: %v", err)
		}
	}
	if c.inputFile != "" {
		more, err := readTargetFile(c.inputFile)
		if err != nil {
			return usage("scan: -iL: %v", err)
		}
		c.targets = append(c.targets, more...)
	}
	if len(c.targets) == 0 {
		return usage("scan: no targets (give addresses, networks or host names, or -iL FILE)")
	}
	limit := scanner.DefaultMaxTargets
	if c.confirmed {
		limit = -1
	}
	targets, err := scanner.ParseTargetSet(ctx, c.targets, limit)
	if err != nil {
		var tooMany *scanner.TooManyTargetsError
		if errors.As(err, &tooMany) && !c.confirmed {
			return usage("scan: %v; add --yes-i-mean-it to scan them all", err)
		}
		return usage("scan: %v", err)
	}
	opts.MaxTargets = limit

	line := progressLine{w: stderr}
	if !c.quiet {
		opts.Progress = line.update
	}
	if c.verbose {
		opts.HostTook = line.hostTook
	}
	var sum *scanner.Summary
	var scanErr, writeErr error
	if c.format == "ndjson" {
		enc := json.NewEncoder(stdout)
		emit := func(h scanner.Host) {
			if err := enc.Encode(h); err != nil && writeErr == nil {
				writeErr = err
			}
		}
		wait := func() {}
		if checker != nil {
			emit, wait = checker.Stream(ctx, nil, emit)
		}
		sum, scanErr = scanner.ScanStream(ctx, targets, opts, emit)
		wait()
		line.finish()
		if sum != nil && scanErr == nil && writeErr == nil {
			writeErr = enc.Encode(struct {
				Summary *scanner.Summary `json:"summary"`
			}{sum})
		}
	} else {
		var hosts []scanner.Host
		sum, scanErr = scanner.ScanStream(ctx, targets, opts, func(h scanner.Host) { hosts = append(hosts, h) })
		if checker != nil && sum != nil {
			checker.CheckHosts(ctx, hosts)
		}
		line.finish()
		if sum != nil {
			// Hosts finish in any order; the report lists them by address.
			slices.SortFunc(hosts, func(a, b scanner.Host) int {
				return netip.MustParseAddr(a.Address).Compare(netip.MustParseAddr(b.Address))
			})
			if hosts == nil {
				hosts = []scanner.Host{}
			}
			report := &scanner.Report{Schema: sum.Schema, StartedAt: sum.StartedAt, FinishedAt: sum.FinishedAt,
				Profile: sum.Profile, Method: sum.Method, Hosts: hosts}
			writeErr = write(stdout, report, c.format)
		}
	}
	if sum == nil {
		if errors.Is(scanErr, scanner.ErrNeedPrivilege) {
			return usage("scan: --syn: %v", scanErr)
		}
		return fmt.Errorf("scan: %w", scanErr)
	}
	if writeErr != nil {
		return fmt.Errorf("scan: writing the report: %w", writeErr)
	}
	if scanErr != nil {
		return fmt.Errorf("scan interrupted: %w", scanErr)
	}
	return nil
}

// newChecker reads the credentials file, if any, and makes the checker.
func newChecker(c *config, log *slog.Logger) (*credcheck.Checker, error) {
	var list []credcheck.Entry
	if c.credentialsFile != "" {
		f, err := os.Open(c.credentialsFile)
		if err != nil {
			return nil, usage("scan: --credentials-file: %v", err)
		}
		defer f.Close()
		if list, err = credcheck.ParseList(f); err != nil {
			return nil, usage("scan: --credentials-file %s: %v", c.credentialsFile, err)
		}
	}
	checker, err := credcheck.New(credcheck.Options{Attempts: c.credentialAttempts, List: list, Log: log})
	if err != nil {
		return nil, usage("scan: %v", err)
	}
	return checker, nil
}

// choosePorts applies -p and --profile; with neither, the common profile.
func choosePorts(spec, profile string) ([]uint16, string, error) {
	if spec != "" && profile != "" {
		return nil, "", usage("scan: give -p or --profile, not both")
	}
	if profile != "" {
		ports, err := scanner.Profile(profile)
		if err != nil {
			return nil, "", usage("scan: --profile: %v", err)
		}
		return ports, profile, nil
	}
	if spec == "" {
		ports, _ := scanner.Profile("common")
		return ports, "common", nil
	}
	ports, err := scanner.ParsePorts(spec)
	if err != nil {
		return nil, "", usage("scan: -p: %v", err)
	}
	switch spec {
	case "common", "full":
		return ports, spec, nil
	case "-":
		return ports, "full", nil
	}
	return ports, "custom", nil
}

// readTargetFile reads whitespace- or comma-separated targets; # starts a comment.
func readTargetFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		out = append(out, strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
	}
	return out, sc.Err()
}

// progressLine keeps one status line on stderr, rewritten in place, once a scan has
// run for more than two seconds.
type progressLine struct {
	mu      sync.Mutex
	w       io.Writer
	printed bool
}

func (l *progressLine) update(p scanner.Progress) {
	if p.Elapsed < 2*time.Second {
		return
	}
	eta := "-"
	if p.Remaining > 0 {
		eta = p.Remaining.Round(time.Second).String()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\rscanning: %d/%d hosts done, %d/%d ports, %.0f ports/s, %s left (%s)   ",
		p.HostsDone, p.HostsTotal, p.PortsDone, p.PortsTotal, p.Rate, eta, p.Phase)
	l.printed = true
}

// hostTook writes a host's time on a line of its own, over the progress line.
func (l *progressLine) hostTook(addr netip.Addr, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.printed {
		fmt.Fprint(l.w, "\r\033[K")
		l.printed = false
	}
	fmt.Fprintf(l.w, "host %s took %.3fs\n", addr, took.Seconds())
}

func (l *progressLine) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.printed {
		fmt.Fprintln(l.w)
	}
}

func write(w io.Writer, r *scanner.Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return writeCSV(w, r)
	}
	return writeTable(w, r)
}

func findingIDs(p scanner.Port) string {
	var ids []string
	for _, f := range p.Findings {
		ids = append(ids, f.ID+" ("+f.Severity+")")
	}
	return strings.Join(ids, ", ")
}

func writeTable(w io.Writer, r *scanner.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPORT\tSTATE\tSERVICE\tPRODUCT\tFINDINGS")
	for _, h := range r.Hosts {
		if h.State == scanner.HostDown {
			fmt.Fprintf(tw, "%s\t-\tdown\t\t\t\n", h.Address)
			continue
		}
		if h.Tarpit {
			fmt.Fprintf(tw, "%s\t-\ttarpit\t\t\tanswers every port: only ports where an application answered are listed\n", h.Address)
		}
		if len(h.Ports) == 0 {
			fmt.Fprintf(tw, "%s\t-\tup\t\t\tno open port\n", h.Address)
		}
		for _, p := range h.Ports {
			service := p.Service
			if p.TLS {
				service += "/tls"
			}
			product := strings.TrimSpace(p.Product + " " + p.Version)
			fmt.Fprintf(tw, "%s\t%d/%s\t%s\t%s\t%s\t%s\n", h.Address, p.Port, p.Protocol, p.State, service, product, findingIDs(p))
		}
	}
	return tw.Flush()
}

// csvCell neutralises a cell a spreadsheet would run as a formula: banners and
// products come off the wire.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCSV(w io.Writer, r *scanner.Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"address", "host_state", "tarpit", "protocol", "port", "state", "service", "product", "version", "tls", "banner", "findings"})
	for _, h := range r.Hosts {
		if len(h.Ports) == 0 {
			cw.Write([]string{h.Address, h.State, strconv.FormatBool(h.Tarpit), "", "", "", "", "", "", "", "", ""})
		}
		for _, p := range h.Ports {
			var ids []string
			for _, f := range p.Findings {
				ids = append(ids, f.ID)
			}
			cw.Write([]string{h.Address, h.State, strconv.FormatBool(h.Tarpit), p.Protocol, strconv.Itoa(int(p.Port)), p.State,
				p.Service, csvCell(p.Product), csvCell(p.Version), strconv.FormatBool(p.TLS), csvCell(p.Banner), strings.Join(ids, " ")})
		}
	}
	cw.Flush()
	return cw.Error()
}
