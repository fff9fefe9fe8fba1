package identity

import (
	"context"
	"strings"
	"time"

	"golang.org/x/text/language"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// Preferences are how a person reads the pages: a language tag (en, zh-CN)
// and an IANA time zone; empty means not chosen.
type Preferences struct {
	Language, TimeZone string
}

// SetPreferences stores the actor's own language and time zone. Which
// languages the pages offer is the web layer's to check; here a language
// must be a well-formed tag and a zone must be in the time zone database.
func (s *Service) SetPreferences(ctx context.Context, actor core.Actor, p Preferences) error {
	p.Language, p.TimeZone = strings.TrimSpace(p.Language), strings.TrimSpace(p.TimeZone)
	var errs core.FieldErrors
	if p.Language != "" {
		if _, err := language.Parse(p.Language); err != nil || len(p.Language) > 35 {
			errs.Add("language", core.M("err.identity.language_invalid", "the language {{.Value}} is not a language tag such as en or zh-CN", "Value", quoteShort(p.Language)))
		}
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" || len(p.TimeZone) > 64 {
			errs.Add("time_zone", core.M("err.identity.time_zone_invalid", "the time zone {{.Value}} is not in the time zone database (an IANA name such as Asia/Shanghai)", "Value", quoteShort(p.TimeZone)))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var u models.User
		if err := tx.First(&u, actor.ID).Error; err != nil {
			return core.NotFound("user", actor.ID)
		}
		if u.Language == p.Language && u.TimeZone == p.TimeZone {
			return nil
		}
		detail := map[string]string{
			"language": p.Language, "language_before": u.Language,
			"time_zone": p.TimeZone, "time_zone_before": u.TimeZone,
		}
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{"language": p.Language, "time_zone": p.TimeZone}).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "user.preferences", "user", u.ID, "", "", detail, "")
	})
}

// quoteShort quotes what was typed, cut so an error message stays readable.
func quoteShort(s string) string {
	const most = 40
	if r := []rune(s); len(r) > most {
		s = string(r[:most]) + "…"
	}
	return `"` + s + `"`
}
