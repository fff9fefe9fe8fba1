package workflow

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
)

// Settings are the policy's tunables, kept in the database and edited by admins.
type Settings struct {
	DefaultExpiry time.Duration // given to a request that names no expiry
	MaxExpiry     time.Duration // the longest an opening may be approved for
}

// DefaultSettings apply until an admin changes them.
var DefaultSettings = Settings{DefaultExpiry: 90 * 24 * time.Hour, MaxExpiry: 365 * 24 * time.Hour}

func loadSettings(tx *gorm.DB) (Settings, error) {
	st := DefaultSettings
	var rows []models.Setting
	if err := tx.Find(&rows).Error; err != nil {
		return st, err
	}
	for _, r := range rows {
		days, err := strconv.Atoi(r.Value)
		if err != nil || days <= 0 {
			continue
		}
		switch r.Key {
		case "default_expiry_days":
			st.DefaultExpiry = time.Duration(days) * 24 * time.Hour
		case "max_expiry_days":
			st.MaxExpiry = time.Duration(days) * 24 * time.Hour
		}
	}
	return st, nil
}

// GetSettings returns the settings in force.
func (s *Service) GetSettings(ctx context.Context) (Settings, error) {
	return loadSettings(s.db.WithContext(ctx))
}

// SaveSettings changes the expiry settings (in whole days).
func (s *Service) SaveSettings(ctx context.Context, actor Actor, defaultDays, maxDays int) error {
	if !actor.Has(RoleAdmin) {
		return forbidden("you need the admin role to change the settings")
	}
	var errs FieldErrors
	if maxDays < 1 || maxDays > 3*365 {
		errs = append(errs, &Error{Code: CodeInvalid, Field: "max_expiry_days", Message: "the maximum expiry is between 1 and 1095 days: permanent openings do not exist"})
	}
	if defaultDays < 1 || defaultDays > maxDays {
		errs = append(errs, &Error{Code: CodeInvalid, Field: "default_expiry_days", Message: "the default expiry is at least 1 day and at most the maximum"})
	}
	if len(errs) > 0 {
		return errs
	}
	return s.inTx(ctx, func(tx *gorm.DB) error {
		before, err := loadSettings(tx)
		if err != nil {
			return err
		}
		for k, v := range map[string]int{"default_expiry_days": defaultDays, "max_expiry_days": maxDays} {
			row := models.Setting{Key: k, Value: strconv.Itoa(v), UpdatedAt: s.now()}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
				return err
			}
		}
		return s.audit(tx, actor, "settings.update", "settings", 0, "", "", map[string]any{
			"before": map[string]int{"default_expiry_days": int(before.DefaultExpiry.Hours() / 24), "max_expiry_days": int(before.MaxExpiry.Hours() / 24)},
			"after":  map[string]int{"default_expiry_days": defaultDays, "max_expiry_days": maxDays},
		}, "")
	})
}
