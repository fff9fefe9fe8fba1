package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/inventory"
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

// driftRules are the rules drift is judged against: those in force and
// those that ended (an expired approval whose port is still open is drift).
func driftRules(tx *gorm.DB) ([]driftrules.Rule, error) {
	var reqs []models.Request
	states := append(append([]requests.State{}, requests.InForceStates...), requests.StateExpired, requests.StateRevoked)
	if err := tx.Preload("Rules").Where("state IN ?", states).Find(&reqs).Error; err != nil {
		return nil, err
	}
	var zones []models.Zone
	if err := tx.Find(&zones).Error; err != nil {
		return nil, err
	}
	zonePrefixes := map[string][]netip.Prefix{}
	for _, z := range zones {
		zonePrefixes[strings.ToLower(z.Name)] = inventory.ZoneCIDRs(z)
	}
	var out []driftrules.Rule
	for _, r := range reqs {
		auth := map[int]bool{}
		for _, f := range requests.FindingsOf(r) {
			if f.Code == policy.CodeAuthRequired {
				auth[f.Rule] = true
			}
		}
		for i, ru := range r.Rules {
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
					ID: int64(ru.ID), RequestID: int64(r.ID), Label: r.Title, Destination: d,
					Protocol: policy.Protocol(ru.Protocol), Ports: ports, Service: ru.Service, State: r.State,
					RequiresAuth: auth[i], Expires: r.ExpiresAt,
				})
			}
		}
	}
	return out, nil
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
	rules, err := driftRules(tx)
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
	var pendingImpl []uint
	if err := tx.Model(&models.Request{}).Where("state = ?", requests.StateApproved).Pluck("id", &pendingImpl).Error; err != nil {
		return 0, 0, err
	}
	if len(pendingImpl) > 0 {
		waiting := map[int64]bool{}
		for _, id := range pendingImpl {
			waiting[int64(id)] = true
		}
		kept := items[:0]
		for _, it := range items {
			if it.Kind == driftrules.KindApprovedClosed && waiting[it.RequestID] {
				continue
			}
			kept = append(kept, it)
		}
		items = kept
	}
	var stored []models.DriftItem
	if err := tx.Where("state <> ?", Resolved).Find(&stored).Error; err != nil {
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
	fresh, still, gone := driftrules.Reconcile(tracked, items, driftrules.Coverage(obs), now)
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
			"last_seen": now, "last_scan_id": run.ID, "severity": string(it.Severity), "detail": it.Detail, "evidence": string(ev), "service": it.Service,
		}).Error; err != nil {
			return 0, 0, err
		}
	}
	for _, t := range gone {
		d := byKey[t.Key]
		if err := s.fire(tx, core.SystemActor, d, EventResolve, map[string]any{"resolved_at": &now}, map[string]uint{"scan_id": run.ID}, "no longer seen by scan #"+fmt.Sprint(run.ID)); err != nil {
			return 0, 0, err
		}
		resolved++
	}
	for _, it := range fresh {
		if old := byKey[it.Key]; old != nil {
			// A suppression that ran out: the old record ends, the new one alerts.
			if err := s.fire(tx, core.SystemActor, old, EventResolve, map[string]any{"resolved_at": &now}, map[string]uint{"scan_id": run.ID}, "the suppression ended and the drift is seen again: a new item follows"); err != nil {
				return 0, 0, err
			}
		}
		ev, _ := json.Marshal(it.Evidence)
		d := models.DriftItem{
			Key: it.Key, Kind: string(it.Kind), Severity: string(it.Severity), Address: it.Address.String(),
			Protocol: string(it.Protocol), Port: int(it.Port), LastPort: int(it.LastPort), Service: it.Service,
			ApprovedService: it.ApprovedService, Zone: it.Zone, Classification: string(it.Classification),
			RuleID: uint(it.RuleID), RequestID: uint(it.RequestID), Detail: it.Detail, Evidence: string(ev),
			State: Open, FirstSeen: now, LastSeen: now, LastScanID: run.ID,
		}
		if err := tx.Create(&d).Error; err != nil {
			return 0, 0, err
		}
		if err := s.Audit(tx, core.SystemActor, "drift.open", "drift", d.ID, "", Open, map[string]any{"scan_id": run.ID, "key": d.Key, "severity": d.Severity}, d.Detail); err != nil {
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
	return core.Forbidden("drift is for security, operations, auditors and admins")
}

// List returns drift items, most severe and newest first.
func (s *Service) List(ctx context.Context, actor core.Actor, f Filter) ([]models.DriftItem, error) {
	if err := CanSee(actor); err != nil {
		return nil, err
	}
	q := s.DB().WithContext(ctx).Model(&models.DriftItem{})
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Severity != "" {
		q = q.Where("severity = ?", f.Severity)
	}
	if f.Zone != "" {
		q = q.Where("zone = ?", f.Zone)
	}
	if f.Address != "" {
		q = q.Where("address = ?", f.Address)
	}
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	var out []models.DriftItem
	err := q.Order("CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, last_seen DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Get reads one item.
func (s *Service) Get(ctx context.Context, actor core.Actor, id uint) (*models.DriftItem, error) {
	if err := CanSee(actor); err != nil {
		return nil, err
	}
	var d models.DriftItem
	if err := s.DB().WithContext(ctx).First(&d, id).Error; err != nil {
		return nil, core.NotFound("drift item", id)
	}
	return &d, nil
}

// changeDrift fires a person's event on an item through the lifecycle table.
func (s *Service) changeDrift(ctx context.Context, actor core.Actor, id uint, ev Event, set map[string]any, comment string) (*models.DriftItem, error) {
	var d models.DriftItem
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&d, id).Error; err != nil {
			return core.NotFound("drift item", id)
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
		return nil, core.Forbidden("you need the reviewer, approver or admin role to acknowledge drift")
	}
	return s.changeDrift(ctx, actor, id, EventAcknowledge, map[string]any{"acknowledged_by": actor.Email}, strings.TrimSpace(comment))
}

// maxSuppression bounds how long drift may be hidden before it is looked at again.
const maxSuppression = 90 * 24 * time.Hour

// Suppress hides an item, with a reason, until a date.
func (s *Service) Suppress(ctx context.Context, actor core.Actor, id uint, reason string, until time.Time) (*models.DriftItem, error) {
	if !Lifecycle.Allowed(Open, EventSuppress, Guarded{Actor: actor}) {
		// The role guard first: a refused actor learns why they may not, not what to fill in.
		return nil, core.Forbidden("you need the approver or admin role to suppress drift")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, core.Invalid("reason", "say why this drift may be suppressed")
	}
	now := s.Now()
	if !until.After(now) || until.Sub(now) > maxSuppression {
		return nil, core.Invalid("until", "a suppression ends in the future and within %d days", int(maxSuppression.Hours()/24))
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
		return requests.Input{}, core.Conflict("a %s item is not an opening to approve", d.Kind)
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

// LinkRequest notes on a drift item the request its filer made from
// it: only for an item that is an opening, not yet linked, and a request of
// the actor's own.
func (s *Service) LinkRequest(ctx context.Context, actor core.Actor, driftID, requestID uint) error {
	if !actor.Has(core.RoleRequester, core.RoleAdmin) {
		return core.Forbidden("only the filer of a request can link it to drift")
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var d models.DriftItem
		if err := tx.First(&d, driftID).Error; err != nil {
			return core.NotFound("drift item", driftID)
		}
		var r models.Request
		if err := tx.First(&r, requestID).Error; err != nil || r.RequesterID != actor.ID {
			return core.Forbidden("request #%d is not one you filed", requestID)
		}
		if !driftrules.Kind(d.Kind).Requestable() {
			return core.Conflict("a %s item is not an opening to approve", d.Kind)
		}
		res := tx.Model(&models.DriftItem{}).Where("id = ? AND filed_request_id IS NULL", driftID).Update("filed_request_id", requestID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return core.Conflict("drift item #%d has a request filed from it already", driftID)
		}
		return s.Audit(tx, actor, "drift.request", "drift", driftID, "", "", map[string]uint{"request_id": requestID}, "")
	})
}
