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
// ctx stops the scan; Scan then returns the hosts finished so far with ctx.Err().
//
// # Streaming
//
// For estate-sized runs, keep targets as ranges and take hosts as they finish:
//
//	set, err := scanner.ParseTargetSet(ctx, []string{"10.0.0.0/16"}, -1) // no expansion
//	sum, err := scanner.ScanStream(ctx, set, opts, func(h scanner.Host) {
//		store(h) // called once per host, one call at a time, as each host finishes
//	})
//	// sum.Method is "syn" or "connect"; sum.Hosts counts the hosts emitted
//
// ScanStream holds no finished host, so memory stays flat whatever the number of
// targets (a /16 x 1,300 ports ran in under 30 MB). A cancelled run returns what was
// emitted; a host interrupted midway is not emitted.
//
// # How it scans
//
// Options.Method chooses how open TCP ports are found: MethodSYN, MethodConnect,
// or "" for SYN when the process may open raw sockets (root or CAP_NET_RAW) and
// connect otherwise. Report.Method and Summary.Method record which ran. Either
// way, only the open ports are then connected to, for identification.
//
// SYN scanning (synscan.go, synsock_linux.go; no libpcap) sends bare TCP SYNs on a
// raw IPv4 or IPv6 socket that only sends (a drop-all socket filter keeps the
// kernel from queueing the machine's TCP traffic on it) and reads SYN-ACKs and
// RSTs on another, whose kernel filter passes only segments to our source ports,
// eight consecutive ports outside the kernel's ephemeral range: each attempt at a
// port is sent from the next one, so that the reply tells which attempt it
// answers and every attempt is a connection of its own at the target. (On one
// 4-tuple, a retransmission would meet the half-open connection of an attempt
// whose SYN-ACK was lost, and the target would reset it: an open port seen
// closed.) The initial sequence number of each probe is a keyed hash of a
// per-scan secret and the 4-tuple: a reply counts only when its ack is that
// number plus one, so stray or spoofed packets and our own SYNs looped back are
// never taken for answers, and no table of sent probes is needed to recognise
// one. (The kernel resets each SYN-ACK it did not expect; that is harmless.)
//
// One goroutine runs the engine (the walk, windows, timeouts); it hands the
// probes it decides to send to a short queue read by a sender per CPU
// (synsend.go), which sends what has gathered with one sendmmsg call. On a
// LAN the kernel runs a probe's whole path in the sending thread (our SYN, the
// target's answer, that answer queued on our socket), so sending from one
// thread caps the rate at what one CPU carries. Replies are read with
// recvmmsg: the reader takes what has queued, then pauses 200 µs, so that at a
// high rate the kernel need not wake it for every reply.
//
// Hosts x ports are walked in a random order without a list: hosts by a keyed
// permutation of the target set, a block of hosts at a time (as many as keep
// each host under 20,000 probes a second of the rate: ten at the default;
// 256 at most), so that hosts finish, and stream out, through the scan rather
// than all at its end, and each block's
// (host, port) pairs by another (permute.go: a Feistel network over the next
// even power of two, cycle-walking values that fall outside), the ports most
// likely to answer first so that a silent host is recognised early. The
// memory of a walk is a few words whatever its size.
//
// Sending is paced by Options.Rate (probes per second, default 200,000) and by
// congestion windows, per host and for the whole scan, in the manner of TCP:
// each answer to a first attempt opens them (by one per answer up to the slow-
// start threshold, then by a sixteenth: a sixteenth of the window per round
// trip), unless its round trip is more than twice the shortest seen, which
// means a queue is building: the windows then hold. Random loss is not
// congestion: a host's window halves only when the loss over a round trip of
// its answers (first attempts lost, their retransmission answered) clearly
// exceeds the loss it usually shows (twice a running estimate plus three
// standard deviations, and 5% at least), and the global window when all hosts'
// answers together show it; both shrink, in proportion to the queue, when even
// the fastest answer queued two round trips running (a standing queue; one
// round trip of late answers is as likely our process stalled). At most once per
// round trip, and only on probes sent since the last decrease. Timeouts come
// from the round trips measured on
// each host (RFC 6298's smoothed mean plus four deviations, 100 ms at least,
// Options.Timeout at most; 1 s before the first answer), doubled for each
// retransmission on a host that answered. A silent port is
// retransmitted up to Options.Retries times, and on a host whose retransmissions
// were answered (a lossy path) once more than the highest attempt ever answered
// there (nmap's rule; seven at most); answers that arrive late still count, the
// cookie proving them.
//
// A host that answers some ports and keeps silent on most first attempts and on
// their retransmissions too is behind a filter, not on a lossy path: its silent
// probes no longer take slots of the global window, up to 16,384 of them may wait
// on it at once (they wait on a firewall, not on the host), and only one silent
// port in 16 is retried, which still notices loss if it starts. A host that never
// answered is down once Options.DownAfter first attempts and their retransmissions
// went unanswered (default 100; negative: never, scan all its ports); until it
// answers, each attempt waits half the initial timeout, so a host that drops
// everything is down within about a second. Its UDP ports are then probed all at
// once, one probe wait in all.
//
// The connect scan (no privileges, or --connect) applies the same ideas with
// connections: one global limit on attempts in flight (Options.Concurrency,
// default 4,096), Options.PerHost (64) against a host that answers (too many at
// once overflow its accept queue and look like filtering), up to DownAfter before
// a host's first answer, and up to 4,096 on a host known to drop, with silent ports
// retried by sample only, and retries earned on a lossy path as above. The
// handshake timeout adapts to the round trips measured on each host (250 ms at
// least). Every connection binds its local side first and
// closes with a reset (linger 0), leaving no TIME_WAIT; on Linux it is a non-
// blocking connect whose outcome the kernel settles when the wait ends, so a
// handshake that completed just as a late timer fired still counts as open. Local failures (too many
// open files, no free ephemeral port) are retried after a backoff and never
// reported as closed ports. Once a host is found down, its attempts in flight are
// abandoned at once.
//
// Each host is asked on a few random high ports that nothing should use (by the
// connect scan, alongside its ports; after a SYN scan, when most of the scanned
// ports, or 64 or more, were open); when all of them complete the handshake, the
// host is a tarpit: only ports where an application actually answered are reported.
//
// On a near host (round trip under 10 ms), identification overlaps discovery:
// each new open port found by a SYN scan is identified as soon as its SYN-ACK
// comes, while the host has few open
// ports (under 32, and about a quarter of its answers at most: a device
// answering every port would otherwise start hundreds of identifications of
// nothing), and after a SYN scan's first answer its UDP ports are probed. On a
// far or lossy path discovery's probes would crowd theirs out: there, and for
// the rest, identification waits for the host's discovery to end. A host with
// 64 open ports is checked for a tarpit, and a tarpit's likely ports looked at,
// during discovery.
//
// Each open port is then identified (package scanner/fingerprint): the banner it
// sends unprompted within a greeting wait scaled from the round trip to the host
// (300 ms to BannerWait); when silent, the probes all at once, those its number
// suggests, TLS (and what runs inside it) and HTTP first, the others with a wait
// scaled likewise, never more than six identification connections open to one
// host. A silent port takes about one greeting wait plus one probe round (1.5 s on
// a near host). Probes and signatures are data (fingerprint/probes.conf,
// signatures.conf). A port that accepts and says nothing, or closes at once, is
// "unknown" with an empty banner. Services with an authentication that can be off
// are then checked for it, and each confirmed weakness is a Finding with a
// contract id.
//
// UDP ports get the DNS, NTP, SNMP, SIP and Kerberos probes: a port is open only
// when it answered, closed when the kernel reports ICMP port unreachable, and
// open|filtered otherwise.
//
// # Command line
//
// scanner/scancli is `portcullis scan` (and scanner/lab/labscan). Its flags beyond
// -p, -u, --profile, -iL, --all-states, --timeout, --concurrency, --per-host, -q:
//
//	--connect          connect scan even when SYN scanning is possible
//	--syn              SYN scan or fail (exit status 2 without privilege)
//	--rate N           SYN probes per second (default 200000)
//	--down-after N     unanswered probes before a silent host is down (-1: never)
//	--no-identify      open ports only, no identification (as nmap -sS/-sT)
//	--format FORMAT    table, json, csv, or ndjson: one host object per line as
//	                   each host finishes, then {"summary": {...}} (absent when
//	                   the run was interrupted)
//	--yes-i-mean-it    more than 4,096 addresses (networks are never expanded)
package scanner
