package recert

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/requests"
)

// dueDate is when a request must next be re-certified: its last
// certification plus the interval, or its expiry if sooner.
func dueDate(r models.Request, months int) time.Time {
	certified := r.CreatedAt
	if r.CertifiedAt != nil {
		certified = *r.CertifiedAt
	} else if r.ApprovedAt != nil {
		certified = *r.ApprovedAt
	}
	due := certified.AddDate(0, months, 0)
	if r.ExpiresAt.Before(due) {
		due = r.ExpiresAt
	}
	return due
}

func canRunCampaigns(a core.Actor) error {
	if a.ID == 0 || a.Has(core.RoleApprover, core.RoleAdmin) {
		return nil
	}
	return core.Forbidden(core.M("err.recert.campaign_role", "you need the approver or admin role to run a re-certification campaign"))
}

// StartCampaign opens a campaign for every opening in force that is due by
// dueBy and not already waiting in an open campaign.
func (s *Service) StartCampaign(ctx context.Context, actor core.Actor, name string, dueBy time.Time) (*models.RecertCampaign, int, error) {
	if err := canRunCampaigns(actor); err != nil {
		return nil, 0, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Re-certification due " + dueBy.Format(time.DateOnly)
	}
	if err := core.CheckLength("name", core.M("err.field.campaign_name", "the campaign name"), name, core.Limits.Name); err != nil {
		return nil, 0, err
	}
	if !dueBy.After(s.Now()) {
		return nil, 0, core.Invalid("due_by", core.M("err.recert.deadline_past", "the campaign's deadline {{.Date}} is not in the future", "Date", dueBy.Format(time.DateOnly)))
	}
	var camp models.RecertCampaign
	added := 0
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		months := inventory.RecertifyMonths(tx)
		var reqs []models.Request
		if err := tx.Where("state IN ?", requests.InForceStates).Order("id").Find(&reqs).Error; err != nil {
			return err
		}
		var waiting []uint
		if err := tx.Model(&models.Recertification{}).Where("status = ?", RecertPending).Pluck("request_id", &waiting).Error; err != nil {
			return err
		}
		busy := map[uint]bool{}
		for _, id := range waiting {
			busy[id] = true
		}
		camp = models.RecertCampaign{Name: name, DueBy: dueBy.UTC(), CreatedBy: actor.Email}
		if err := tx.Create(&camp).Error; err != nil {
			return err
		}
		for _, r := range reqs {
			if busy[r.ID] || dueDate(r, months).After(dueBy) {
				continue
			}
			if err := tx.Omit("Campaign", "Request").Create(&models.Recertification{CampaignID: camp.ID, RequestID: r.ID, RequesterID: r.RequesterID, Team: r.Team, Status: RecertPending}).Error; err != nil {
				return err
			}
			added++
		}
		return s.Audit(tx, actor, "recertification.campaign", "campaign", camp.ID, "", "", map[string]any{"name": name, "due_by": camp.DueBy, "requests": added}, "")
	})
	if err != nil {
		return nil, 0, err
	}
	return &camp, added, nil
}

// CampaignProgress is how far a campaign has come, per owner team.
type CampaignProgress struct {
	Campaign models.RecertCampaign
	Teams    []TeamProgress
}

// TeamProgress counts one team's items.
type TeamProgress struct {
	Team                         string
	Pending, Recertified, Lapsed int
}

// Done is the share of items decided, in percent.
func (t TeamProgress) Done() int {
	total := t.Pending + t.Recertified + t.Lapsed
	if total == 0 {
		return 100
	}
	return (t.Recertified + t.Lapsed) * 100 / total
}

// Total adds the teams up.
func (p CampaignProgress) Total() TeamProgress {
	var t TeamProgress
	for _, tp := range p.Teams {
		t.Pending += tp.Pending
		t.Recertified += tp.Recertified
		t.Lapsed += tp.Lapsed
	}
	return t
}

func canSeeProgress(a core.Actor) error {
	if !a.SeesAllRequests() {
		return core.Forbidden(core.M("err.recert.progress_roles", "campaign progress is for security, auditors and admins"))
	}
	return nil
}

// CampaignKey is the campaign list's sort key: newest first.
type CampaignKey struct {
	ID uint `json:"i"`
}

// Campaigns lists one page of campaigns, newest first, with their progress
// counted in one grouped query for the whole page.
func (s *Service) Campaigns(ctx context.Context, actor core.Actor, page paging.Request[CampaignKey]) (paging.Page[CampaignProgress], error) {
	if err := canSeeProgress(actor); err != nil {
		return paging.Page[CampaignProgress]{}, err
	}
	db := s.DB().WithContext(ctx)
	q := db.Order("id DESC").Limit(page.Fetch())
	if page.After != nil {
		q = q.Where("id < ?", page.After.ID)
	}
	var camps []models.RecertCampaign
	if err := q.Find(&camps).Error; err != nil {
		return paging.Page[CampaignProgress]{}, err
	}
	cut := paging.Cut(page, camps, func(c models.RecertCampaign) CampaignKey { return CampaignKey{ID: c.ID} })
	out := paging.Page[CampaignProgress]{Next: cut.Next, Items: make([]CampaignProgress, len(cut.Items))}
	ids := make([]uint, len(cut.Items))
	for i, c := range cut.Items {
		out.Items[i].Campaign = c
		ids[i] = c.ID
	}
	teams, err := s.progress(ctx, ids)
	if err != nil {
		return paging.Page[CampaignProgress]{}, err
	}
	for i := range out.Items {
		out.Items[i].Teams = teams[out.Items[i].Campaign.ID]
	}
	return out, nil
}

// Campaign returns one campaign with its progress per team.
func (s *Service) Campaign(ctx context.Context, actor core.Actor, id uint) (*CampaignProgress, error) {
	if err := canSeeProgress(actor); err != nil {
		return nil, err
	}
	var c models.RecertCampaign
	if err := s.DB().WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, core.NotFound("campaign", id)
	}
	teams, err := s.progress(ctx, []uint{id})
	if err != nil {
		return nil, err
	}
	return &CampaignProgress{Campaign: c, Teams: teams[id]}, nil
}

// progress counts the items of campaigns by team and status, teams in name
// order; each campaign's counts are kept until something changes.
func (s *Service) progress(ctx context.Context, campaigns []uint) (map[uint][]TeamProgress, error) {
	out := map[uint][]TeamProgress{}
	for _, id := range campaigns {
		teams, err := s.progressKept.Get(s.Store, id, func() ([]TeamProgress, error) { return s.countProgress(ctx, id) })
		if err != nil {
			return nil, err
		}
		if len(teams) > 0 {
			out[id] = slices.Clone(teams)
		}
	}
	return out, nil
}

// countProgress counts one campaign's items by team and status in one
// grouped query.
func (s *Service) countProgress(ctx context.Context, campaign uint) ([]TeamProgress, error) {
	var rows []struct {
		Team   string
		Status string
		N      int
	}
	if err := s.DB().WithContext(ctx).Model(&models.Recertification{}).
		Select("team, status, COUNT(*) AS n").Where("campaign_id = ?", campaign).
		Group("team, status").Order("team").Scan(&rows).Error; err != nil {
		return nil, err
	}
	var teams []TeamProgress
	for _, r := range rows {
		if len(teams) == 0 || teams[len(teams)-1].Team != r.Team {
			teams = append(teams, TeamProgress{Team: r.Team})
		}
		tp := &teams[len(teams)-1]
		switch r.Status {
		case RecertPending:
			tp.Pending += r.N
		case RecertRecertified:
			tp.Recertified += r.N
		case RecertLapsed:
			tp.Lapsed += r.N
		}
	}
	return teams, nil
}

// ItemKey is a campaign's item list's sort key: by owner team, then request,
// the order of the (campaign_id, team, request_id) index; the id breaks ties.
type ItemKey struct {
	Team      string `json:"t"`
	RequestID uint   `json:"r"`
	ID        uint   `json:"i"`
}

// CampaignItems lists one page of a campaign's items, with their requests.
func (s *Service) CampaignItems(ctx context.Context, actor core.Actor, id uint, page paging.Request[ItemKey]) (paging.Page[models.Recertification], error) {
	if err := canSeeProgress(actor); err != nil {
		return paging.Page[models.Recertification]{}, err
	}
	q := s.DB().WithContext(ctx).Preload("Request").Preload("Request.Rules").Where("campaign_id = ?", id)
	if page.After != nil {
		q = q.Where("(team, request_id, id) > (?, ?, ?)", page.After.Team, page.After.RequestID, page.After.ID)
	}
	var items []models.Recertification
	if err := q.Order("team, request_id, id").Limit(page.Fetch()).Find(&items).Error; err != nil {
		return paging.Page[models.Recertification]{}, err
	}
	return paging.Cut(page, items, func(it models.Recertification) ItemKey {
		return ItemKey{Team: it.Team, RequestID: it.RequestID, ID: it.ID}
	}), nil
}

// MineKey is the actor's own items' sort key.
type MineKey struct {
	ID uint `json:"i"`
}

// MyRecertifications is one page of the pending items the actor owns:
// their own requests' and their team's, oldest first. Each owner is read
// on its own index ((team, status, id), and the requester's requests) and
// the two merged by a UNION, rather than one OR that scans; the page's
// items and campaigns are read by the same statement.
func (s *Service) MyRecertifications(ctx context.Context, actor core.Actor, page paging.Request[MineKey]) (paging.Page[models.Recertification], error) {
	db := s.DB().WithContext(ctx)
	after := uint(0)
	if page.After != nil {
		after = page.After.ID
	}
	// Each branch is a subquery of its own so that its ORDER BY and LIMIT
	// apply to it (SQLite allows neither on a UNION's operands).
	mine := "SELECT id FROM (SELECT id FROM recertifications WHERE requester_id = ? AND status = ? AND id > ? ORDER BY id LIMIT ?) own_items"
	args := []any{actor.ID, RecertPending, after, page.Fetch()}
	if actor.Team != "" {
		mine += " UNION SELECT id FROM (SELECT id FROM recertifications WHERE team = ? AND status = ? AND id > ? ORDER BY id LIMIT ?) team_items"
		args = append(args, actor.Team, RecertPending, after, page.Fetch())
	}
	items, err := findItems(db.Where("recertifications.id IN ("+mine+")", args...).Order("recertifications.id").Limit(page.Fetch()), page.Fetch())
	if err != nil {
		return paging.Page[models.Recertification]{}, err
	}
	if len(items) > 0 {
		reqIDs := make([]uint, len(items))
		for i, it := range items {
			reqIDs[i] = it.RequestID
		}
		reqs, err := s.requests.ReadWithRules(db, reqIDs)
		if err != nil {
			return paging.Page[models.Recertification]{}, err
		}
		for i := range items {
			items[i].Request = reqs[items[i].RequestID]
		}
	}
	return paging.Cut(page, items, func(it models.Recertification) MineKey { return MineKey{ID: it.ID} }), nil
}

// FirstPending is the first n pending items the actor owns, as
// MyRecertifications' first page lists them (ForRequestList), kept until a
// change like the count beside them on their home, which reads them on
// every view. The items are shared: callers never change them.
func (s *Service) FirstPending(ctx context.Context, actor core.Actor, n int) ([]models.Recertification, error) {
	return s.firstPending.Get(s.Store, pendingScope{actor.ID, actor.Team, n}, func() ([]models.Recertification, error) {
		page, err := s.MyRecertifications(requests.ForRequestList(ctx), actor, paging.Request[MineKey]{Limit: n})
		return page.Items, err
	})
}

// loadOwnedRecert reads an item and its request, and checks through the
// table that actor may cause ev on it: a refused actor learns why before
// anything they typed is judged.
func loadOwnedRecert(tx *gorm.DB, actor core.Actor, id uint, ev Event) (*models.Recertification, *models.Request, error) {
	var rc models.Recertification
	if err := tx.First(&rc, id).Error; err != nil {
		return nil, nil, core.NotFound("re-certification", id)
	}
	r, err := requests.LoadRequest(tx, rc.RequestID)
	if err != nil {
		return nil, nil, err
	}
	g := Guarded{Actor: actor, Request: r}
	if err := byOwner.Check(g); err != nil {
		return nil, nil, err
	}
	if _, err := Lifecycle.Check(State(rc.Status), ev, g); err != nil {
		return nil, nil, core.Conflict(core.M("err.recert.answered_already", "request #{{.ID}} was {{.Status}} already in this campaign", "ID", r.ID, "Status", Lifecycle.LabelSaid(State(rc.Status))))
	}
	return &rc, r, nil
}

// Recertify confirms an opening is still needed, with a fresh business
// justification and a new expiry (within the maximum). The owner is the
// actor of both transitions: the item's and the request's.
func (s *Service) Recertify(ctx context.Context, actor core.Actor, id uint, justification string, expires time.Time) (*models.Request, error) {
	justification = strings.TrimSpace(justification)
	if justification == "" {
		return nil, core.Invalid("justification", core.M("err.recert.justification_required", "a fresh justification is required: say why the opening is still needed"))
	}
	if err := core.CheckLength("justification", core.M("err.field.justification", "the justification"), justification, core.Limits.Justification); err != nil {
		return nil, err
	}
	var req *models.Request
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		rc, r, err := loadOwnedRecert(tx, actor, id, EventRecertify)
		if err != nil {
			return err
		}
		settings, err := inventory.LoadSettings(tx)
		if err != nil {
			return err
		}
		now := s.Now()
		if expires.IsZero() {
			expires = now.Add(settings.DefaultExpiry)
		}
		if !expires.After(now) || expires.Sub(now) > settings.MaxExpiry+24*time.Hour {
			return core.Invalid("expires_at", core.M("err.recert.expiry", "the new expiry must be in the future and at most {{.Days}} days away", "Days", int(settings.MaxExpiry.Hours()/24)))
		}
		exp := expires.UTC()
		before := r.ExpiresAt
		// The item before its request, as LetLapse does: two answers to the
		// same item must take their row locks in one order, or PostgreSQL
		// ends one of them as a deadlock instead of a plain conflict.
		if err := s.fire(tx, actor, rc, r, time.Time{}, EventRecertify, map[string]any{"justification": justification, "new_expires_at": &exp},
			map[string]any{"request_id": r.ID, "campaign_id": rc.CampaignID}, justification); err != nil {
			return err
		}
		if err := s.requests.Step(tx, actor, r, requests.EventRecertify, map[string]any{"expires_at": exp, "certified_at": now},
			map[string]any{"campaign_id": rc.CampaignID, "expires_before": before, "expires_after": exp}, justification); err != nil {
			return err
		}
		req, err = requests.LoadRequest(tx, r.ID)
		return err
	})
	return req, err
}

// LetLapse records that the owners no longer need an opening: it expires
// now, by their hand.
func (s *Service) LetLapse(ctx context.Context, actor core.Actor, id uint, reason string) (*models.Request, error) {
	reason = strings.TrimSpace(reason)
	// Letting an opening lapse removes it: the timeline says why.
	if reason == "" {
		return nil, core.Invalid("reason", core.M("err.recert.lapse_reason_required", "a reason is required to let an opening lapse"))
	}
	if err := core.CheckLength("reason", core.M("err.field.reason", "the reason"), reason, core.Limits.Reason); err != nil {
		return nil, err
	}
	var req *models.Request
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		rc, r, err := loadOwnedRecert(tx, actor, id, EventLapse)
		if err != nil {
			return err
		}
		if err := s.fire(tx, actor, rc, r, time.Time{}, EventLapse, map[string]any{"justification": reason},
			map[string]any{"request_id": r.ID, "campaign_id": rc.CampaignID}, reason); err != nil {
			return err
		}
		if err := s.requests.Step(tx, actor, r, requests.EventLapse, map[string]any{"closed_at": s.Now()}, map[string]uint{"campaign_id": rc.CampaignID}, reason); err != nil {
			return err
		}
		req = r
		return nil
	})
	return req, err
}

// ExpireDue ends the openings whose expiry has passed, and those whose
// campaign deadline passed without a re-certification. It returns how many
// requests it expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	now := s.Now()
	db := s.DB().WithContext(ctx)
	var overdue []models.Recertification
	pastDeadline := db.Model(&models.RecertCampaign{}).Select("id").Where("due_by < ?", now)
	if err := db.Preload("Campaign").Where("status = ? AND campaign_id IN (?)", RecertPending, pastDeadline).Find(&overdue).Error; err != nil {
		return 0, err
	}
	lapsed := map[uint]*models.Recertification{}
	for i := range overdue {
		lapsed[overdue[i].RequestID] = &overdue[i]
	}
	var ids []uint
	if err := db.Model(&models.Request{}).Where("state IN ? AND expires_at < ?", requests.InForceStates, now).Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	for id := range lapsed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	expired := 0
	for i, id := range ids {
		if i > 0 && ids[i-1] == id {
			continue
		}
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			r, err := requests.LoadRequest(tx, id)
			if err != nil {
				return err
			}
			if !slicesContains(requests.InForceStates, requests.State(r.State)) {
				return nil
			}
			comment := fmt.Sprintf("expired on %s", r.ExpiresAt.Format(time.DateOnly))
			if rc, ok := lapsed[id]; ok {
				comment = "not re-certified before the campaign's deadline"
				if err := s.fire(tx, core.SystemActor, rc, r, rc.Campaign.DueBy, EventOverdue, nil, map[string]uint{"request_id": r.ID, "campaign_id": rc.CampaignID}, comment); err != nil {
					return err
				}
			}
			if err := s.requests.Step(tx, core.SystemActor, r, requests.EventExpire, map[string]any{"closed_at": now}, nil, comment); err != nil {
				return err
			}
			expired++
			return nil
		})
		if err != nil && core.ErrorCodeOf(err) != core.CodeConflict {
			return expired, err
		}
	}
	return expired, nil
}

func slicesContains(list []requests.State, s requests.State) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Mailer sends plain-text notices (re-certification reminders).
type Mailer interface {
	SendText(ctx context.Context, to []string, subject, body, id string) error
}

// SetMailer sets how reminders are sent; nil turns them off.
func (s *Service) SetMailer(m Mailer, publicURL string) { s.mailer, s.publicURL = m, publicURL }

// reminderInterval is how often an owner is reminded of the same pending items.
const reminderInterval = 7 * 24 * time.Hour

// SendReminders e-mails every owner of pending re-certifications, once
// a week per item at most: one message per person listing their items.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	if s.mailer == nil {
		return 0, nil
	}
	db := s.DB().WithContext(ctx)
	now := s.Now()
	var pending []models.Recertification
	if err := db.Preload("Campaign").Preload("Request").Preload("Request.Requester").
		Where("status = ? AND (reminded_at IS NULL OR reminded_at < ?)", RecertPending, now.Add(-reminderInterval)).
		Order("id").Find(&pending).Error; err != nil {
		return 0, err
	}
	if len(pending) == 0 {
		return 0, nil
	}
	var users []models.User
	if err := db.Find(&users).Error; err != nil {
		return 0, err
	}
	byOwner := map[string][]models.Recertification{}
	for _, rc := range pending {
		owners := map[string]bool{rc.Request.Requester.Email: true}
		for _, u := range users {
			if rc.Team != "" && u.Team == rc.Team && identity.ActorOf(u).Has(core.RoleRequester) {
				owners[u.Email] = true
			}
		}
		for o := range owners {
			if o != "" {
				byOwner[o] = append(byOwner[o], rc)
			}
		}
	}
	owners := make([]string, 0, len(byOwner))
	for o := range byOwner {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	sent := 0
	reminded := map[uint]bool{}
	// Each reminder is in its recipient's language, else the server's.
	chosen := map[string]models.User{}
	for _, u := range users {
		chosen[u.Email] = u
	}
	for _, o := range owners {
		items := byOwner[o]
		lang := s.Language(chosen[o].Language, chosen[o].TimeZone)
		var b strings.Builder
		b.WriteString(lang.Text("mail.recert_intro") + "\n\n")
		for _, rc := range items {
			b.WriteString(lang.Text("mail.recert_item", "ID", rc.RequestID, "Title", strconv.Quote(rc.Request.Title), "Due", lang.Date(rc.Campaign.DueBy),
				"Campaign", strconv.Quote(rc.Campaign.Name), "Expires", lang.Date(rc.Request.ExpiresAt)) + "\n")
		}
		b.WriteString("\n" + lang.Text("mail.recert_deadline") + "\n" + strings.TrimRight(s.publicURL, "/") + "/recertification\n")
		subject := "[Portcullis] " + lang.Text("mail.recert_subject", "N", len(items))
		id := fmt.Sprintf("recert-%s-%s", now.Format("20060102"), o)
		if err := s.mailer.SendText(ctx, []string{o}, subject, b.String(), id); err != nil {
			s.Log().Warn("re-certification reminder not sent", "to", o, "err", err)
			continue
		}
		sent++
		for _, rc := range items {
			reminded[rc.ID] = true
		}
	}
	for id := range reminded {
		if err := db.Model(&models.Recertification{}).Where("id = ?", id).Update("reminded_at", &now).Error; err != nil {
			return sent, err
		}
	}
	if sent > 0 {
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			return s.Audit(tx, core.SystemActor, "recertification.remind", "campaign", 0, "", "", map[string]any{"owners": sent, "items": len(reminded)}, "")
		})
		return sent, err
	}
	return 0, nil
}

// CountMine counts the pending items the actor owns, as MyRecertifications
// lists them: their own requests' and their team's, each from its index.
func (s *Service) CountMine(ctx context.Context, actor core.Actor) (int, error) {
	db := s.DB().WithContext(ctx)
	var own, team int64
	if err := db.Model(&models.Recertification{}).Where("requester_id = ? AND status = ?", actor.ID, RecertPending).Count(&own).Error; err != nil {
		return 0, err
	}
	if actor.Team != "" {
		if err := db.Model(&models.Recertification{}).Where("team = ? AND status = ? AND requester_id <> ?", actor.Team, RecertPending, actor.ID).Count(&team).Error; err != nil {
			return 0, err
		}
	}
	return int(own + team), nil
}

// CountOverdue counts the pending items of open campaigns past their due
// date: what auditors and admins chase. The few open campaigns are read
// first; their items from the (status, campaign_id) index.
func (s *Service) CountOverdue(ctx context.Context) (int, error) {
	db := s.DB().WithContext(ctx)
	var due []uint
	if err := db.Model(&models.RecertCampaign{}).Where("closed_at IS NULL AND due_by < ?", s.Now()).Pluck("id", &due).Error; err != nil {
		return 0, err
	}
	if len(due) == 0 {
		return 0, nil
	}
	var n int64
	err := db.Model(&models.Recertification{}).Where("status = ? AND campaign_id IN ?", RecertPending, due).Count(&n).Error
	return int(n), err
}
