// Package fingerprint names the service behind a port by what it answers, and
// confirms weak configurations on the wire.
//
// Identification of a TCP port: wait briefly for a greeting and match it; if the
// port stays silent, ask the probes, those its number suggests first, then TLS
// (and, when the handshake succeeds, the same identification inside the tunnel),
// then the rest in order of likelihood, a few connections at a time. The first
// probe in that order whose answer matches a signature names the service. A UDP
// port gets all UDP probes at once.
//
// Probes and signatures are data, embedded from probes.conf and signatures.conf
// and written for this project from the protocol specifications; their format is
// described at the top of each file. A new service needs a probe (or none, if it
// greets) and a signature; a binary answer whose version sits in a structure can
// name a parser written in code (parsers.go). Weak-configuration checks are code
// (checks.go): each proves its finding with the least intrusive exchange.
package fingerprint
