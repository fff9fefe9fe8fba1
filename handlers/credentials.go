package handlers

import (
	"net/http"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
)

func (s *Server) credentialListPage(w http.ResponseWriter, r *http.Request) {
	s.renderCredentialList(w, r, http.StatusOK, "")
}

func (s *Server) renderCredentialList(w http.ResponseWriter, r *http.Request, status int, formError string) {
	st, err := s.app.Credentials.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.CredentialListForm{Stored: st.Stored, Entries: st.Entries, UpdatedBy: st.UpdatedBy, Error: formError}
	if st.Stored {
		v.UpdatedAt = locale.Time(r.Context(), st.UpdatedAt)
	}
	s.render(w, r, status, web.CredentialListPage(s.page(r, locale.T(r.Context(), "credentials.title")), v))
}

func (s *Server) saveCredentialList(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Credentials.Save(r.Context(), actor(r), r.PostFormValue("list")); err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		// The list is not echoed back into the form: it holds passwords.
		s.renderCredentialList(w, r, http.StatusBadRequest, fieldErrors(r.Context(), err)["list"])
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "credentials.saved"))
	s.redirect(w, r, "/admin/credentials")
}
