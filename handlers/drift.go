package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/driftrules"
)

func driftRow(ctx context.Context, d models.DriftItem, a core.Actor) web.DriftRow {
	row := web.DriftRow{
		ID: d.ID, Kind: d.Kind, Severity: d.Severity, Address: d.Address, Service: d.Service, Zone: d.Zone,
		State: d.State, Detail: d.Detail, FirstSeen: locale.Time(ctx, d.FirstSeen), LastSeen: locale.Time(ctx, d.LastSeen), SuppressReason: d.SuppressReason,
	}
	if d.Protocol != "" {
		row.Port = fmt.Sprintf("%s/%d", d.Protocol, d.Port)
		if d.LastPort > d.Port {
			row.Port += fmt.Sprintf("-%d", d.LastPort)
		}
	}
	if d.RequestID != 0 {
		row.RequestHref = fmt.Sprintf("/requests/%d", d.RequestID)
	}
	if d.FiledRequestID != nil {
		row.FiledHref = fmt.Sprintf("/requests/%d", *d.FiledRequestID)
	}
	if d.SuppressedUntil != nil {
		row.SuppressedUntil = locale.Date(ctx, *d.SuppressedUntil)
	}
	row.Evidence = evidenceView(ctx, drift.EvidenceOf(d))
	live := d.State == drift.Open || d.State == drift.Acknowledged
	row.CanAcknowledge = d.State == drift.Open && a.Has(core.RoleReviewer, core.RoleApprover, core.RoleAdmin)
	row.CanSuppress = live && a.Has(core.RoleApprover, core.RoleAdmin)
	row.CanRequest = live && d.FiledRequestID == nil && driftrules.Kind(d.Kind).Requestable() && a.Has(core.RoleRequester, core.RoleAdmin)
	return row
}

func (s *Server) driftPage(w http.ResponseWriter, r *http.Request) {
	s.renderDrift(w, r, http.StatusOK, nil)
}

// renderDrift draws the drift list; refused, when set, puts a refused form
// back with what was typed.
func (s *Server) renderDrift(w http.ResponseWriter, r *http.Request, status int, refused func(*web.DriftList)) {
	draw := func() (templ.Component, error) {
		q := r.URL.Query()
		state := q.Get("state")
		f := drift.Filter{Kind: q.Get("kind"), Severity: q.Get("severity"), Zone: q.Get("zone"), Address: q.Get("asset")}
		switch state {
		case "", "live":
			f.States = []string{drift.Open, drift.Acknowledged}
		case "all":
		default:
			f.States = []string{state}
		}
		// A refused form keeps what was typed: that page does not swap itself.
		src := ""
		if refused == nil {
			src, _ = s.liveSrc(r, "/drift/events")
		}
		req, err := pageParams[drift.Key](r, "limit", "cursor")
		if err != nil {
			return nil, err
		}
		page, err := s.app.Drift.Page(r.Context(), actor(r), f, req)
		if err != nil {
			return nil, err
		}
		v := web.DriftList{Live: src, MinUntil: time.Now().UTC().AddDate(0, 0, 1).Format(dateFmt), Zone: f.Zone, Asset: f.Address,
			Pages: pageLinks(r, "cursor", page.Next)}
		for _, o := range []string{"live", drift.Open, drift.Acknowledged, drift.Suppressed, drift.Resolved, "all"} {
			v.States = append(v.States, web.Option{Value: o, Selected: o == state || (state == "" && o == "live")})
		}
		for _, k := range driftrules.Kinds() {
			v.Kinds = append(v.Kinds, web.Option{Value: string(k), Label: string(k), Selected: string(k) == f.Kind})
		}
		for _, sev := range severities {
			v.Severities = append(v.Severities, web.Option{Value: sev, Label: sev, Selected: sev == f.Severity})
		}
		a := actor(r)
		for _, d := range page.Items {
			v.Rows = append(v.Rows, driftRow(r.Context(), d, a))
		}
		if refused != nil {
			refused(&v)
		}
		return web.DriftContent(web.Limits(core.Limits), v), nil
	}
	title := locale.T(r.Context(), "drift.title")
	if refused == nil {
		s.keptList(w, r, "drift", title, driftLists, draw)
		return
	}
	s.drawnOnce(w, r, status, title, draw)
}

func (s *Server) acknowledgeDrift(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comment := r.PostFormValue("comment")
	if _, err := s.app.Drift.Acknowledge(r.Context(), actor(r), id, comment); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			// The list again, this item's comment holding what was typed.
			msg, _ := publicMessage(r.Context(), err)
			field := fieldErrors(r.Context(), err)
			s.renderDrift(w, r, http.StatusBadRequest, func(v *web.DriftList) {
				v.Error = msg
				for i := range v.Rows {
					if v.Rows[i].ID == id {
						v.Rows[i].CommentDraft, v.Rows[i].CommentError = comment, field["comment"]
					}
				}
			})
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "drift.acknowledged_flash", "ID", id))
	s.redirect(w, r, "/drift")
}

func (s *Server) suppressDrift(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason, rawUntil := r.PostFormValue("reason"), r.PostFormValue("until")
	// A refused suppression shows the list again with this item's form open
	// and holding what was typed.
	refuse := func(msg string, field map[string]string) {
		s.renderDrift(w, r, http.StatusBadRequest, func(v *web.DriftList) {
			v.Error = msg
			for i := range v.Rows {
				if v.Rows[i].ID == id {
					v.Rows[i].SuppressOpen, v.Rows[i].ReasonDraft, v.Rows[i].UntilDraft = true, reason, rawUntil
					v.Rows[i].ReasonError = field["reason"]
				}
			}
		})
	}
	until, err := time.Parse(dateFmt, rawUntil)
	if err != nil {
		refuse(locale.T(r.Context(), "drift.until_invalid"), nil)
		return
	}
	if _, err := s.app.Drift.Suppress(r.Context(), actor(r), id, reason, until.Add(23*time.Hour+59*time.Minute)); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(r.Context(), err)
			refuse(msg, fieldErrors(r.Context(), err))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "drift.suppressed_flash", "ID", id))
	s.redirect(w, r, "/drift")
}

// evidenceView names what the scanner saw in the reader's language; the
// values are the scanner's own words, except the port's state and TLS.
func evidenceView(ctx context.Context, e driftrules.Evidence) []web.Field {
	var out []web.Field
	for _, f := range drift.EvidenceFields(e) {
		value := f.Value
		switch f.Name {
		case "state":
			value = catalogOr(ctx, "drift_evidence.state_"+value, value)
		case "tls":
			value = locale.T(ctx, "drift_evidence.yes")
		}
		out = append(out, web.Field{Name: evidenceName(ctx, f.Name), Value: value})
	}
	return out
}

func evidenceName(ctx context.Context, name string) string {
	switch name {
	case "state":
		return locale.T(ctx, "drift_evidence.state")
	case "product":
		return locale.T(ctx, "drift_evidence.product")
	case "banner":
		return locale.T(ctx, "drift_evidence.banner")
	case "tls":
		return locale.T(ctx, "drift_evidence.tls")
	}
	return locale.T(ctx, "drift_evidence.findings")
}
