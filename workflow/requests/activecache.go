package requests

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
)

// activeVersion identifies the data an active-rule index was built from:
// the in-force requests (how many, which, and the sum of their versions,
// which every versioned update bumps: an approval, an implementation, an
// expiry, a revocation, a re-certified expiry) and the zones the rules
// resolve against. Reading it costs one aggregate over the state index and
// one read of the zones table (a few rows), instead of loading every rule in
// force; because it is read from the database, a change made by another
// instance is seen on the next judgement.
type activeVersion struct {
	Count, SumID, SumVersion int64
	Zones                    uint64
}

// activeCache holds the index of the rules in force between judgements.
// The index is read-only once built, so one value serves concurrent
// evaluations; the mutex only guards the swap.
type activeCache struct {
	mu       sync.Mutex
	version  activeVersion
	built    bool
	rules    []policy.ActiveRule
	index    *policy.ActiveIndex
	requests map[int64]bool // the requests whose rules are in the index
	byDest   map[string][]activeRef
	// builds counts rebuilds, for tests.
	builds int
}

func readActiveVersion(tx *gorm.DB) (activeVersion, error) {
	var v activeVersion
	row := tx.Model(&models.Request{}).Where("state IN ?", InForceStates).
		Select("COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(version), 0)").Row()
	if err := row.Scan(&v.Count, &v.SumID, &v.SumVersion); err != nil {
		return v, fmt.Errorf("reading the version of the rules in force: %w", err)
	}
	var zones []struct {
		ID                          uint
		Name, Classification, CIDRs string
	}
	if err := tx.Model(&models.Zone{}).Select("id, name, classification, cidrs").Order("id").Scan(&zones).Error; err != nil {
		return v, err
	}
	h := fnv.New64a()
	for _, z := range zones {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00", z.ID, z.Name, z.Classification, z.CIDRs)
	}
	v.Zones = h.Sum64()
	return v, nil
}

// active returns the index of the rules in force, rebuilt only when the
// data it was built from changed. except leaves one request's rules out (a
// request's own approval must not count as a duplicate of itself); in the
// rare case that request is in force, the index is built afresh without it.
func (s *Service) active(tx *gorm.DB, inv *policy.Inventory, except uint) ([]policy.ActiveRule, *policy.ActiveIndex, error) {
	v, err := readActiveVersion(tx)
	if err != nil {
		return nil, nil, err
	}
	c := &s.activeRules
	c.mu.Lock()
	hit := c.built && c.version == v
	rules, index, own := c.rules, c.index, c.requests[int64(except)]
	c.mu.Unlock()
	if hit && !own {
		return rules, index, nil
	}
	if hit && own {
		rules = slices.DeleteFunc(slices.Clone(rules), func(r policy.ActiveRule) bool { return r.RequestID == int64(except) })
		return rules, policy.NewActiveIndex(rules), nil
	}
	// Built outside the lock: a judgement inside a write transaction must
	// never wait for a reader that waits for a connection.
	all, byDest, err := activeRules(tx, inv, 0)
	if err != nil {
		return nil, nil, err
	}
	index = policy.NewActiveIndex(all)
	ids := map[int64]bool{}
	for _, r := range all {
		ids[r.RequestID] = true
	}
	c.mu.Lock()
	c.version, c.built, c.rules, c.index, c.requests, c.byDest = v, true, all, index, ids, byDest
	c.builds++
	c.mu.Unlock()
	if ids[int64(except)] {
		rules = slices.DeleteFunc(slices.Clone(all), func(r policy.ActiveRule) bool { return r.RequestID == int64(except) })
		return rules, policy.NewActiveIndex(rules), nil
	}
	return all, index, nil
}

// ActiveIndexBuilds is how many times the index of rules in force was
// built; tests use it to see the cache at work.
func (s *Service) ActiveIndexBuilds() int {
	s.activeRules.mu.Lock()
	defer s.activeRules.mu.Unlock()
	return s.activeRules.builds
}

// RegisterTo lists the rules in force whose destination names the address
// or the zone (an asset's page), soonest expiry first: at most limit of
// them, and whether more were left out. It finds them in the cached index
// of the rules in force, then reads only those rows.
func (s *Service) RegisterTo(ctx context.Context, address, zone string, limit int) ([]RegisterEntry, bool, error) {
	db := s.DB().WithContext(ctx)
	inv, err := inventory.PolicyInventory(db)
	if err != nil {
		return nil, false, err
	}
	if _, _, err := s.active(db, inv, 0); err != nil {
		return nil, false, err
	}
	s.activeRules.mu.Lock()
	refs := slices.Clone(s.activeRules.byDest[strings.ToLower(address)])
	if zone != "" {
		refs = append(refs, s.activeRules.byDest[strings.ToLower(zone)]...)
	}
	s.activeRules.mu.Unlock()
	// Newest openings first when there are more than a page of them.
	slices.SortFunc(refs, func(a, b activeRef) int {
		return cmp.Or(cmp.Compare(b.Request, a.Request), cmp.Compare(a.Rule, b.Rule))
	})
	refs = slices.CompactFunc(refs, func(a, b activeRef) bool { return a.Rule == b.Rule })
	more := len(refs) > limit
	if more {
		refs = refs[:limit]
	}
	if len(refs) == 0 {
		return nil, false, nil
	}
	ruleIDs, reqIDs := make([]uint, len(refs)), make([]uint, 0, len(refs))
	for i, r := range refs {
		ruleIDs[i] = r.Rule
		reqIDs = append(reqIDs, r.Request)
	}
	slices.Sort(reqIDs)
	reqIDs = slices.Compact(reqIDs)
	var reqs []models.Request
	if err := db.Where("id IN ? AND state IN ?", reqIDs, InForceStates).Find(&reqs).Error; err != nil {
		return nil, false, err
	}
	var rules []models.Rule
	if err := db.Where("id IN ?", ruleIDs).Order("request_id, position").Find(&rules).Error; err != nil {
		return nil, false, err
	}
	approvers, err := approversOf(db, reqIDs)
	if err != nil {
		return nil, false, err
	}
	byID := map[uint]models.Request{}
	for _, r := range reqs {
		byID[r.ID] = r
	}
	var out []RegisterEntry
	for _, ru := range rules {
		if r, ok := byID[ru.RequestID]; ok {
			out = append(out, RegisterEntry{Rule: ru, Request: r, Approvers: approvers[r.ID]})
		}
	}
	slices.SortStableFunc(out, func(a, b RegisterEntry) int {
		return cmp.Or(a.Request.ExpiresAt.Compare(b.Request.ExpiresAt), cmp.Compare(a.Request.ID, b.Request.ID))
	})
	return out, more, nil
}
