package drift

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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

// LiveOfRiskiest counts the live items per severity of the limit addresses
// whose live drift weighs most (an item weighs weights[severity], at least
// 1; ties go to the lower address). The ranking is summed in the database:
// read into Go it was every address's counts (~50,000 rows at 200,000
// items), most of the dashboard's 300 ms rebuild.
func (s *Service) LiveOfRiskiest(ctx context.Context, weights map[string]int, limit int) ([]AddressCount, error) {
	db := s.DB().WithContext(ctx)
	weight, args := "CASE severity", []any{}
	for _, sev := range slices.Sorted(maps.Keys(weights)) {
		weight += " WHEN ? THEN ?"
		args = append(args, sev, max(1, weights[sev]))
	}
	weight += " ELSE 1 END"
	// Byte order, as Go compares strings, whatever the database's collation.
	byAddress := "address COLLATE BINARY"
	if db.Dialector.Name() == "postgres" {
		byAddress = `address COLLATE "C"`
	}
	var top []string
	if err := db.Model(&models.DriftItem{}).Select("address").Where("state IN ?", []string{Open, Acknowledged}).Group("address").
		Order(clause.Expr{SQL: "SUM(" + weight + ") DESC, " + byAddress, Vars: args}).Limit(limit).Scan(&top).Error; err != nil {
		return nil, err
	}
	if len(top) == 0 {
		return nil, nil
	}
	var out []AddressCount
	if err := db.Model(&models.DriftItem{}).Select("address, severity, COUNT(*) AS n").
		Where("state IN ? AND address IN ?", []string{Open, Acknowledged}, top).Group("address, severity").Scan(&out).Error; err != nil {
		return nil, err
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
// as anyone may read an asset's page. The list is shared by the team's
// members until something changes: callers do not modify it.
func (s *Service) LiveOnTeamAssets(ctx context.Context, team string, limit int) ([]TeamAssetDrift, error) {
	if team == "" {
		return nil, nil
	}
	return s.teamAssets.Get(s.Store, teamLimit{team, limit}, func() ([]TeamAssetDrift, error) { return s.rankTeamAssets(ctx, team, limit) })
}

// rankTeamAssets counts the live items on each of a team's assets. The
// ranking reads the two indexes alone, grouped by address (a team of 500
// assets would otherwise read 500 asset rows for the 5 it shows); the id
// and hostname are read for the listed assets only.
func (s *Service) rankTeamAssets(ctx context.Context, team string, limit int) ([]TeamAssetDrift, error) {
	var out []TeamAssetDrift
	var ranked []struct {
		Address string
		N       int
	}
	if err := s.liveOnTeamAssets(ctx, team).Select("assets.address, COUNT(*) AS n").
		Group("assets.address").Order("n DESC, assets.address").Limit(limit).Scan(&ranked).Error; err != nil || len(ranked) == 0 {
		return out, err
	}
	addrs := make([]string, len(ranked))
	for i, r := range ranked {
		addrs[i] = r.Address
	}
	var found []TeamAssetDrift
	if err := s.DB().WithContext(ctx).Table("assets").Select("id AS asset_id, address, hostname").
		Where("address IN ?", addrs).Scan(&found).Error; err != nil {
		return nil, err
	}
	byAddress := make(map[string]TeamAssetDrift, len(found))
	for _, a := range found {
		byAddress[a.Address] = a
	}
	for _, r := range ranked {
		// An asset deleted between the two reads is left out.
		if a, ok := byAddress[r.Address]; ok {
			a.N = r.N
			out = append(out, a)
		}
	}
	return out, nil
}
