package inventory

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Settings are the policy's parameters (expiry, source breadth, …), kept in
// the database and edited by admins; unset keys keep the engine's defaults.
type Settings = policy.Settings

// SettingsInput is the admin's form: whole days and prefix lengths, as text,
// so that each bad value is reported against its own field.
type SettingsInput struct {
	DefaultExpiryDays, MaxExpiryDays     string
	MaxSourcePrefixV4, MaxSourcePrefixV6 string
	DevicePrefixV4, DevicePrefixV6       string
	BroadPortCount, PublicTCPPorts       string
	RecertifyMonths                      string
	// AssetAddressAllow lists special ranges (link-local, multicast, …)
	// that may nonetheless be assets: comma-separated CIDRs, usually empty.
	AssetAddressAllow string
	// TokenDefaultDays and TokenMaxDays: how long an API token lasts when
	// its creator names no lifetime, and the longest one may be asked for.
	TokenDefaultDays, TokenMaxDays string
	// ScanMaxTargets caps the addresses of a scan asked for by hand (the
	// API and the UI); scheduled zone scans are not capped. Empty keeps
	// the default.
	ScanMaxTargets string
}

// settingKeys are how Settings are stored, one row per key.
var settingKeys = []string{
	"default_expiry_days", "max_expiry_days", "max_source_prefix_v4", "max_source_prefix_v6",
	"device_prefix_v4", "device_prefix_v6", "broad_port_count", "public_tcp_ports", "recertify_months",
	assetAddressAllowKey, identity.TokenDefaultDaysKey, identity.TokenMaxDaysKey,
	scanMaxTargetsKey,
}

// MaxSettingText bounds the settings typed as lists (ports, address
// ranges): they are written into the audit log with every change.
const MaxSettingText = 2000

// DefaultRecertifyMonths is how often an opening must be confirmed (PCI DSS 1.2.7: every six months).
const DefaultRecertifyMonths = 6

// DefaultScanMaxTargets is the cap on a scan asked for by hand, as the
// command-line scanner's (scanner.DefaultMaxTargets).
const DefaultScanMaxTargets = 4096

const scanMaxTargetsKey = "scan_max_targets"

// ScanMaxTargets reads the cap on the addresses of a scan asked for by hand.
func ScanMaxTargets(tx *gorm.DB) int {
	var row models.Setting
	if tx.Where(map[string]any{"key": scanMaxTargetsKey}).Take(&row).Error == nil {
		if n, err := strconv.Atoi(row.Value); err == nil && n > 0 {
			return n
		}
	}
	return DefaultScanMaxTargets
}

// RecertifyMonths reads the re-certification interval.
func RecertifyMonths(tx *gorm.DB) int {
	var row models.Setting
	if tx.Where(map[string]any{"key": "recertify_months"}).Take(&row).Error == nil {
		if n, err := strconv.Atoi(row.Value); err == nil && n > 0 {
			return n
		}
	}
	return DefaultRecertifyMonths
}

func LoadSettings(tx *gorm.DB) (Settings, error) {
	st := policy.DefaultSettings()
	var rows []models.Setting
	if err := tx.Find(&rows).Error; err != nil {
		return st, err
	}
	for _, r := range rows {
		if r.Key == "public_tcp_ports" {
			if ps, err := policy.ParsePorts(r.Value); err == nil {
				st.PublicTCPPorts = ps
			}
			continue
		}
		n, err := strconv.Atoi(r.Value)
		if err != nil || n <= 0 {
			continue
		}
		switch r.Key {
		case "default_expiry_days":
			st.DefaultExpiry = time.Duration(n) * 24 * time.Hour
		case "max_expiry_days":
			st.MaxExpiry = time.Duration(n) * 24 * time.Hour
		case "max_source_prefix_v4":
			st.MaxSourcePrefixV4 = n
		case "max_source_prefix_v6":
			st.MaxSourcePrefixV6 = n
		case "device_prefix_v4":
			st.DevicePrefixV4 = n
		case "device_prefix_v6":
			st.DevicePrefixV6 = n
		case "broad_port_count":
			st.BroadPortCount = n
		case innovationMaxExpiryKey:
			st.InnovationMaxExpiry = time.Duration(n) * 24 * time.Hour
		}
	}
	return st, nil
}

// SettingsForm renders settings as the admin form shows them.
func SettingsForm(st Settings) SettingsInput {
	days := func(d time.Duration) string { return strconv.Itoa(int(d.Hours() / 24)) }
	return SettingsInput{
		DefaultExpiryDays: days(st.DefaultExpiry), MaxExpiryDays: days(st.MaxExpiry),
		MaxSourcePrefixV4: strconv.Itoa(st.MaxSourcePrefixV4), MaxSourcePrefixV6: strconv.Itoa(st.MaxSourcePrefixV6),
		DevicePrefixV4: strconv.Itoa(st.DevicePrefixV4), DevicePrefixV6: strconv.Itoa(st.DevicePrefixV6),
		BroadPortCount: strconv.Itoa(st.BroadPortCount), PublicTCPPorts: st.PublicTCPPorts.String(),
		RecertifyMonths:  strconv.Itoa(DefaultRecertifyMonths),
		TokenDefaultDays: days(identity.DefaultTokenTTL), TokenMaxDays: days(identity.DefaultMaxTokenTTL),
		ScanMaxTargets: strconv.Itoa(DefaultScanMaxTargets),
	}
}

// GetSettingsForm is the settings as the admin's form shows them.
func (s *Service) GetSettingsForm(ctx context.Context) (SettingsInput, error) {
	db := s.DB().WithContext(ctx)
	st, err := LoadSettings(db)
	if err != nil {
		return SettingsInput{}, err
	}
	in := SettingsForm(st)
	in.RecertifyMonths = strconv.Itoa(RecertifyMonths(db))
	in.ScanMaxTargets = strconv.Itoa(ScanMaxTargets(db))
	if in.AssetAddressAllow, err = assetAddressAllow(db); err != nil {
		return SettingsInput{}, err
	}
	if err := in.tokenLifetimes(db); err != nil {
		return SettingsInput{}, err
	}
	return in, nil
}

func (in *SettingsInput) tokenLifetimes(db *gorm.DB) error {
	def, longest, err := identity.TokenLifetimes(db)
	in.TokenDefaultDays, in.TokenMaxDays = strconv.Itoa(int(def/(24*time.Hour))), strconv.Itoa(int(longest/(24*time.Hour)))
	return err
}

// GetSettings returns the settings in force.
func (s *Service) GetSettings(ctx context.Context) (Settings, error) {
	return LoadSettings(s.DB().WithContext(ctx))
}

func (in SettingsInput) values() map[string]string {
	return map[string]string{
		"default_expiry_days": in.DefaultExpiryDays, "max_expiry_days": in.MaxExpiryDays,
		"max_source_prefix_v4": in.MaxSourcePrefixV4, "max_source_prefix_v6": in.MaxSourcePrefixV6,
		"device_prefix_v4": in.DevicePrefixV4, "device_prefix_v6": in.DevicePrefixV6,
		"broad_port_count": in.BroadPortCount, "public_tcp_ports": in.PublicTCPPorts,
		"recertify_months": in.RecertifyMonths, assetAddressAllowKey: in.AssetAddressAllow,
		identity.TokenDefaultDaysKey: in.TokenDefaultDays, identity.TokenMaxDaysKey: in.TokenMaxDays,
		scanMaxTargetsKey: in.ScanMaxTargets,
	}
}

// SaveSettings checks and stores the policy's parameters, audited.
func (s *Service) SaveSettings(ctx context.Context, actor core.Actor, in SettingsInput) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden(core.M("err.inventory.settings_admin", "you need the admin role to change the settings"))
	}
	var errs core.FieldErrors
	add := errs.Add
	limits := map[string][2]int{
		"default_expiry_days": {1, 3 * 365}, "max_expiry_days": {1, 3 * 365},
		"max_source_prefix_v4": {1, 32}, "max_source_prefix_v6": {1, 128},
		"device_prefix_v4": {1, 32}, "device_prefix_v6": {1, 128}, "broad_port_count": {1, 65535},
		"recertify_months":           {1, 12},
		identity.TokenDefaultDaysKey: {1, identity.MaxTokenDays}, identity.TokenMaxDaysKey: {1, identity.MaxTokenDays},
		scanMaxTargetsKey: {1, 1 << 20},
	}
	values := in.values()
	if values[scanMaxTargetsKey] == "" {
		// Callers that predate the setting keep the default.
		values[scanMaxTargetsKey] = strconv.Itoa(DefaultScanMaxTargets)
	}
	tooLong := func(key string, what core.Message) bool {
		var e *core.Error
		if errors.As(core.CheckLength(key, what, values[key], MaxSettingText), &e) {
			errs = append(errs, e)
			return true
		}
		return false
	}
	nums := map[string]int{}
	for _, key := range settingKeys {
		if key == "public_tcp_ports" {
			if tooLong(key, core.M("err.field.public_tcp_ports", "the public TCP ports")) {
				continue
			}
			if _, err := policy.ParsePorts(values[key]); err != nil {
				add(key, core.M("err.inventory.ports_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
			}
			continue
		}
		if key == assetAddressAllowKey {
			if tooLong(key, core.M("err.field.asset_address_allow", "the special ranges allowed")) {
				continue
			}
			if _, err := policy.ParsePrefixList(values[key]); err != nil {
				add(key, core.M("err.inventory.prefixes_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
			}
			continue
		}
		n, err := strconv.Atoi(values[key])
		lim := limits[key]
		if err != nil || n < lim[0] || n > lim[1] {
			add(key, core.M("err.inventory.whole_number", "a whole number from {{.Min}} to {{.Max}} is required", "Min", lim[0], "Max", lim[1]))
			continue
		}
		nums[key] = n
	}
	if len(errs) == 0 && nums["default_expiry_days"] > nums["max_expiry_days"] {
		add("default_expiry_days", core.M("err.inventory.default_expiry_long", "the default expiry ({{.Default}} days) is longer than the maximum ({{.Max}} days)", "Default", nums["default_expiry_days"], "Max", nums["max_expiry_days"]))
	}
	if len(errs) == 0 && nums[identity.TokenDefaultDaysKey] > nums[identity.TokenMaxDaysKey] {
		add(identity.TokenDefaultDaysKey, core.M("err.inventory.default_token_long", "the default token lifetime ({{.Default}} days) is longer than the maximum ({{.Max}} days)", "Default", nums[identity.TokenDefaultDaysKey], "Max", nums[identity.TokenMaxDaysKey]))
	}
	if len(errs) > 0 {
		return errs
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		before, err := LoadSettings(tx)
		if err != nil {
			return err
		}
		beforeForm := SettingsForm(before)
		if err := beforeForm.tokenLifetimes(tx); err != nil {
			return err
		}
		for _, key := range settingKeys {
			row := models.Setting{Key: key, Value: values[key], UpdatedAt: s.Now()}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
				return err
			}
		}
		return s.Audit(tx, actor, "settings.update", "settings", 0, "", "", map[string]any{"before": beforeForm, "after": in}, "")
	})
}
