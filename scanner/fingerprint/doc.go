// Package fingerprint names the service behind a port by what it answers, and
// confirms weak configurations on the wire.
//
// Identification of a TCP port: wait for a greeting (four round trips of the
// host, 300 ms at least, 1.5 s at most) and match it; if the port stays silent, ask
// all the probes at once, within a cap of six connections per host: those its
// number suggests, TLS and HTTP first and with the full answer wait (1.2 s), the
// others with a wait of eight round trips (300 ms at least). With TLS, the same
// identification runs inside the tunnel, its probes alongside the greeting wait.
// The first probe in that order whose answer matches a signature names the
// service; a port that stops accepting connections is asked nothing more. A port
// thus takes about one greeting wait plus one probe round. A UDP port gets all UDP
// probes at once.
//
// Probes and signatures are data, embedded from probes.conf and signatures.conf
// and written for this project from the protocol specifications; their format is
// described at the top of each file. A new service needs a probe (or none, if it
// greets) and a signature; a binary answer whose version sits in a structure can
// name a parser written in code (parsers.go). Weak-configuration checks are code
// (checks.go): each proves its finding with the least intrusive exchange.
package fingerprint
