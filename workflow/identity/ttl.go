package identity

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

const day = 24 * time.Hour

// API token lifetimes: until admins change them, a token lasts 90 days and
// may be asked to last at most a year.
const (
	DefaultTokenTTL    = 90 * day
	DefaultMaxTokenTTL = 365 * day
	// TokenDefaultDaysKey and TokenMaxDaysKey are the settings rows (whole days).
	TokenDefaultDaysKey = "token_default_ttl_days"
	TokenMaxDaysKey     = "token_max_ttl_days"
	// MaxTokenDays bounds what admins may set.
	MaxTokenDays = 3 * 365
)

// TokenLifetimes reads the default and longest token lifetime from the settings.
func TokenLifetimes(tx *gorm.DB) (def, longest time.Duration, err error) {
	def, longest = DefaultTokenTTL, DefaultMaxTokenTTL
	var rows []models.Setting
	if err := tx.Where("key IN ?", []string{TokenDefaultDaysKey, TokenMaxDaysKey}).Find(&rows).Error; err != nil {
		return def, longest, err
	}
	for _, r := range rows {
		n, err := strconv.Atoi(r.Value)
		if err != nil || n <= 0 || n > MaxTokenDays {
			continue
		}
		if r.Key == TokenDefaultDaysKey {
			def = time.Duration(n) * day
		} else {
			longest = time.Duration(n) * day
		}
	}
	return min(def, longest), longest, nil
}

// ParseTTL reads a token lifetime: a Go duration ("2s", "72h", "1h30m") or
// whole days ("90d"). It must be positive.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("the lifetime is empty: give e.g. 90d, 72h or 30m")
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > MaxTokenDays*10 {
			return 0, fmt.Errorf("lifetime %q: want a whole number of days from 1, e.g. 90d", s)
		}
		return time.Duration(days) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("lifetime %q: want a duration such as 90d, 72h, 30m or 2s", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("lifetime %q: must be longer than zero", s)
	}
	return d, nil
}

// FormatTTL writes a lifetime as ParseTTL reads it, in days when whole.
func FormatTTL(d time.Duration) string {
	if d >= day && d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
