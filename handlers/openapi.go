package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/portcullis/portcullis/workflow/paging"
)

// apiOperation describes one endpoint for the OpenAPI document.
type apiOperation struct {
	Summary  string
	Body     string // schema name of the JSON body, if any
	Response string // schema name of the 2xx response
	Status   string // 2xx status, "200" by default
	// Paged lists take ?limit= and ?cursor= and answer next_cursor.
	Paged bool
}

// apiOperations documents every API route, keyed like Server.access; a
// test checks that each route has an entry.
var apiOperations = map[string]apiOperation{
	"GET /api/v1/openapi.json":             {Summary: "This document", Response: "Object"},
	"GET /api/v1/me":                       {Summary: "Who the token belongs to", Response: "Me"},
	"POST /api/v1/evaluate":                {Summary: "Judge rule objects against the policy in force (nothing saved)", Body: "EvaluateInput", Response: "Evaluation"},
	"GET /api/v1/requests":                 {Summary: "List requests, newest first (filters: state, a comma-separated list or repeated; q; mine)", Response: "RequestList", Paged: true},
	"POST /api/v1/requests":                {Summary: "Create a draft request", Body: "RequestInput", Response: "Request", Status: "201"},
	"GET /api/v1/requests/{id}":            {Summary: "Read a request with its reviews and timeline", Response: "Request"},
	"PUT /api/v1/requests/{id}":            {Summary: "Edit a request (after submission this voids earlier approvals)", Body: "RequestInput", Response: "Request"},
	"POST /api/v1/requests/{id}/submit":    {Summary: "Submit for review", Response: "Request"},
	"POST /api/v1/requests/{id}/cancel":    {Summary: "Cancel a draft or submitted request", Body: "Reason", Response: "Request"},
	"POST /api/v1/requests/{id}/review":    {Summary: "Record a review decision (approve, reject, changes_requested)", Body: "ReviewInput", Response: "Request"},
	"POST /api/v1/requests/{id}/approve":   {Summary: "Second approval by a security lead (decision approve or reject)", Body: "ApprovalInput", Response: "Request"},
	"POST /api/v1/requests/{id}/implement": {Summary: "Mark implemented with the change reference", Body: "ImplementInput", Response: "Request"},
	"POST /api/v1/requests/{id}/revoke":    {Summary: "Revoke an approved or active request", Body: "Reason", Response: "Request"},
	"GET /api/v1/requests/{id}/comments":   {Summary: "List comments", Response: "CommentList"},
	"POST /api/v1/requests/{id}/comments":  {Summary: "Post a comment", Body: "CommentInput", Response: "Comment", Status: "201"},
	"GET /api/v1/queues/review":            {Summary: "Requests waiting for a first review, oldest submission first", Response: "RequestList", Paged: true},
	"GET /api/v1/queues/approval":          {Summary: "Requests waiting for a second approval, oldest submission first", Response: "RequestList", Paged: true},
	"GET /api/v1/queues/implementation":    {Summary: "Approved requests waiting for implementation, oldest approval first", Response: "RequestList", Paged: true},
	"GET /api/v1/rules":                    {Summary: "The rule register: every approved rule with its expiry, soonest expiry first (a page holds the rules of up to limit requests)", Response: "RuleRegister", Paged: true},
	"GET /api/v1/zones":                    {Summary: "List zones by name", Response: "ZoneList", Paged: true},
	"POST /api/v1/zones":                   {Summary: "Create a zone", Body: "ZoneInput", Response: "Zone", Status: "201"},
	"PUT /api/v1/zones/{id}":               {Summary: "Update a zone", Body: "ZoneInput", Response: "Zone"},
	"DELETE /api/v1/zones/{id}":            {Summary: "Delete a zone", Status: "204"},
	"GET /api/v1/assets":                   {Summary: "List assets with their derived zones, by address", Response: "AssetList", Paged: true},
	"POST /api/v1/assets":                  {Summary: "Create an asset", Body: "AssetInput", Response: "Asset", Status: "201"},
	"PUT /api/v1/assets/{id}":              {Summary: "Update an asset", Body: "AssetInput", Response: "Asset"},
	"DELETE /api/v1/assets/{id}":           {Summary: "Delete an asset", Status: "204"},
	"POST /api/v1/assets/import":           {Summary: "Import assets from a CSV body (all or nothing)", Body: "CSV", Response: "ImportResult"},
	"GET /api/v1/audit/export":             {Summary: "The audit log (format json with hashes and a signed checkpoint, or csv; from, to as YYYY-MM-DD)", Response: "Object"},
	"GET /api/v1/reports/{kind}":           {Summary: "A compliance report (kind: changes, rules, insecure, drift, recertification, audit; format: csv, json, xlsx, pdf; from, to, zone, team, state)", Response: "Object"},
	"GET /api/v1/drift":                    {Summary: "Drift items, most severe then newest first (filters: state=open|acknowledged|resolved|suppressed, kind, severity, zone, asset; paging: limit 1-200, default 50, and cursor = the previous page's next_cursor)", Response: "DriftList"},
	"POST /api/v1/drift/{id}/acknowledge":  {Summary: "Acknowledge a drift item", Body: "DriftComment", Response: "Drift"},
	"POST /api/v1/drift/{id}/suppress":     {Summary: "Suppress a drift item with a reason until a date", Body: "Suppression", Response: "Drift"},
	"GET /api/v1/scans":                    {Summary: "Scan runs newest first, without their reports (paging: limit 1-200, default 50, and cursor = the previous page's next_cursor)", Response: "ScanList"},
	"POST /api/v1/scans":                   {Summary: "Start a scan of inventory addresses or zones (profile common or full)", Body: "ScanInput", Response: "Scan", Status: "202"},
	"GET /api/v1/scans/{id}":               {Summary: "A scan's state and, when done, its report (scan-report contract); a scan split among agents also lists its chunks and the agents that did them", Response: "Scan"},
	"GET /api/v1/agents":                   {Summary: "The scanner agents (admins and auditors)", Response: "AgentList", Paged: true},
	// The agents' own calls carry no bearer token: enrol with a one-time
	// token, then every call signed (header Portcullis-Agent-Signature).
	"POST /api/v1/agent/enroll":    {Summary: "Agent: trade a one-time enrolment token and a new Ed25519 public key for the agent's id, signed scope and the server's key", Body: "AgentEnrolInput", Response: "AgentEnrolled"},
	"POST /api/v1/agent/work":      {Summary: "Agent (signed): long-poll for the next chunk; answers the signed scope and a chunk or null", Body: "AgentWorkInput", Response: "AgentWork"},
	"POST /api/v1/agent/heartbeat": {Summary: "Agent (signed): renew the lease of the chunk being scanned; 409 when it passed to another agent", Body: "AgentHeartbeat", Response: "Object"},
	"POST /api/v1/agent/results":   {Summary: "Agent (signed): finished hosts of a chunk by (chunk_id, lease, seq); a resend is acknowledged without effect", Body: "AgentUpload", Response: "AgentAck"},
	"POST /api/v1/agent/refusal":   {Summary: "Agent (signed): targets of a chunk refused as outside the agent's signed scope (audited)", Body: "AgentRefusal", Response: "Object"},
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func arr(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}

// withDescription adds a description to a schema.
func withDescription(schema map[string]any, text string) map[string]any {
	schema["description"] = text
	return schema
}

var stringOrList = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, arr(map[string]any{"type": "string"})}}

var apiSchemas = map[string]any{
	"Object": map[string]any{"type": "object"},
	"Error": obj(map[string]any{"error": obj(map[string]any{
		"code": str("bad_request, unauthorized, forbidden, not_found, conflict, payload_too_large, too_many_requests or internal"), "message": str("what is wrong, in the caller's language (the token owner's profile, else Accept-Language, else the server's default)"),
		"field": str("the field at fault, e.g. rules[0].ports"),
	}, "code", "message")}, "error"),
	"Rule": withDescription(obj(map[string]any{
		"source":      map[string]any{"description": `who opens the connection. ingress: "internet", a zone name, or a list of CIDRs; egress: our asset addresses, or a zone name`, "oneOf": stringOrList["oneOf"]},
		"destination": map[string]any{"description": `who accepts it. ingress: our asset addresses, or a zone name; egress: the outside peer, as CIDRs, a zone name or "internet"`, "oneOf": stringOrList["oneOf"]},
		"protocol":    map[string]any{"type": "string", "enum": []string{"tcp", "udp"}},
		"ports":       str(`"443", "8000-8100", "80,443"`),
		"service":     str("expected service, vocabulary of the scan report"),
		"direction":   map[string]any{"type": "string", "enum": []string{"ingress", "egress"}, "description": "ingress (the default): the source connects in to our assets; egress: our assets connect out to the peer"},
	}, "source", "destination", "protocol", "ports"), "A rule reads in the direction the connection is opened: for egress the source is our asset that opens the connection and the destination the outside peer (CIDRs, or \"internet\"), e.g. {\"source\": [\"10.1.0.5\"], \"destination\": [\"203.0.113.5\"], \"direction\": \"egress\"}. Ports are the destination's."),
	"Finding": obj(map[string]any{
		"code": str("stable finding code, e.g. internet-high-risk"), "severity": map[string]any{"type": "string", "enum": []string{"info", "low", "medium", "high", "critical"}},
		"blocking": map[string]any{"type": "boolean"}, "message": str("what is wrong and what to do, in the caller's language like error messages"), "rule": map[string]any{"type": "integer", "description": "index of the rule"},
		"required_controls": arr(map[string]any{"type": "string"}),
	}),
	"EvaluateInput": obj(map[string]any{"rules": arr(ref("Rule")), "expires_at": str("optional")}, "rules"),
	"Evaluation":    obj(map[string]any{"findings": arr(ref("Finding")), "blocking": map[string]any{"type": "boolean"}, "needs_second_approval": map[string]any{"type": "boolean"}}),
	"RequestInput": obj(map[string]any{
		"title": str(""), "justification": str("business justification"),
		"expires_at": str("RFC 3339 time or YYYY-MM-DD; default from settings"), "rules": arr(ref("Rule")),
		"assessment": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "answers to the security assessment, keyed by question id (data_handled, exposure, authentication, owner_on_call by default); required when the rules touch an innovation-tier application"},
	}, "title", "justification", "rules"),
	"Request": obj(map[string]any{
		"id": map[string]any{"type": "integer"}, "title": str(""), "justification": str(""),
		"state":     map[string]any{"type": "string", "enum": []string{"draft", "submitted", "in_review", "changes_requested", "rejected", "approved", "implemented", "verified", "verification_failed", "active", "expired", "revoked", "cancelled"}},
		"requester": str("e-mail"), "team": str(""), "expires_at": str("RFC 3339"), "needs_second_approval": map[string]any{"type": "boolean"},
		"change_ref": str(""), "version": map[string]any{"type": "integer"}, "rules": arr(ref("Rule")), "findings": arr(ref("Finding")),
		"exception": map[string]any{"type": "boolean"}, "compensating_controls": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		"innovation": map[string]any{"type": "boolean", "description": "the rules touch an innovation-tier application"},
		"assessment": obj(map[string]any{"version": map[string]any{"type": "integer", "description": "the questionnaire version asked"},
			"questions": arr(obj(map[string]any{"id": str(""), "text": str(""), "required": map[string]any{"type": "boolean"}})),
			"answers":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}}),
		"reviews": arr(map[string]any{"type": "object"}), "timeline": arr(map[string]any{"type": "object"}),
	}),
	"RequestList": obj(map[string]any{"requests": arr(ref("Request")), "next_cursor": nextCursorSchema}),
	"Reason":      obj(map[string]any{"reason": str("why")}),
	"ReviewInput": obj(map[string]any{
		"decision": map[string]any{"type": "string", "enum": []string{"approve", "reject", "changes_requested"}}, "comment": str("required unless approving"),
		"zone_confirmed":        map[string]any{"type": "boolean"},
		"compensating_controls": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "the exception path: a control for each blocking finding, keyed \"rule:code\" (e.g. \"0:internet-high-risk\")"},
		"checklist":             arr(obj(map[string]any{"item": str("checklist item id"), "result": map[string]any{"type": "string", "enum": []string{"pass", "fail", "na"}}, "note": str("required unless pass")})),
	}, "decision"),
	"ApprovalInput":  obj(map[string]any{"decision": map[string]any{"type": "string", "enum": []string{"approve", "reject"}}, "comment": str("")}),
	"ImplementInput": obj(map[string]any{"change_ref": str("firewall change id"), "note": str("")}, "change_ref"),
	"CommentInput":   obj(map[string]any{"body": str("")}, "body"),
	"Comment":        obj(map[string]any{"id": map[string]any{"type": "integer"}, "author": str(""), "body": str(""), "at": str("")}),
	"CommentList":    obj(map[string]any{"comments": arr(ref("Comment"))}),
	"RuleRegister":   obj(map[string]any{"rules": arr(map[string]any{"type": "object"}), "next_cursor": nextCursorSchema}),
	"ZoneInput":      obj(map[string]any{"name": str(""), "classification": map[string]any{"type": "string", "enum": []string{"internet", "dmz", "transit", "low", "medium", "high"}}, "cidrs": stringOrList, "owner": str(""), "description": str(""), "check_credentials": map[string]any{"type": "boolean"}}, "name", "classification"),
	"Zone":           obj(map[string]any{"id": map[string]any{"type": "integer"}, "name": str(""), "classification": str(""), "cidrs": arr(map[string]any{"type": "string"}), "owner": str(""), "description": str(""), "check_credentials": map[string]any{"type": "boolean"}}),
	"ZoneList":       obj(map[string]any{"zones": arr(ref("Zone")), "next_cursor": nextCursorSchema}),
	"AssetInput":     obj(map[string]any{"address": str(""), "hostname": str(""), "owner_team": str(""), "application": str("")}, "address"),
	"Asset": obj(map[string]any{"id": map[string]any{"type": "integer"}, "address": str(""), "hostname": str(""), "owner_team": str(""), "application": str(""), "zone": str("derived from the address"), "classification": str(""),
		"public_address": str("the internet-facing (NAT) address, when it has one"),
		"tier":           map[string]any{"type": "string", "enum": []string{"innovation", "standard", "critical"}, "description": "the application's risk tier"}}),
	"AssetList":    obj(map[string]any{"assets": arr(ref("Asset")), "next_cursor": nextCursorSchema}),
	"ImportResult": obj(map[string]any{"created": map[string]any{"type": "integer"}, "updated": map[string]any{"type": "integer"}}),
	"Drift": obj(map[string]any{"id": map[string]any{"type": "integer"}, "kind": str("open-unapproved, approved-closed, service-mismatch, expired-open, weak-config, tarpit or exposed-externally"),
		"severity": str(""), "asset": str(""), "port": map[string]any{"type": "integer"}, "protocol": str(""), "service": str(""), "zone": str(""),
		"state": str("open, acknowledged, resolved or suppressed"), "first_seen": str(""), "last_seen": str(""), "request_id": map[string]any{"type": "integer"}, "rule_id": map[string]any{"type": "integer"}, "detail": str("")}),
	"DriftList": obj(map[string]any{"drift": arr(ref("Drift")), "next_cursor": str("absent on the last page; pass it as cursor for the next")}),
	"AgentList": obj(map[string]any{"agents": arr(obj(map[string]any{"name": str(""), "zones": arr(str("")), "version": str(""),
		"last_seen": str("RFC 3339, null before the first contact"), "state": str("enrolling, online, offline or revoked"),
		"current_work": str(""), "ports_per_second": map[string]any{"type": "number"}})), "next_cursor": str("absent on the last page")}),
	"AgentEnrolInput": obj(map[string]any{"token": str("the one-time enrolment token"), "public_key": str("base64 Ed25519 public key"), "version": str("")}, "token", "public_key"),
	"AgentEnrolled":   obj(map[string]any{"agent_id": map[string]any{"type": "integer"}, "name": str(""), "scope": ref("AgentScope"), "server_key": str("base64 Ed25519 key that signs scopes")}),
	"AgentScope":      obj(map[string]any{"document": str("base64 JSON: agent_id, agent, zones [{name, cidrs}], issued_at"), "signature": str("base64 Ed25519 signature of the document's bytes")}),
	"AgentWorkInput":  obj(map[string]any{"version": str(""), "started_at": str("when the agent process started; a new value is a new connection"), "wait_seconds": map[string]any{"type": "integer"}}, "started_at"),
	"AgentWork": obj(map[string]any{"scope": ref("AgentScope"), "chunk": obj(map[string]any{"id": map[string]any{"type": "integer"}, "lease": map[string]any{"type": "integer"},
		"run_id": map[string]any{"type": "integer"}, "zone": str(""), "vantage": str("internal or internet"), "targets": arr(str("")),
		"tcp_ports": str("port spec"), "udp_ports": str("port spec"), "profile": str(""), "lease_seconds": map[string]any{"type": "integer"}})}),
	"AgentHeartbeat": obj(map[string]any{"chunk_id": map[string]any{"type": "integer"}, "lease": map[string]any{"type": "integer"}, "ports_per_second": map[string]any{"type": "number"}}),
	"AgentUpload": obj(map[string]any{"chunk_id": map[string]any{"type": "integer"}, "lease": map[string]any{"type": "integer"}, "seq": map[string]any{"type": "integer"},
		"hosts": arr(map[string]any{"type": "object", "description": "a host of the scan-report contract"}), "done": map[string]any{"type": "boolean"}, "ports_per_second": map[string]any{"type": "number"}}, "chunk_id", "lease", "seq"),
	"AgentAck":     obj(map[string]any{"duplicate": map[string]any{"type": "boolean"}, "hosts_done": map[string]any{"type": "integer"}}),
	"AgentRefusal": obj(map[string]any{"chunk_id": map[string]any{"type": "integer"}, "lease": map[string]any{"type": "integer"}, "targets": arr(str(""))}),
	"ScanList":     obj(map[string]any{"scans": arr(ref("Scan")), "next_cursor": str("absent on the last page; pass it as cursor for the next")}),
	"DriftComment": obj(map[string]any{"comment": str("")}),
	"Suppression":  obj(map[string]any{"reason": str(""), "until": str("YYYY-MM-DD")}, "reason", "until"),
	"ScanInput":    obj(map[string]any{"targets": arr(str("inventory address or zone name")), "profile": map[string]any{"type": "string", "enum": []string{"common", "full"}}}, "targets"),
	"Scan":         obj(map[string]any{"id": map[string]any{"type": "integer"}, "state": str("queued, running, done or failed"), "progress": map[string]any{"type": "object"}, "report": map[string]any{"type": "object", "description": "the scan-report contract"}}),
	"Me":           obj(map[string]any{"email": str(""), "name": str(""), "team": str(""), "roles": arr(map[string]any{"type": "string"})}),
}

// nextCursorSchema is the cursor of a paged list's next page.
var nextCursorSchema = str("the cursor of the next page, to pass as ?cursor=; absent on the last page")

// pagingParams are the query parameters of every paged list.
func pagingParams() []any {
	return []any{
		map[string]any{"name": "limit", "in": "query", "description": fmt.Sprintf("page size, %d by default", paging.DefaultLimit),
			"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": paging.MaxLimit, "default": paging.DefaultLimit}},
		map[string]any{"name": "cursor", "in": "query", "description": "next_cursor of the previous page; absent for the first page",
			"schema": map[string]any{"type": "string"}},
	}
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// openAPIDocument builds the OpenAPI 3 description from the route table.
func openAPIDocument() map[string]any {
	paths := map[string]any{}
	for key, op := range apiOperations {
		method, path, _ := strings.Cut(key, " ")
		path = strings.TrimPrefix(path, "/api/v1")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		status := op.Status
		if status == "" {
			status = "200"
		}
		resp := map[string]any{"description": "success"}
		if op.Response != "" {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": ref(op.Response)}}
		}
		errResp := func(d string) map[string]any {
			return map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		o := map[string]any{
			"summary":     op.Summary,
			"operationId": strings.ToLower(method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(path),
			"responses": map[string]any{
				status: resp, "400": errResp("bad input (field names the culprit)"), "401": errResp("no or bad token"),
				"403": errResp("role or separation of duties"), "404": errResp("not found"), "409": errResp("transition not allowed now, or lost to a concurrent one"),
				"429": errResp("rate limited (rejected tokens, evaluations, exports, scans): wait the Retry-After seconds"),
			},
		}
		if key == "GET /api/v1/openapi.json" || strings.Contains(key, " /api/v1/agent/") {
			o["security"] = []any{}
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			typ := "string"
			if m[1] == "id" {
				typ = "integer"
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
		if op.Paged {
			params = append(params, pagingParams()...)
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		switch op.Body {
		case "":
		case "CSV":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"text/csv": map[string]any{"schema": map[string]any{"type": "string", "description": "header address,hostname,owner_team,application,tier"}}}}
		default:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(op.Body)}}}
		}
		item[strings.ToLower(method)] = o
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title": "Portcullis API", "version": "1",
			"description": "Port-opening requests, review, approval and implementation, with the inventory. Authenticate with a bearer token from your profile page or `portcullis token create`.",
		},
		"servers":    []any{map[string]any{"url": "/api/v1"}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": apiSchemas, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openAPIDocument())
}
