// Package periodic computes the daily and weekly port reports of a zone, or
// of one owner team's assets in it, from what the caller read: the zone's
// assets, the scheduled scan the report follows and the previous one of the
// same kind, the drift items of those assets and the approved rules that
// reach them. It is pure: no database, no clock, no network. It also renders
// a report as plain text, HTML (for e-mail) and PDF (with workflow/report).
package periodic

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Kind is daily (the common ports) or weekly (every port).
type Kind string

const (
	Daily  Kind = "daily"
	Weekly Kind = "weekly"
)

// ParseKind reads "daily" or "weekly".
func ParseKind(s string) (Kind, bool) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	return k, k == Daily || k == Weekly
}

// Window is how far back a report looks: a day or a week.
func (k Kind) Window() time.Duration {
	if k == Weekly {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// Period names the day (2026-11-30) or ISO week (2026-W48) of t, in UTC: a
// zone has one report of each kind per period.
func (k Kind) Period(t time.Time) string {
	t = t.UTC()
	if k == Weekly {
		y, w := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	}
	return t.Format(time.DateOnly)
}

// ExpiryHorizon is how far ahead expiring approvals are listed.
const ExpiryHorizon = 14 * 24 * time.Hour

// Asset is a host the report covers.
type Asset struct {
	Address, Hostname, Team string
}

// Finding is a weak configuration the scanner confirmed on a port.
type Finding struct {
	ID, Severity, Detail string
}

// Port is an open port as a scan recorded it.
type Port struct {
	Protocol string
	Port     uint16
	Service  string
	Findings []Finding
}

// Host is what one scan saw of one address.
type Host struct {
	Up   bool
	Open []Port
}

// Scan is one finished scheduled scan run of the zone.
type Scan struct {
	RunID    uint
	Finished time.Time
	Hosts    map[string]Host // by address
}

// DriftItem is a drift item on one of the report's assets.
type DriftItem struct {
	ID                                 uint
	Kind, Severity, State              string
	Address, Protocol, Service, Detail string
	Port                               int
	FirstSeen                          time.Time
	ResolvedAt                         *time.Time
}

// Rule is an approved opening in force that reaches the report's assets.
type Rule struct {
	RequestID   uint
	Title, Team string
	Expires     time.Time
	Source      string   // "internet", a zone name, or CIDRs joined by commas
	Addresses   []string // the report's assets it opens
	Protocol    string
	Ports       policy.PortSet
	Service     string
}

// Input is everything one report is computed from.
type Input struct {
	Kind           Kind
	Zone           string
	Classification string
	Team           string // "" for the whole zone
	From, To       time.Time
	Assets         []Asset
	// Current is the latest scan of the zone of this kind finished by To;
	// Previous the one of the same kind before it. Either may be nil.
	Current, Previous *Scan
	// Drift holds the assets' items that are not resolved and those
	// resolved in the window.
	Drift   []DriftItem
	Rules   []Rule
	Catalog *policy.Catalog
}

// Report is a computed report. Its JSON is what is stored, served and
// printed by `portcullis report --format json`.
type Report struct {
	Kind           Kind      `json:"kind"`
	Zone           string    `json:"zone"`
	Classification string    `json:"classification"`
	Team           string    `json:"team,omitempty"`
	Period         string    `json:"period"`
	From           time.Time `json:"window_start"`
	To             time.Time `json:"window_end"`
	Assets         int       `json:"assets"`
	Scan           *ScanRef  `json:"scan"`
	Previous       *ScanRef  `json:"previous_scan"`
	// NothingNew: two scans were compared and nothing opened, closed,
	// appeared as drift or was resolved.
	NothingNew bool         `json:"nothing_new"`
	Opened     []PortChange `json:"newly_opened"`
	Closed     []PortChange `json:"newly_closed"`
	Unapproved []DriftLine  `json:"unapproved_open"`
	HighRisk   []Exposure   `json:"high_risk_exposures"`
	Weak       []Weakness   `json:"weak_configurations"`
	Expiring   []Expiry     `json:"expiring_approvals"`
	Resolved   []DriftLine  `json:"resolved"`
	Notes      []string     `json:"notes"`
}

// ScanRef names a scan run the report read.
type ScanRef struct {
	RunID    uint      `json:"run_id"`
	Finished time.Time `json:"finished_at"`
	Hosts    int       `json:"hosts"`
	HostsUp  int       `json:"hosts_up"`
}

// PortChange is a port opened or closed between the two scans.
type PortChange struct {
	Address   string `json:"address"`
	Hostname  string `json:"hostname"`
	Team      string `json:"team"`
	Protocol  string `json:"protocol"`
	Port      uint16 `json:"port"`
	Service   string `json:"service"`
	Approved  bool   `json:"approved"`
	RequestID uint   `json:"request_id,omitempty"`
}

// DriftLine is a drift item as the report lists it.
type DriftLine struct {
	DriftID    uint       `json:"drift_id"`
	Kind       string     `json:"kind"`
	Severity   string     `json:"severity"`
	Address    string     `json:"address"`
	Hostname   string     `json:"hostname"`
	Team       string     `json:"team"`
	Protocol   string     `json:"protocol"`
	Port       int        `json:"port"`
	Service    string     `json:"service"`
	Detail     string     `json:"detail"`
	FirstSeen  time.Time  `json:"first_seen"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// New is set when the item first appeared in the window.
	New bool `json:"new"`
}

// Exposure is an open port of a high-risk service.
type Exposure struct {
	Address  string `json:"address"`
	Hostname string `json:"hostname"`
	Team     string `json:"team"`
	Protocol string `json:"protocol"`
	Port     uint16 `json:"port"`
	Service  string `json:"service"`
	Category string `json:"category"`
	// InternetFacing: the host is in an internet or DMZ zone, or a rule
	// opens the port to the internet or to public addresses.
	InternetFacing bool `json:"internet_facing"`
	Approved       bool `json:"approved"`
	RequestID      uint `json:"request_id,omitempty"`
}

// Weakness is a weak configuration the scanner confirmed.
type Weakness struct {
	Address  string `json:"address"`
	Hostname string `json:"hostname"`
	Team     string `json:"team"`
	Protocol string `json:"protocol"`
	Port     uint16 `json:"port"`
	Service  string `json:"service"`
	Finding  string `json:"finding"`
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

// Expiry is an approval that lapses within ExpiryHorizon of the window's end.
type Expiry struct {
	RequestID uint      `json:"request_id"`
	Title     string    `json:"title"`
	Team      string    `json:"team"`
	ExpiresAt time.Time `json:"expires_at"`
	DaysLeft  int       `json:"days_left"`
	Openings  string    `json:"openings"`
}

// unapprovedKinds are the drift kinds of a port open without an approval in force.
var unapprovedKinds = []string{"open-unapproved", "expired-open"}

// Compute makes the report of in.
func Compute(in Input) Report {
	r := Report{Kind: in.Kind, Zone: in.Zone, Classification: in.Classification, Team: in.Team,
		Period: in.Kind.Period(in.To), From: in.From.UTC(), To: in.To.UTC(), Assets: len(in.Assets)}
	assets := make(map[string]Asset, len(in.Assets))
	for _, a := range in.Assets {
		assets[a.Address] = a
	}
	ref := func(s *Scan) *ScanRef {
		if s == nil {
			return nil
		}
		out := &ScanRef{RunID: s.RunID, Finished: s.Finished.UTC()}
		for addr, h := range s.Hosts {
			if _, ok := assets[addr]; !ok {
				continue
			}
			out.Hosts++
			if h.Up {
				out.HostsUp++
			}
		}
		return out
	}
	r.Scan, r.Previous = ref(in.Current), ref(in.Previous)
	// Each address's rules, so that a port is judged against its host's only.
	rulesOn := map[string][]Rule{}
	for _, ru := range in.Rules {
		for _, a := range ru.Addresses {
			rulesOn[a] = append(rulesOn[a], ru)
		}
	}
	inWindow := func(t time.Time) bool { return t.After(in.From) && !t.After(in.To) }
	compared := in.Current != nil && in.Previous != nil && inWindow(in.Current.Finished)

	switch {
	case in.Current == nil:
		r.Notes = append(r.Notes, fmt.Sprintf("No %s scan of zone %s has finished yet: nothing to compare.", in.Kind, in.Zone))
	case !inWindow(in.Current.Finished):
		r.Notes = append(r.Notes, fmt.Sprintf("No %s scan of zone %s finished in this window; the latest, #%d, finished %s.",
			in.Kind, in.Zone, in.Current.RunID, in.Current.Finished.UTC().Format("2006-01-02 15:04 UTC")))
	case in.Previous == nil:
		r.Notes = append(r.Notes, fmt.Sprintf("Scan #%d is the first %s scan of zone %s: it is the baseline later reports compare with.", in.Current.RunID, in.Kind, in.Zone))
	}

	if compared {
		for _, a := range in.Assets {
			cur, okC := in.Current.Hosts[a.Address]
			prev, okP := in.Previous.Hosts[a.Address]
			// A host that was down, or not scanned, says nothing about its ports.
			if !okC || !okP || !cur.Up || !prev.Up {
				continue
			}
			for _, p := range without(cur.Open, prev.Open) {
				c := PortChange{Address: a.Address, Hostname: a.Hostname, Team: a.Team, Protocol: p.Protocol, Port: p.Port, Service: p.Service}
				if ru := approving(rulesOn[a.Address], p); ru != nil {
					c.Approved, c.RequestID = true, ru.RequestID
				}
				r.Opened = append(r.Opened, c)
			}
			for _, p := range without(prev.Open, cur.Open) {
				r.Closed = append(r.Closed, PortChange{Address: a.Address, Hostname: a.Hostname, Team: a.Team, Protocol: p.Protocol, Port: p.Port, Service: p.Service})
			}
		}
	}

	newDrift := 0
	for _, d := range in.Drift {
		a := assets[d.Address]
		line := DriftLine{DriftID: d.ID, Kind: d.Kind, Severity: d.Severity, Address: d.Address, Hostname: a.Hostname, Team: a.Team,
			Protocol: d.Protocol, Port: d.Port, Service: d.Service, Detail: d.Detail, FirstSeen: d.FirstSeen.UTC(), New: inWindow(d.FirstSeen)}
		switch {
		case d.State == "resolved":
			if d.ResolvedAt != nil && inWindow(*d.ResolvedAt) {
				at := d.ResolvedAt.UTC()
				line.ResolvedAt = &at
				r.Resolved = append(r.Resolved, line)
			}
		case d.State == "suppressed":
			// Hidden on purpose until its date: not reported.
		default:
			if line.New {
				newDrift++
			}
			if slices.Contains(unapprovedKinds, d.Kind) {
				r.Unapproved = append(r.Unapproved, line)
			}
		}
	}

	if in.Current != nil {
		for _, a := range in.Assets {
			h, ok := in.Current.Hosts[a.Address]
			if !ok || !h.Up {
				continue
			}
			for _, p := range h.Open {
				for _, f := range p.Findings {
					r.Weak = append(r.Weak, Weakness{Address: a.Address, Hostname: a.Hostname, Team: a.Team, Protocol: p.Protocol, Port: p.Port,
						Service: p.Service, Finding: f.ID, Severity: f.Severity, Detail: f.Detail})
				}
				svc, ok := catalogEntry(in.Catalog, p)
				if !ok || svc.Risk != policy.RiskHigh {
					continue
				}
				e := Exposure{Address: a.Address, Hostname: a.Hostname, Team: a.Team, Protocol: p.Protocol, Port: p.Port, Service: cmp.Or(p.Service, svc.Name),
					Category: string(svc.Category), InternetFacing: in.Classification == "internet" || in.Classification == "dmz"}
				for _, ru := range approvingAll(rulesOn[a.Address], p) {
					e.Approved, e.RequestID = true, ru.RequestID
					if publicSource(ru.Source) {
						e.InternetFacing = true
					}
				}
				r.HighRisk = append(r.HighRisk, e)
			}
		}
	}

	byRequest := map[uint]*Expiry{}
	var order []uint
	for _, ru := range in.Rules {
		left := ru.Expires.Sub(in.To)
		if left <= 0 || left > ExpiryHorizon {
			continue
		}
		e := byRequest[ru.RequestID]
		if e == nil {
			e = &Expiry{RequestID: ru.RequestID, Title: ru.Title, Team: ru.Team, ExpiresAt: ru.Expires.UTC(), DaysLeft: int(math.Ceil(left.Hours() / 24))}
			byRequest[ru.RequestID] = e
			order = append(order, ru.RequestID)
		}
		opening := fmt.Sprintf("%s/%s on %s", ru.Protocol, ru.Ports, strings.Join(ru.Addresses, ", "))
		if !strings.Contains(e.Openings, opening) {
			e.Openings = strings.TrimPrefix(e.Openings+"; "+opening, "; ")
		}
	}
	for _, id := range order {
		r.Expiring = append(r.Expiring, *byRequest[id])
	}

	sortLines(&r)
	// Empty lists are [] in the JSON, never null: scripts read them as lists.
	r.Opened, r.Closed, r.Unapproved, r.Resolved = orEmpty(r.Opened), orEmpty(r.Closed), orEmpty(r.Unapproved), orEmpty(r.Resolved)
	r.HighRisk, r.Weak, r.Expiring, r.Notes = orEmpty(r.HighRisk), orEmpty(r.Weak), orEmpty(r.Expiring), orEmpty(r.Notes)
	r.NothingNew = compared && len(r.Opened) == 0 && len(r.Closed) == 0 && len(r.Resolved) == 0 && newDrift == 0
	return r
}

// sortLines puts every list in a stable order: hosts and ports, the most
// severe drift first, internet-facing exposures first, the soonest expiry first.
func sortLines(r *Report) {
	byPort := func(a, b PortChange) int {
		return cmp.Or(compareAddr(a.Address, b.Address), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port))
	}
	slices.SortFunc(r.Opened, byPort)
	slices.SortFunc(r.Closed, byPort)
	byDrift := func(a, b DriftLine) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), compareAddr(a.Address, b.Address),
			cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port), cmp.Compare(a.DriftID, b.DriftID))
	}
	slices.SortFunc(r.Unapproved, byDrift)
	slices.SortFunc(r.Resolved, byDrift)
	slices.SortFunc(r.HighRisk, func(a, b Exposure) int {
		facing := func(e Exposure) int {
			if e.InternetFacing {
				return 0
			}
			return 1
		}
		return cmp.Or(cmp.Compare(facing(a), facing(b)), compareAddr(a.Address, b.Address), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port))
	})
	slices.SortFunc(r.Weak, func(a, b Weakness) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), compareAddr(a.Address, b.Address),
			cmp.Compare(a.Port, b.Port), cmp.Compare(a.Finding, b.Finding))
	})
	slices.SortFunc(r.Expiring, func(a, b Expiry) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.RequestID, b.RequestID))
	})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var severities = []string{"critical", "high", "medium", "low", "info"}

func severityRank(s string) int {
	if i := slices.Index(severities, s); i >= 0 {
		return i
	}
	return len(severities)
}

// compareAddr orders addresses numerically (10.0.0.9 before 10.0.0.10).
func compareAddr(a, b string) int {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return cmp.Compare(a, b)
	}
	return x.Compare(y)
}

// without is the ports of a that b does not list, by protocol and number.
func without(a, b []Port) []Port {
	var out []Port
	for _, p := range a {
		if !slices.ContainsFunc(b, func(q Port) bool { return q.Protocol == p.Protocol && q.Port == p.Port }) {
			out = append(out, p)
		}
	}
	return out
}

// approvingAll are the rules (of one address) that open port p.
func approvingAll(rules []Rule, p Port) []Rule {
	var out []Rule
	for _, ru := range rules {
		if strings.EqualFold(ru.Protocol, p.Protocol) && ru.Ports.Contains(p.Port) {
			out = append(out, ru)
		}
	}
	return out
}

func approving(rules []Rule, p Port) *Rule {
	if all := approvingAll(rules, p); len(all) > 0 {
		return &all[0]
	}
	return nil
}

// catalogEntry is the catalog's service for what answers on p: by the name
// the scanner gave, or by the port number when it named nothing.
func catalogEntry(c *policy.Catalog, p Port) (policy.Service, bool) {
	if c == nil {
		return policy.Service{}, false
	}
	if p.Service != "" && p.Service != "unknown" {
		if svc, ok := c.Lookup(p.Service); ok {
			return svc, true
		}
	}
	return c.ByPort(policy.Protocol(p.Protocol), p.Port)
}

// publicSource: a rule's source is the internet, or names an address
// outside the private, loopback and link-local ranges.
func publicSource(src string) bool {
	if strings.EqualFold(strings.TrimSpace(src), "internet") {
		return true
	}
	for _, s := range strings.Split(src, ",") {
		s = strings.TrimSpace(s)
		var addr netip.Addr
		if p, err := netip.ParsePrefix(s); err == nil {
			addr = p.Addr()
		} else if a, err := netip.ParseAddr(s); err == nil {
			addr = a
		} else {
			continue
		}
		if !addr.IsPrivate() && !addr.IsLoopback() && !addr.IsLinkLocalUnicast() {
			return true
		}
	}
	return false
}

// HeadlineFacts are the figures the report's one line says: stored with
// the report, so that each reader of the history gets the line in their
// own language.
type HeadlineFacts struct {
	NothingNew bool `json:"nothing_new,omitempty"`
	// Compared: the report had a scan and an earlier one to compare with.
	Compared   bool `json:"compared,omitempty"`
	Opened     int  `json:"opened,omitempty"`
	Closed     int  `json:"closed,omitempty"`
	Unapproved int  `json:"unapproved,omitempty"`
	HighRisk   int  `json:"high_risk,omitempty"`
	Weak       int  `json:"weak,omitempty"`
	Expiring   int  `json:"expiring,omitempty"`
	Resolved   int  `json:"resolved,omitempty"`
}

// HeadlineFacts are the figures of r's headline.
func (r Report) HeadlineFacts() HeadlineFacts {
	return HeadlineFacts{NothingNew: r.NothingNew, Compared: r.Scan != nil && r.Previous != nil,
		Opened: len(r.Opened), Closed: len(r.Closed), Unapproved: len(r.Unapproved), HighRisk: len(r.HighRisk),
		Weak: len(r.Weak), Expiring: len(r.Expiring), Resolved: len(r.Resolved)}
}

// Headline is the report in one line, for lists and e-mail subjects.
func (r Report) Headline(lang core.Language) string { return r.HeadlineFacts().In(lang) }

// In is the headline in lang: "2 opened, 1 high-risk".
func (h HeadlineFacts) In(lang core.Language) string {
	if h.NothingNew {
		return lang.Text("periodic.nothing_new")
	}
	var parts []string
	for _, c := range []struct {
		n  int
		id string
	}{
		{h.Opened, "periodic.headline_opened"},
		{h.Closed, "periodic.headline_closed"},
		{h.Unapproved, "periodic.headline_unapproved"},
		{h.HighRisk, "periodic.headline_high_risk"},
		{h.Weak, "periodic.headline_weak"},
		{h.Expiring, "periodic.headline_expiring"},
		{h.Resolved, "periodic.headline_resolved"},
	} {
		if c.n > 0 {
			parts = append(parts, lang.Text(c.id, "N", c.n))
		}
	}
	if len(parts) == 0 {
		if !h.Compared {
			return lang.Text("periodic.no_comparison")
		}
		return lang.Text("periodic.nothing_to_report")
	}
	return strings.Join(parts, lang.Text("common.list_separator"))
}

// Title names the report in lang: "Daily port report: zone dmz, team web".
func (r Report) Title(lang core.Language) string {
	t := lang.Text("periodic.title_daily", "Zone", r.Zone)
	if r.Kind == Weekly {
		t = lang.Text("periodic.title_weekly", "Zone", r.Zone)
	}
	if r.Team != "" {
		t += lang.Text("periodic.title_team", "Team", r.Team)
	}
	return t
}
