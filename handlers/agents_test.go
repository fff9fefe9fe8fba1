package handlers

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/core"
)

// agentPost sends a signed agent call; header "" sends the body unsigned.
func agentPost(t *testing.T, url, path string, body []byte, header string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(agents.SignatureHeader, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAgentCallsAreSignedOnceAndTheListIsForAdmins(t *testing.T) {
	a := newApp(t)
	_, token, err := a.svc.Agents.Enrol(t.Context(), core.SystemActor, "dmz-1", []string{"dmz"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	var enrolled agents.Enrolled
	in := map[string]any{"token": token, "public_key": agents.EncodeKey(pub), "version": "test"}
	if st := a.api("", http.MethodPost, "/agent/enroll", in, &enrolled); st != http.StatusOK || enrolled.AgentID == 0 {
		t.Fatalf("enrol: %d %+v", st, enrolled)
	}
	if st := a.api("", http.MethodPost, "/agent/enroll", in, nil); st != http.StatusUnauthorized {
		t.Fatalf("token used twice: %d, want 401", st)
	}
	// A zone scan waits with one chunk for the dmz: the work call takes it.
	now := time.Now().UTC()
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "10.20.0.5,10.20.0.6", Status: "running", RequestedBy: "test", QueuedAt: now, StartedAt: &now, Progress: "{}"}
	if err := a.svc.DB().Create(&run).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.svc.DB().Create(&models.ScanChunk{RunID: run.ID, Zone: "dmz", Vantage: agents.VantageInternal, Targets: "10.20.0.5,10.20.0.6", TCPPorts: "22", Profile: "common", State: "queued"}).Error; err != nil {
		t.Fatal(err)
	}
	const path = "/api/v1/agent/work"
	body, _ := json.Marshal(map[string]any{"version": "test", "started_at": time.Now().UTC(), "wait_seconds": 0})
	signed := agents.Sign(priv, enrolled.AgentID, http.MethodPost, path, body, time.Now(), agents.NewNonce())
	if st := agentPost(t, a.url, path, body, signed); st != http.StatusOK {
		t.Fatalf("signed work call: %d", st)
	}
	// The Agents page says the work it holds, in the reader's language.
	if st, page := a.getIn(a.as("adam"), "/admin/agents", "zh-CN"); st != http.StatusOK || !strings.Contains(page, fmt.Sprintf("扫描 %d，第 1 个分块（2 台主机）", run.ID)) {
		t.Fatalf("Agents page in Chinese: %d, no current work of scan %d", st, run.ID)
	}
	for name, tc := range map[string]struct {
		body   []byte
		header string
	}{
		"replayed":    {body, signed},
		"unsigned":    {body, ""},
		"body edited": {append(bytes.Clone(body[:len(body)-1]), []byte(`,"x":1}`)...), agents.Sign(priv, enrolled.AgentID, http.MethodPost, path, body, time.Now(), agents.NewNonce())},
		"too old":     {body, agents.Sign(priv, enrolled.AgentID, http.MethodPost, path, body, time.Now().Add(-time.Hour), agents.NewNonce())},
	} {
		if st := agentPost(t, a.url, path, tc.body, tc.header); st != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, st)
		}
	}
	var list struct {
		Agents []struct {
			Name        string     `json:"name"`
			Zones       []string   `json:"zones"`
			Version     string     `json:"version"`
			LastSeen    *time.Time `json:"last_seen"`
			State       string     `json:"state"`
			CurrentWork string     `json:"current_work"`
		} `json:"agents"`
	}
	if st := a.api("adam", http.MethodGet, "/agents", nil, &list); st != http.StatusOK || len(list.Agents) != 1 || list.Agents[0].State != "online" ||
		list.Agents[0].Version != "test" || list.Agents[0].LastSeen == nil || list.Agents[0].CurrentWork != fmt.Sprintf("scan %d, chunk 1 (2 hosts)", run.ID) {
		t.Fatalf("agents as admin: %d %+v", st, list)
	}
	if st := a.api("alice", http.MethodGet, "/agents", nil, nil); st != http.StatusForbidden {
		t.Fatalf("agents as requester: %d, want 403", st)
	}
	// Revoked from the Agents page, the agent is refused at its next call.
	c := a.as("adam")
	resp := a.mustDo(c, http.MethodPost, a.url+"/admin/agents/"+strconv.Itoa(int(enrolled.AgentID))+"/revoke", "reason=lost", "application/x-www-form-urlencoded")
	if resp.StatusCode >= 400 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	next := agents.Sign(priv, enrolled.AgentID, http.MethodPost, path, body, time.Now(), agents.NewNonce())
	if st := agentPost(t, a.url, path, body, next); st != http.StatusUnauthorized {
		t.Fatalf("revoked agent: %d, want 401", st)
	}

	// The Agents page enrols: the token is shown once; a bad zone is named.
	page := a.mustDo(c, http.MethodPost, a.url+"/admin/agents", "name=dmz-2&zones=dmz", "application/x-www-form-urlencoded")
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(b), "pca_") || !strings.Contains(string(b), "dmz-1") {
		t.Fatalf("enrol on the page: %d", page.StatusCode)
	}
	page = a.mustDo(c, http.MethodPost, a.url+"/admin/agents", "name=dmz-3&zones=nowhere", "application/x-www-form-urlencoded")
	b, _ = io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "there is no zone") || strings.Contains(string(b), "pca_") {
		t.Fatalf("bad zone on the page: %d", page.StatusCode)
	}
}
