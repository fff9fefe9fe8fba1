package scans

import (
	"context"

	"github.com/portcullis/portcullis/models"
)

// LatestRunsOfZones is each zone's latest run that started (done, failed or
// running), its own or an on-demand one, without its report; a zone never
// scanned is absent. Two grouped queries, whatever the number of zones.
func (s *Service) LatestRunsOfZones(ctx context.Context, zones []string) (map[string]models.ScanRun, error) {
	db := s.DB().WithContext(ctx)
	started := []string{"done", "failed", "running"}
	// Each zone's latest from the index on (zone, id), walking back from the
	// newest run to the first that started: no read of the history.
	var latest []struct {
		Zone string
		ID   *uint
	}
	if err := db.Raw(`SELECT z.name AS zone, (SELECT r.id FROM scan_runs r WHERE r.zone = z.name AND r.status IN ?
		ORDER BY r.id DESC LIMIT 1) AS id FROM zones z WHERE z.name IN ?`, started, zones).Scan(&latest).Error; err != nil {
		return nil, err
	}
	// An on-demand run names no zone: it counts for every zone, as the latest look at its hosts.
	var onDemand []uint
	if err := db.Model(&models.ScanRun{}).Where("zone = '' AND kind = ? AND status IN ?", "on_demand", started).
		Order("id DESC").Limit(1).Pluck("id", &onDemand).Error; err != nil {
		return nil, err
	}
	ids := make([]uint, 0, len(latest)+1)
	for _, l := range latest {
		if l.ID != nil {
			ids = append(ids, *l.ID)
		}
	}
	ids = append(ids, onDemand...)
	out := map[string]models.ScanRun{}
	if len(ids) == 0 {
		return out, nil
	}
	var runs []models.ScanRun
	if err := db.Omit("report", "progress").Where("id IN ?", ids).Find(&runs).Error; err != nil {
		return nil, err
	}
	byID := map[uint]models.ScanRun{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	for _, z := range zones {
		best := uint(0)
		for _, l := range latest {
			if l.Zone == z && l.ID != nil {
				best = *l.ID
			}
		}
		if len(onDemand) == 1 && onDemand[0] > best {
			best = onDemand[0]
		}
		if r, ok := byID[best]; ok {
			out[z] = r
		}
	}
	return out, nil
}
