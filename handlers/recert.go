package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/requests"
)

func recertItem(ctx context.Context, it models.Recertification, defaultExpiry time.Time) web.RecertItem {
	v := web.RecertItem{
		ID: it.ID, RequestID: it.RequestID, Href: requestHref(it.RequestID), Title: it.Request.Title,
		Team: it.Team, Rules: rulesSummary(it.Request.Rules), Campaign: it.Campaign.Name, DueBy: locale.Date(ctx, it.Campaign.DueBy),
		Expires: locale.Date(ctx, it.Request.ExpiresAt), Status: it.Status, DecidedBy: it.DecidedBy, Justification: it.Justification,
		DefaultExpiry: defaultExpiry.Format(dateFmt),
	}
	return v
}

func campaignRow(ctx context.Context, p recert.CampaignProgress) web.CampaignRow {
	c := web.CampaignRow{ID: p.Campaign.ID, Name: p.Campaign.Name, DueBy: locale.Date(ctx, p.Campaign.DueBy), CreatedBy: p.Campaign.CreatedBy}
	for _, t := range p.Teams {
		c.Teams = append(c.Teams, web.TeamRow{Team: t.Team, Pending: t.Pending, Recertified: t.Recertified, Lapsed: t.Lapsed, Done: t.Done()})
	}
	tot := p.Total()
	c.Pending, c.Recertified, c.Lapsed, c.Done = tot.Pending, tot.Recertified, tot.Lapsed, tot.Done()
	return c
}

func (s *Server) recertificationPage(w http.ResponseWriter, r *http.Request) {
	s.renderRecertification(w, r, http.StatusOK, nil)
}

// renderRecertification draws the page; refused, when set, puts a refused
// form back with what was typed.
func (s *Server) renderRecertification(w http.ResponseWriter, r *http.Request, status int, refused func(*web.Recertification)) {
	draw := func() (templ.Component, error) {
		a := actor(r)
		ctx := r.Context()
		settings, err := s.app.Inventory.GetSettings(ctx)
		if err != nil {
			return nil, err
		}
		now := time.Now().UTC()
		v := web.Recertification{
			CanStart: a.Has(core.RoleApprover, core.RoleAdmin), SeesProgress: a.SeesAllRequests(),
			DefaultDue: now.AddDate(0, 1, 0).Format(dateFmt), MaxDate: now.Add(settings.MaxExpiry).Format(dateFmt),
		}
		minePage, err := pageParams[recert.MineKey](r, "limit", "cursor")
		if err != nil {
			return nil, err
		}
		mine, err := s.app.Recert.MyRecertifications(requests.ForRequestList(ctx), a, minePage)
		if err != nil {
			return nil, err
		}
		for _, it := range mine.Items {
			v.Mine = append(v.Mine, recertItem(r.Context(), it, now.Add(settings.DefaultExpiry)))
		}
		v.MineLinks = pageLinks(r, "cursor", mine.Next)
		if v.SeesProgress {
			campPage, err := pageParams[recert.CampaignKey](r, "limit", "campaigns_cursor")
			if err != nil {
				return nil, err
			}
			camps, err := s.app.Recert.Campaigns(ctx, a, campPage)
			if err != nil {
				return nil, err
			}
			for _, c := range camps.Items {
				v.Campaigns = append(v.Campaigns, campaignRow(r.Context(), c))
			}
			v.CampaignsLinks = pageLinks(r, "campaigns_cursor", camps.Next)
		}
		if refused != nil {
			refused(&v)
		}
		return web.RecertificationContent(web.Limits(core.Limits), v), nil
	}
	title := locale.T(r.Context(), "recert.title")
	if refused == nil {
		s.keptList(w, r, "recert", title, recertLists, draw)
		return
	}
	s.drawnOnce(w, r, status, title, draw)
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := pageParams[recert.ItemKey](r, "limit", "cursor")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.keptTitled(w, r, fmt.Sprintf("campaign/%d", id), campaignPages, func() (string, templ.Component, error) {
		p, err := s.app.Recert.Campaign(r.Context(), actor(r), id)
		if err != nil {
			return "", nil, err
		}
		items, err := s.app.Recert.CampaignItems(r.Context(), actor(r), id, page)
		if err != nil {
			return "", nil, err
		}
		v := web.CampaignPage{Campaign: campaignRow(r.Context(), *p)}
		for _, it := range items.Items {
			v.Items = append(v.Items, recertItem(r.Context(), it, time.Time{}))
		}
		v.Links = pageLinks(r, "cursor", items.Next)
		return locale.T(r.Context(), "recert.campaign_title", "Name", p.Campaign.Name, "ID", p.Campaign.ID), web.CampaignContent(v), nil
	})
}

// refuseRecertItem shows the page again with item id's forms holding what
// the owner typed and the refusal beside the field it concerns.
func (s *Server) refuseRecertItem(w http.ResponseWriter, r *http.Request, id uint, msg string, field map[string]string) {
	s.renderRecertification(w, r, http.StatusBadRequest, func(v *web.Recertification) {
		v.Error = msg
		for i := range v.Mine {
			if it := &v.Mine[i]; it.ID == id {
				it.JustificationDraft, it.ExpiresDraft, it.ReasonDraft = r.PostFormValue("justification"), r.PostFormValue("expires_at"), r.PostFormValue("reason")
				it.JustificationError, it.ReasonError = field["justification"], field["reason"]
			}
		}
	})
}

// refusedOrFail answers a refused form with the page again, anything else with
// the error page; refuse draws the page.
func (s *Server) refusedOrFail(w http.ResponseWriter, r *http.Request, err error, refuse func(msg string, field map[string]string)) {
	if statusOf(err) != http.StatusBadRequest {
		s.fail(w, r, err)
		return
	}
	refuse(humanMessage(r.Context(), err), fieldErrors(r.Context(), err))
}

func (s *Server) startCampaign(w http.ResponseWriter, r *http.Request) {
	name, rawDue := r.PostFormValue("name"), strings.TrimSpace(r.PostFormValue("due_by"))
	refuse := func(msg string, field map[string]string) {
		s.renderRecertification(w, r, http.StatusBadRequest, func(v *web.Recertification) {
			v.Error, v.NameDraft, v.NameError, v.DueDraft = msg, name, field["name"], rawDue
		})
	}
	due, err := time.Parse(dateFmt, rawDue)
	if err != nil {
		refuse(locale.T(r.Context(), "recert.due_invalid"), nil)
		return
	}
	camp, n, err := s.app.Recert.StartCampaign(r.Context(), actor(r), name, due.Add(23*time.Hour+59*time.Minute))
	if err != nil {
		s.refusedOrFail(w, r, err, refuse)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "recert.campaign_started", "Name", camp.Name, "N", locale.Number(r.Context(), n)))
	s.redirect(w, r, fmt.Sprintf("/recertification/campaigns/%d", camp.ID))
}

func (s *Server) recertifyItem(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	refuse := func(msg string, field map[string]string) { s.refuseRecertItem(w, r, id, msg, field) }
	var expires time.Time
	if raw := strings.TrimSpace(r.PostFormValue("expires_at")); raw != "" {
		d, err := time.Parse(dateFmt, raw)
		if err != nil {
			refuse(locale.T(r.Context(), "recert.expires_invalid"), nil)
			return
		}
		expires = d.Add(23*time.Hour + 59*time.Minute)
	}
	req, err := s.app.Recert.Recertify(r.Context(), actor(r), id, r.PostFormValue("justification"), expires)
	if err != nil {
		s.refusedOrFail(w, r, err, refuse)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "recert.recertified_flash", "ID", req.ID, "Until", locale.Date(r.Context(), req.ExpiresAt)))
	s.redirect(w, r, "/recertification")
}

func (s *Server) lapseItem(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := s.app.Recert.LetLapse(r.Context(), actor(r), id, r.PostFormValue("reason"))
	if err != nil {
		s.refusedOrFail(w, r, err, func(msg string, field map[string]string) { s.refuseRecertItem(w, r, id, msg, field) })
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "recert.lapsed_flash", "ID", req.ID))
	s.redirect(w, r, "/recertification")
}
