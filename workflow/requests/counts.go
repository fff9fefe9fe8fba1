package requests

import (
	"context"
	"time"

	"github.com/portcullis/portcullis/models"
)

// CountInStates counts every request in each of the states, whoever filed it.
func (s *Service) CountInStates(ctx context.Context, states []State) (map[State]int, error) {
	var rows []struct {
		State string
		N     int
	}
	if err := s.DB().WithContext(ctx).Model(&models.Request{}).Select("state, COUNT(*) AS n").Where("state IN ?", states).Group("state").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[State]int{}
	for _, r := range rows {
		out[State(r.State)] = r.N
	}
	return out, nil
}

// ExpiringBefore lists up to limit openings in force that expire before t, soonest first.
func (s *Service) ExpiringBefore(ctx context.Context, t time.Time, limit int) ([]models.Request, error) {
	var out []models.Request
	err := s.DB().WithContext(ctx).Where("state IN ? AND expires_at < ?", InForceStates, t).Order("expires_at").Limit(limit).Find(&out).Error
	return out, err
}
