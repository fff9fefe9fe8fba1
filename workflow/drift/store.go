package drift

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// Drift item states.
const (
	Open         = driftrules.StateOpen
	Acknowledged = driftrules.StateAcknowledged
	Resolved     = driftrules.StateResolved
	Suppressed   = driftrules.StateSuppressed
)

// chunk is how many values one IN list carries: well under the bind
// variable limits of SQLite and PostgreSQL.
const chunk = 500

// inChunks runs fn over values, chunk by chunk.
func inChunks[T any](values []T, fn func(part []T) error) error {
	for start := 0; start < len(values); start += chunk {
		if err := fn(values[start:min(start+chunk, len(values))]); err != nil {
			return err
		}
	}
	return nil
}

// Reaching is a rule whose destination names an address or a zone asked
// about, with its request.
type Reaching struct {
	Rule    models.Rule
	Request models.Request
}

// RulesReaching reads the rules of requests in states whose destination is
// one of addrs or names a zone in zoneNames, and nothing else: a scan of a few
// hosts reads their rules, not the register. Destinations are canonical
// (requests stores a zone's own name, or addresses joined by commas).
func RulesReaching(tx *gorm.DB, addrs, zoneNames []string, states []requests.State) ([]Reaching, error) {
	wanted := map[string]bool{}
	keys := make([]string, 0, len(addrs)+len(zoneNames))
	for _, k := range append(append([]string{}, addrs...), zoneNames...) {
		if !wanted[k] {
			wanted[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	base := func() *gorm.DB {
		// Egress rules open outbound connections from our assets; none
		// approves a port listening on one.
		return tx.Model(&models.Rule{}).Select("rules.*").Joins("JOIN requests ON requests.id = rules.request_id").Where("requests.state IN ? AND rules.direction <> ?", states, string(policy.Egress))
	}
	var rules, multi []models.Rule
	// One destination: answered from the index on rules.destination. With
	// the first part, in the same statement (a round trip fewer on
	// PostgreSQL), the rules naming several addresses: few rules do this,
	// their ids come from the partial index on such rules alone (a literal
	// pattern, so that the index's condition matches), and those that name
	// a wanted address are kept below. No key holds a comma, so the two
	// never share a rule.
	first := true
	if err := inChunks(keys, func(part []string) error {
		q := base().Where("rules.destination IN ?", part)
		if first {
			first = false
			q = tx.Raw("? UNION ALL ?", q, base().Where("rules.id IN (SELECT id FROM rules WHERE destination LIKE '%,%')"))
		}
		var got []models.Rule
		if err := q.Scan(&got).Error; err != nil {
			return err
		}
		for _, ru := range got {
			if strings.Contains(ru.Destination, ",") {
				multi = append(multi, ru)
			} else {
				rules = append(rules, ru)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, ru := range multi {
		for _, a := range strings.Split(ru.Destination, ",") {
			if wanted[a] {
				rules = append(rules, ru)
				break
			}
		}
	}
	ids := make([]uint, 0, len(rules))
	seenReq := map[uint]bool{}
	for _, ru := range rules {
		if !seenReq[ru.RequestID] {
			seenReq[ru.RequestID] = true
			ids = append(ids, ru.RequestID)
		}
	}
	reqs := map[uint]models.Request{}
	if err := inChunks(ids, func(part []uint) error {
		var got []models.Request
		if err := tx.Where("id IN ?", part).Find(&got).Error; err != nil {
			return err
		}
		for _, r := range got {
			reqs[r.ID] = r
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]Reaching, 0, len(rules))
	for _, ru := range rules {
		out = append(out, Reaching{Rule: ru, Request: reqs[ru.RequestID]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Request.ID != out[j].Request.ID {
			return out[i].Request.ID < out[j].Request.ID
		}
		return out[i].Rule.Position < out[j].Rule.Position
	})
	return out, nil
}

// zonesOver are the names of the zones whose prefixes hold one of addrs: a
// rule naming such a zone reaches that address.
func zonesOver(zones []models.Zone, addrs []netip.Addr) []string {
	var out []string
	for _, z := range zones {
		prefixes := inventory.ZoneCIDRs(z)
	next:
		for _, a := range addrs {
			for _, p := range prefixes {
				if p.Contains(a) {
					out = append(out, z.Name)
					break next
				}
			}
		}
	}
	return out
}

// RulesOnAsset are the in-force rules that reach an address: naming it, or
// a zone whose prefixes hold it.
func (s *Service) RulesOnAsset(ctx context.Context, address string) ([]Reaching, error) {
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return nil, core.Invalid("address", core.M("err.drift.address", "{{.Address}} is not an address", "Address", strconv.Quote(address)))
	}
	zones, err := s.inventory.Zones(ctx)
	if err != nil {
		return nil, err
	}
	return RulesReaching(s.DB().WithContext(ctx), []string{address}, zonesOver(zones, []netip.Addr{addr}), requests.InForceStates)
}

// driftRules are the rules drift is judged against on the scanned hosts:
// those in force and those that ended (an expired approval whose port is
// still open is drift), of the rules that reach these hosts only.
func driftRules(tx *gorm.DB, scanned []netip.Addr) ([]driftrules.Rule, error) {
	var zones []models.Zone
	if err := tx.Find(&zones).Error; err != nil {
		return nil, err
	}
	zonePrefixes := map[string][]netip.Prefix{}
	internetZones := map[string]bool{}
	for _, z := range zones {
		zonePrefixes[strings.ToLower(z.Name)] = inventory.ZoneCIDRs(z)
		internetZones[strings.ToLower(z.Name)] = z.Classification == string(policy.Internet)
	}
	addrs := make([]string, len(scanned))
	for i, a := range scanned {
		addrs[i] = a.String()
	}
	states := append(append([]requests.State{}, requests.InForceStates...), requests.StateExpired, requests.StateRevoked)
	reaching, err := RulesReaching(tx, addrs, zonesOver(zones, scanned), states)
	if err != nil {
		return nil, err
	}
	auth := map[uint]map[int]bool{}
	var out []driftrules.Rule
	for _, rr := range reaching {
		r, ru := rr.Request, rr.Rule
		if auth[r.ID] == nil {
			auth[r.ID] = map[int]bool{}
			for _, f := range requests.FindingsOf(r) {
				if f.Code == policy.CodeAuthRequired {
					auth[r.ID][f.Rule] = true
				}
			}
		}
		ports, err := policy.ParsePorts(ru.Ports)
		if err != nil {
			continue
		}
		var dests []netip.Prefix
		if prefixes, ok := zonePrefixes[strings.ToLower(ru.Destination)]; ok {
			dests = prefixes
		} else {
			for _, a := range strings.Split(ru.Destination, ",") {
				if addr, err := netip.ParseAddr(a); err == nil {
					dests = append(dests, netip.PrefixFrom(addr, addr.BitLen()))
				}
			}
		}
		for _, d := range dests {
			out = append(out, driftrules.Rule{
				ID: int64(ru.ID), RequestID: int64(r.ID), Number: ru.Position + 1, Label: r.Title, Destination: d,
				Protocol: policy.Protocol(ru.Protocol), Ports: ports, Service: ru.Service, State: r.State,
				RequiresAuth: auth[r.ID][ru.Position], Expires: r.ExpiresAt, FromInternet: fromInternet(ru.Source, internetZones),
			})
		}
	}
	return out, nil
}

// fromInternet says whether a rule's source reaches past our networks:
// "internet", a zone classified internet, or a CIDR holding public addresses.
func fromInternet(source string, internetZones map[string]bool) bool {
	for _, part := range strings.Split(source, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "internet" || internetZones[part] {
			return true
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		a := p.Masked().Addr()
		if p.Bits() == 0 || !(a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast()) {
			return true
		}
	}
	return false
}

// RecordExternal compares what an internet-vantage agent saw on assets'
// public addresses (publicOf: public address to the asset's own) with the
// rules that reach those assets, and stores exposed-externally drift,
// keyed by the public address so that scans from inside leave it alone.
func (s *Service) RecordExternal(tx *gorm.DB, runID uint, scope driftrules.PortScope, hosts []scans.Host, publicOf map[string]string) (opened, resolved int, err error) {
	var ext []driftrules.External
	var assets []netip.Addr
	var scanned []string
	for _, h := range hosts {
		pub, err1 := netip.ParseAddr(h.Address)
		asset, err2 := netip.ParseAddr(publicOf[h.Address])
		if err1 != nil || err2 != nil {
			continue
		}
		o := driftrules.External{Asset: asset, Observation: driftrules.Observation{Address: pub, Classification: policy.Internet, Zone: "internet",
			Scanned: scope, Down: h.State == "down", Tarpit: h.Tarpit}}
		for _, p := range h.Ports {
			o.Ports = append(o.Ports, driftrules.ObservedPort{Protocol: policy.Protocol(p.Protocol), Port: p.Port, State: p.State, Service: p.Service,
				TLS: p.TLS, Banner: p.Banner, Product: p.Product, Version: p.Version})
		}
		ext = append(ext, o)
		assets = append(assets, asset)
		scanned = append(scanned, pub.String())
	}
	if len(ext) == 0 {
		return 0, 0, nil
	}
	rules, err := driftRules(tx, assets)
	if err != nil {
		return 0, 0, err
	}
	items := driftrules.CompareExternal(ext, rules, s.Now())
	obs := make([]driftrules.Observation, len(ext))
	for i, e := range ext {
		obs[i] = e.Observation
	}
	return s.reconcile(tx, runID, scanned, driftrules.Coverage(obs), items)
}

// observations turns a scan report into what the drift engine compares.
func observations(tx *gorm.DB, rep *scans.Report, scope driftrules.PortScope) ([]driftrules.Observation, error) {
	zones, err := inventory.LoadZoneIndex(tx)
	if err != nil {
		return nil, err
	}
	var out []driftrules.Observation
	for _, h := range rep.Hosts {
		addr, err := netip.ParseAddr(h.Address)
		if err != nil {
			continue
		}
		o := driftrules.Observation{Address: addr, Scanned: scope, Down: h.State == "down", Tarpit: h.Tarpit}
		if z := zones.Lookup(addr); z != nil {
			o.Zone, o.Classification = z.Name, policy.Classification(z.Classification)
		} else {
			o.Classification = policy.Internet
		}
		for _, p := range h.Ports {
			op := driftrules.ObservedPort{Protocol: policy.Protocol(p.Protocol), Port: p.Port, State: p.State, Service: p.Service,
				TLS: p.TLS, Banner: p.Banner, Product: p.Product, Version: p.Version}
			for _, f := range p.Findings {
				op.Weak = append(op.Weak, driftrules.WeakFinding{ID: f.ID, Severity: f.Severity, Detail: f.Detail})
			}
			o.Ports = append(o.Ports, op)
		}
		out = append(out, o)
	}
	return out, nil
}

// Record compares a finished scan with the rules, opens items for new
// drift, refreshes the ones still seen, resolves the ones no longer seen on
// what the scan covered, and queues one alert per new item.
func (s *Service) Record(tx *gorm.DB, run *models.ScanRun, rep *scans.Report) (opened, resolved int, err error) {
	scope := driftrules.PortScope{}
	if run.TCPPorts != "" {
		scope.TCP, _ = policy.ParsePorts(run.TCPPorts)
	}
	if run.UDPPorts != "" {
		scope.UDP, _ = policy.ParsePorts(run.UDPPorts)
	}
	obs, err := observations(tx, rep, scope)
	if err != nil {
		return 0, 0, err
	}
	scanned := make([]netip.Addr, 0, len(obs))
	scannedText := make([]string, 0, len(obs))
	for _, o := range obs {
		scanned = append(scanned, o.Address)
		scannedText = append(scannedText, o.Address.String())
	}
	rules, err := driftRules(tx, scanned)
	if err != nil {
		return 0, 0, err
	}
	p, err := s.inventory.LoadPolicy(tx)
	if err != nil {
		return 0, 0, err
	}
	now := s.Now()
	items := driftrules.Compare(obs, rules, p.Catalog, now)
	// An approval not yet implemented is expected to be closed: not a stale rule.
	var closedOf []int64
	for _, it := range items {
		if it.Kind == driftrules.KindApprovedClosed {
			closedOf = append(closedOf, it.RequestID)
		}
	}
	waiting := map[int64]bool{}
	if err := inChunks(closedOf, func(part []int64) error {
		var ids []int64
		if err := tx.Model(&models.Request{}).Where("id IN ? AND state = ?", part, requests.StateApproved).Pluck("id", &ids).Error; err != nil {
			return err
		}
		for _, id := range ids {
			waiting[id] = true
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	if len(waiting) > 0 {
		kept := items[:0]
		for _, it := range items {
			if it.Kind == driftrules.KindApprovedClosed && waiting[it.RequestID] {
				continue
			}
			kept = append(kept, it)
		}
		items = kept
	}
	return s.reconcile(tx, run.ID, scannedText, driftrules.Coverage(obs), items)
}

// reconcile stores what a scan of addrs concluded: new items opened and
// alerted, items seen again refreshed, items no longer seen on what the scan
// covered resolved.
func (s *Service) reconcile(tx *gorm.DB, runID uint, scannedText []string, covered func(driftrules.Tracked) bool, items []driftrules.Item) (opened, resolved int, err error) {
	now := s.Now()
	// Only the scanned hosts' items can be seen again or resolved by this scan.
	var stored []models.DriftItem
	if err := inChunks(scannedText, func(part []string) error {
		var got []models.DriftItem
		if err := tx.Where("address IN ? AND state <> ?", part, Resolved).Find(&got).Error; err != nil {
			return err
		}
		stored = append(stored, got...)
		return nil
	}); err != nil {
		return 0, 0, err
	}
	byKey := map[string]*models.DriftItem{}
	tracked := make([]driftrules.Tracked, 0, len(stored))
	for i := range stored {
		d := &stored[i]
		byKey[d.Key] = d
		t := driftrules.Tracked{Key: d.Key, State: d.State}
		if d.SuppressedUntil != nil {
			t.SuppressedUntil = *d.SuppressedUntil
		}
		tracked = append(tracked, t)
	}
	fresh, still, gone := driftrules.Reconcile(tracked, items, covered, now)
	seen := map[string]driftrules.Item{}
	for _, it := range items {
		seen[it.Key] = it
	}
	for _, t := range still {
		it, ok := seen[t.Key]
		if !ok {
			continue
		}
		ev, _ := json.Marshal(it.Evidence)
		if err := tx.Model(&models.DriftItem{}).Where("id = ?", byKey[t.Key].ID).Updates(map[string]any{
			"last_seen": now, "last_scan_id": runID, "severity": string(it.Severity), "detail": it.Detail, "detail_facts": factsJSON(it.Facts),
			"evidence": string(ev), "service": it.Service,
		}).Error; err != nil {
			return 0, 0, err
		}
	}
	for _, t := range gone {
		d := byKey[t.Key]
		if err := s.fire(tx, core.SystemActor, d, EventResolve, map[string]any{"resolved_at": &now}, map[string]uint{"scan_id": runID}, "no longer seen by scan #"+fmt.Sprint(runID)); err != nil {
			return 0, 0, err
		}
		resolved++
	}
	for _, it := range fresh {
		if old := byKey[it.Key]; old != nil {
			// A suppression that ran out: the old record ends, the new one alerts.
			if err := s.fire(tx, core.SystemActor, old, EventResolve, map[string]any{"resolved_at": &now}, map[string]uint{"scan_id": runID}, "the suppression ended and the drift is seen again: a new item follows"); err != nil {
				return 0, 0, err
			}
		}
		ev, _ := json.Marshal(it.Evidence)
		d := models.DriftItem{
			Key: it.Key, Kind: string(it.Kind), Severity: string(it.Severity), Address: it.Address.String(),
			Protocol: string(it.Protocol), Port: int(it.Port), LastPort: int(it.LastPort), Service: it.Service,
			ApprovedService: it.ApprovedService, Zone: it.Zone, Classification: string(it.Classification),
			RuleID: uint(it.RuleID), RequestID: uint(it.RequestID), Detail: it.Detail, DetailFacts: factsJSON(it.Facts), Evidence: string(ev),
			State: Open, FirstSeen: now, LastSeen: now, LastScanID: runID,
		}
		if err := tx.Create(&d).Error; err != nil {
			return 0, 0, err
		}
		if err := s.Audit(tx, core.SystemActor, "drift.open", "drift", d.ID, "", Open, map[string]any{"scan_id": runID, "key": d.Key, "severity": d.Severity}, d.Detail); err != nil {
			return 0, 0, err
		}
		if err := s.queueAlerts(tx, d); err != nil {
			return 0, 0, err
		}
		opened++
	}
	return opened, resolved, nil
}

// Filter narrows the drift list.
type Filter struct {
	States               []string
	Kind, Severity, Zone string
	Address              string
	Limit                int
}

func CanSee(a core.Actor) error {
	if a.ID == 0 || a.SeesAllRequests() {
		return nil
	}
	return core.Forbidden(core.M("err.drift.roles", "drift is for security, operations, auditors and admins"))
}

// severityOrder is the list's order: most severe first.
var severityOrder = []string{"critical", "high", "medium", "low", "info"}

// Key orders the drift list: by severity (Rank, most severe first), then
// newest first.
type Key struct {
	Rank int  `json:"r"`
	ID   uint `json:"id"`
}

// List returns the first f.Limit drift items (at most paging.MaxLimit), most
// severe and newest first.
func (s *Service) List(ctx context.Context, actor core.Actor, f Filter) ([]models.DriftItem, error) {
	req := paging.First[Key]()
	if f.Limit > 0 {
		req.Limit = min(f.Limit, paging.MaxLimit)
	}
	page, err := s.Page(ctx, actor, f, req)
	return page.Items, err
}

// Page returns one page of drift items, most severe and newest first. Each
// (state, severity) pair is read newest first from the index on (state,
// severity, id), only as far as the page needs; the pairs are merged here.
func (s *Service) Page(ctx context.Context, actor core.Actor, f Filter, req paging.Request[Key]) (paging.Page[models.DriftItem], error) {
	if err := CanSee(actor); err != nil {
		return paging.Page[models.DriftItem]{}, err
	}
	states := f.States
	if len(states) == 0 {
		states = []string{Open, Acknowledged, Suppressed, Resolved}
	}
	base := func() *gorm.DB {
		q := s.DB().WithContext(ctx).Model(&models.DriftItem{})
		if f.Kind != "" {
			q = q.Where("kind = ?", f.Kind)
		}
		if f.Zone != "" {
			q = q.Where("zone = ?", f.Zone)
		}
		if f.Address != "" {
			q = q.Where("address = ?", f.Address)
		}
		return q
	}
	rank := func(sev string) int {
		for i, s := range severityOrder {
			if s == sev {
				return i
			}
		}
		return len(severityOrder)
	}
	fetch := req.Fetch()
	key := func(d models.DriftItem) Key { return Key{rank(d.Severity), d.ID} }
	if f.Address != "" {
		// One address holds few items: one statement ranks them all and
		// reads the page's items, where the estate-wide list walks an index
		// per state and severity (twenty statements, each a round trip to
		// PostgreSQL, on an asset's page).
		out, err := pageOneAddress(base(), states, f.Severity, req.After, fetch)
		if err != nil {
			return paging.Page[models.DriftItem]{}, err
		}
		return paging.Cut(req, out, key), nil
	}
	// The pairs give only ids (the index answers that alone); the whole
	// items are read once, for the page that is left after merging.
	chosen, err := pageByIndex(base, states, f.Severity, req.After, fetch)
	if err != nil {
		return paging.Page[models.DriftItem]{}, err
	}
	out, err := readItemsInOrder(s.DB().WithContext(ctx), chosen)
	if err != nil {
		return paging.Page[models.DriftItem]{}, err
	}
	return paging.Cut(req, out, key), nil
}

// pageByIndex is the ids of one page of the estate-wide list: for each
// severity in order, the newest ids of each state, merged, until the page
// is full.
func pageByIndex(base func() *gorm.DB, states []string, severity string, after *Key, fetch int) ([]uint, error) {
	chosen := make([]uint, 0, fetch)
	for r, sev := range severityOrder {
		if severity != "" && sev != severity {
			continue
		}
		if after != nil && r < after.Rank {
			continue
		}
		need := fetch - len(chosen)
		if need <= 0 {
			break
		}
		level := make([]uint, 0, need*len(states))
		for _, st := range states {
			q := base().Where("state = ? AND severity = ?", st, sev)
			if after != nil && r == after.Rank {
				q = q.Where("id < ?", after.ID)
			}
			ids, err := models.ReadRows(q.Select("id").Order("id DESC").Limit(need), need, scanID)
			if err != nil {
				return nil, err
			}
			level = append(level, ids...)
		}
		slices.SortFunc(level, func(a, b uint) int { return cmp.Compare(b, a) })
		chosen = append(chosen, level[:min(need, len(level))]...)
	}
	return chosen, nil
}

// severityRank is the SQL of an item's place in severityOrder.
var severityRank = func() string {
	var b strings.Builder
	b.WriteString("CASE severity")
	for i, sev := range severityOrder {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", sev, i)
	}
	b.WriteString(" END")
	return b.String()
}()

// pageOneAddress is one page of an address's items, in the list's
// order (most severe first, then newest), after the cursor when there is one.
func pageOneAddress(q *gorm.DB, states []string, severity string, after *Key, fetch int) ([]models.DriftItem, error) {
	q = q.Where("state IN ?", states)
	if severity != "" {
		q = q.Where("severity = ?", severity)
	} else {
		q = q.Where("severity IN ?", severityOrder)
	}
	if after != nil {
		q = q.Where("("+severityRank+" > ? OR ("+severityRank+" = ? AND id < ?))", after.Rank, after.Rank, after.ID)
	}
	return models.ReadRows(q.Select(itemColumns).Order(severityRank+", id DESC").Limit(fetch), fetch, scanItem)
}

// Get reads one item.
func (s *Service) Get(ctx context.Context, actor core.Actor, id uint) (*models.DriftItem, error) {
	if err := CanSee(actor); err != nil {
		return nil, err
	}
	var d models.DriftItem
	if err := s.DB().WithContext(ctx).First(&d, id).Error; err != nil {
		return nil, core.NotFound("drift_item", id)
	}
	return &d, nil
}

// changeDrift fires a person's event on an item through the lifecycle table.
func (s *Service) changeDrift(ctx context.Context, actor core.Actor, id uint, ev Event, set map[string]any, comment string) (*models.DriftItem, error) {
	var d models.DriftItem
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&d, id).Error; err != nil {
			return core.NotFound("drift_item", id)
		}
		if err := s.fire(tx, actor, &d, ev, set, nil, comment); err != nil {
			return err
		}
		return tx.First(&d, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Acknowledge records that security has seen an item and owns it.
func (s *Service) Acknowledge(ctx context.Context, actor core.Actor, id uint, comment string) (*models.DriftItem, error) {
	if !Lifecycle.Allowed(Open, EventAcknowledge, Guarded{Actor: actor}) {
		return nil, core.Forbidden(core.M("err.drift.acknowledge_role", "you need the reviewer, approver or admin role to acknowledge drift"))
	}
	comment = strings.TrimSpace(comment)
	if err := core.CheckLength("comment", core.M("err.field.comment", "the comment"), comment, core.Limits.Comment); err != nil {
		return nil, err
	}
	return s.changeDrift(ctx, actor, id, EventAcknowledge, map[string]any{"acknowledged_by": actor.Email}, comment)
}

// maxSuppression bounds how long drift may be hidden before it is looked at again.
const maxSuppression = 90 * 24 * time.Hour

// Suppress hides an item, with a reason, until a date.
func (s *Service) Suppress(ctx context.Context, actor core.Actor, id uint, reason string, until time.Time) (*models.DriftItem, error) {
	if !Lifecycle.Allowed(Open, EventSuppress, Guarded{Actor: actor}) {
		// The role guard first: a refused actor learns why they may not, not what to fill in.
		return nil, core.Forbidden(core.M("err.drift.suppress_role", "you need the approver or admin role to suppress drift"))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, core.Invalid("reason", core.M("err.drift.suppress_reason", "say why this drift may be suppressed"))
	}
	if err := core.CheckLength("reason", core.M("err.field.reason", "the reason"), reason, core.Limits.Reason); err != nil {
		return nil, err
	}
	now := s.Now()
	if !until.After(now) || until.Sub(now) > maxSuppression {
		return nil, core.Invalid("until", core.M("err.drift.suppress_until", "a suppression ends in the future and within {{.Days}} days", "Days", int(maxSuppression.Hours()/24)))
	}
	return s.changeDrift(ctx, actor, id, EventSuppress, map[string]any{"suppress_reason": reason, "suppressed_until": &until}, reason)
}

// Prefill is the request a drift item suggests ("this port should be approved").
func (s *Service) Prefill(ctx context.Context, actor core.Actor, id uint) (requests.Input, error) {
	d, err := s.Get(ctx, actor, id)
	if err != nil {
		return requests.Input{}, err
	}
	if !driftrules.Kind(d.Kind).Requestable() {
		return requests.Input{}, core.Conflict(core.M("err.drift.not_an_opening", "a {{.Kind}} item is not an opening to approve", "Kind", core.M("drift_kind."+d.Kind, d.Kind)))
	}
	service := d.Service
	if service == driftrules.ServiceUnknown {
		service = ""
	}
	return requests.Input{
		Title:         fmt.Sprintf("Approve %s/%d on %s", d.Protocol, d.Port, d.Address),
		Justification: fmt.Sprintf("Found open by the scanner (drift #%d: %s). Explain which business service needs it and who connects to it.", d.ID, d.Detail),
		Rules:         []requests.RuleInput{{Destination: d.Address, Protocol: d.Protocol, Ports: fmt.Sprint(d.Port), Service: service, Direction: string(policy.Ingress)}},
	}, nil
}

// CheckLink says whether actor may file a request with these rules from a
// drift item: the actor sees drift, the item is an opening with no request
// yet, and one of the rules opens what was found (its address, port and
// protocol). The form checks before saving; LinkRequest checks again.
func (s *Service) CheckLink(ctx context.Context, actor core.Actor, driftID uint, rules []requests.RuleInput) error {
	_, err := checkLink(s.DB().WithContext(ctx), actor, driftID, rules)
	return err
}

func checkLink(db *gorm.DB, actor core.Actor, driftID uint, rules []requests.RuleInput) (*models.DriftItem, error) {
	if CanSee(actor) != nil {
		// Not "does not exist": the refusal must not tell which items do.
		return nil, core.Forbidden(core.M("err.drift.cannot_see", "you cannot see drift item #{{.ID}}, so no request can be filed from it in your name", "ID", driftID))
	}
	var d models.DriftItem
	if err := db.First(&d, driftID).Error; err != nil {
		return nil, core.NotFound("drift_item", driftID)
	}
	if !driftrules.Kind(d.Kind).Requestable() {
		return nil, core.Conflict(core.M("err.drift.not_an_opening", "a {{.Kind}} item is not an opening to approve", "Kind", core.M("drift_kind."+d.Kind, d.Kind)))
	}
	if d.FiledRequestID != nil {
		return nil, core.Conflict(core.M("err.drift.request_filed", "drift item #{{.ID}} has a request filed from it already", "ID", driftID))
	}
	if !rulesOpen(rules, d) {
		return nil, core.Invalid("rules", core.M("err.drift.rules_miss", "none of the rules opens what drift item #{{.ID}} found ({{.Protocol}}/{{.Port}} on {{.Address}}): keep a rule with that address, port and protocol, or file the request without the drift item",
			"ID", driftID, "Protocol", d.Protocol, "Port", d.Port, "Address", d.Address))
	}
	return &d, nil
}

// rulesOpen: does a rule name the item's address and protocol, and cover
// its port (or ports)?
func rulesOpen(rules []requests.RuleInput, d models.DriftItem) bool {
	last := max(d.LastPort, d.Port)
	for _, ru := range rules {
		if !strings.EqualFold(strings.TrimSpace(ru.Protocol), d.Protocol) {
			continue
		}
		ports, err := policy.ParsePorts(ru.Ports)
		if err != nil || d.Port <= 0 || last > 65535 || !ports.Covers(policy.PortSet{{First: uint16(d.Port), Last: uint16(last)}}) {
			continue
		}
		for _, a := range strings.FieldsFunc(ru.Destination, func(c rune) bool { return c == ',' || c == ' ' || c == ';' || c == '\n' }) {
			if a == d.Address {
				return true
			}
		}
	}
	return false
}

// LinkRequest notes on a drift item the request its filer made from
// it: only for an item that is an opening, not yet linked, and a request of
// the actor's own.
func (s *Service) LinkRequest(ctx context.Context, actor core.Actor, driftID, requestID uint) error {
	if !actor.Has(core.RoleRequester, core.RoleAdmin) {
		return core.Forbidden(core.M("err.drift.only_filer", "only the filer of a request can link it to drift"))
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var r models.Request
		if err := tx.First(&r, requestID).Error; err != nil || r.RequesterID != actor.ID {
			return core.Forbidden(core.M("err.drift.not_yours", "request #{{.ID}} is not one you filed", "ID", requestID))
		}
		var rules []models.Rule
		if err := tx.Where("request_id = ?", requestID).Find(&rules).Error; err != nil {
			return err
		}
		inputs := make([]requests.RuleInput, len(rules))
		for i, ru := range rules {
			inputs[i] = requests.RuleInput{Destination: ru.Destination, Protocol: ru.Protocol, Ports: ru.Ports}
		}
		if _, err := checkLink(tx, actor, driftID, inputs); err != nil {
			return err
		}
		res := tx.Model(&models.DriftItem{}).Where("id = ? AND filed_request_id IS NULL", driftID).Update("filed_request_id", requestID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return core.Conflict(core.M("err.drift.request_filed", "drift item #{{.ID}} has a request filed from it already", "ID", driftID))
		}
		return s.Audit(tx, actor, "drift.request", "drift", driftID, "", "", map[string]uint{"request_id": requestID}, "")
	})
}

// factsJSON is an item's detail facts as stored: "" when there are none.
func factsJSON(f driftrules.DetailFacts) string {
	b, _ := json.Marshal(f)
	if string(b) == "{}" {
		return ""
	}
	return string(b)
}
