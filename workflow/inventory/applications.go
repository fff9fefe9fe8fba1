package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// innovationMaxExpiryKey stores policy.Settings.InnovationMaxExpiry, in days.
const innovationMaxExpiryKey = "innovation_max_expiry_days"

// maxInnovationExpiryDays bounds the admin's choice: a new business is
// re-assessed at least once a year.
const maxInnovationExpiryDays = 365

// ApplicationRow is an application as the admin's list shows it: every name
// the assets carry, and any tiered name no asset carries any more.
type ApplicationRow struct {
	Name      string
	Tier      policy.Tier
	Assets    int
	UpdatedBy string
	UpdatedAt time.Time
}

// ListApplications returns the applications by name with their tier
// (standard when no admin set one) and how many assets they have.
func (s *Service) ListApplications(ctx context.Context) ([]ApplicationRow, error) {
	db := s.DB().WithContext(ctx)
	var counts []struct {
		Application string
		N           int
	}
	if err := db.Model(&models.Asset{}).Select("application, COUNT(*) AS n").
		Where("application <> ''").Group("application").Scan(&counts).Error; err != nil {
		return nil, err
	}
	var tiered []models.Application
	if err := db.Find(&tiered).Error; err != nil {
		return nil, err
	}
	rows := map[string]*ApplicationRow{}
	for _, c := range counts {
		rows[c.Application] = &ApplicationRow{Name: c.Application, Tier: policy.TierStandard, Assets: c.N}
	}
	for _, a := range tiered {
		r := rows[a.Name]
		if r == nil {
			r = &ApplicationRow{Name: a.Name}
			rows[a.Name] = r
		}
		r.Tier, r.UpdatedBy, r.UpdatedAt = policy.Tier(a.Tier), a.UpdatedBy, a.UpdatedAt
	}
	out := make([]ApplicationRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// checkApplicationName refuses an application name an asset could not carry.
func checkApplicationName(name string) error {
	if name == "" {
		return core.Invalid("application", core.M("err.inventory.application_required", "the application's name is required"))
	}
	if why := policy.CheckText(name); why != "" {
		return core.Invalid("application", core.M("err.inventory.application_invalid", "application {{.Reason}}", "Reason", core.Plain(why)))
	}
	return core.CheckLength("application", core.M("err.field.application", "the application"), name, core.Limits.Label)
}

// SetTier gives an application its tier, audited with the tier before.
func (s *Service) SetTier(ctx context.Context, actor core.Actor, name, tier string) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if err := checkApplicationName(name); err != nil {
		return err
	}
	t, err := policy.ParseTier(tier)
	if err != nil {
		return core.Invalid("tier", core.M("err.inventory.tier_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		before, err := setTier(tx, actor, name, t, s.Now())
		if err != nil || before == t {
			return err
		}
		return s.Audit(tx, actor, "application.tier", "application", 0, string(before), string(t), map[string]string{"application": name, "before": string(before), "after": string(t)}, "")
	})
}

// setTier stores one application's tier and returns the one before.
func setTier(tx *gorm.DB, actor core.Actor, name string, t policy.Tier, now time.Time) (policy.Tier, error) {
	var old models.Application
	before := policy.TierStandard
	err := tx.Where("name = ?", name).Take(&old).Error
	switch {
	case err == nil:
		before = policy.Tier(old.Tier)
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return "", err
	}
	if before == t {
		return before, nil
	}
	row := models.Application{Name: name, Tier: string(t), UpdatedBy: actor.Email, UpdatedAt: now}
	err = tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.AssignmentColumns([]string{"tier", "updated_by", "updated_at"})}).Create(&row).Error
	return before, err
}

// Tiers are the tiers of the applications an admin tiered, by name; an
// application not in the map is standard.
//
// The map is kept until something changes (see core.Summary) and shared by
// every caller: callers never change it.
func (s *Service) Tiers(ctx context.Context) (map[string]policy.Tier, error) {
	return s.tiers.Get(s.Store, func() (map[string]policy.Tier, error) { return s.readTiers(ctx) })
}

func (s *Service) readTiers(ctx context.Context) (map[string]policy.Tier, error) {
	var rows []models.Application
	if err := s.DB().WithContext(ctx).Where("tier <> ?", policy.TierStandard).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]policy.Tier, len(rows))
	for _, r := range rows {
		out[r.Name] = policy.Tier(r.Tier)
	}
	return out, nil
}

// TierOf names an application's tier in a map from Tiers.
func TierOf(tiers map[string]policy.Tier, application string) policy.Tier {
	if t, ok := tiers[application]; ok {
		return t
	}
	return policy.TierStandard
}

// TieredAssets are the assets of innovation-tier applications, as the
// policy engine needs them: few, since new businesses are few.
func TieredAssets(tx *gorm.DB) ([]policy.TieredAsset, error) {
	var rows []struct{ Address, Application string }
	if err := tx.Model(&models.Asset{}).Select("assets.address, assets.application").
		Joins("JOIN applications ON applications.name = assets.application").
		Where("applications.tier = ?", policy.TierInnovation).Order("assets.address").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]policy.TieredAsset, 0, len(rows))
	for _, r := range rows {
		if addr, err := netip.ParseAddr(r.Address); err == nil {
			out = append(out, policy.TieredAsset{Address: addr, Application: r.Application, Tier: policy.TierInnovation})
		}
	}
	return out, nil
}

// InnovationMaxExpiryDays reads the longest an innovation-tier opening may last.
func InnovationMaxExpiryDays(tx *gorm.DB) int {
	var row models.Setting
	if tx.Where(map[string]any{"key": innovationMaxExpiryKey}).Take(&row).Error == nil {
		if n, err := strconv.Atoi(row.Value); err == nil && n > 0 {
			return n
		}
	}
	return int(policy.DefaultSettings().InnovationMaxExpiry / (24 * time.Hour))
}

// SaveInnovationMaxExpiry sets the longest an innovation-tier opening may
// last, in whole days, audited.
func (s *Service) SaveInnovationMaxExpiry(ctx context.Context, actor core.Actor, days string) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(days))
	if err != nil || n < 1 || n > maxInnovationExpiryDays {
		return core.Invalid(innovationMaxExpiryKey, core.M("err.inventory.innovation_days", "a whole number of days from 1 to {{.Max}} is required", "Max", maxInnovationExpiryDays))
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		before := InnovationMaxExpiryDays(tx)
		if before == n {
			return nil
		}
		row := models.Setting{Key: innovationMaxExpiryKey, Value: strconv.Itoa(n), UpdatedAt: s.Now()}
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "settings.update", "settings", 0, "", "", map[string]any{"before": map[string]int{innovationMaxExpiryKey: before}, "after": map[string]int{innovationMaxExpiryKey: n}}, "")
	})
}

// tierLine is the tier an import gave an application and the first line that gave it.
type tierLine struct {
	tier policy.Tier
	line int
}

// checkImportTier checks the tier column of one line of an import: a tier
// needs an application, and every line of one application names the same
// tier (the first line naming it is remembered in tiers).
func checkImportTier(tiers map[string]tierLine, line int, application, raw string) *LineError {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	t, err := policy.ParseTier(raw)
	if err != nil {
		e := lineError(line, "tier", core.M("err.inventory.tier_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
		return &e
	}
	if application == "" {
		e := lineError(line, "tier", core.M("err.inventory.tier_without_application", "a tier is given but no application: the tier belongs to the application"))
		return &e
	}
	if first, ok := tiers[application]; ok {
		if first.tier != t {
			e := lineError(line, "tier", core.M("err.inventory.tier_differs", "application {{.Application}} is {{.First}} on line {{.FirstLine}} but {{.Tier}} on line {{.Line}}: the lines of one application must name the same tier",
				"Application", strconv.Quote(application), "First", string(first.tier), "FirstLine", first.line, "Tier", string(t), "Line", line))
			return &e
		}
		return nil
	}
	tiers[application] = tierLine{t, line}
	return nil
}

// applyImportTiers stores the tiers an import named, in its transaction,
// and returns what changed for the audit event.
func applyImportTiers(tx *gorm.DB, actor core.Actor, tiers map[string]tierLine, now time.Time) (map[string]string, error) {
	names := make([]string, 0, len(tiers))
	for n := range tiers {
		names = append(names, n)
	}
	sort.Strings(names)
	changed := map[string]string{}
	for _, n := range names {
		before, err := setTier(tx, actor, n, tiers[n].tier, now)
		if err != nil {
			return nil, err
		}
		if before != tiers[n].tier {
			changed[n] = fmt.Sprintf("%s → %s", before, tiers[n].tier)
		}
	}
	return changed, nil
}
