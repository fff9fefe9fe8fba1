// Package scanner finds open TCP and UDP ports, names the service on each by what
// it answers (not by the port number), detects TLS, confirms weak configurations on
// the wire, and recognises hosts that complete the handshake on every port. It knows
// nothing of the rest of Portcullis; its report is the public contract
// shared/contracts/scan-report.md (schema "portcullis.scan/v1").
//
// # Use
//
//	targets, err := scanner.ParseTargets(ctx, []string{"192.0.2.0/28", "db.internal"}, 0)
//	ports, err := scanner.ParsePorts("22,80,443,8000-8100") // or scanner.Profile("common")
//	report, err := scanner.Scan(ctx, targets, scanner.Options{
//		TCPPorts: ports,
//		UDPPorts: []uint16{53, 123, 161},
//		Profile:  "custom",
//	})
//	json.NewEncoder(w).Encode(report) // the contract's JSON
//
// Scan sends packets to the given addresses only, and refuses more than
// DefaultMaxTargets addresses unless Options.MaxTargets says otherwise. Cancelling
// ctx stops the scan; Scan then returns what it found with ctx.Err().
//
// # How it scans
//
// TCP discovery is a connect scan (no raw sockets, no privileges): one global limit
// on attempts in flight (Options.Concurrency), one per host (Options.PerHost: too
// many at once overflow a host's accept queue and look like filtering), hosts
// interleaved, ports shuffled with the most telling ones first. The handshake
// timeout adapts to the round trips measured on each host; only timeouts are
// retried. Every connection binds its local side first and closes with a reset
// (linger 0), leaving no TIME_WAIT. Local failures (too many open files, no free
// ephemeral port) are retried after a backoff and never reported as closed ports.
// A host that answers nothing at all is given up after Options.DownAfter
// unanswered attempts and reported down, so a host behind a DROP firewall costs
// seconds, not minutes.
//
// Before its ports are scanned, each host is asked on a few random high ports that
// nothing should use; when all of them complete the handshake, the host is a
// tarpit: only ports where an application actually answered are reported.
//
// Each open port is then identified (package scanner/fingerprint): the banner it
// sends unprompted, then the probe its number suggests, TLS (and what runs inside
// it), then the other probes in order of likelihood, a few connections at a time.
// Probes and signatures are data (fingerprint/probes.conf, signatures.conf). A port
// that accepts and says nothing, or closes at once, is "unknown" with an empty
// banner. Services with an authentication that can be off are then checked for it,
// and each confirmed weakness is a Finding with a contract id.
//
// UDP ports get the DNS, NTP, SNMP, SIP and Kerberos probes: a port is open only
// when it answered, closed when the kernel reports ICMP port unreachable, and
// open|filtered otherwise.
package scanner
