package requests

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sync"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
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
	all, err := activeRules(tx, inv, 0)
	if err != nil {
		return nil, nil, err
	}
	index = policy.NewActiveIndex(all)
	ids := map[int64]bool{}
	for _, r := range all {
		ids[r.RequestID] = true
	}
	c.mu.Lock()
	c.version, c.built, c.rules, c.index, c.requests = v, true, all, index, ids
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
