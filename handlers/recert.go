package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/recert"
)

func recertItem(it models.Recertification, defaultExpiry time.Time) web.RecertItem {
	v := web.RecertItem{
		ID: it.ID, RequestID: it.RequestID, Href: fmt.Sprintf("/requests/%d", it.RequestID), Title: it.Request.Title,
		Team: it.Team, Rules: rulesSummary(it.Request.Rules), Campaign: it.Campaign.Name, DueBy: it.Campaign.DueBy.Format(dateFmt),
		Expires: it.Request.ExpiresAt.Format(dateFmt), Status: it.Status, DecidedBy: it.DecidedBy, Justification: it.Justification,
		DefaultExpiry: defaultExpiry.Format(dateFmt),
	}
	return v
}

func campaignRow(p recert.CampaignProgress) web.CampaignRow {
	c := web.CampaignRow{ID: p.Campaign.ID, Name: p.Campaign.Name, DueBy: p.Campaign.DueBy.Format(dateFmt), CreatedBy: p.Campaign.CreatedBy}
	for _, t := range p.Teams {
		c.Teams = append(c.Teams, web.TeamRow{Team: t.Team, Pending: t.Pending, Recertified: t.Recertified, Lapsed: t.Lapsed, Done: t.Done()})
	}
	tot := p.Total()
	c.Pending, c.Recertified, c.Lapsed, c.Done = tot.Pending, tot.Recertified, tot.Lapsed, tot.Done()
	return c
}

func (s *Server) recertificationPage(w http.ResponseWriter, r *http.Request) {
	s.renderRecertification(w, r, http.StatusOK, "")
}

func (s *Server) renderRecertification(w http.ResponseWriter, r *http.Request, status int, problem string) {
	a := actor(r)
	ctx := r.Context()
	settings, err := s.app.Inventory.GetSettings(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now().UTC()
	v := web.Recertification{
		CanStart: a.Has(core.RoleApprover, core.RoleAdmin), SeesProgress: a.SeesAllRequests(),
		DefaultDue: now.AddDate(0, 1, 0).Format(dateFmt), MaxDate: now.Add(settings.MaxExpiry).Format(dateFmt), Error: problem,
	}
	minePage, err := pageParams[recert.MineKey](r, "limit", "cursor")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mine, err := s.app.Recert.MyRecertifications(ctx, a, minePage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, it := range mine.Items {
		v.Mine = append(v.Mine, recertItem(it, now.Add(settings.DefaultExpiry)))
	}
	v.MineLinks = pageLinks(r, "cursor", mine.Next)
	if v.SeesProgress {
		campPage, err := pageParams[recert.CampaignKey](r, "limit", "campaigns_cursor")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		camps, err := s.app.Recert.Campaigns(ctx, a, campPage)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range camps.Items {
			v.Campaigns = append(v.Campaigns, campaignRow(c))
		}
		v.CampaignsLinks = pageLinks(r, "campaigns_cursor", camps.Next)
	}
	s.render(w, r, status, web.RecertificationPage(s.page(r, "Re-certification"), v))
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
	p, err := s.app.Recert.Campaign(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.app.Recert.CampaignItems(r.Context(), actor(r), id, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.CampaignPage{Campaign: campaignRow(*p)}
	for _, it := range items.Items {
		v.Items = append(v.Items, recertItem(it, time.Time{}))
	}
	v.Links = pageLinks(r, "cursor", items.Next)
	s.render(w, r, http.StatusOK, web.CampaignPageView(s.page(r, p.Campaign.Name), v))
}

func (s *Server) startCampaign(w http.ResponseWriter, r *http.Request) {
	due, err := time.Parse(dateFmt, strings.TrimSpace(r.PostFormValue("due_by")))
	if err != nil {
		s.renderRecertification(w, r, http.StatusBadRequest, "due_by: the deadline is not a date (YYYY-MM-DD)")
		return
	}
	camp, n, err := s.app.Recert.StartCampaign(r.Context(), actor(r), r.PostFormValue("name"), due.Add(23*time.Hour+59*time.Minute))
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(err)
			s.renderRecertification(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", fmt.Sprintf("Campaign %q started with %d openings due.", camp.Name, n))
	s.redirect(w, r, fmt.Sprintf("/recertification/campaigns/%d", camp.ID))
}

func (s *Server) recertifyItem(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var expires time.Time
	if raw := strings.TrimSpace(r.PostFormValue("expires_at")); raw != "" {
		d, err := time.Parse(dateFmt, raw)
		if err != nil {
			s.renderRecertification(w, r, http.StatusBadRequest, "expires_at: not a date (YYYY-MM-DD)")
			return
		}
		expires = d.Add(23*time.Hour + 59*time.Minute)
	}
	req, err := s.app.Recert.Recertify(r.Context(), actor(r), id, r.PostFormValue("justification"), expires)
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			msg, _ := publicMessage(err)
			s.renderRecertification(w, r, http.StatusBadRequest, msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", fmt.Sprintf("Request #%d re-certified until %s.", req.ID, req.ExpiresAt.Format(dateFmt)))
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
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", fmt.Sprintf("Request #%d lapsed: its opening has expired.", req.ID))
	s.redirect(w, r, "/recertification")
}
