package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/portcullis/portcullis/scanner"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/scans"
)

const agentUsage = `usage: portcullis agent enroll|run|list [flags]
  enroll   create a one-time enrolment token for an agent (--db, --name, --zones)
  run      run a scanner agent (--server, --token, --state-dir)
  list     the agents, their zones and last contact (--db, --format)`

func runAgent(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", agentUsage)
	}
	switch args[0] {
	case "enroll", "enrol":
		return runAgentEnroll(ctx, args[1:], getenv, stdout, stderr)
	case "run":
		return runAgentRun(ctx, args[1:], getenv, stdout, stderr)
	case "list":
		return runAgentList(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, agentUsage)
		return nil
	}
	return usagef("unknown agent command %q\n%s", args[0], agentUsage)
}

func runAgentEnroll(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, name, zones string
	var ttl time.Duration
	fs := newFlagSet("agent enroll", stderr)
	dbFlag(fs, &dsn)
	fs.StringVar(&name, "name", "", "the agent's name (letters, digits, . _ -)")
	fs.StringVar(&zones, "zones", "", "comma-separated zones the agent scans, or \"internet\" for an internet-vantage agent")
	fs.DurationVar(&ttl, "ttl", agents.DefaultTokenTTL, "how long the one-time token is valid")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if name == "" || zones == "" {
		return usagef("agent enroll: --name and --zones are required")
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	agent, token, err := app.Agents.Enrol(ctx, core.SystemActor, name, agents.ParseZones(zones), ttl)
	if err != nil {
		if core.ErrorCodeOf(err) == core.CodeInvalid {
			return usagef("agent enroll: %v", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "Agent %q (zones %s) may enrol until %s with this one-time token:\n%s\n", agent.Name, agent.Zones, agent.TokenExpiresAt.UTC().Format(time.RFC3339), token)
	return nil
}

func runAgentList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, format string
	fs := newFlagSet("agent list", stderr)
	dbFlag(fs, &dsn)
	fs.StringVar(&format, "format", "table", "table or json")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if format != "table" && format != "json" {
		return usagef("--format %q is not table or json", format)
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	var all []agents.View
	req := paging.Request[agents.AgentKey]{Limit: paging.MaxLimit}
	for {
		page, err := app.Agents.List(ctx, core.SystemActor, req)
		if err != nil {
			return err
		}
		all = append(all, page.Items...)
		if page.Next == "" || len(page.Items) == 0 {
			break
		}
		last := page.Items[len(page.Items)-1]
		req.After = &agents.AgentKey{Name: last.Name}
	}
	if format == "json" {
		type agentJSON struct {
			Name           string     `json:"name"`
			Zones          []string   `json:"zones"`
			Version        string     `json:"version"`
			LastSeen       *time.Time `json:"last_seen"`
			State          string     `json:"state"`
			CurrentWork    string     `json:"current_work"`
			PortsPerSecond float64    `json:"ports_per_second"`
		}
		out := []agentJSON{}
		for _, a := range all {
			out = append(out, agentJSON{Name: a.Name, Zones: agents.ParseZones(a.Zones), Version: a.Version, LastSeen: a.LastSeenAt,
				State: a.Status, CurrentWork: a.Work.String(), PortsPerSecond: a.PortsPerSecond})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tZONES\tVERSION\tLAST SEEN\tSTATE\tCURRENT WORK")
	for _, a := range all {
		seen := "never"
		if a.LastSeenAt != nil {
			seen = a.LastSeenAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Zones, a.Version, seen, a.Status, a.Work.String())
	}
	return tw.Flush()
}

// agentState is what an agent keeps in its state directory (mode 0600):
// its identity, its private key, the server's key and its signed scope.
type agentState struct {
	Server     string             `json:"server"`
	AgentID    uint               `json:"agent_id"`
	Name       string             `json:"name"`
	PrivateKey string             `json:"private_key"`
	ServerKey  string             `json:"server_key"`
	Scope      agents.SignedScope `json:"scope"`
}

const agentStateFile = "agent.json"

func loadAgentState(dir string) (*agentState, error) {
	b, err := os.ReadFile(filepath.Join(dir, agentStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st agentState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, agentStateFile), err)
	}
	return &st, nil
}

// save writes the state atomically, readable by the agent's user only.
func (st *agentState) save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, agentStateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, agentStateFile))
}

// agentClient speaks the agent protocol: every call signed, retried with
// backoff while the server is unreachable or restarting.
type agentClient struct {
	server    string
	http      *http.Client
	log       *slog.Logger
	dir       string
	st        *agentState
	key       ed25519.PrivateKey
	serverKey ed25519.PublicKey
	scope     *agents.Scope
	started   time.Time
	// heartbeat is how often a chunk's lease is renewed.
	heartbeat time.Duration
	// pollWait is how long the server may hold a work request open.
	pollWait time.Duration
}

// statusError is an answer the server gave: not retried.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("the server answered %d: %s", e.status, e.msg)
}

func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// post sends one request; a signature is added when key is set.
func (c *agentClient) post(ctx context.Context, path string, in, out any, sign bool) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if sign {
		req.Header.Set(agents.SignatureHeader, agents.Sign(c.key, c.st.AgentID, http.MethodPost, req.URL.Path, body, time.Now(), agents.NewNonce()))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(raw, &e)
		if e.Error.Message == "" {
			e.Error.Message = strings.TrimSpace(string(raw))
		}
		return &statusError{status: resp.StatusCode, msg: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// call retries post until it gets an answer: network errors and server
// errors (a restart, an overloaded database) wait and try again, with the
// same body and so the same sequence number; the server's refusals return.
func (c *agentClient) call(ctx context.Context, path string, in, out any) error {
	wait := 250 * time.Millisecond
	for {
		err := c.post(ctx, path, in, out, true)
		st := statusOf(err)
		if err == nil || (st != 0 && st < 500 && st != http.StatusTooManyRequests) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.log.Warn("server unreachable; retrying", "call", path, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
}

func runAgentRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var server, token, dir, logLevel string
	var heartbeat time.Duration
	fs := newFlagSet("agent run", stderr)
	fs.StringVar(&server, "server", "", "the server's URL, e.g. https://portcullis.example.com")
	fs.StringVar(&token, "token", "", "one-time enrolment token (first run only; better: PORTCULLIS_TOKEN)")
	fs.StringVar(&dir, "state-dir", "", "directory keeping the agent's key and scope (created 0700)")
	fs.DurationVar(&heartbeat, "heartbeat", 5*time.Second, "how often the lease of the chunk being scanned is renewed")
	var pollWait time.Duration
	fs.DurationVar(&pollWait, "poll-wait", 20*time.Second, "how long the server may hold a request for work open (at most 25s)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if server == "" || dir == "" {
		return usagef("agent run: --server and --state-dir are required")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("agent run: --server %q is not an http(s) URL", server)
	}
	if heartbeat < 100*time.Millisecond {
		return usagef("agent run: --heartbeat %s is too short", heartbeat)
	}
	if pollWait < time.Second || pollWait > 25*time.Second {
		return usagef("agent run: --poll-wait %s: want from 1s to 25s", pollWait)
	}
	log, err := newLogger(stderr, logLevel)
	if err != nil {
		return err
	}
	c := &agentClient{server: strings.TrimRight(server, "/"), http: &http.Client{Timeout: 90 * time.Second}, log: log, dir: dir,
		started: time.Now().UTC(), heartbeat: heartbeat, pollWait: pollWait}
	st, err := loadAgentState(dir)
	if err != nil {
		return err
	}
	if st == nil {
		if token == "" {
			return usagef("agent run: no enrolment in %s: give --token (once)", dir)
		}
		if st, err = c.enrol(ctx, token); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "enrolled as agent %q (id %d)\n", st.Name, st.AgentID)
	}
	if err := c.load(st); err != nil {
		return err
	}
	log.Info("agent running", "name", st.Name, "server", c.server, "zones", zoneNames(c.scope))
	return c.loop(ctx)
}

func zoneNames(s *agents.Scope) []string {
	var out []string
	for _, z := range s.Zones {
		out = append(out, z.Name)
	}
	return out
}

// enrol trades the token for a credential: the key pair is made here and
// only its public half leaves the machine.
func (c *agentClient) enrol(ctx context.Context, token string) (*agentState, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	var out agents.Enrolled
	in := map[string]string{"token": token, "public_key": agents.EncodeKey(pub), "version": version}
	wait := 250 * time.Millisecond
	for {
		err = c.post(ctx, "/api/v1/agent/enroll", in, &out, false)
		if err == nil || statusOf(err) != 0 && statusOf(err) < 500 {
			break
		}
		c.log.Warn("server unreachable; retrying the enrolment", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("enrolment refused: %w", err)
	}
	st := &agentState{Server: c.server, AgentID: out.AgentID, Name: out.Name, PrivateKey: agents.EncodeKey(priv.Seed()), ServerKey: out.ServerKey, Scope: out.Scope}
	serverKey, err := agents.DecodePublicKey(out.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("the server's key: %w", err)
	}
	if _, err := out.Scope.Open(serverKey, out.AgentID); err != nil {
		return nil, fmt.Errorf("the scope the server sent: %w", err)
	}
	if err := st.save(c.dir); err != nil {
		return nil, err
	}
	return st, nil
}

func (c *agentClient) load(st *agentState) error {
	key, err := agents.DecodePrivateKey(st.PrivateKey)
	if err != nil {
		return fmt.Errorf("state: private key: %w", err)
	}
	serverKey, err := agents.DecodePublicKey(st.ServerKey)
	if err != nil {
		return fmt.Errorf("state: server key: %w", err)
	}
	scope, err := st.Scope.Open(serverKey, st.AgentID)
	if err != nil {
		return fmt.Errorf("state: scope: %w", err)
	}
	c.st, c.key, c.serverKey, c.scope = st, key, serverKey, scope
	return nil
}

// updateScope takes a newer scope the server signed; one that does not
// verify is ignored and the one held stays.
func (c *agentClient) updateScope(ss agents.SignedScope) {
	scope, err := ss.Open(c.serverKey, c.st.AgentID)
	if err != nil {
		c.log.Warn("scope document refused; keeping the one held", "err", err)
		return
	}
	if !scope.IssuedAt.After(c.scope.IssuedAt) {
		return
	}
	c.scope, c.st.Scope = scope, ss
	if err := c.st.save(c.dir); err != nil {
		c.log.Warn("scope not saved", "err", err)
	}
	c.log.Info("scope re-issued", "zones", zoneNames(scope), "issued_at", scope.IssuedAt)
}

// loop takes chunks until ctx ends or the server refuses the agent.
func (c *agentClient) loop(ctx context.Context) error {
	for ctx.Err() == nil {
		var resp struct {
			Scope agents.SignedScope `json:"scope"`
			Chunk *agents.Chunk      `json:"chunk"`
		}
		err := c.call(ctx, "/api/v1/agent/work", map[string]any{"version": version, "started_at": c.started, "wait_seconds": int(c.pollWait / time.Second)}, &resp)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("the server refused this agent: %w", err)
		}
		c.updateScope(resp.Scope)
		if resp.Chunk == nil {
			continue
		}
		if err := c.runChunk(ctx, resp.Chunk); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if statusOf(err) == http.StatusUnauthorized {
				return fmt.Errorf("the server refused this agent: %w", err)
			}
			c.log.Warn("chunk abandoned", "chunk", resp.Chunk.ID, "err", err)
		}
	}
	return nil
}

// runChunk scans a chunk's targets inside the scope, refuses the others,
// and streams each finished host back.
func (c *agentClient) runChunk(ctx context.Context, ch *agents.Chunk) error {
	var allowed []netip.Addr
	var refused []string
	for _, t := range ch.Targets {
		a, err := netip.ParseAddr(t)
		if err != nil || !c.scope.Allows(a) {
			refused = append(refused, t)
			continue
		}
		allowed = append(allowed, a)
	}
	c.log.Info("chunk taken", "chunk", ch.ID, "scan", ch.RunID, "hosts", len(allowed), "refused", len(refused))
	if len(refused) > 0 {
		c.log.Warn("targets outside the signed scope refused", "chunk", ch.ID, "targets", refused)
		if err := c.call(ctx, "/api/v1/agent/refusal", map[string]any{"chunk_id": ch.ID, "lease": ch.Lease, "targets": refused}, nil); err != nil {
			return err
		}
	}
	job := scans.Job{Targets: allowed, Profile: ch.Profile}
	var err error
	if job.TCPPorts, err = parsePortList(ch.TCPPorts); err != nil {
		return err
	}
	if job.UDPPorts, err = parsePortList(ch.UDPPorts); err != nil {
		return err
	}
	scanCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var mu sync.Mutex
	var rate float64
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(c.heartbeat)
		defer t.Stop()
		for {
			select {
			case <-scanCtx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			r := rate
			mu.Unlock()
			err := c.post(scanCtx, "/api/v1/agent/heartbeat", map[string]any{"chunk_id": ch.ID, "lease": ch.Lease, "ports_per_second": r}, nil, true)
			if st := statusOf(err); st == http.StatusConflict || st == http.StatusUnauthorized || st == http.StatusNotFound {
				cancel(err)
				return
			}
		}
	}()

	// Hosts queue up for the uploader, so a cut stalls the uploads, not the scan.
	hosts := make(chan scans.Host, 1024)
	seq := 0
	upErr := make(chan error, 1)
	go func() {
		for h := range hosts {
			seq++
			if err := c.call(scanCtx, "/api/v1/agent/results", agents.Upload{ChunkID: ch.ID, Lease: ch.Lease, Seq: seq, Hosts: []scans.Host{h}}, nil); err != nil {
				cancel(err)
				for range hosts {
				}
				upErr <- err
				return
			}
		}
		upErr <- nil
	}()
	if len(allowed) > 0 {
		job, err = scannerAdapter{}.Resolve(job)
		if err == nil {
			_, err = scannerAdapter{}.ScanHosts(scanCtx, job, func(p scans.Progress) {
				mu.Lock()
				rate = p.Rate
				mu.Unlock()
			}, func(h scans.Host) { hosts <- h })
		}
	}
	close(hosts)
	uerr := <-upErr
	if cause := context.Cause(scanCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return err
	}
	if uerr != nil {
		return uerr
	}
	cancel(nil)
	<-hbDone
	mu.Lock()
	r := rate
	mu.Unlock()
	seq++
	if err := c.call(ctx, "/api/v1/agent/results", agents.Upload{ChunkID: ch.ID, Lease: ch.Lease, Seq: seq, Hosts: []scans.Host{}, Done: true, Rate: r}, nil); err != nil {
		return err
	}
	c.log.Info("chunk done", "chunk", ch.ID, "hosts", len(allowed))
	return nil
}

// parsePortList reads the chunk's port spec ("1-1024,3306").
func parsePortList(s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	ports, err := scanner.ParsePorts(s)
	if err != nil {
		return nil, fmt.Errorf("the chunk's ports %q: %w", s, err)
	}
	return ports, nil
}
