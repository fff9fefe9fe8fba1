package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"

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
		status, v = http.StatusBadRequest, web.Profile{TTL: ttlText, TokenName: r.PostFormValue("name")}
		if fe := fieldErrors(r.Context(), err); fe["ttl"] != "" {
			v.TTLError = fe["ttl"]
		} else if fe["name"] != "" {
			v.Error = fe["name"]
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
	s.keptList(w, r, "users", locale.T(r.Context(), "users.title"), userLists, func() (templ.Component, error) {
		return s.usersView(r, nil)
	})
}

// refusedOnUsers shows the page of users again, with the row whose
// disabling was refused keeping what was typed.
func (s *Server) refusedOnUsers(w http.ResponseWriter, r *http.Request, refused func(*web.UserRow)) {
	s.drawnOnce(w, r, http.StatusBadRequest, locale.T(r.Context(), "users.title"), func() (templ.Component, error) {
		return s.usersView(r, refused)
	})
}

// usersView is a page of users; refused, when set, marks a row whose
// disabling was refused.
func (s *Server) usersView(r *http.Request, refused func(*web.UserRow)) (templ.Component, error) {
	page, err := cursorPage[identity.UserKey](r)
	if err != nil {
		return nil, err
	}
	users, err := s.app.Identity.ListUsersPage(r.Context(), page)
	if err != nil {
		return nil, err
	}
	v := web.Users{Rows: make([]web.UserRow, len(users.Items)), Links: pageLinks(r, "cursor", users.Next), ReasonMax: identity.MaxDisableReason}
	for i, u := range users.Items {
		v.Rows[i] = web.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Team: u.Team, Roles: u.Roles, Issuer: u.Issuer, LastLogin: locale.TimePtr(r.Context(), u.LastLoginAt),
			Disabled: locale.TimePtr(r.Context(), u.DisabledAt), DisabledReason: u.DisabledReason, Self: u.ID == actor(r).ID}
		if refused != nil {
			refused(&v.Rows[i])
		}
	}
	return web.UsersContent(v), nil
}

// withMax gives a setting typed as a list its length limit.
func withMax(s web.Setting, max int) web.Setting {
	s.Max = max
	return s
}

// settingFields lays out the settings form; each field's label is the
// catalog's settings.NAME, its hint settings.NAME_hint where it has one.
func settingFields(ctx context.Context, in inventory.SettingsInput, errs map[string]string) []web.Setting {
	f := func(name string, hasHint bool, value string) web.Setting {
		label, hint := "settings."+name, ""
		if hasHint {
			hint = locale.T(ctx, label+"_hint")
		}
		return web.Setting{Name: name, Label: locale.T(ctx, label), Hint: hint, Value: value, Error: errs[name]}
	}
	return []web.Setting{
		f("default_expiry_days", true, in.DefaultExpiryDays),
		f("max_expiry_days", true, in.MaxExpiryDays),
		f("max_source_prefix_v4", true, in.MaxSourcePrefixV4),
		f("max_source_prefix_v6", false, in.MaxSourcePrefixV6),
		f("device_prefix_v4", true, in.DevicePrefixV4),
		f("device_prefix_v6", false, in.DevicePrefixV6),
		f("broad_port_count", false, in.BroadPortCount),
		withMax(f("public_tcp_ports", true, in.PublicTCPPorts), inventory.MaxSettingText),
		f("recertify_months", true, in.RecertifyMonths),
		f("token_default_ttl_days", true, in.TokenDefaultDays),
		f("token_max_ttl_days", true, in.TokenMaxDays),
		f("scan_max_targets", true, in.ScanMaxTargets),
		withMax(f("asset_address_allow", true, in.AssetAddressAllow), inventory.MaxSettingText),
	}
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request) {
	in, err := s.app.Inventory.GetSettingsForm(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.SettingsPage(s.page(r, locale.T(r.Context(), "settings.title")), web.Settings{Fields: settingFields(r.Context(), in, nil)}))
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
		s.render(w, r, http.StatusBadRequest, web.SettingsPage(s.page(r, locale.T(r.Context(), "settings.title")), web.Settings{Fields: settingFields(r.Context(), in, fieldErrors(r.Context(), err))}))
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "settings.saved"))
	s.redirect(w, r, "/admin/settings")
}
