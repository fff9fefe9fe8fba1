package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/core"
)

// maxAgentBody bounds an agent's upload: one chunk's hosts with their banners.
const maxAgentBody = 16 << 20

// longPollMax is the longest an agent's work request is held open.
const longPollMax = 25 * time.Second

// agentRoutes are the calls agents make. They carry no bearer token: the
// enrolment call a one-time token, every other one the agent's signature.
func (s *Server) agentRoutes(r chi.Router, prefix string) {
	post := http.MethodPost
	s.handle(r, post, "/agent/enroll", prefix, public(), s.agentEnroll, true)
	s.handle(r, post, "/agent/work", prefix, public(), s.signedAgent(s.agentWork), true)
	s.handle(r, post, "/agent/heartbeat", prefix, public(), s.signedAgent(s.agentHeartbeat), true)
	s.handle(r, post, "/agent/results", prefix, public(), s.signedAgent(s.agentResults), true)
	s.handle(r, post, "/agent/refusal", prefix, public(), s.signedAgent(s.agentRefusal), true)
}

// agentHandler is a signed agent call: who signed it and its body.
type agentHandler func(w http.ResponseWriter, r *http.Request, agent *models.Agent, body []byte)

// signedAgent checks the request's signature before the handler runs.
func (s *Server) signedAgent(h agentHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxAgentBody+1))
		if err != nil {
			s.apiError(w, r, core.Invalid("body", core.M("err.input.body_cannot_read", "the body cannot be read: {{.Reason}}", "Reason", core.Plain(err.Error()))))
			return
		}
		if len(body) > maxAgentBody {
			s.apiError(w, r, core.TooLarge("body", core.M("err.agents.body_too_large", "the body is larger than {{.MiB}} MiB; send fewer hosts per upload", "MiB", maxAgentBody>>20)))
			return
		}
		agent, err := s.app.Agents.Authenticate(r.Context(), r.Header.Get(agents.SignatureHeader), r.Method, r.URL.Path, body)
		if err != nil {
			if core.ErrorCodeOf(err) == core.CodeUnauthorized {
				s.securityEvent(r, core.AnonymousActor, "agent.request_refused", map[string]any{"path": r.URL.Path, "reason": err.Error()})
			}
			s.apiError(w, r, err)
			return
		}
		h(w, r, agent, body)
	}
}

// decodeAgentJSON reads a signed body strictly.
func decodeAgentJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return core.Invalid("body", core.M("err.agents.body_not_json", "the body is not the expected JSON: {{.Reason}}", "Reason", core.Plain(err.Error())))
	}
	return nil
}

func (s *Server) agentEnroll(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Token     string `json:"token"`
		PublicKey string `json:"public_key"`
		Version   string `json:"version"`
	}
	if err := decodeJSONLimit(r, &b, 4<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	pub, err := agents.DecodePublicKey(b.PublicKey)
	if err != nil {
		s.apiError(w, r, core.Invalid("public_key", core.M("err.agents.public_key_invalid", "public_key is {{.Reason}}", "Reason", core.Plain(err.Error()))))
		return
	}
	out, err := s.app.Agents.Exchange(r.Context(), strings.TrimSpace(b.Token), pub, b.Version)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// agentWork hands out the next chunk, holding the request open until one
// is free or the wait ends; every answer carries the agent's signed scope.
func (s *Server) agentWork(w http.ResponseWriter, r *http.Request, agent *models.Agent, body []byte) {
	var b struct {
		Version     string    `json:"version"`
		StartedAt   time.Time `json:"started_at"`
		WaitSeconds int       `json:"wait_seconds"`
	}
	if err := decodeAgentJSON(body, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.app.Agents.Contact(r.Context(), agent, b.Version, b.StartedAt); err != nil {
		s.apiError(w, r, err)
		return
	}
	wait := min(time.Duration(b.WaitSeconds)*time.Second, longPollMax)
	deadline := time.Now().Add(wait)
	var chunk *agents.Chunk
	for {
		var err error
		if chunk, err = s.app.Agents.TakeChunk(r.Context(), agent); err != nil {
			s.apiError(w, r, err)
			return
		}
		if chunk != nil || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			deadline = time.Now()
		case <-time.After(500 * time.Millisecond):
		}
	}
	scope, err := s.app.Agents.ScopeFor(context.WithoutCancel(r.Context()), agent)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scope": scope, "chunk": chunk})
}

func (s *Server) agentHeartbeat(w http.ResponseWriter, r *http.Request, agent *models.Agent, body []byte) {
	var b struct {
		ChunkID uint    `json:"chunk_id"`
		Lease   int     `json:"lease"`
		Rate    float64 `json:"ports_per_second"`
	}
	if err := decodeAgentJSON(body, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.app.Agents.Heartbeat(r.Context(), agent, b.ChunkID, b.Lease, b.Rate); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *Server) agentResults(w http.ResponseWriter, r *http.Request, agent *models.Agent, body []byte) {
	var up agents.Upload
	if err := decodeAgentJSON(body, &up); err != nil {
		s.apiError(w, r, err)
		return
	}
	ack, err := s.app.Agents.Results(r.Context(), agent, up)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ack)
}

func (s *Server) agentRefusal(w http.ResponseWriter, r *http.Request, agent *models.Agent, body []byte) {
	var b struct {
		ChunkID uint     `json:"chunk_id"`
		Lease   int      `json:"lease"`
		Targets []string `json:"targets"`
	}
	if err := decodeAgentJSON(body, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.app.Agents.Refuse(r.Context(), agent, b.ChunkID, b.Lease, b.Targets); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// agentJSON is an agent in GET /api/v1/agents.
type agentJSON struct {
	Name           string     `json:"name"`
	Zones          []string   `json:"zones"`
	Version        string     `json:"version"`
	LastSeen       *time.Time `json:"last_seen"`
	State          string     `json:"state"`
	CurrentWork    string     `json:"current_work"`
	PortsPerSecond float64    `json:"ports_per_second"`
}

func (s *Server) apiListAgents(w http.ResponseWriter, r *http.Request) {
	page, err := cursorPage[agents.AgentKey](r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	list, err := s.app.Agents.List(r.Context(), actor(r), page)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]agentJSON, len(list.Items))
	for i, a := range list.Items {
		out[i] = agentJSON{Name: a.Name, Zones: agents.ParseZones(a.Zones), Version: a.Version, LastSeen: a.LastSeenAt,
			State: a.Status, CurrentWork: a.Work.String(), PortsPerSecond: a.PortsPerSecond}
	}
	writeJSON(w, http.StatusOK, nextCursor(map[string]any{"agents": out}, list.Next))
}

// agentsPage is the admins' Agents page; token is set just after an enrolment.
func (s *Server) agentsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAgents(w, r, http.StatusOK, web.Agents{})
}

func (s *Server) renderAgents(w http.ResponseWriter, r *http.Request, status int, v web.Agents) {
	page, err := cursorPage[agents.AgentKey](r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.app.Agents.List(r.Context(), actor(r), page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	zones, err := s.app.Inventory.Zones(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, z := range zones {
		v.Zones = append(v.Zones, z.Name)
	}
	v.Links = pageLinks(r, "cursor", list.Next)
	for _, a := range list.Items {
		row := web.AgentRow{ID: a.ID, Name: a.Name, Zones: strings.ReplaceAll(a.Zones, ",", ", "), Version: a.Version,
			LastSeen: locale.TimePtr(r.Context(), a.LastSeenAt), Status: a.Status, Revocable: a.State != agents.StateRevoked}
		if a.Work != nil {
			row.CurrentWork = locale.T(r.Context(), "agents.work", "Scan", a.Work.RunID, "Chunk", a.Work.Chunk, "Hosts", a.Work.Hosts)
			row.PortsPerSecond = locale.Number(r.Context(), int(math.Round(a.PortsPerSecond)))
		}
		if a.ID == v.RevokeID {
			row.ReasonDraft, row.ReasonError = v.RevokeReason, v.RevokeError
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, status, web.AgentsPage(s.page(r, locale.T(r.Context(), "agents.title")), v))
}

func (s *Server) enrolAgent(w http.ResponseWriter, r *http.Request) {
	name, zones := r.PostFormValue("name"), r.PostFormValue("zones")
	agent, token, err := s.app.Agents.Enrol(r.Context(), actor(r), name, agents.ParseZones(zones), 0)
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		s.renderAgents(w, r, http.StatusBadRequest, web.Agents{Errors: fieldErrors(r.Context(), err), Name: name, ZonesIn: zones})
		return
	}
	s.log.Info("agent enrolment token created", "agent", agent.Name, "by", actor(r).Email)
	s.renderAgents(w, r, http.StatusOK, web.Agents{Token: token, TokenFor: agent.Name, TokenTill: locale.Time(r.Context(), agent.TokenExpiresAt)})
}

func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason := r.PostFormValue("reason")
	if err := s.app.Agents.Revoke(r.Context(), actor(r), id, strings.TrimSpace(reason)); err != nil {
		if statusOf(err) == http.StatusBadRequest {
			// The list again, the refused row holding what was typed.
			msg, _ := publicMessage(r.Context(), err)
			if fe := fieldErrors(r.Context(), err)["reason"]; fe != "" {
				msg = fe
			}
			s.renderAgents(w, r, http.StatusBadRequest, web.Agents{RevokeID: id, RevokeReason: reason, RevokeError: msg})
			return
		}
		if core.ErrorCodeOf(err) == core.CodeConflict {
			msg, _ := publicMessage(r.Context(), err)
			s.flash(r, "error", msg)
			s.redirect(w, r, "/admin/agents")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "agents.revoked"))
	s.redirect(w, r, "/admin/agents")
}
