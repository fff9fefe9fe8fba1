package policy

import (
	"fmt"
	"time"
)

// Settings are the policy's parameters, editable by admins.
type Settings struct {
	// DefaultExpiry is the expiry a request gets when the requester names
	// none (the caller applies it; the engine judges what it is given).
	DefaultExpiry time.Duration `json:"default_expiry" yaml:"default_expiry"`
	// MaxExpiry is the longest an opening may last before it must be
	// re-certified.
	MaxExpiry time.Duration `json:"max_expiry" yaml:"max_expiry"`
	// MaxSourcePrefixV4 and MaxSourcePrefixV6: a source prefix shorter than
	// these (a /16 when the limit is /24) is flagged as too broad, and does
	// not count as a whitelist.
	MaxSourcePrefixV4 int `json:"max_source_prefix_v4" yaml:"max_source_prefix_v4"`
	MaxSourcePrefixV6 int `json:"max_source_prefix_v6" yaml:"max_source_prefix_v6"`
	// DevicePrefixV4 and DevicePrefixV6: services that must answer only named
	// devices (SNMP, NTP, rsync, …) accept source prefixes no broader than
	// these.
	DevicePrefixV4 int `json:"device_prefix_v4" yaml:"device_prefix_v4"`
	DevicePrefixV6 int `json:"device_prefix_v6" yaml:"device_prefix_v6"`
	// BroadPortCount: a rule opening more ports than this from any source is
	// a permit-any-any.
	BroadPortCount int `json:"broad_port_count" yaml:"broad_port_count"`
	// PublicTCPPorts and PublicUDPPorts are the ports a "web" cell of the
	// matrix opens without a source whitelist. UDP has none by default; add
	// 443 to allow HTTP/3.
	PublicTCPPorts PortSet `json:"public_tcp_ports" yaml:"public_tcp_ports"`
	PublicUDPPorts PortSet `json:"public_udp_ports" yaml:"public_udp_ports"`
	// InnovationMaxExpiry is the longest an opening touching an
	// innovation-tier application may last.
	InnovationMaxExpiry time.Duration `json:"innovation_max_expiry" yaml:"innovation_max_expiry"`
}

const day = 24 * time.Hour

// DefaultSettings: requests last 90 days unless the requester says otherwise,
// at most a year; sources broader than a /24 (IPv4) or /48 (IPv6) are
// flagged; named devices are at most a /29 or /125 (eight addresses); more
// than 100 ports from anywhere is permit-any-any; the internet sees 80 and
// 443.
func DefaultSettings() Settings {
	return Settings{
		DefaultExpiry:     90 * day,
		MaxExpiry:         365 * day,
		MaxSourcePrefixV4: 24,
		MaxSourcePrefixV6: 48,
		DevicePrefixV4:    29,
		DevicePrefixV6:    125,
		BroadPortCount:    100,
		PublicTCPPorts:    PortSet{{80, 80}, {443, 443}},
		// A new business proves itself in a month before it is re-certified.
		InnovationMaxExpiry: 30 * day,
	}
}

// Validate reports the first setting that makes no sense.
func (s Settings) Validate() error {
	switch {
	case s.MaxExpiry <= 0:
		return fmt.Errorf("max_expiry must be positive")
	case s.DefaultExpiry <= 0:
		return fmt.Errorf("default_expiry must be positive")
	case s.DefaultExpiry > s.MaxExpiry:
		return fmt.Errorf("default_expiry (%d days) is longer than max_expiry (%d days)", s.DefaultExpiry/day, s.MaxExpiry/day)
	case s.MaxSourcePrefixV4 < 0 || s.MaxSourcePrefixV4 > 32:
		return fmt.Errorf("max_source_prefix_v4 %d is not between 0 and 32", s.MaxSourcePrefixV4)
	case s.MaxSourcePrefixV6 < 0 || s.MaxSourcePrefixV6 > 128:
		return fmt.Errorf("max_source_prefix_v6 %d is not between 0 and 128", s.MaxSourcePrefixV6)
	case s.DevicePrefixV4 < 0 || s.DevicePrefixV4 > 32:
		return fmt.Errorf("device_prefix_v4 %d is not between 0 and 32", s.DevicePrefixV4)
	case s.DevicePrefixV6 < 0 || s.DevicePrefixV6 > 128:
		return fmt.Errorf("device_prefix_v6 %d is not between 0 and 128", s.DevicePrefixV6)
	case s.BroadPortCount < 1:
		return fmt.Errorf("broad_port_count must be at least 1")
	case s.InnovationMaxExpiry < 0:
		return fmt.Errorf("innovation_max_expiry must be positive")
	}
	for _, set := range []PortSet{s.PublicTCPPorts, s.PublicUDPPorts} {
		if len(set) == 0 {
			continue
		}
		if _, ok := set.clean(); !ok {
			return fmt.Errorf("public ports %q are not valid ports", set)
		}
	}
	return nil
}

// withDefaults fills the zero fields from DefaultSettings, so that a Policy
// built with a partly filled Settings never judges against a zero limit
// (a zero MaxExpiry would refuse every request).
func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.DefaultExpiry <= 0 {
		s.DefaultExpiry = d.DefaultExpiry
	}
	if s.MaxExpiry <= 0 {
		s.MaxExpiry = d.MaxExpiry
	}
	if s.MaxSourcePrefixV4 <= 0 || s.MaxSourcePrefixV4 > 32 {
		s.MaxSourcePrefixV4 = d.MaxSourcePrefixV4
	}
	if s.MaxSourcePrefixV6 <= 0 || s.MaxSourcePrefixV6 > 128 {
		s.MaxSourcePrefixV6 = d.MaxSourcePrefixV6
	}
	if s.DevicePrefixV4 <= 0 || s.DevicePrefixV4 > 32 {
		s.DevicePrefixV4 = d.DevicePrefixV4
	}
	if s.DevicePrefixV6 <= 0 || s.DevicePrefixV6 > 128 {
		s.DevicePrefixV6 = d.DevicePrefixV6
	}
	if s.BroadPortCount <= 0 {
		s.BroadPortCount = d.BroadPortCount
	}
	if s.InnovationMaxExpiry <= 0 {
		s.InnovationMaxExpiry = d.InnovationMaxExpiry
	}
	if set, ok := s.PublicTCPPorts.clean(); ok {
		s.PublicTCPPorts = set
	} else {
		s.PublicTCPPorts = d.PublicTCPPorts
	}
	if set, ok := s.PublicUDPPorts.clean(); ok {
		s.PublicUDPPorts = set
	} else {
		s.PublicUDPPorts = nil
	}
	return s
}
