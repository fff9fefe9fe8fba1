package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/identity"
)

// tokenRow shows a token on the profile: created, expires, last used.
func (s *Server) tokenRow(ctx context.Context, t models.APIToken) web.TokenRow {
	row := web.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Created: locale.Time(ctx, t.CreatedAt), LastUsed: locale.TimePtr(ctx, t.LastUsedAt), Revoked: t.RevokedAt != nil}
	if t.ExpiresAt != nil {
		row.Expires = locale.Time(ctx, *t.ExpiresAt)
		row.Expired = !s.app.Now().Before(*t.ExpiresAt)
	} else {
		row.Expires = locale.T(ctx, "profile.token_default_lifetime")
	}
	return row
}

// tokenLifetimeHint tells the profile's token form the default and the maximum.
func (s *Server) tokenLifetimeHint(r *http.Request, v *web.Profile) error {
	def, longest, err := identity.TokenLifetimes(s.app.DB().WithContext(r.Context()))
	if err != nil {
		return err
	}
	v.TTLHint = locale.T(r.Context(), "profile.token_ttl_hint", "Default", identity.FormatTTL(def), "Longest", identity.FormatTTL(longest))
	return nil
}

// disableUser ends a user's access now (sessions, tokens) and keeps them out.
func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		s.flash(r, "error", locale.T(r.Context(), "users.confirm_needed"))
		s.redirect(w, r, "/admin/users")
		return
	}
	reason := r.PostFormValue("reason")
	if err := s.app.Identity.DisableUser(r.Context(), actor(r), id, reason); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			// The list again, the refused row holding what was typed.
			msg := humanMessage(r.Context(), err)
			if fe := fieldErrors(r.Context(), err)["reason"]; fe != "" {
				msg = fe
			}
			s.refusedOnUsers(w, r, func(u *web.UserRow) {
				if u.ID == id {
					u.ReasonDraft, u.ReasonError = reason, msg
				}
			})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("user disabled", "user_id", id, "by", actor(r).Email)
	s.flash(r, "ok", locale.T(r.Context(), "users.disabled_flash"))
	s.redirect(w, r, "/admin/users")
}

// enableUser lets a disabled user log in again.
func (s *Server) enableUser(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.app.Identity.EnableUser(r.Context(), actor(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "users.enabled_flash"))
	s.redirect(w, r, "/admin/users")
}

// accessCheckTimeout bounds one refresh at the identity provider.
const accessCheckTimeout = 15 * time.Second
