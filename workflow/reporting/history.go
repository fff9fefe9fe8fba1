package reporting

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/periodic"
)

// Key orders the report history newest first.
type Key struct {
	ID uint `json:"id"`
}

// Filter narrows the history; empty fields do not.
type Filter struct {
	Kind, Zone, Team string
}

// List is one page of the reports actor may read, newest first, without
// their content: every report for those who see all, their own team's for
// owners.
func (s *Service) List(ctx context.Context, actor core.Actor, f Filter, req paging.Request[Key]) (paging.Page[models.PeriodicReport], error) {
	if f.Kind != "" {
		if _, ok := periodic.ParseKind(f.Kind); !ok {
			return paging.Page[models.PeriodicReport]{}, core.Invalid("kind", core.M("err.reporting.kind", "{{.Kind}} is not daily or weekly", "Kind", strconv.Quote(f.Kind)))
		}
	}
	q := s.DB().WithContext(ctx).Omit("content")
	if !SeesAll(actor) {
		if actor.Team == "" || (f.Team != "" && f.Team != actor.Team) {
			return paging.Page[models.PeriodicReport]{}, nil
		}
		f.Team = actor.Team
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Zone != "" {
		q = q.Where("zone = ?", f.Zone)
	}
	if f.Team != "" {
		q = q.Where("team = ?", f.Team)
	}
	if req.After != nil {
		q = q.Where("id < ?", req.After.ID)
	}
	var rows []models.PeriodicReport
	if err := q.Order("id DESC").Limit(req.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[models.PeriodicReport]{}, err
	}
	return paging.Cut(req, rows, func(r models.PeriodicReport) Key { return Key{r.ID} }), nil
}

// Headlines are the rows' headlines in lang, by report ID, said from each
// report's stored figures. A report made before its figures were kept has its
// line as recorded, in the server's language; for a reader of another
// language that line is computed again from the stored report.
func (s *Service) Headlines(ctx context.Context, lang core.Language, rows []models.PeriodicReport) (map[uint]string, error) {
	out := make(map[uint]string, len(rows))
	var old []uint
	for _, r := range rows {
		out[r.ID] = Headline(r, lang)
		if r.HeadlineFacts == "" {
			old = append(old, r.ID)
		}
	}
	if len(old) == 0 || lang.Tag() == s.Language("", "").Tag() {
		return out, nil
	}
	var full []models.PeriodicReport
	if err := s.DB().WithContext(ctx).Select("id", "content").Where("id IN ?", old).Find(&full).Error; err != nil {
		return nil, err
	}
	for _, row := range full {
		var r periodic.Report
		if err := json.Unmarshal([]byte(row.Content), &r); err == nil {
			out[row.ID] = r.Headline(lang)
		}
	}
	return out, nil
}

// Headline is a stored report's one line in lang, said from its figures;
// a report made before they were kept has only its line as recorded.
func Headline(row models.PeriodicReport, lang core.Language) string {
	var facts periodic.HeadlineFacts
	if row.HeadlineFacts == "" || json.Unmarshal([]byte(row.HeadlineFacts), &facts) != nil {
		return row.Headline
	}
	return facts.In(lang)
}

// Get reads one stored report, if actor may read it.
func (s *Service) Get(ctx context.Context, actor core.Actor, id uint) (models.PeriodicReport, periodic.Report, error) {
	var row models.PeriodicReport
	if err := s.DB().WithContext(ctx).First(&row, id).Error; err != nil {
		return row, periodic.Report{}, core.NotFound("report", id)
	}
	if !CanSee(actor, row.Team) {
		return row, periodic.Report{}, refuse(row.Team)
	}
	var r periodic.Report
	if err := json.Unmarshal([]byte(row.Content), &r); err != nil {
		return row, r, err
	}
	return row, r, nil
}

// Subscription is one line of a person's subscriptions.
type Subscription struct {
	Zone, Team string
	// Default: the person's own team, received without subscribing.
	Default bool
	Active  bool
}

// Subscriptions are actor's: their own team's reports (received by
// default unless they opted out) and what they subscribed to.
func (s *Service) Subscriptions(ctx context.Context, actor core.Actor) ([]Subscription, error) {
	var rows []models.ReportSubscription
	if err := s.DB().WithContext(ctx).Where("user_id = ?", actor.ID).Order("zone, team").Find(&rows).Error; err != nil {
		return nil, err
	}
	var owned int64
	if actor.Team != "" {
		if err := s.DB().WithContext(ctx).Model(&models.Asset{}).Where("owner_team = ?", actor.Team).Count(&owned).Error; err != nil {
			return nil, err
		}
	}
	var out []Subscription
	// Their own team's reports, when the team owns assets and so has reports.
	if owned > 0 {
		own := Subscription{Team: actor.Team, Default: true, Active: true}
		for _, r := range rows {
			if r.Zone == "" && r.Team == actor.Team {
				own.Active = r.Active
			}
		}
		out = append(out, own)
	}
	for _, r := range rows {
		if r.Active && !(r.Zone == "" && r.Team == actor.Team) {
			out = append(out, Subscription{Zone: r.Zone, Team: r.Team, Active: true})
		}
	}
	return out, nil
}

// Choices are the zones and teams actor may subscribe to.
func (s *Service) Choices(ctx context.Context, actor core.Actor) (zones, teams []string, err error) {
	zones, teams, err = s.choicesIn(s.DB().WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	if !SeesAll(actor) {
		own := slices.Contains(teams, actor.Team)
		zones, teams = nil, nil
		if own {
			teams = []string{actor.Team}
		}
	}
	slices.Sort(zones)
	slices.Sort(teams)
	return zones, teams, nil
}

// Subscribe starts (on) or stops (off) actor's e-mails of one zone's
// reports or one team's: exactly one of zone and team is given.
func (s *Service) Subscribe(ctx context.Context, actor core.Actor, zone, team string, on bool) error {
	zone, team = strings.TrimSpace(zone), strings.TrimSpace(team)
	if actor.ID == 0 {
		return core.Forbidden(core.M("err.reporting.people_only", "only people subscribe to reports"))
	}
	switch {
	case zone == "" && team == "":
		return core.Invalid("zone", core.M("err.reporting.zone_or_team", "choose a zone or a team"))
	case zone != "" && team != "":
		return core.Invalid("team", core.M("err.reporting.not_both", "choose a zone or a team, not both"))
	}
	if zone != "" && !SeesAll(actor) {
		return refuse("")
	}
	if team != "" && !CanSee(actor, team) {
		return refuse(team)
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		zones, teams, err := s.choicesIn(tx)
		if err != nil {
			return err
		}
		if zone != "" && !slices.Contains(zones, zone) {
			return core.Invalid("zone", core.M("err.reporting.no_zone", "there is no zone {{.Zone}}", "Zone", strconv.Quote(zone)))
		}
		if team != "" && !slices.Contains(teams, team) {
			return core.Invalid("team", core.M("err.reporting.team_unknown", "no asset is owned by team {{.Team}}", "Team", strconv.Quote(team)))
		}
		row := models.ReportSubscription{UserID: actor.ID, Zone: zone, Team: team, Active: on, UpdatedAt: s.Now()}
		res := tx.Model(&models.ReportSubscription{}).Where("user_id = ? AND zone = ? AND team = ?", actor.ID, zone, team).
			Updates(map[string]any{"active": on, "updated_at": row.UpdatedAt})
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Create(&row).Error
	})
}

// choicesIn are the zones and the teams that own assets (and so have reports).
func (s *Service) choicesIn(tx *gorm.DB) (zones, teams []string, err error) {
	if err := tx.Model(&models.Zone{}).Pluck("name", &zones).Error; err != nil {
		return nil, nil, err
	}
	if err := tx.Model(&models.Asset{}).Distinct("owner_team").Where("owner_team <> ''").Pluck("owner_team", &teams).Error; err != nil {
		return nil, nil, err
	}
	return zones, teams, nil
}
