package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
)

var accesses = []policy.Access{policy.AccessAllow, policy.AccessWeb, policy.AccessWhitelist, policy.AccessEgress, policy.AccessDeny}

// policyView builds the policy page from a matrix and a catalog text.
func policyView(m policy.Matrix, catalogYAML string, services int) web.PolicyPage {
	v := web.PolicyPage{CatalogYAML: catalogYAML, Services: services, Gutter: lineNumbers(catalogYAML)}
	for _, a := range accesses {
		v.Accesses = append(v.Accesses, string(a))
	}
	for _, from := range policy.Classifications() {
		v.Classifications = append(v.Classifications, string(from))
		row := web.MatrixRow{From: string(from)}
		for _, to := range policy.Classifications() {
			row.Cells = append(row.Cells, web.MatrixCell{From: string(from), To: string(to), Access: string(m.Access(from, to))})
		}
		v.Matrix = append(v.Matrix, row)
	}
	return v
}

func (s *Server) policyPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.app.Inventory.GetPolicy(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.PolicyPageView(s.page(r, locale.T(r.Context(), "policy.title")), policyView(p.Matrix, p.CatalogYAML, p.Catalog.Len())))
}

// matrixFromForm reads the grid of selects.
func matrixFromForm(r *http.Request) (policy.Matrix, error) {
	var m policy.Matrix
	for _, from := range policy.Classifications() {
		for _, to := range policy.Classifications() {
			a, err := policy.ParseAccess(r.PostFormValue(fmt.Sprintf("m.%s.%s", from, to)))
			if err != nil {
				return m, &core.Error{Code: core.CodeInvalid, Field: "matrix", Message: fmt.Sprintf("%s to %s: %v", from, to, err)}
			}
			m.Set(from, to, a)
		}
	}
	return m, nil
}

// policyChange previews or saves a change, showing the what-if either way
// when asked to preview.
func (s *Server) policyChange(w http.ResponseWriter, r *http.Request, kind string, change inventory.PolicyChange) {
	a := actor(r)
	current, err := s.app.Inventory.GetPolicy(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, text := current.Matrix, current.CatalogYAML
	if change.Matrix != nil {
		m = *change.Matrix
	}
	if change.CatalogYAML != nil {
		text = *change.CatalogYAML
	}
	v := policyView(m, text, current.Catalog.Len())
	if r.PostFormValue("action") == "save" {
		if err := s.app.Inventory.SavePolicy(r.Context(), a, change); err != nil {
			if statusOf(err) != http.StatusBadRequest {
				s.fail(w, r, err)
				return
			}
			catalogRefused(&v, text, err)
			s.render(w, r, http.StatusBadRequest, web.PolicyPageView(s.page(r, locale.T(r.Context(), "policy.title")), v))
			return
		}
		saved := locale.T(r.Context(), "policy.saved_matrix")
		if kind == "catalog" {
			saved = locale.T(r.Context(), "policy.saved_catalog")
		}
		s.flash(r, "ok", saved)
		s.redirect(w, r, "/admin/policy")
		return
	}
	violations, active, err := s.app.Requests.WhatIf(r.Context(), a, change)
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		catalogRefused(&v, text, err)
		s.render(w, r, http.StatusBadRequest, web.PolicyPageView(s.page(r, locale.T(r.Context(), "policy.title")), v))
		return
	}
	v.Preview, v.Active = kind, len(active)
	for _, vi := range violations {
		view := web.Violation{Rule: vi.Rule.Name(), Href: fmt.Sprintf("/requests/%d", vi.Rule.RequestID)}
		view.Findings = findingsView(r.Context(), vi.Added, nil, nil).Items
		v.Violations = append(v.Violations, view)
	}
	s.render(w, r, http.StatusOK, web.PolicyPageView(s.page(r, locale.T(r.Context(), "policy.title")), v))
}

func (s *Server) saveMatrix(w http.ResponseWriter, r *http.Request) {
	m, err := matrixFromForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.policyChange(w, r, "matrix", inventory.PolicyChange{Matrix: &m})
}

func (s *Server) saveCatalog(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("catalog")
	s.policyChange(w, r, "catalog", inventory.PolicyChange{CatalogYAML: &text})
}

// lineNumbers is the editor's gutter for text: one number per line.
func lineNumbers(text string) string {
	n := strings.Count(text, "\n") + 1
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// catalogRefused puts a refused catalog's error on the page, with the line
// it names and the lines around it, so the admin sees where to look.
func catalogRefused(v *web.PolicyPage, text string, err error) {
	v.CatalogError, _ = publicMessage(err)
	var ce *policy.CatalogError
	if !errors.As(err, &ce) || ce.Line <= 0 {
		return
	}
	v.CatalogErrorLine = ce.Line
	lines := strings.Split(text, "\n")
	for n := max(1, ce.Line-3); n <= min(len(lines), ce.Line+3); n++ {
		v.CatalogExcerpt = append(v.CatalogExcerpt, web.CodeLine{N: n, Text: lines[n-1], Bad: n == ce.Line})
	}
}
