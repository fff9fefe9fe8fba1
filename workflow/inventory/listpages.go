package inventory

import (
	"context"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/paging"
)

// AssetKey is where a page of the asset list starts: by address, which is unique.
type AssetKey struct {
	Address string `json:"address"`
}

// ListAssetsPage is one page of the inventory in address order, read from
// the unique address index.
func (s *Service) ListAssetsPage(ctx context.Context, page paging.Request[AssetKey]) (paging.Page[models.Asset], error) {
	q := s.DB().WithContext(ctx).Preload("Zone")
	if page.After != nil {
		q = q.Where("address > ?", page.After.Address)
	}
	var rows []models.Asset
	if err := q.Order("address").Limit(page.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[models.Asset]{}, err
	}
	return paging.Cut(page, rows, func(a models.Asset) AssetKey { return AssetKey{Address: a.Address} }), nil
}

// ZoneKey is where a page of the zone list starts: by name, which is unique.
type ZoneKey struct {
	Name string `json:"name"`
}

// ListZonesPage is one page of the zones in name order.
func (s *Service) ListZonesPage(ctx context.Context, page paging.Request[ZoneKey]) (paging.Page[models.Zone], error) {
	q := s.DB().WithContext(ctx)
	if page.After != nil {
		q = q.Where("name > ?", page.After.Name)
	}
	var rows []models.Zone
	if err := q.Order("name").Limit(page.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[models.Zone]{}, err
	}
	return paging.Cut(page, rows, func(z models.Zone) ZoneKey { return ZoneKey{Name: z.Name} }), nil
}
