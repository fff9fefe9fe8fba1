package inventory

import (
	"context"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/policy"
)

// assetAddressAllowKey is the setting holding the admin's allow-list of
// special ranges (link-local, multicast…) that may nonetheless be assets.
const assetAddressAllowKey = "asset_address_allow"

// RefuseLoopbackAssets makes loopback addresses unacceptable as assets: a
// production server sets it; the demo and test servers keep loopback.
func (s *Service) RefuseLoopbackAssets(refuse bool) { s.refuseLoopback = refuse }

// assetAddressRules are the rules in force: the server's loopback choice
// and the admin's allow-list.
func (s *Service) assetAddressRules(ctx context.Context) (policy.AssetAddressRules, error) {
	rules := policy.AssetAddressRules{AllowLoopback: !s.refuseLoopback}
	allow, err := assetAddressAllow(s.DB().WithContext(ctx))
	if err != nil {
		return rules, err
	}
	rules.Allowed, _ = policy.ParsePrefixList(allow) // checked when saved
	return rules, nil
}

func assetAddressAllow(tx *gorm.DB) (string, error) {
	var rows []models.Setting
	if err := tx.Where(map[string]any{"key": assetAddressAllowKey}).Limit(1).Find(&rows).Error; err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Value, nil
}
