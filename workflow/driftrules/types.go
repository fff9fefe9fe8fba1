package driftrules

import (
	"net/netip"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// Port states, as the scan report contract spells them.
const (
	PortOpen         = "open"
	PortClosed       = "closed"
	PortFiltered     = "filtered"
	PortOpenFiltered = "open|filtered"
)

// ServiceUnknown is the scanner's word for an open port nothing identified.
const ServiceUnknown = "unknown"

// Rule states. The first five keep a rule in force: the opening was approved
// and has not been withdrawn (an implemented rule that failed verification is
// still an approved opening the network team must fix, not an unapproved one).
// The last two mean the approval no longer holds. Any other state (draft,
// rejected, cancelled, …) never approved anything and is ignored.
const (
	RuleActive             = "active"
	RuleApproved           = "approved"
	RuleImplemented        = "implemented"
	RuleVerified           = "verified"
	RuleVerificationFailed = "verification_failed"
	RuleExpired            = "expired"
	RuleRevoked            = "revoked"
)

// Observation is what one scan saw of one host.
type Observation struct {
	Address netip.Addr
	// Zone names the zone the address lies in and Classification that zone's
	// sensitivity; the caller resolves them from the inventory. An empty
	// classification is judged as an internal zone.
	Zone           string
	Classification policy.Classification
	// Scanned is what the scan looked at on this host. Only a port inside it
	// can be called closed: a daily scan of the common ports says nothing
	// about port 8443.
	Scanned PortScope
	// Down means the host answered nothing at all. Nothing is concluded from
	// its silence: a host that is switched off is not evidence that its
	// approved ports are stale.
	Down bool
	// Tarpit means the host (or a device in front of it) completes the TCP
	// handshake on ports where nothing listens.
	Tarpit bool
	Ports  []ObservedPort
}

// ObservedPort is one port of a host as the scanner reported it.
type ObservedPort struct {
	Protocol policy.Protocol
	Port     uint16
	// State is PortOpen, PortClosed, PortFiltered or PortOpenFiltered.
	State string
	// Service is a word of the scanner's vocabulary, named by what answers
	// whatever the port number; ServiceUnknown when nothing identified it.
	Service string
	// TLS is set when the port speaks TLS; Service is then what runs inside
	// (http with TLS is HTTPS).
	TLS              bool
	Banner           string
	Product, Version string
	Weak             []WeakFinding
}

// WeakFinding is a weak configuration the scanner confirmed on the wire.
type WeakFinding struct {
	ID       string // stable id from the scan report contract, e.g. "redis-no-auth"
	Severity string // low, medium, high or critical
	Detail   string
}

// PortScope is the set of ports a scan covered, per protocol.
type PortScope struct {
	TCP policy.PortSet
	UDP policy.PortSet
}

// Covers reports whether every port from first to last of protocol p was
// scanned. The sets need not be sorted or merged.
func (s PortScope) Covers(p policy.Protocol, first, last uint16) bool {
	if first == 0 || first > last {
		return false
	}
	return covers(cleanPorts(s.set(p)), policy.PortRange{First: first, Last: last})
}

func (s PortScope) set(p policy.Protocol) policy.PortSet {
	switch p {
	case policy.TCP:
		return s.TCP
	case policy.UDP:
		return s.UDP
	}
	return nil
}

// Rule is an opening as the drift engine needs it: where, which ports, what
// service was approved and whether the approval still holds.
type Rule struct {
	ID, RequestID int64
	// Number is the rule's place in its request, from 1, as its pages show
	// it; 0 when unknown.
	Number int
	// Label is the request's title, used in messages.
	Label string
	// Destination is one asset (a /32 or /128) or a zone's prefix. A rule
	// with several destinations is given once per destination.
	Destination netip.Prefix
	Protocol    policy.Protocol
	Ports       policy.PortSet
	// Service is the service the request asked for; empty accepts any.
	Service string
	// State is one of the Rule… constants.
	State string
	// FromInternet records that the rule's sources include the internet
	// ("internet", an internet zone, or a public CIDR).
	FromInternet bool
	// RequiresAuth records that the approval demanded authentication on the
	// service (an auth-capable service): a finding that it runs without
	// authentication then breaks a condition of the approval.
	RequiresAuth bool
	// Expires is when the approval lapses; zero when it does not. A rule in
	// force whose expiry has passed counts as expired even before the
	// lifecycle has moved it, because the scheduler may not have run yet.
	Expires time.Time
}

// Name reads `rule 2 of request #40 "Web to payments"`, like the policy
// engine's findings; without a Number, `rule #12 of request #40` by the
// rule's identifier.
func (r *Rule) Name() string {
	var b strings.Builder
	if r.Number > 0 && r.RequestID != 0 {
		b.WriteString("rule ")
		b.WriteString(itoa(int64(r.Number)))
	} else {
		b.WriteString("rule #")
		b.WriteString(itoa(r.ID))
	}
	if r.RequestID != 0 {
		b.WriteString(" of request #")
		b.WriteString(itoa(r.RequestID))
	}
	if r.Label != "" {
		b.WriteString(" ")
		b.WriteString(quote(r.Label))
	}
	return b.String()
}

// Kind says what sort of drift an item is. The strings are stable: they are
// stored, sent over the API and part of every item's Key.
type Kind string

const (
	// KindOpenUnapproved: a port is open and no rule, in force or lapsed,
	// approves it.
	KindOpenUnapproved Kind = "open-unapproved"
	// KindApprovedClosed: a rule in force opens a port of one asset, the scan
	// covered that port, and it was not open. The rule is stale.
	KindApprovedClosed Kind = "approved-closed"
	// KindServiceMismatch: the port is approved for one service and another
	// answers.
	KindServiceMismatch Kind = "service-mismatch"
	// KindExpiredOpen: the port is open and only expired or revoked rules
	// ever approved it.
	KindExpiredOpen Kind = "expired-open"
	// KindWeakConfig: an approved open port has a confirmed weak
	// configuration.
	KindWeakConfig Kind = "weak-config"
	// KindTarpit: the host answers every port; reported once for the host.
	KindTarpit Kind = "tarpit"
	// KindExposedExternally: a port answers from the internet vantage on an
	// asset's public (NAT) address while no rule in force opens it to
	// internet sources (its approvals allow internal sources only, or there
	// are none). Keyed by the public address.
	KindExposedExternally Kind = "exposed-externally"
)

// Kinds lists every kind, in the order the documentation gives them.
func Kinds() []Kind {
	return []Kind{KindOpenUnapproved, KindApprovedClosed, KindServiceMismatch, KindExpiredOpen, KindWeakConfig, KindTarpit, KindExposedExternally}
}

// Requestable reports whether an item of this kind is an opening someone may
// want approved, so that RequestFrom has something to prefill. A stale rule,
// a weak configuration and a tarpit are not.
func (k Kind) Requestable() bool {
	return k == KindOpenUnapproved || k == KindServiceMismatch || k == KindExpiredOpen
}

// Severity grades an item, from info to critical.
//
// Port items start from a score: the zone's weight plus the port's risk.
// Internet and DMZ addresses weigh 2 (reachable from outside), high and
// transit zones 1 (the most sensitive data, and the one way into it), low,
// medium and unclassified zones 0. The risk comes from the catalog entry of
// the service the scanner named, and from the port number only when it named
// none (RDP answering on 33890 is RDP): high-risk 2, elevated 1, standard
// and unidentified 0. Score 0 is low, 1 medium, 2 high, 3 and more critical.
//
//   - open-unapproved and service-mismatch (for the service that answers):
//     the score; an unapproved Redis in the DMZ is critical, on an internal
//     host high, an unapproved web server in the DMZ high, internally low.
//   - expired-open: the score less one for an expired approval (it was
//     reviewed once), the full score for a revoked one.
//   - These three are raised to the worst weak finding on the port, if
//     higher.
//   - weak-config: the worst finding's severity (an unknown word counts as
//     medium), one level up for an internet- or DMZ-facing address, one more
//     when the rule required authentication and a finding says it is off.
//   - approved-closed: info; low when the address faces the outside or the
//     approved service is high-risk, since an unused opening lets anyone
//     start a service behind it without review.
//   - tarpit: low; medium when the address faces the outside.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

var severityOrder = [...]Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Rank is 0 for info up to 4 for critical, and -1 for a word that is not a
// severity.
func (s Severity) Rank() int {
	for i, v := range severityOrder {
		if v == s {
			return i
		}
	}
	return -1
}

// severityOfRank clamps r to the scale.
func severityOfRank(r int) Severity {
	return severityOrder[min(max(r, 0), len(severityOrder)-1)]
}

// Item is one piece of drift.
type Item struct {
	Kind     Kind
	Severity Severity
	Address  netip.Addr
	// Protocol and Port locate the item; both are empty for a tarpit. For an
	// approved-closed item on a rule's port range, Port is the range's first
	// port and LastPort its last; otherwise LastPort equals Port.
	Protocol policy.Protocol
	Port     uint16
	LastPort uint16
	// Service is the service seen on the port, or for approved-closed the
	// service the rule approved (or the catalog's for the port).
	Service string
	// ApprovedService is what the rule cited approved, when it names one.
	ApprovedService string
	Zone            string
	Classification  policy.Classification
	// RuleID and RequestID name the rule the item is about (the approving,
	// stale or lapsed rule); zero for open-unapproved and tarpit items.
	RuleID    int64
	RequestID int64
	// Detail says, for people, what was seen and what to do about it.
	Detail string
	// Facts are what Detail quotes beyond the item's other fields and its
	// evidence, for saying it in another language.
	Facts    DetailFacts
	Evidence Evidence
	// Key identifies the same drift across scans:
	// "kind|address|protocol|port" ("…|8000-8100" for a range),
	// "approved-closed|address|protocol|port|request-N" (one per request),
	// or "tarpit|address".
	Key string
}

// DetailFacts are the facts an item's Detail quotes that neither its
// fields nor its evidence hold.
type DetailFacts struct {
	// Weak are the weak-configuration findings with the scanner's detail.
	Weak []WeakFinding `json:"weak,omitempty"`
	// Expired is the day the lapsed rule expired (2006-01-02); Revoked
	// that it was revoked instead.
	Expired string `json:"expired,omitempty"`
	Revoked bool   `json:"revoked,omitempty"`
	// Auth: "required" when the approval required authentication the
	// port lacks, "capable" when the service can authenticate.
	Auth string `json:"auth,omitempty"`
	// PublicOf is the inventory address a public address answers for.
	PublicOf string `json:"public_of,omitempty"`
}

// Evidence is what the scanner saw that the item rests on.
type Evidence struct {
	State    string
	Banner   string
	Product  string
	Version  string
	TLS      bool
	Findings []string // weak finding ids, sorted
}
