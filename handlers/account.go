package handlers

import (
	"net/http"
	"strconv"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow"
)

func (s *Server) profileView(r *http.Request, v web.Profile) (web.Profile, error) {
	a := actor(r)
	v.Name, v.Email, v.Team = a.Name, a.Email, a.Team
	for _, role := range a.Roles {
		v.Roles = append(v.Roles, string(role))
	}
	tokens, err := s.svc.ListTokens(r.Context(), a)
	if err != nil {
		return v, err
	}
	for _, t := range tokens {
		v.Tokens = append(v.Tokens, web.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Created: fmtTime(t.CreatedAt), LastUsed: fmtTimePtr(t.LastUsedAt), Revoked: t.RevokedAt != nil})
	}
	return v, nil
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	v, err := s.profileView(r, web.Profile{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.ProfilePage(s.page(r, "Profile"), v))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	secret, _, err := s.svc.CreateToken(r.Context(), a, a.Email, r.PostFormValue("name"))
	status, v := http.StatusOK, web.Profile{NewSecret: secret}
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		status, v = http.StatusBadRequest, web.Profile{}
		v.Error, _ = publicMessage(err)
	}
	// The secret is shown on this response only; it is never stored or redirected with.
	v, err = s.profileView(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, web.ProfilePage(s.page(r, "Profile"), v))
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.RevokeToken(r.Context(), actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", "Token revoked.")
	s.redirect(w, r, "/profile")
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.svc.ListUsers(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]web.UserRow, len(users))
	for i, u := range users {
		rows[i] = web.UserRow{Email: u.Email, Name: u.Name, Team: u.Team, Roles: u.Roles, Issuer: u.Issuer, LastLogin: fmtTimePtr(u.LastLoginAt)}
	}
	s.render(w, r, http.StatusOK, web.UsersPage(s.page(r, "Users"), rows))
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.GetSettings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.Settings{DefaultDays: strconv.Itoa(int(st.DefaultExpiry.Hours() / 24)), MaxDays: strconv.Itoa(int(st.MaxExpiry.Hours() / 24)), Errors: map[string]string{}}
	s.render(w, r, http.StatusOK, web.SettingsPage(s.page(r, "Settings"), v))
}

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) {
	v := web.Settings{DefaultDays: r.PostFormValue("default_expiry_days"), MaxDays: r.PostFormValue("max_expiry_days"), Errors: map[string]string{}}
	def, err1 := strconv.Atoi(v.DefaultDays)
	maxDays, err2 := strconv.Atoi(v.MaxDays)
	var err error
	switch {
	case err1 != nil:
		err = &workflow.Error{Code: workflow.CodeInvalid, Field: "default_expiry_days", Message: "a whole number of days is required"}
	case err2 != nil:
		err = &workflow.Error{Code: workflow.CodeInvalid, Field: "max_expiry_days", Message: "a whole number of days is required"}
	default:
		err = s.svc.SaveSettings(r.Context(), actor(r), def, maxDays)
	}
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		v.Errors = fieldErrors(err)
		s.render(w, r, http.StatusBadRequest, web.SettingsPage(s.page(r, "Settings"), v))
		return
	}
	s.flash(r, "ok", "Settings saved.")
	s.redirect(w, r, "/admin/settings")
}
