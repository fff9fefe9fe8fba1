package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/periodic"
	"github.com/portcullis/portcullis/workflow/reporting"
)

// The Reports page: the daily and weekly port reports (workflow/reporting),
// not the compliance exports of the Audit page (reports.go).

func reportRow(ctx context.Context, r models.PeriodicReport, headline string) web.ReportRow {
	kind := "report_kind." + r.Kind
	return web.ReportRow{ID: r.ID, Href: fmt.Sprintf("/reports/%d", r.ID), PDFHref: fmt.Sprintf("/reports/%d/pdf", r.ID),
		Kind: locale.T(ctx, kind), Zone: r.Zone, Team: r.Team, Period: r.Period, Created: locale.Time(ctx, r.CreatedAt), Headline: headline, NothingNew: r.NothingNew}
}

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request) {
	s.keptList(w, r, "reports", locale.T(r.Context(), "reports.title"), reportLists, func() (templ.Component, error) {
		return s.reportsView(r, "")
	})
}

// refusedOnReports shows the reports again with why a subscription was
// refused.
func (s *Server) refusedOnReports(w http.ResponseWriter, r *http.Request, problem string) {
	s.drawnOnce(w, r, http.StatusBadRequest, locale.T(r.Context(), "reports.title"), func() (templ.Component, error) {
		return s.reportsView(r, problem)
	})
}

// reportsView is a page of the reports the reader may read, with their
// subscriptions and what they may subscribe to; problem is why a
// subscription was refused.
func (s *Server) reportsView(r *http.Request, problem string) (templ.Component, error) {
	a := actor(r)
	req, err := cursorPage[reporting.Key](r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := reporting.Filter{Kind: q.Get("kind"), Zone: q.Get("zone")}
	page, err := s.app.Reports.List(r.Context(), a, f, req)
	if err != nil {
		return nil, err
	}
	subs, err := s.app.Reports.Subscriptions(r.Context(), a)
	if err != nil {
		return nil, err
	}
	zones, teams, err := s.app.Reports.Choices(r.Context(), a)
	if err != nil {
		return nil, err
	}
	headlines, err := s.app.Reports.Headlines(r.Context(), locale.From(r.Context()), page.Items)
	if err != nil {
		return nil, err
	}
	v := web.ReportsPage{Links: pageLinks(r, "cursor", page.Next), Error: problem}
	for _, row := range page.Items {
		v.Rows = append(v.Rows, reportRow(r.Context(), row, headlines[row.ID]))
	}
	for _, k := range []struct{ value, label string }{{"", "report_kind.all"}, {"daily", "report_kind.daily"}, {"weekly", "report_kind.weekly"}} {
		v.Kinds = append(v.Kinds, web.Option{Value: k.value, Label: locale.T(r.Context(), k.label), Selected: k.value == f.Kind})
	}
	if len(zones) > 0 {
		v.Zones = append(v.Zones, web.Option{Value: "", Label: "", Selected: f.Zone == ""})
	}
	for _, z := range zones {
		v.Zones = append(v.Zones, web.Option{Value: z, Label: z, Selected: z == f.Zone})
		v.SubZones = append(v.SubZones, web.Option{Value: z, Label: z})
	}
	for _, t := range teams {
		v.SubTeams = append(v.SubTeams, web.Option{Value: t, Label: t})
	}
	for _, sub := range subs {
		v.Subscriptions = append(v.Subscriptions, web.SubscriptionRow{Zone: sub.Zone, Team: sub.Team, Default: sub.Default, Active: sub.Active})
	}
	return web.ReportsContent(v), nil
}

// maxReportRowsShown bounds each list of a report's page: a zone of
// thousands of hosts stays readable; the PDF and the command line have the rest.
const maxReportRowsShown = 500

// reportView is a report as its page shows it.
func reportView(lang core.Language, id uint, rep periodic.Report) web.ReportView {
	v := web.ReportView{Title: rep.Title(lang) + ", " + rep.Period, Lead: rep.Lead(lang), PDFHref: fmt.Sprintf("/reports/%d/pdf", id), NothingNew: rep.NothingNew, Notes: rep.NotesIn(lang)}
	for _, f := range rep.Summary(lang) {
		v.Summary = append(v.Summary, web.Field{Name: f.Name, Value: f.Value})
	}
	for _, sec := range rep.SectionsUpTo(lang, maxReportRowsShown) {
		v.Sections = append(v.Sections, web.ReportSection{Key: sec.Key, Title: sec.Title, Empty: sec.Empty, Columns: sec.Columns, Rows: sec.Rows, More: sec.More})
	}
	return v
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, rep, err := s.app.Reports.Get(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := locale.From(r.Context())
	s.render(w, r, http.StatusOK, web.ReportPage(s.page(r, rep.Title(lang)), reportView(lang, id, rep)))
}

func (s *Server) reportPDF(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	row, rep, err := s.app.Reports.Get(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Made whole before the first byte: a failure is a proper error page.
	var b bytes.Buffer
	// The PDF is in the language of the person downloading it.
	if err := rep.PDF(locale.From(r.Context()), &b, s.app.Reports.PDFOptions()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.pdf"`, reporting.FileName(row)))
	w.Write(b.Bytes())
}

func (s *Server) subscribeReports(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("action") != "unsubscribe"
	err := s.app.Reports.Subscribe(r.Context(), actor(r), r.PostFormValue("zone"), r.PostFormValue("team"), on)
	if err != nil {
		if core.ErrorCodeOf(err) == core.CodeInvalid {
			msg, _ := publicMessage(r.Context(), err)
			s.refusedOnReports(w, r, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	msg := locale.T(r.Context(), "reports.subscribed_flash")
	if !on {
		msg = locale.T(r.Context(), "reports.unsubscribed_flash")
	}
	s.flash(r, "ok", msg)
	s.redirect(w, r, "/reports")
}
