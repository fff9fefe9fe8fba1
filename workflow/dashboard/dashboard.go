package dashboard

import (
	"context"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// DayCount is one day of the drift trend.
type DayCount struct {
	Day              time.Time
	Opened, Resolved int
}

// ZoneScan is when a zone was last scanned.
type ZoneScan struct {
	Zone, Classification string
	Last                 *time.Time
	Status               string
	RunID                uint
}

// Dashboard is what a security lead reads every morning.
type Dashboard struct {
	OpenBySeverity map[string]int
	OpenByKind     map[string]int
	// Heat counts open drift by zone and severity.
	Heat      map[string]map[string]int
	Zones     []string
	Trend     []DayCount // the last 30 days, oldest first
	Waiting   map[core.State]int
	Expiring  []models.Request // in force, expiring within 30 days
	LastScans []ZoneScan
}

// Dashboard gathers the morning view. Everything is counted in the
// database: a year of history is never loaded into memory.
func (s *Service) Dashboard(ctx context.Context, actor core.Actor) (*Dashboard, error) {
	if err := drift.CanSee(actor); err != nil {
		return nil, err
	}
	db := s.DB().WithContext(ctx)
	d := &Dashboard{OpenBySeverity: map[string]int{}, OpenByKind: map[string]int{}, Heat: map[string]map[string]int{}, Waiting: map[core.State]int{}}
	var rows []struct {
		Zone, Severity, Kind string
		N                    int
	}
	live := []string{drift.Open, drift.Acknowledged}
	if err := db.Model(&models.DriftItem{}).Select("zone, severity, kind, COUNT(*) AS n").Where("state IN ?", live).Group("zone, severity, kind").Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		d.OpenBySeverity[r.Severity] += r.N
		d.OpenByKind[r.Kind] += r.N
		zone := r.Zone
		if zone == "" {
			zone = "(no zone)"
		}
		if d.Heat[zone] == nil {
			d.Heat[zone] = map[string]int{}
		}
		d.Heat[zone][r.Severity] += r.N
	}
	var zones []models.Zone
	if err := db.Order("name").Find(&zones).Error; err != nil {
		return nil, err
	}
	for _, z := range zones {
		if z.Classification != string(inventory.ClassInternet) {
			d.Zones = append(d.Zones, z.Name)
		}
		zs := ZoneScan{Zone: z.Name, Classification: z.Classification}
		var run models.ScanRun
		if err := db.Omit("report").Where("zone = ? OR (zone = '' AND kind = ?)", z.Name, "on_demand").Where("status IN ?", []string{"done", "failed", "running"}).Order("id DESC").Take(&run).Error; err == nil {
			zs.Last, zs.Status, zs.RunID = run.StartedAt, run.Status, run.ID
		}
		if z.Classification != string(inventory.ClassInternet) {
			d.LastScans = append(d.LastScans, zs)
		}
	}
	now := s.Now()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -29)
	byDay := map[string]*DayCount{}
	for i := 0; i < 30; i++ {
		day := start.AddDate(0, 0, i)
		d.Trend = append(d.Trend, DayCount{Day: day})
	}
	for i := range d.Trend {
		byDay[d.Trend[i].Day.Format(time.DateOnly)] = &d.Trend[i]
	}
	var opened, resolved []time.Time
	if err := db.Model(&models.DriftItem{}).Where("first_seen >= ?", start).Pluck("first_seen", &opened).Error; err != nil {
		return nil, err
	}
	if err := db.Model(&models.DriftItem{}).Where("resolved_at >= ?", start).Pluck("resolved_at", &resolved).Error; err != nil {
		return nil, err
	}
	for _, t := range opened {
		if c := byDay[t.UTC().Format(time.DateOnly)]; c != nil {
			c.Opened++
		}
	}
	for _, t := range resolved {
		if c := byDay[t.UTC().Format(time.DateOnly)]; c != nil {
			c.Resolved++
		}
	}
	var waiting []struct {
		State string
		N     int
	}
	if err := db.Model(&models.Request{}).Select("state, COUNT(*) AS n").Where("state IN ?", []core.State{core.StateSubmitted, core.StateInReview, core.StateChangesRequested, core.StateApproved, core.StateImplemented, core.StateVerificationFailed}).Group("state").Scan(&waiting).Error; err != nil {
		return nil, err
	}
	for _, w := range waiting {
		d.Waiting[core.State(w.State)] = w.N
	}
	if err := db.Where("state IN ? AND expires_at < ?", core.InForceStates, now.AddDate(0, 0, 30)).Order("expires_at").Limit(20).Find(&d.Expiring).Error; err != nil {
		return nil, err
	}
	return d, nil
}
