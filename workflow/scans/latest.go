package scans

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// LatestRunOfZone is the zone's latest run that started (done, failed or
// running), its own or an on-demand one, without its report; nil if none.
func (s *Service) LatestRunOfZone(ctx context.Context, zone string) (*models.ScanRun, error) {
	var run models.ScanRun
	err := s.DB().WithContext(ctx).Omit("report").Where("zone = ? OR (zone = '' AND kind = ?)", zone, "on_demand").
		Where("status IN ?", []string{"done", "failed", "running"}).Order("id DESC").Take(&run).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &run, nil
}
