package policy

import (
	"cmp"
	"slices"

	"github.com/portcullis/portcullis/workflow/core"
)

// Severity grades a finding.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: info 0 … critical 4; an unknown severity is -1.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 0
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return -1
}

// Finding codes. They are stable: the API, the audit trail and exceptions
// refer to them. Each code's severity and whether it blocks are given with it;
// where two values are given, the message explains which applied.
const (
	// CodeInvalid (high, blocking): the rule is incomplete or malformed, so
	// it cannot be judged (no ports, an unresolved zone, …).
	CodeInvalid = "invalid-rule"
	// CodeAnyAny (critical, blocking): any source (internet, 0.0.0.0/0, ::/0)
	// with more than Settings.BroadPortCount ports.
	CodeAnyAny = "any-any"
	// CodeInternetExposure (high, blocking): the internet reaches ports other
	// than the public ones without a source whitelist.
	CodeInternetExposure = "internet-exposure"
	// CodeInternetHighRisk (critical, blocking): a high-risk service (remote
	// administration, databases, SNMP, NTP, DNS, …) is reachable from the
	// internet, whitelist or not. Exception path only.
	CodeInternetHighRisk = "internet-high-risk"
	// CodeInternetInternal (high, blocking): the matrix refuses the internet
	// into this zone classification (by default, anything but the DMZ).
	CodeInternetInternal = "internet-internal"
	// CodeZonePath (high, blocking; medium, blocking when only a whitelist is
	// missing): the matrix refuses this flow between internal zones; by
	// default low, medium and DMZ reach a high zone only through transit.
	CodeZonePath = "zone-path"
	// CodeCleartext (low, medium or high by the service's risk; high and
	// blocking into a high zone): the protocol carries credentials or data in
	// clear. The message names the secure alternative.
	CodeCleartext = "cleartext"
	// CodeAuthRequired (medium): the service can run without authentication;
	// the baseline checklist must confirm it is on.
	CodeAuthRequired = "auth-required"
	// CodeWhitelistRequired (high, blocking): the service (SNMP, NTP, rsync,
	// BGP, …) may answer only named devices, and the source is not a list of
	// them.
	CodeWhitelistRequired = "whitelist-required"
	// CodeAmplification (high; blocking without a source whitelist): a UDP
	// service that answers with more than it is asked is reachable from the
	// internet, which makes it a reflector for denial-of-service attacks.
	CodeAmplification = "amplification"
	// CodeServiceControls (info): hardening the host baseline must show for
	// this service (SNMP community not "public", NTP without monlist, …).
	CodeServiceControls = "service-controls"
	// CodeEgress (medium; high towards any address or for high-risk
	// services; blocking when the flow leaves for the internet but the rule
	// is not declared as egress, or when an egress rule's source, which must
	// be our assets, lies outside every zone): outbound openings are always
	// reviewed, because they are how reverse shells and stolen data get out.
	CodeEgress = "egress"
	// CodeSourceBreadth (medium; high from the internet): a source prefix is
	// broader than Settings.MaxSourcePrefixV4/V6.
	CodeSourceBreadth = "source-breadth"
	// CodePermanent (high, blocking): no expiry; permanent openings do not
	// exist.
	CodePermanent = "permanent"
	// CodeExpiryTooLong (medium, blocking): the expiry is further away than
	// Settings.MaxExpiry.
	CodeExpiryTooLong = "expiry-too-long"
	// CodeExpiryPast (medium, blocking): the expiry has already passed.
	CodeExpiryPast = "expiry-past"
	// CodeNonStandardPort (low): the expected service is asked for on a port
	// that is not its own; the rule is judged by the service (RDP on 33890 is
	// RDP), and also by the service whose standard port it is, if any.
	CodeNonStandardPort = "non-standard-port"
	// CodeUnknownService (low): the expected service is not in the catalog,
	// so only the port numbers could be judged.
	CodeUnknownService = "unknown-service"
	// CodeOverlapDuplicate (low): an active approved rule already opens
	// exactly this.
	CodeOverlapDuplicate = "overlap-duplicate"
	// CodeOverlapCovered (low): active approved rules already open all of
	// this.
	CodeOverlapCovered = "overlap-covered"
	// CodeOverlapPartial (info): active approved rules already open part of
	// this.
	CodeOverlapPartial = "overlap-partial"
)

// Finding is one thing the engine has to say about one proposed rule.
type Finding struct {
	// Rule is the index of the rule in the slice that was evaluated.
	Rule     int      `json:"rule"`
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Message says what is wrong and what to do about it.
	Message string `json:"message"`
	// Said is Message apart from any one language, for readers of
	// another; the API and `policy check` give Message, and the requests
	// store Said beside it (see workflow/requests).
	Said core.Message `json:"-"`
	// Blocking findings stop approval unless the exception path is taken.
	Blocking bool `json:"blocking"`
	// RequiredControls are checklist items the reviewer must confirm; never
	// nil, so that JSON shows an empty list rather than null.
	RequiredControls []string `json:"required_controls"`
	// ControlTexts are RequiredControls in other languages (language →
	// words) where the catalog entry gave them, in the same order; nil
	// when none did.
	ControlTexts []map[string]string `json:"-"`
}

// HasBlocking reports whether any finding blocks approval; `policy check`
// exits 1 when it does.
func HasBlocking(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Blocking })
}

// NeedsSecondApproval reports whether a request needs two approvals: when it
// takes the exception path, or when any finding is of severity high or above.
// A blocking finding can only be approved through an exception, so it counts
// as one.
func NeedsSecondApproval(findings []Finding, exception bool) bool {
	if exception {
		return true
	}
	return slices.ContainsFunc(findings, func(f Finding) bool {
		return f.Blocking || f.Severity.Rank() >= SeverityHigh.Rank()
	})
}

// sortFindings orders by rule, then most severe first, then code and message,
// so the same input always reads the same.
func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Message, b.Message),
		)
	})
}
