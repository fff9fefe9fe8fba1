package scans

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// Schedule is a zone's scan schedule as admins see it.
type Schedule struct {
	Zone       models.Zone
	DailyHour  int // UTC; -1 off
	WeeklyDay  int // 0 Sunday … 6 Saturday; -1 off
	WeeklyHour int
	Assets     int
	// LastDaily and LastWeekly are the latest runs each slot queued (nil:
	// none yet); NextDaily and NextWeekly when the slots come next (nil: off).
	LastDaily, LastWeekly *RunBrief
	NextDaily, NextWeekly *time.Time
}

// RunBrief is what a schedule shows of a run it queued.
type RunBrief struct {
	ID         uint
	Status     string
	QueuedAt   time.Time
	FinishedAt *time.Time
	Summary    string
}

// nextDaily is the first hour:00 UTC after now; nil when off.
func nextDaily(now time.Time, hour int) *time.Time {
	if hour < 0 {
		return nil
	}
	now = now.UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, time.UTC)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return &t
}

// nextWeekly is the first weekday at hour:00 UTC after now; nil when off.
func nextWeekly(now time.Time, day, hour int) *time.Time {
	if day < 0 || hour < 0 {
		return nil
	}
	now = now.UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, time.UTC)
	t = t.AddDate(0, 0, (day-int(t.Weekday())+7)%7)
	if !t.After(now) {
		t = t.AddDate(0, 0, 7)
	}
	return &t
}

// defaultSchedule: the common ports at 02:00 UTC daily, every port on Sunday at 03:00.
var defaultSchedule = models.ScanSchedule{DailyHour: 2, WeeklyDay: 0, WeeklyHour: 3}

// Schedules lists every zone's schedule.
func (s *Service) Schedules(ctx context.Context) ([]Schedule, error) {
	db := s.DB().WithContext(ctx)
	var zones []models.Zone
	if err := db.Order("name").Find(&zones).Error; err != nil {
		return nil, err
	}
	var rows []models.ScanSchedule
	if err := db.Find(&rows).Error; err != nil {
		return nil, err
	}
	byZone := map[uint]models.ScanSchedule{}
	for _, r := range rows {
		byZone[r.ZoneID] = r
	}
	assets, err := s.inventory.AssetCountsByZone(ctx)
	if err != nil {
		return nil, err
	}
	last, err := lastScheduledRuns(db)
	if err != nil {
		return nil, err
	}
	var out []Schedule
	for _, z := range zones {
		row, ok := byZone[z.ID]
		if !ok {
			row = defaultSchedule
		}
		sc := Schedule{Zone: z, DailyHour: row.DailyHour, WeeklyDay: row.WeeklyDay, WeeklyHour: row.WeeklyHour, Assets: assets[z.ID]}
		sc.LastDaily = last[[2]string{"daily", z.Name}]
		sc.LastWeekly = last[[2]string{"weekly", z.Name}]
		sc.NextDaily, sc.NextWeekly = nextDaily(s.Now(), row.DailyHour), nextWeekly(s.Now(), row.WeeklyDay, row.WeeklyHour)
		out = append(out, sc)
	}
	return out, nil
}

// lastScheduledRuns is each zone's latest daily and weekly run, by (kind,
// zone): one query, each zone's latest run of each kind found from the
// index on (kind, zone, id) without reading the history.
func lastScheduledRuns(db *gorm.DB) (map[[2]string]*RunBrief, error) {
	var rows []struct {
		Name          string
		Daily, Weekly *uint
	}
	if err := db.Raw(`SELECT z.name,
		(SELECT MAX(r.id) FROM scan_runs r WHERE r.kind = 'daily' AND r.zone = z.name) AS daily,
		(SELECT MAX(r.id) FROM scan_runs r WHERE r.kind = 'weekly' AND r.zone = z.name) AS weekly
		FROM zones z`).Scan(&rows).Error; err != nil {
		return nil, err
	}
	var ids []uint
	for _, r := range rows {
		for _, id := range []*uint{r.Daily, r.Weekly} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	out := map[[2]string]*RunBrief{}
	if len(ids) == 0 {
		return out, nil
	}
	var runs []models.ScanRun
	if err := db.Select("id, kind, zone, status, queued_at, finished_at, summary").Where("id IN ?", ids).Find(&runs).Error; err != nil {
		return nil, err
	}
	for _, r := range runs {
		out[[2]string{r.Kind, r.Zone}] = &RunBrief{ID: r.ID, Status: r.Status, QueuedAt: r.QueuedAt, FinishedAt: r.FinishedAt, Summary: r.Summary}
	}
	return out, nil
}

// SaveSchedule sets a zone's schedule, audited.
func (s *Service) SaveSchedule(ctx context.Context, actor core.Actor, zoneID uint, dailyHour, weeklyDay, weeklyHour int) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden(core.M("err.scans.schedule_admin", "you need the admin role to change scan schedules"))
	}
	var errs core.FieldErrors
	if dailyHour < -1 || dailyHour > 23 {
		errs.Add("daily_hour", core.M("err.scans.daily_hour", "the daily hour is 0 to 23, or off"))
	}
	if weeklyDay < -1 || weeklyDay > 6 {
		errs.Add("weekly_day", core.M("err.scans.weekly_day", "the weekly day is Sunday to Saturday, or off"))
	}
	if weeklyHour < 0 || weeklyHour > 23 {
		errs.Add("weekly_hour", core.M("err.scans.weekly_hour", "the weekly hour is 0 to 23"))
	}
	if len(errs) > 0 {
		return errs
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var z models.Zone
		if err := tx.First(&z, zoneID).Error; err != nil {
			return core.NotFound("zone", zoneID)
		}
		row := models.ScanSchedule{ZoneID: zoneID, DailyHour: dailyHour, WeeklyDay: weeklyDay, WeeklyHour: weeklyHour, UpdatedAt: s.Now()}
		if err := tx.Omit("Zone").Save(&row).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "scan.schedule", "zone", zoneID, "", "", map[string]int{"daily_hour": dailyHour, "weekly_day": weeklyDay, "weekly_hour": weeklyHour}, "")
	})
}

// SlotArgs is the River job that queues one zone's scheduled scan for one
// slot (a day's daily scan, a week's full scan). It is unique by its
// arguments: two instances that find the same slot due insert one job, and
// its worker queues one run.
type SlotArgs struct {
	ZoneID uint      `json:"zone_id"`
	Sched  string    `json:"kind"` // daily | weekly
	At     time.Time `json:"at"`   // the slot's time
}

// Kind names the job.
func (SlotArgs) Kind() string { return "scan_slot" }

// slotProfiles is the profile each scheduled kind scans with.
var slotProfiles = map[string]string{"daily": "common", "weekly": "full"}

// ScheduleDue queues a slot job for each daily and weekly scan whose time
// has come and that has not run since. Any instance may run it at any time:
// the slot jobs are unique. It returns how many slots it found due.
func (s *Service) ScheduleDue(ctx context.Context) (int, error) {
	schedules, err := s.Schedules(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Now()
	due := 0
	for _, sc := range schedules {
		if sc.Assets == 0 || sc.Zone.Classification == string(inventory.ClassInternet) {
			continue
		}
		type slot struct {
			kind string
			at   time.Time
			last *time.Time
			on   bool
		}
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		daily := today.Add(time.Duration(sc.DailyHour) * time.Hour)
		if daily.After(now) {
			daily = daily.AddDate(0, 0, -1)
		}
		weekly := today.AddDate(0, 0, -((int(now.Weekday())-sc.WeeklyDay)+7)%7).Add(time.Duration(sc.WeeklyHour) * time.Hour)
		if weekly.After(now) {
			weekly = weekly.AddDate(0, 0, -7)
		}
		queuedAt := func(b *RunBrief) *time.Time {
			if b == nil {
				return nil
			}
			return &b.QueuedAt
		}
		for _, sl := range []slot{
			{"daily", daily, queuedAt(sc.LastDaily), sc.DailyHour >= 0},
			{"weekly", weekly, queuedAt(sc.LastWeekly), sc.WeeklyDay >= 0},
		} {
			// A slot that came before the zone existed is not owed: a new
			// zone waits for its next slot instead of a backlog of full scans.
			if !sl.on || (sl.last != nil && !sl.last.Before(sl.at)) || sl.at.Before(sc.Zone.CreatedAt) {
				continue
			}
			err := s.InTx(ctx, func(tx *gorm.DB) error {
				return s.Enqueue(tx, SlotArgs{ZoneID: sc.Zone.ID, Sched: sl.kind, At: sl.at},
					&river.InsertOpts{Queue: QueueScans, UniqueOpts: river.UniqueOpts{ByArgs: true}})
			})
			if err != nil {
				return due, err
			}
			due++
		}
	}
	return due, nil
}

// QueueSlot queues the scheduled run of one slot, unless a run of that
// zone and kind was queued at or after the slot's time. It returns the run,
// or nil when none was owed.
func (s *Service) QueueSlot(ctx context.Context, slot SlotArgs) (*models.ScanRun, error) {
	profile, ok := slotProfiles[slot.Sched]
	if !ok {
		return nil, fmt.Errorf("scan slot: kind %q is not daily or weekly", slot.Sched)
	}
	var run *models.ScanRun
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		var z models.Zone
		if err := tx.First(&z, slot.ZoneID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil // the zone was deleted meanwhile
			}
			return err
		}
		var later int64
		if err := tx.Model(&models.ScanRun{}).Where("kind = ? AND zone = ? AND queued_at >= ?", slot.Sched, z.Name, slot.At).Count(&later).Error; err != nil {
			return err
		}
		if later > 0 {
			return nil
		}
		addrs, err := s.scanTargets(tx, []string{z.Name})
		if core.ErrorCodeOf(err) == core.CodeInvalid {
			return nil // no assets left, or none this server may scan (a demo server outside loopback)
		}
		if err != nil {
			return err
		}
		run, err = s.enqueue(tx, core.SystemActor, models.ScanRun{Kind: slot.Sched, Profile: profile, Zone: z.Name, Targets: strings.Join(addrs, ",")})
		return err
	})
	return run, err
}
