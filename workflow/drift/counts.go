package drift

import (
	"cmp"
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// LiveCount is how many items are open or acknowledged in one zone, of one
// severity and kind.
type LiveCount struct {
	Zone, Severity, Kind string
	N                    int
}

// LiveCounts counts the live items (open or acknowledged) in the database.
func (s *Service) LiveCounts(ctx context.Context) ([]LiveCount, error) {
	// One state at a time: each is then a walk of the index on (state, zone,
	// severity, kind) in its own order, with no sort and no table read.
	var out []LiveCount
	for _, st := range []string{Open, Acknowledged} {
		var rows []LiveCount
		if err := s.DB().WithContext(ctx).Model(&models.DriftItem{}).Select("zone, severity, kind, COUNT(*) AS n").
			Where("state = ?", st).Group("zone, severity, kind").Scan(&rows).Error; err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// OpenedAndResolvedByDay counts, per UTC day (YYYY-MM-DD) from start on,
// the items first seen and the items resolved: the trend's points, counted
// in the database.
func (s *Service) OpenedAndResolvedByDay(ctx context.Context, start time.Time) (opened, resolved map[string]int, err error) {
	db := s.DB().WithContext(ctx)
	count := func(column string) (map[string]int, error) {
		// Times are stored in UTC: on SQLite as text that starts with the date.
		day := "substr(" + column + ", 1, 10)"
		if db.Dialector.Name() == "postgres" {
			day = "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
		}
		var rows []struct {
			Day string
			N   int
		}
		if err := db.Model(&models.DriftItem{}).Select(day+" AS day, COUNT(*) AS n").Where(column+" >= ?", start).
			Group(day).Scan(&rows).Error; err != nil {
			return nil, err
		}
		out := make(map[string]int, len(rows))
		for _, r := range rows {
			out[r.Day] += r.N
		}
		return out, nil
	}
	if opened, err = count("first_seen"); err != nil {
		return nil, nil, err
	}
	if resolved, err = count("resolved_at"); err != nil {
		return nil, nil, err
	}
	return opened, resolved, nil
}

// AddressCount is how many live items one address has of one severity.
type AddressCount struct {
	Address, Severity string
	N                 int
}

// LiveByAddress counts the live items per address and severity, from the
// (state, address, severity) index alone: the dashboard ranks assets by it.
func (s *Service) LiveByAddress(ctx context.Context) ([]AddressCount, error) {
	var out []AddressCount
	for _, st := range []string{Open, Acknowledged} {
		var rows []AddressCount
		if err := s.DB().WithContext(ctx).Model(&models.DriftItem{}).Select("address, severity, COUNT(*) AS n").
			Where("state = ?", st).Group("address, severity").Scan(&rows).Error; err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// OldestLive is the live items first seen longest ago, up to limit, each
// state read from the start of its (state, first_seen, id) range.
func (s *Service) OldestLive(ctx context.Context, limit int) ([]models.DriftItem, error) {
	var out []models.DriftItem
	for _, st := range []string{Open, Acknowledged} {
		var rows []models.DriftItem
		if err := s.DB().WithContext(ctx).Where("state = ?", st).Order("first_seen, id").Limit(limit).Find(&rows).Error; err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	slices.SortFunc(out, func(a, b models.DriftItem) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(limit, len(out))], nil
}

// TeamAssetDrift is one of a team's assets with live drift.
type TeamAssetDrift struct {
	AssetID           uint
	Address, Hostname string
	N                 int
}

// liveOnTeamAssets is the join of a team's assets, read from (owner_team,
// address), to their live items, read from (address, state).
func (s *Service) liveOnTeamAssets(ctx context.Context, team string) *gorm.DB {
	return s.DB().WithContext(ctx).Table("assets").
		Joins("JOIN drift_items ON drift_items.address = assets.address AND drift_items.state IN ?", []string{Open, Acknowledged}).
		Where("assets.owner_team = ?", team)
}

// CountLiveOnTeamAssets counts the live items on the assets a team owns.
func (s *Service) CountLiveOnTeamAssets(ctx context.Context, team string) (int, error) {
	if team == "" {
		return 0, nil
	}
	var n int64
	err := s.liveOnTeamAssets(ctx, team).Count(&n).Error
	return int(n), err
}

// LiveOnTeamAssets lists a team's assets with live items, most items first
// (up to limit): what the team's home page points at. Anyone may read it,
// as anyone may read an asset's page.
func (s *Service) LiveOnTeamAssets(ctx context.Context, team string, limit int) ([]TeamAssetDrift, error) {
	var out []TeamAssetDrift
	if team == "" {
		return out, nil
	}
	err := s.liveOnTeamAssets(ctx, team).
		Select("assets.id AS asset_id, assets.address, assets.hostname, COUNT(*) AS n").
		Group("assets.id, assets.address, assets.hostname").Order("n DESC, assets.address").Limit(limit).Scan(&out).Error
	return out, err
}
