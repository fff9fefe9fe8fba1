package policy

import (
	"net/netip"
	"time"
)

// Destination is one place a rule opens: an asset's address (a /32 or /128)
// or one prefix of a destination zone, with the zone it lies in, resolved by
// the caller.
type Destination struct {
	Prefix netip.Prefix `json:"prefix"`
	// Zone is the name of the zone the prefix lies in; empty outside every zone.
	Zone string `json:"zone,omitempty"`
	// Classification of that zone; Internet outside every zone.
	Classification Classification `json:"classification"`
}

// ProposedRule is a rule as the engine judges it: parsed, with the zones
// resolved by the caller (see Inventory.Resolve for one way to do it).
//
// Whatever the direction, Destinations are the organisation's assets and
// Source the far side. People write a rule in the direction the connection
// is opened (for egress, the source is our asset and the destination the
// outside peer); Inventory.Resolve swaps an egress rule's two fields into
// this form. Direction then says who opens the connection: for ingress the
// source connects to the destinations; for egress the destinations open
// connections to the source, the outside peer, on the peer's ports.
type ProposedRule struct {
	Source Source
	// SourceClassifications are the classifications of the zones the source
	// lies in: a zone source's own classification; for CIDRs, the most
	// specific zone containing each prefix and any zone inside one, and
	// Internet for any part outside every zone. Left empty, an internet or
	// CIDR source counts as Internet.
	SourceClassifications []Classification
	// SourceZonePrefixes are the prefixes of a zone source, used to tell
	// whether one rule covers another; optional.
	SourceZonePrefixes []netip.Prefix
	Destinations       []Destination
	Protocol           Protocol
	Ports              PortSet
	// Service is the expected service: a word of the scanner's vocabulary or a
	// catalog name or alias; empty or "unknown" when the requester does not
	// say.
	Service   string
	Direction Direction
	// Expires is when the opening lapses; the zero time is a permanent
	// opening, which is refused.
	Expires time.Time
}
