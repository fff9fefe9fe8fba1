package reporting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/periodic"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// chunk bounds the values of one IN list.
const chunk = 500

// GenerateAfterScan makes the reports that follow a finished scheduled scan
// run: the zone's, and one per owner team with assets in the zone, for the
// run's day (daily run) or week (weekly run), and queues their e-mails. A
// period's reports are made once: calling it again, for this run or another
// of the same period, changes nothing. Runs that are not a zone's daily or
// weekly scan are ignored.
func (s *Service) GenerateAfterScan(ctx context.Context, runID uint) error {
	db := s.DB().WithContext(ctx)
	var run models.ScanRun
	if err := db.Omit("report", "progress").First(&run, runID).Error; err != nil {
		return fmt.Errorf("report after scan %d: %w", runID, err)
	}
	kind, ok := periodic.ParseKind(run.Kind)
	if !ok || run.Status != string(scans.StateDone) || run.Zone == "" {
		return nil
	}
	period := kind.Period(run.QueuedAt)
	var have int64
	if err := db.Model(&models.PeriodicReport{}).Where("kind = ? AND zone = ? AND team = '' AND period = ?", kind, run.Zone, period).Count(&have).Error; err != nil {
		return err
	}
	if have > 0 {
		return nil
	}
	to := s.Now()
	zoneIn, teams, err := s.inputs(db, kind, run.Zone, &run, to)
	if err != nil {
		return err
	}
	reps := []periodic.Report{periodic.Compute(zoneIn)}
	for _, t := range teams {
		reps = append(reps, periodic.Compute(forTeam(zoneIn, t)))
	}
	// The stored headline (as recorded) is in the server's default
	// language; its figures are kept too, for each reader's (Headline).
	lang := s.Language("", "")
	return s.InTx(ctx, func(tx *gorm.DB) error {
		for _, r := range reps {
			content, err := json.Marshal(r)
			if err != nil {
				return err
			}
			facts, err := json.Marshal(r.HeadlineFacts())
			if err != nil {
				return err
			}
			id := run.ID
			row := models.PeriodicReport{Kind: string(kind), Zone: r.Zone, Team: r.Team, Period: period, WindowStart: r.From, WindowEnd: r.To,
				RunID: &id, NothingNew: r.NothingNew, Headline: r.Headline(lang), HeadlineFacts: string(facts), Content: string(content), CreatedAt: to}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue // made meanwhile by another instance
			}
			if err := s.queueDeliveries(tx, row); err != nil {
				return err
			}
		}
		return nil
	})
}

// GenerateMissing makes the reports of scheduled runs that finished within
// their window and have none yet (the server stopped between the scan and
// its report, say). It returns how many runs it made reports for.
func (s *Service) GenerateMissing(ctx context.Context) (int, error) {
	db := s.DB().WithContext(ctx)
	now := s.Now()
	var runs []models.ScanRun
	if err := db.Select("id, kind, zone, queued_at, finished_at").Where("kind IN ? AND status = ? AND zone <> '' AND finished_at > ?",
		[]string{string(periodic.Daily), string(periodic.Weekly)}, string(scans.StateDone), now.Add(-periodic.Weekly.Window())).
		Order("id").Find(&runs).Error; err != nil {
		return 0, err
	}
	var have []models.PeriodicReport
	if err := db.Select("kind, zone, period").Where("team = '' AND created_at > ?", now.Add(-2*periodic.Weekly.Window())).Find(&have).Error; err != nil {
		return 0, err
	}
	made := map[string]bool{}
	for _, r := range have {
		made[r.Kind+"\x00"+r.Zone+"\x00"+r.Period] = true
	}
	n := 0
	for _, run := range runs {
		kind := periodic.Kind(run.Kind)
		key := run.Kind + "\x00" + run.Zone + "\x00" + kind.Period(run.QueuedAt)
		if made[key] {
			continue
		}
		if run.FinishedAt == nil || now.Sub(*run.FinishedAt) > kind.Window() {
			continue
		}
		if err := s.GenerateAfterScan(ctx, run.ID); err != nil {
			return n, err
		}
		made[key] = true
		n++
	}
	return n, nil
}

// Compute makes a report on demand without storing it: the zone's (team
// "") or one team's in it, for the window of kind that ends at at, from the
// latest scan of that kind finished by then.
func (s *Service) Compute(ctx context.Context, actor core.Actor, kind periodic.Kind, zone, team string, at time.Time) (periodic.Report, error) {
	if !CanSee(actor, team) {
		return periodic.Report{}, refuse(team)
	}
	db := s.DB().WithContext(ctx)
	in, teams, err := s.inputs(db, kind, zone, nil, at)
	if err != nil {
		return periodic.Report{}, err
	}
	if team == "" {
		return periodic.Compute(in), nil
	}
	if !slices.Contains(teams, team) {
		return periodic.Report{}, core.Invalid("team", core.M("err.reporting.team_not_in_zone", "no asset of zone {{.Zone}} is owned by team {{.Team}} (teams there: {{.Teams}})", "Zone", in.Zone, "Team", strconv.Quote(team), "Teams", strings.Join(teams, ", ")))
	}
	return periodic.Compute(forTeam(in, team)), nil
}

// inputs reads what a zone's report is computed from, and the owner teams
// with assets in the zone. current is the run the report follows; nil
// means the latest of kind finished by to.
func (s *Service) inputs(db *gorm.DB, kind periodic.Kind, zoneName string, current *models.ScanRun, to time.Time) (periodic.Input, []string, error) {
	var z models.Zone
	if err := db.Where("name = ?", zoneName).Take(&z).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return periodic.Input{}, nil, core.Invalid("zone", core.M("err.reporting.no_zone", "there is no zone {{.Zone}}", "Zone", strconv.Quote(zoneName)))
		}
		return periodic.Input{}, nil, err
	}
	in := periodic.Input{Kind: kind, Zone: z.Name, Classification: z.Classification, From: to.Add(-kind.Window()), To: to}
	var assets []models.Asset
	if err := db.Where("zone_id = ?", z.ID).Order("address").Find(&assets).Error; err != nil {
		return in, nil, err
	}
	var teams, addrs []string
	for _, a := range assets {
		in.Assets = append(in.Assets, periodic.Asset{Address: a.Address, Hostname: a.Hostname, Team: a.OwnerTeam})
		addrs = append(addrs, a.Address)
		if a.OwnerTeam != "" && !slices.Contains(teams, a.OwnerTeam) {
			teams = append(teams, a.OwnerTeam)
		}
	}
	slices.Sort(teams)

	runs := db.Model(&models.ScanRun{}).Omit("report", "progress")
	if current == nil {
		var latest models.ScanRun
		err := runs.Where("kind = ? AND zone = ? AND status = ? AND finished_at <= ?", kind, z.Name, scans.StateDone, to).Order("id DESC").Take(&latest).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return in, nil, err
		}
		if err == nil {
			current = &latest
		}
	}
	if current != nil {
		var err error
		if in.Current, err = scanOf(db, *current); err != nil {
			return in, nil, err
		}
		// The previous scan of the same scope: this zone's run of the same
		// kind, never a verification or an on-demand scan of a few ports.
		var prev models.ScanRun
		err = db.Model(&models.ScanRun{}).Omit("report", "progress").Where("kind = ? AND zone = ? AND status = ? AND id < ?", kind, z.Name, scans.StateDone, current.ID).
			Order("id DESC").Take(&prev).Error
		switch {
		case err == nil:
			if in.Previous, err = scanOf(db, prev); err != nil {
				return in, nil, err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return in, nil, err
		}
	}

	for start := 0; start < len(addrs); start += chunk {
		part := addrs[start:min(start+chunk, len(addrs))]
		var items []models.DriftItem
		if err := db.Where("address IN ? AND (state <> ? OR resolved_at > ?)", part, drift.Resolved, in.From).Find(&items).Error; err != nil {
			return in, nil, err
		}
		for _, d := range items {
			in.Drift = append(in.Drift, periodic.DriftItem{ID: d.ID, Kind: d.Kind, Severity: d.Severity, State: d.State, Address: d.Address,
				Protocol: d.Protocol, Service: d.Service, Detail: d.Detail, Port: d.Port, FirstSeen: d.FirstSeen, ResolvedAt: d.ResolvedAt})
		}
	}

	reaching, err := drift.RulesReaching(db, addrs, []string{z.Name}, requests.InForceStates)
	if err != nil {
		return in, nil, err
	}
	for _, rr := range reaching {
		ports, err := policy.ParsePorts(rr.Rule.Ports)
		if err != nil {
			continue
		}
		ru := periodic.Rule{RequestID: rr.Request.ID, Title: rr.Request.Title, Team: rr.Request.Team, Expires: rr.Request.ExpiresAt,
			Source: rr.Rule.Source, Protocol: rr.Rule.Protocol, Ports: ports, Service: rr.Rule.Service}
		if strings.EqualFold(rr.Rule.Destination, z.Name) {
			ru.Addresses = addrs
		} else {
			for _, a := range strings.Split(rr.Rule.Destination, ",") {
				if slices.Contains(addrs, a) {
					ru.Addresses = append(ru.Addresses, a)
				}
			}
		}
		in.Rules = append(in.Rules, ru)
	}
	p, err := s.inventory.LoadPolicy(db)
	if err != nil {
		return in, nil, err
	}
	in.Catalog = p.Catalog
	return in, teams, nil
}

// scanOf reads a run's hosts and open ports from its result rows.
func scanOf(db *gorm.DB, run models.ScanRun) (*periodic.Scan, error) {
	sc := &periodic.Scan{RunID: run.ID, Hosts: map[string]periodic.Host{}}
	if run.FinishedAt != nil {
		sc.Finished = *run.FinishedAt
	}
	var rows []models.ScanResult
	if err := db.Where("run_id = ? AND (protocol = '' OR state = ?)", run.ID, "open").Order("address, protocol, port").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		h := sc.Hosts[r.Address]
		if r.Protocol == "" {
			h.Up = r.State != "down"
		} else {
			p := periodic.Port{Protocol: r.Protocol, Port: uint16(r.Port), Service: r.Service}
			var fs []scans.Finding
			if r.Findings != "" && r.Findings != "[]" && json.Unmarshal([]byte(r.Findings), &fs) == nil {
				for _, f := range fs {
					p.Findings = append(p.Findings, periodic.Finding{ID: f.ID, Severity: f.Severity, Detail: f.Detail})
				}
			}
			h.Open = append(h.Open, p)
		}
		sc.Hosts[r.Address] = h
	}
	return sc, nil
}

// forTeam narrows a zone's input to one owner team's assets.
func forTeam(in periodic.Input, team string) periodic.Input {
	out := in
	out.Team = team
	mine := map[string]bool{}
	out.Assets = nil
	for _, a := range in.Assets {
		if a.Team == team {
			out.Assets = append(out.Assets, a)
			mine[a.Address] = true
		}
	}
	out.Drift = nil
	for _, d := range in.Drift {
		if mine[d.Address] {
			out.Drift = append(out.Drift, d)
		}
	}
	out.Rules = nil
	for _, ru := range in.Rules {
		var addrs []string
		for _, a := range ru.Addresses {
			if mine[a] {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) > 0 {
			ru.Addresses = addrs
			out.Rules = append(out.Rules, ru)
		}
	}
	return out
}
