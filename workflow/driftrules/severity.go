package driftrules

import (
	"strings"

	"github.com/portcullis/portcullis/workflow/policy"
)

// zoneWeight and riskWeight make up the score described on Severity.
func zoneWeight(c policy.Classification) int {
	switch policy.Classification(strings.ToLower(string(c))) {
	case policy.Internet, policy.DMZ:
		return 2
	case policy.High, policy.Transit:
		return 1
	}
	return 0
}

func facesOutside(c policy.Classification) bool { return zoneWeight(c) == 2 }

func riskWeight(r policy.Risk) int {
	switch r {
	case policy.RiskHigh:
		return 2
	case policy.RiskElevated:
		return 1
	}
	return 0
}

// scoreSeverity maps a score onto low … critical.
func scoreSeverity(score int) Severity {
	return severityOfRank(1 + min(max(score, 0), 3))
}

// findingSeverity reads a scanner finding's severity; a word the contract
// does not know counts as medium rather than being dropped.
func findingSeverity(s string) Severity {
	switch sev := Severity(strings.ToLower(strings.TrimSpace(s))); sev {
	case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return sev
	case SeverityInfo:
		return SeverityLow
	}
	return SeverityMedium
}

// worstFinding is the highest severity among findings, or "" for none.
func worstFinding(findings []WeakFinding) Severity {
	var worst Severity
	for _, f := range findings {
		if s := findingSeverity(f.Severity); s.Rank() > worst.Rank() {
			worst = s
		}
	}
	return worst
}

func maxSeverity(a, b Severity) Severity {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// authFinding reports whether a finding id says the service runs without
// authentication (or with a default one): the condition RequiresAuth puts
// on an approval.
func authFinding(id string) bool {
	id = strings.ToLower(id)
	return strings.HasSuffix(id, "-no-auth") || strings.HasSuffix(id, "-anonymous") ||
		strings.HasSuffix(id, "-anonymous-bind") || strings.HasSuffix(id, "-default-community")
}

// serviceInfo is what the engine needs of a catalog entry.
type serviceInfo struct {
	name        string // the catalog's name, or the word itself when unknown
	tlsOf       string
	risk        policy.Risk
	known       bool
	authCapable bool
}

// catalogView memoises catalog lookups for one comparison: the catalog hands
// out copies of its entries, and a comparison asks about the same few
// services hundreds of thousands of times.
type catalogView struct {
	catalog *policy.Catalog
	byName  map[string]serviceInfo
	byPort  map[portKey]serviceInfo
}

type portKey struct {
	proto policy.Protocol
	port  uint16
}

func newCatalogView(c *policy.Catalog) *catalogView {
	if c == nil {
		c = policy.DefaultCatalog()
	}
	return &catalogView{catalog: c, byName: map[string]serviceInfo{}, byPort: map[portKey]serviceInfo{}}
}

func infoOf(s policy.Service) serviceInfo {
	return serviceInfo{name: s.Name, tlsOf: s.TLSOf, risk: s.Risk, known: true, authCapable: s.AuthCapable}
}

// named looks a service word up; an unknown word stands for itself.
func (v *catalogView) named(name string) serviceInfo {
	if info, ok := v.byName[name]; ok {
		return info
	}
	info := serviceInfo{name: name}
	if s, ok := v.catalog.Lookup(name); ok {
		info = infoOf(s)
	}
	v.byName[name] = info
	return info
}

// onPort is the catalog's service for a standard port, if any.
func (v *catalogView) onPort(p policy.Protocol, port uint16) serviceInfo {
	k := portKey{p, port}
	if info, ok := v.byPort[k]; ok {
		return info
	}
	var info serviceInfo
	if s, ok := v.catalog.ByPort(p, port); ok {
		info = infoOf(s)
	}
	v.byPort[k] = info
	return info
}

// observed is the catalog entry for what answers on a port: by the service
// the scanner named, and by the port only when it named none.
func (v *catalogView) observed(p policy.Protocol, port uint16, service string) serviceInfo {
	if service != ServiceUnknown {
		if info := v.named(service); info.known {
			return info
		}
	}
	return v.onPort(p, port)
}

// matches reports whether the service seen satisfies the one approved.
//
// An empty approval accepts anything. ServiceUnknown is not evidence of a
// different service (an empty banner, a protocol the scanner has no probe
// for), so it is never a mismatch and leaves no trace. Names and aliases
// meet through the catalog (sftp is ssh). A TLS-wrapped service matches an
// approval for the service or for its TLS variant: http with TLS matches
// "http" and "https". The reverse does not hold: plain http where "https"
// was approved is a mismatch, because TLS was dropped.
func (v *catalogView) matches(approved, seen string, tls bool) bool {
	if approved == "" || seen == ServiceUnknown {
		return true
	}
	a, s := v.named(approved), v.named(seen)
	if a.name == s.name {
		return true
	}
	return tls && a.tlsOf != "" && v.named(a.tlsOf).name == s.name
}
