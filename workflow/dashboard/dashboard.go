package dashboard

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
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
	Waiting   map[requests.State]int
	Expiring  []models.Request // in force, expiring within 30 days
	LastScans []ZoneScan
	// Riskiest are the assets (or addresses not in the inventory) with the
	// most severe live drift; Oldest the live items first seen longest ago.
	Riskiest []AssetRisk
	Oldest   []OldDrift
}

// AssetRisk is one address's live drift, by severity, and its score.
type AssetRisk struct {
	Address    string
	Asset      *models.Asset // nil: not in the inventory
	BySeverity map[string]int
	Score      int
}

// OldDrift is a live item and the asset it is on (nil: not in the inventory).
type OldDrift struct {
	Item  models.DriftItem
	Asset *models.Asset
}

// severityWeight ranks assets: one critical item outweighs several lesser ones.
var severityWeight = map[string]int{"critical": 100, "high": 30, "medium": 8, "low": 2, "info": 1}

// listed is how many riskiest assets and oldest items the dashboard shows.
const listed = 8

// Dashboard gathers the morning view, the same for everybody who may see
// it. The returned view is shared: callers read it and never change it.
func (s *Service) Dashboard(ctx context.Context, actor core.Actor) (*Dashboard, error) {
	if err := drift.CanSee(actor); err != nil {
		return nil, err
	}
	return s.view.Get(s.Store, func() (*Dashboard, error) { return s.build(ctx) })
}

// build counts everything in the database, by the feature that owns the
// table: a year of history is never loaded into memory.
func (s *Service) build(ctx context.Context) (*Dashboard, error) {
	d := &Dashboard{OpenBySeverity: map[string]int{}, OpenByKind: map[string]int{}, Heat: map[string]map[string]int{}}
	live, err := s.drift.LiveCounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range live {
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
	zones, err := s.inventory.ListZones(ctx)
	if err != nil {
		return nil, err
	}
	var scanned []models.Zone
	for _, z := range zones {
		if z.Classification != string(inventory.ClassInternet) {
			scanned = append(scanned, z)
			d.Zones = append(d.Zones, z.Name)
		}
	}
	// Zones whose last run cannot be read show as not scanned; the rest of the view still opens.
	latest, err := s.scans.LatestRunsOfZones(ctx, d.Zones)
	if err != nil {
		s.Log().Warn("dashboard: latest scans", "err", err)
	}
	for _, z := range scanned {
		zs := ZoneScan{Zone: z.Name, Classification: z.Classification}
		if run, ok := latest[z.Name]; ok {
			zs.Last, zs.Status, zs.RunID = run.StartedAt, run.Status, run.ID
		}
		d.LastScans = append(d.LastScans, zs)
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
	opened, resolved, err := s.trend(ctx, start, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	for day, n := range opened {
		if c := byDay[day]; c != nil {
			c.Opened += n
		}
	}
	for day, n := range resolved {
		if c := byDay[day]; c != nil {
			c.Resolved += n
		}
	}
	if d.Waiting, err = s.requests.CountInStates(ctx, []requests.State{requests.StateSubmitted, requests.StateInReview, requests.StateChangesRequested, requests.StateApproved, requests.StateImplemented, requests.StateVerificationFailed}); err != nil {
		return nil, err
	}
	if d.Expiring, err = s.requests.ExpiringBefore(ctx, now.AddDate(0, 0, 30), 20); err != nil {
		return nil, err
	}
	if err := s.riskiestAndOldest(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// riskiestAndOldest ranks the addresses by their live drift and reads the
// oldest live items, then the assets of both in one lookup.
func (s *Service) riskiestAndOldest(ctx context.Context, d *Dashboard) error {
	counts, err := s.drift.LiveOfRiskiest(ctx, severityWeight, listed)
	if err != nil {
		return err
	}
	byAddress := map[string]*AssetRisk{}
	for _, c := range counts {
		r := byAddress[c.Address]
		if r == nil {
			r = &AssetRisk{Address: c.Address, BySeverity: map[string]int{}}
			byAddress[c.Address] = r
		}
		r.BySeverity[c.Severity] += c.N
		r.Score += c.N * max(1, severityWeight[c.Severity])
	}
	for _, r := range byAddress {
		d.Riskiest = append(d.Riskiest, *r)
	}
	slices.SortFunc(d.Riskiest, func(a, b AssetRisk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Address, b.Address))
	})
	d.Riskiest = d.Riskiest[:min(listed, len(d.Riskiest))]
	oldest, err := s.drift.OldestLive(ctx, listed)
	if err != nil {
		return err
	}
	var addresses []string
	for _, r := range d.Riskiest {
		addresses = append(addresses, r.Address)
	}
	for _, it := range oldest {
		addresses = append(addresses, it.Address)
	}
	assets, err := s.inventory.AssetsByAddress(ctx, addresses)
	if err != nil {
		return err
	}
	find := func(address string) *models.Asset {
		if a, ok := assets[address]; ok {
			return &a
		}
		return nil
	}
	for i := range d.Riskiest {
		d.Riskiest[i].Asset = find(d.Riskiest[i].Address)
	}
	for _, it := range oldest {
		d.Oldest = append(d.Oldest, OldDrift{Item: it, Asset: find(it.Address)})
	}
	return nil
}

// trend counts the items opened and resolved per day from start: the days
// before today from the once-a-day counts, today from the database.
func (s *Service) trend(ctx context.Context, start, today time.Time) (opened, resolved map[string]int, err error) {
	day := today.Format(time.DateOnly)
	s.past.Lock()
	if s.past.today != day {
		o, r, err := s.drift.OpenedAndResolvedByDay(ctx, start)
		if err != nil {
			s.past.Unlock()
			return nil, nil, err
		}
		delete(o, day)
		delete(r, day)
		s.past.today, s.past.opened, s.past.resolved = day, o, r
	}
	opened, resolved = maps.Clone(s.past.opened), maps.Clone(s.past.resolved)
	s.past.Unlock()
	o, r, err := s.drift.OpenedAndResolvedByDay(ctx, today)
	if err != nil {
		return nil, nil, err
	}
	opened[day], resolved[day] = o[day], r[day]
	return opened, resolved, nil
}
