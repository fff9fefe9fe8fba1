package scanner

import "time"

// Schema is the value of Report.Schema, the version of the report contract.
const Schema = "portcullis.scan/v1"

// Port states.
const (
	StateOpen         = "open"
	StateClosed       = "closed"
	StateFiltered     = "filtered"
	StateOpenFiltered = "open|filtered"
)

// Host states.
const (
	HostUp   = "up"
	HostDown = "down"
)

// Report is the result of a scan. It marshals to the JSON of the scan report
// contract (shared/contracts/scan-report.md).
type Report struct {
	Schema     string    `json:"schema"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Profile    string    `json:"profile"`
	Method     string    `json:"method"` // MethodSYN or MethodConnect: how open TCP ports were found
	Hosts      []Host    `json:"hosts"`
}

// Host is one scanned address.
type Host struct {
	Address string `json:"address"`
	State   string `json:"state"`  // HostUp or HostDown
	Tarpit  bool   `json:"tarpit"` // answers the handshake on ports where nothing listens
	Ports   []Port `json:"ports"`  // sorted by protocol, then port
}

// Port is one port of a host.
type Port struct {
	Port     uint16    `json:"port"`
	Protocol string    `json:"protocol"` // "tcp" or "udp"
	State    string    `json:"state"`
	Service  string    `json:"service"` // vocabulary word, "unknown" when not identified
	Product  string    `json:"product"`
	Version  string    `json:"version"`
	TLS      bool      `json:"tls"`
	Banner   string    `json:"banner"`
	Findings []Finding `json:"findings"`
}

// Finding is a weak configuration confirmed on the wire.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

// Host returns the host entry for an address, or nil.
func (r *Report) Host(address string) *Host {
	for i := range r.Hosts {
		if r.Hosts[i].Address == address {
			return &r.Hosts[i]
		}
	}
	return nil
}

// Port returns the entry of a port, or nil.
func (h *Host) Port(protocol string, port uint16) *Port {
	for i := range h.Ports {
		if h.Ports[i].Protocol == protocol && h.Ports[i].Port == port {
			return &h.Ports[i]
		}
	}
	return nil
}

// HasFinding reports whether the port carries a finding with that id.
func (p *Port) HasFinding(id string) bool {
	for _, f := range p.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}
