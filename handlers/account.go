package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
)

func (s *Server) profileView(r *http.Request, v web.Profile) (web.Profile, error) {
	a := actor(r)
	v.Name, v.Email, v.Team = a.Name, a.Email, a.Team
	for _, role := range a.Roles {
		v.Roles = append(v.Roles, string(role))
	}
	tokens, err := s.app.Identity.ListTokens(r.Context(), a)
	if err != nil {
		return v, err
	}
	for _, t := range tokens {
		v.Tokens = append(v.Tokens, s.tokenRow(r.Context(), t))
	}
	s.preferencesView(r, &v)
	return v, s.tokenLifetimeHint(r, &v)
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	v, err := s.profileView(r, web.Profile{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.ProfilePage(s.page(r, locale.T(r.Context(), "profile.title")), v))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	ttlText := strings.TrimSpace(r.PostFormValue("ttl"))
	var ttl time.Duration
	var err error
	if ttlText != "" {
		if ttl, err = identity.ParseTTL(ttlText); err != nil {
			err = core.Invalid("ttl", core.M("err.identity.ttl_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
		}
	}
	var secret string
	if err == nil {
		secret, _, err = s.app.Identity.CreateTokenTTL(r.Context(), a, a.Email, r.PostFormValue("name"), ttl)
	}
	status, v := http.StatusOK, web.Profile{NewSecret: secret}
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		status, v = http.StatusBadRequest, web.Profile{TTL: ttlText}
		if fe := fieldErrors(r.Context(), err); fe["ttl"] != "" {
			v.TTLError = fe["ttl"]
		} else {
			v.Error, _ = publicMessage(r.Context(), err)
		}
	}
	// The secret is shown on this response only; it is never stored or redirected with.
	v, err = s.profileView(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, web.ProfilePage(s.page(r, locale.T(r.Context(), "profile.title")), v))
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.app.Identity.RevokeToken(r.Context(), actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "profile.token_revoked_flash"))
	s.redirect(w, r, "/profile")
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	page, err := cursorPage[identity.UserKey](r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.app.Identity.ListUsersPage(r.Context(), page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.Users{Rows: make([]web.UserRow, len(users.Items)), Links: pageLinks(r, "cursor", users.Next)}
	for i, u := range users.Items {
		v.Rows[i] = web.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Team: u.Team, Roles: u.Roles, Issuer: u.Issuer, LastLogin: fmtTimePtr(u.LastLoginAt),
			Disabled: fmtTimePtr(u.DisabledAt), DisabledReason: u.DisabledReason, Self: u.ID == actor(r).ID}
	}
	s.render(w, r, http.StatusOK, web.UsersPage(s.page(r, "Users"), v))
}

// settingFields lays out the settings form.
func settingFields(in inventory.SettingsInput, errs map[string]string) []web.Setting {
	f := func(name, label, hint, value string) web.Setting {
		return web.Setting{Name: name, Label: label, Hint: hint, Value: value, Error: errs[name]}
	}
	return []web.Setting{
		f("default_expiry_days", "Default expiry of a request (days)", "Given to a request that names no expiry.", in.DefaultExpiryDays),
		f("max_expiry_days", "Longest an opening may last (days)", "Every approval expires; there are no permanent openings.", in.MaxExpiryDays),
		f("max_source_prefix_v4", "Broadest IPv4 source prefix before it is flagged", "24 flags anything broader than a /24.", in.MaxSourcePrefixV4),
		f("max_source_prefix_v6", "Broadest IPv6 source prefix before it is flagged", "", in.MaxSourcePrefixV6),
		f("device_prefix_v4", "Broadest IPv4 prefix that counts as named devices", "SNMP, NTP and rsync answer only named devices; 29 allows eight addresses.", in.DevicePrefixV4),
		f("device_prefix_v6", "Broadest IPv6 prefix that counts as named devices", "", in.DevicePrefixV6),
		f("broad_port_count", "Ports that make a rule from anywhere a permit-any-any", "", in.BroadPortCount),
		f("public_tcp_ports", "TCP ports the internet may reach without a whitelist", "80,443 by default.", in.PublicTCPPorts),
		f("recertify_months", "Re-certify every (months)", "PCI DSS 1.2.7 asks for at least every six months.", in.RecertifyMonths),
		f("token_default_ttl_days", "API token lifetime when none is asked for (days)", "90 by default; tokens always expire.", in.TokenDefaultDays),
		f("token_max_ttl_days", "Longest API token lifetime (days)", "A token asked for longer is refused.", in.TokenMaxDays),
		f("scan_max_targets", "Most addresses in a scan asked for by hand", "Scheduled zone scans are not capped. 4096 by default.", in.ScanMaxTargets),
		f("asset_address_allow", "Special ranges allowed as assets", "Comma-separated CIDRs; link-local, multicast and metadata addresses are refused otherwise. Usually empty.", in.AssetAddressAllow),
	}
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request) {
	in, err := s.app.Inventory.GetSettingsForm(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.SettingsPage(s.page(r, "Settings"), web.Settings{Fields: settingFields(in, nil)}))
}

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	in := inventory.SettingsInput{
		DefaultExpiryDays: f("default_expiry_days"), MaxExpiryDays: f("max_expiry_days"),
		MaxSourcePrefixV4: f("max_source_prefix_v4"), MaxSourcePrefixV6: f("max_source_prefix_v6"),
		DevicePrefixV4: f("device_prefix_v4"), DevicePrefixV6: f("device_prefix_v6"),
		BroadPortCount: f("broad_port_count"), PublicTCPPorts: f("public_tcp_ports"), RecertifyMonths: f("recertify_months"),
		TokenDefaultDays: f("token_default_ttl_days"), TokenMaxDays: f("token_max_ttl_days"),
		AssetAddressAllow: f("asset_address_allow"), ScanMaxTargets: f("scan_max_targets"),
	}
	if err := s.app.Inventory.SaveSettings(r.Context(), actor(r), in); err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, web.SettingsPage(s.page(r, "Settings"), web.Settings{Fields: settingFields(in, fieldErrors(r.Context(), err))}))
		return
	}
	s.flash(r, "ok", "Settings saved.")
	s.redirect(w, r, "/admin/settings")
}
