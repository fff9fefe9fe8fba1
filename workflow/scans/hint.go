package scans

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// PortHint tells a requester, before they submit, what the latest broad
// scan of a destination host saw on the ports they ask for: a port nothing
// answers on will fail verification after implementation. Security roles
// and the host's owner team also see every other open port; anyone else
// only the ports where the service they named answers, so that the form can
// point them to the right port without handing out the host's whole
// exposure.
type PortHint struct {
	Address string
	RunID   uint
	At      time.Time
	// Answering and Silent split the requested ports ("tcp/443",
	// "tcp/8000-8100") by whether anything answered at that scan.
	Answering, Silent []string
	// Elsewhere are other open ports worth knowing: those of the named
	// service, or every open port for people allowed to see them.
	Elsewhere []Port
	// Full says Elsewhere is every open port, not only the named service's.
	Full bool
}

// HintFor returns the hint for one destination address of an ingress rule,
// or nil when no broad scan has recorded the address. protocol, ports and
// service are as typed in the form; bad ones give no hint (the form's own
// checks report them).
func (s *Service) HintFor(ctx context.Context, actor core.Actor, address, protocol, ports, service string) (*PortHint, error) {
	proto := strings.ToLower(strings.TrimSpace(protocol))
	set, err := policy.ParsePorts(ports)
	if err != nil || (proto != "tcp" && proto != "udp") {
		return nil, nil
	}
	listening, err := s.ListeningOn(ctx, address)
	if err != nil || listening == nil {
		return nil, err
	}
	full := actor.SeesAllRequests()
	if !full && actor.Team != "" {
		owners, err := s.inventory.AssetsByAddress(ctx, []string{address})
		if err != nil {
			return nil, err
		}
		full = owners[address].OwnerTeam == actor.Team
	}
	h := &PortHint{Address: address, RunID: listening.RunID, At: listening.At, Full: full}
	asked := func(p Port) bool {
		if p.Protocol != proto {
			return false
		}
		for _, r := range set {
			if p.Port >= r.First && p.Port <= r.Last {
				return true
			}
		}
		return false
	}
	for _, r := range set {
		text := fmt.Sprintf("%s/%d", proto, r.First)
		if r.Last != r.First {
			text = fmt.Sprintf("%s/%d-%d", proto, r.First, r.Last)
		}
		answered := false
		for _, p := range listening.Ports {
			if p.Protocol == proto && p.Port >= r.First && p.Port <= r.Last {
				answered = true
				break
			}
		}
		if answered {
			h.Answering = append(h.Answering, text)
		} else {
			h.Silent = append(h.Silent, text)
		}
	}
	for _, p := range listening.Ports {
		if asked(p) {
			continue
		}
		if full || sameService(service, p) {
			h.Elsewhere = append(h.Elsewhere, p)
		}
	}
	return h, nil
}

// sameService reports whether an open port runs the service a requester
// named: https is http over TLS to the scanner.
func sameService(named string, p Port) bool {
	named = strings.ToLower(strings.TrimSpace(named))
	switch {
	case named == "":
		return false
	case named == "https":
		return p.Service == "https" || (p.Service == "http" && p.TLS)
	case named == "http":
		return p.Service == "http" || p.Service == "https"
	}
	return p.Service == named
}
