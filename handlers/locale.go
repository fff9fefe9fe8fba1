package handlers

import (
	"net/http"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
)

// withLocale gives every request a localizer from its Accept-Language and
// the server's defaults; withSessionActor replaces it when the logged-in
// person chose a language or time zone on their profile.
func (s *Server) withLocale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, s.localized(r))
	})
}

// localized is r with the localizer its Accept-Language and the defaults give.
func (s *Server) localized(r *http.Request) *http.Request {
	l := s.locale.Localizer("", r.Header.Get("Accept-Language"), "")
	return r.WithContext(locale.With(r.Context(), l))
}

// roleChoice names the roles a route needs, in the reader's language.
func (s *Server) roleChoice(r *http.Request, roles []core.Role) string {
	names := make([]string, len(roles))
	for i, role := range roles {
		names[i] = web.Term(r.Context(), web.TermRole, string(role))
	}
	return strings.Join(names, locale.T(r.Context(), "common.or"))
}

// preferencesView fills the profile's language and time zone form; what
// was typed and refused stays in the form.
func (s *Server) preferencesView(r *http.Request, v *web.Profile) {
	a := actor(r)
	if v.LanguageError == "" && v.TimeZoneError == "" {
		v.Language, v.TimeZone = a.Language, a.TimeZone
	}
	v.Languages, v.Zones = locale.Offered, locale.CommonZones
	v.DefaultZone = s.cfg.DefaultTimeZone
	if v.DefaultZone == "" {
		v.DefaultZone = "UTC"
	}
	v.Now = locale.Time(r.Context(), s.app.Now())
}

// savePreferences stores the person's language and time zone; the next
// page is already in them.
func (s *Server) savePreferences(w http.ResponseWriter, r *http.Request) {
	p := identity.Preferences{Language: strings.TrimSpace(r.PostFormValue("language")), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone"))}
	var err error
	if p.Language != "" {
		if p.Language, err = locale.ParseLanguage(p.Language); err != nil {
			err = core.Invalid("language", core.M("err.identity.language_not_offered", "{{.Reason}}", "Reason", core.Plain(err.Error())))
		}
	}
	if err == nil {
		err = s.app.Identity.SetPreferences(r.Context(), actor(r), p)
	}
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		// The refusals are said in the reader's language, naming what was typed.
		fe := fieldErrors(r.Context(), err)
		v := web.Profile{Language: r.PostFormValue("language"), TimeZone: r.PostFormValue("time_zone")}
		if fe["language"] != "" {
			v.LanguageError = locale.T(r.Context(), "profile.language_invalid")
		}
		if fe["time_zone"] != "" || v.LanguageError == "" {
			v.TimeZoneError = locale.T(r.Context(), "profile.time_zone_invalid", "Zone", p.TimeZone)
		}
		if v, err = s.profileView(r, v); err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, web.ProfilePage(s.page(r, locale.T(r.Context(), "profile.title")), v))
		return
	}
	// The flash is read on the next page, in the language just chosen.
	l := s.locale.Localizer(p.Language, r.Header.Get("Accept-Language"), p.TimeZone)
	s.flash(r, "ok", locale.T(locale.With(r.Context(), l), "profile.preferences_saved"))
	s.redirect(w, r, "/profile")
}
