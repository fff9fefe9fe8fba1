package drift

import (
	"context"
	"time"

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
