// Package inventory owns what the policy is judged against: zones, assets,
// the policy's settings and its stored catalog and zone matrix.
package inventory

import (
	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Service runs the inventory's use cases.
type Service struct {
	*core.Store
	catalogs       catalogCache
	refuseLoopback bool // loopback addresses are not assets (production servers)
	// zoneSizes is every zone's asset count, kept until something changes
	// (see core.Summary): the zones and operations pages show it.
	zoneSizes core.Summary[map[uint]int]
	// zones and tiers change only when an admin edits them, and pages that
	// show one asset or a list of them read them on every view: kept the
	// same way, one statement (a round trip on PostgreSQL) fewer per view.
	zones core.Summary[[]models.Zone]
	tiers core.Summary[map[string]policy.Tier]
}

// New makes the inventory over the shared store.
func New(st *core.Store) *Service {
	s := &Service{Store: st}
	s.zoneSizes.SetAreas(core.AreaInventory)
	s.zones.SetAreas(core.AreaInventory)
	s.tiers.SetAreas(core.AreaInventory)
	return s
}
