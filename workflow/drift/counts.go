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
	var rows []LiveCount
	err := s.DB().WithContext(ctx).Model(&models.DriftItem{}).Select("zone, severity, kind, COUNT(*) AS n").
		Where("state IN ?", []string{Open, Acknowledged}).Group("zone, severity, kind").Scan(&rows).Error
	return rows, err
}

// OpenedAndResolvedSince lists when items were first seen and when items
// were resolved, from start on: the trend's raw points.
func (s *Service) OpenedAndResolvedSince(ctx context.Context, start time.Time) (opened, resolved []time.Time, err error) {
	db := s.DB().WithContext(ctx)
	if err := db.Model(&models.DriftItem{}).Where("first_seen >= ?", start).Pluck("first_seen", &opened).Error; err != nil {
		return nil, nil, err
	}
	if err := db.Model(&models.DriftItem{}).Where("resolved_at >= ?", start).Pluck("resolved_at", &resolved).Error; err != nil {
		return nil, nil, err
	}
	return opened, resolved, nil
}
