package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/auditlog"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
)

// auditPeriod reads from/to (inclusive days, YYYY-MM-DD, or RFC 3339 times).
func auditPeriod(r *http.Request) (compliance.AuditFilter, error) {
	var f compliance.AuditFilter
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		raw := strings.TrimSpace(r.URL.Query().Get(p.name))
		if raw == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, raw); err == nil {
			*p.dst = t.UTC()
			continue
		}
		t, err := time.Parse(dateFmt, raw)
		if err != nil {
			return f, core.Invalid(p.name, core.M("err.input.date", "{{.Value}} is not a date (YYYY-MM-DD)", "Value", strconv.Quote(raw)))
		}
		if p.name == "to" {
			t = t.AddDate(0, 0, 1) // the whole last day
		}
		*p.dst = t
	}
	return f, nil
}

// exportAudit streams the audit log; errors after the first byte can only be logged.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, api bool) {
	fail := s.failer(api)
	f, err := auditPeriod(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		fail(w, r, core.Invalid("format", core.M("err.compliance.format", "format {{.Format}} is not json or csv", "Format", strconv.Quote(format))))
		return
	}
	ctype := map[string]string{"json": "application/json", "csv": "text/csv; charset=utf-8"}[format]
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="portcullis-audit-%s.%s"`, time.Now().UTC().Format("20060102T150405Z"), format))
	s.extendWriteDeadline(w)
	s.exportFailed(w, r, fail, "audit export", s.app.Compliance.ExportAudit(r.Context(), actor(r), f, format, w))
}

// exportWriteTimeout bounds one export download. Exports stream a batch at
// a time and may outlast the server's WriteTimeout (two minutes) on a large
// audit log, so each export gets a deadline of its own.
const exportWriteTimeout = 30 * time.Minute

// extendWriteDeadline gives a long download its own write deadline.
func (s *Server) extendWriteDeadline(w http.ResponseWriter) {
	if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTimeout)); err != nil {
		s.log.Debug("export write deadline not extended", "err", err)
	}
}

// failer answers an error as a page or as the API's JSON.
func (s *Server) failer(api bool) func(http.ResponseWriter, *http.Request, error) {
	if api {
		return s.apiError
	}
	return s.fail
}

// exportFailed answers an export's error: a refusal (bad filter, role)
// comes before any byte and gets a proper response; a failure while
// streaming can only be logged.
func (s *Server) exportFailed(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, *http.Request, error), what string, err error) {
	if err == nil {
		return
	}
	if statusOf(err) != http.StatusInternalServerError {
		w.Header().Del("Content-Disposition")
		fail(w, r, err)
		return
	}
	s.log.Error(what, "err", err)
}

func (s *Server) apiAuditExport(w http.ResponseWriter, r *http.Request) { s.exportAudit(w, r, true) }
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request)    { s.exportAudit(w, r, false) }

func (s *Server) auditView(r *http.Request) web.Audit {
	v := web.Audit{VerifierKey: s.app.Compliance.AuditVerifierKey(), Reports: auditReports(r.Context())}
	zones, _ := s.app.Inventory.Zones(r.Context())
	for _, z := range zones {
		v.Zones = append(v.Zones, web.Option{Value: z.Name, Label: z.Name})
	}
	for _, st := range requests.AllStates {
		v.States = append(v.States, web.Option{Value: string(st), Label: web.Term(r.Context(), web.TermState, string(st))})
	}
	return v
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, web.AuditPage(s.page(r, locale.T(r.Context(), "audit.title")), s.auditView(r)))
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.app.Compliance.VerifyAuditChain(r.Context(), actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.auditView(r)
	v.Verified, v.Result, v.OK, v.Notes = true, verifyText(r.Context(), rep), rep.OK(), rep.Notes
	s.render(w, r, http.StatusOK, web.AuditPage(s.page(r, locale.T(r.Context(), "audit.title")), v))
}

// verifyText is the verdict in the reader's language; the problem itself
// is the verifier's own words, as the CLI prints them.
func verifyText(ctx context.Context, rep *auditlog.Report) string {
	if !rep.OK() {
		if rep.Problem.Seq > 0 {
			return locale.T(ctx, "audit.broken_at", "Seq", rep.Problem.Seq, "Problem", rep.Problem.Message)
		}
		return locale.T(ctx, "audit.broken", "Problem", rep.Problem.Message)
	}
	if rep.CheckpointVerified {
		return locale.T(ctx, "audit.intact_checkpoint", "Events", locale.Number(ctx, rep.Events), "Seq", rep.CheckpointSize)
	}
	return locale.T(ctx, "audit.intact", "Events", locale.Number(ctx, rep.Events))
}

// objectHref links an audit event to the page of its object, where there is one.
func objectHref(objectType string, id uint) string {
	switch objectType {
	case "request":
		return fmt.Sprintf("/requests/%d", id)
	case "drift":
		return fmt.Sprintf("/drift/%d", id)
	case "scan":
		return fmt.Sprintf("/scans/%d", id)
	case "campaign":
		if id != 0 {
			return fmt.Sprintf("/recertification/campaigns/%d", id)
		}
	}
	return ""
}

// auditLogPage browses the audit log, newest first, a page at a time.
func (s *Server) auditLogPage(w http.ResponseWriter, r *http.Request) {
	title := locale.T(r.Context(), "audit_log.title")
	s.keptList(w, r, "audit-log", title, auditLogs, func() (templ.Component, error) {
		v, err := s.auditLogView(r)
		if statusOf(err) == http.StatusBadRequest {
			// The filters again, with why they were refused.
			v.Error, _ = publicMessage(r.Context(), err)
			return nil, refusedPage{err: err, title: title, content: web.AuditLogContent(v)}
		}
		return web.AuditLogContent(v), err
	})
}

// auditLogView is a page of the audit log under the browser's filters.
func (s *Server) auditLogView(r *http.Request) (web.AuditLog, error) {
	q := r.URL.Query()
	v := web.AuditLog{ObjectType: q.Get("object_type"), ObjectID: strings.TrimSpace(q.Get("object_id")), Before: strings.TrimSpace(q.Get("before"))}
	for _, t := range compliance.ObjectTypes() {
		v.ObjectTypes = append(v.ObjectTypes, web.Option{Value: t, Label: t})
	}
	query, err := auditEventQuery(r.Context(), v)
	if err != nil {
		return v, err
	}
	page, err := pageParams[compliance.EventKey](r, "limit", "cursor")
	if err != nil {
		return v, err
	}
	events, err := s.app.Compliance.Events(r.Context(), actor(r), query, page)
	if err != nil {
		return v, err
	}
	for _, e := range events.Items {
		row := web.AuditEventRow{Seq: e.Seq, At: e.At.UTC().Format("2006-01-02 15:04:05"), Actor: e.Actor, Action: e.Action,
			Object: fmt.Sprintf("%s #%d", e.ObjectType, e.ObjectID), ObjectHref: objectHref(e.ObjectType, e.ObjectID),
			FromState: e.FromState, ToState: e.ToState, Comment: e.Comment}
		if e.ObjectID == 0 {
			row.Object = e.ObjectType
		}
		if e.ClientAddr != nil {
			row.Client = *e.ClientAddr
		}
		v.Rows = append(v.Rows, row)
	}
	v.Links = pageLinks(r, "cursor", events.Next)
	return v, nil
}

// auditEventQuery reads the browser's filters.
func auditEventQuery(ctx context.Context, v web.AuditLog) (compliance.EventQuery, error) {
	q := compliance.EventQuery{ObjectType: v.ObjectType}
	if v.ObjectID != "" {
		id, err := strconv.ParseUint(v.ObjectID, 10, 32)
		if err != nil || id == 0 {
			return q, core.Invalid("", core.Plain(locale.T(ctx, "audit_log.object_id_invalid", "Value", strconv.Quote(v.ObjectID))))
		}
		q.ObjectID = uint(id)
	}
	if v.Before != "" {
		d, err := time.Parse(dateFmt, v.Before)
		if err != nil {
			return q, core.Invalid("", core.Plain(locale.T(ctx, "audit_log.before_invalid", "Value", strconv.Quote(v.Before))))
		}
		q.Before = d.AddDate(0, 0, 1) // the whole day named
	}
	return q, nil
}
