package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/report"
	"github.com/portcullis/portcullis/workflow/requests"
)

// exportFilter reads the period, zone, team and state of an export.
func exportFilter(r *http.Request) (compliance.ExportFilter, error) {
	period, err := auditPeriod(r)
	if err != nil {
		return compliance.ExportFilter{}, err
	}
	q := r.URL.Query()
	f := compliance.ExportFilter{From: period.From, To: period.To, Zone: strings.TrimSpace(q.Get("zone")), Team: strings.TrimSpace(q.Get("team"))}
	if st := q.Get("state"); st != "" {
		if _, ok := requests.ParseState(st); !ok {
			return f, core.Invalid("state", core.M("err.input.request_state", "{{.Value}} is not a request state", "Value", strconv.Quote(st)))
		}
		f.State = st
	}
	return f, nil
}

// streamReport writes a compliance report in the asked format. Errors
// before the first byte get a proper response; later ones can only be logged.
func (s *Server) streamReport(w http.ResponseWriter, r *http.Request, kind string, api bool) {
	fail := s.failer(api)
	f, err := exportFilter(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	writer, err := report.New(format, w, report.Options{CSVSections: kind == "drift"})
	if err != nil {
		fail(w, r, core.Invalid("format", core.M("err.input.report_format", "{{.Reason}}", "Reason", core.Plain(err.Error()))))
		return
	}
	if format == "pdf" || format == "xlsx" {
		// Documents people read are in their language; CSV and JSON, which
		// tools parse, keep their English headers.
		writer = compliance.Localized(writer, locale.From(r.Context()))
	}
	w.Header().Set("Content-Type", report.ContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="portcullis-%s-%s%s"`, kind, time.Now().UTC().Format("20060102"), report.Extension(format)))
	s.extendWriteDeadline(w)
	if err := s.app.Compliance.ExportReport(r.Context(), actor(r), kind, f, writer); err != nil {
		writer.Close()
		s.exportFailed(w, r, fail, "report export "+kind, err)
	}
}

func (s *Server) reportDownload(w http.ResponseWriter, r *http.Request) {
	s.streamReport(w, r, r.URL.Query().Get("kind"), false)
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	s.streamReport(w, r, strings.TrimPrefix(r.URL.Path, "/api/v1/reports/"), true)
}

// auditReports are the choices of the auditor's page.
func auditReports(ctx context.Context) []web.Option {
	var out []web.Option
	for _, rp := range compliance.Reports {
		title := "compliance_report." + rp.Kind
		out = append(out, web.Option{Value: rp.Kind, Label: locale.T(ctx, title) + locale.T(ctx, "compliance_report.regime", "Regime", rp.Regime)})
	}
	return out
}
