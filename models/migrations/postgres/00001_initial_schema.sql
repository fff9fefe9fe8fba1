-- The schema as the ordered gorm migrations 1-5 of earlier releases left it
-- (dumped with pg_dump -s from a database they created), so that a database
-- they created and one created here are the same.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION portcullis_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
-- +goose StatementEnd

CREATE TABLE alert_deliveries (
    id bigint NOT NULL,
    drift_item_id bigint NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    attempts bigint DEFAULT 0 NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    next_attempt timestamp with time zone,
    delivered_at timestamp with time zone,
    created_at timestamp with time zone
);

CREATE SEQUENCE alert_deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE alert_deliveries_id_seq OWNED BY alert_deliveries.id;

CREATE TABLE api_tokens (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    hash text NOT NULL,
    created_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);

CREATE SEQUENCE api_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE api_tokens_id_seq OWNED BY api_tokens.id;

CREATE TABLE assets (
    id bigint NOT NULL,
    address text NOT NULL,
    hostname text DEFAULT ''::text NOT NULL,
    owner_team text DEFAULT ''::text NOT NULL,
    application text DEFAULT ''::text NOT NULL,
    zone_id bigint,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);

CREATE SEQUENCE assets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE assets_id_seq OWNED BY assets.id;

CREATE TABLE audit_checkpoints (
    id bigint NOT NULL,
    tree_size bigint NOT NULL,
    head_hash text NOT NULL,
    note text NOT NULL,
    created_at timestamp with time zone
);

CREATE SEQUENCE audit_checkpoints_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE audit_checkpoints_id_seq OWNED BY audit_checkpoints.id;

CREATE TABLE audit_events (
    id bigint NOT NULL,
    seq bigint,
    at timestamp with time zone NOT NULL,
    actor_id bigint,
    actor text NOT NULL,
    action text NOT NULL,
    object_type text NOT NULL,
    object_id bigint NOT NULL,
    from_state text DEFAULT ''::text NOT NULL,
    to_state text DEFAULT ''::text NOT NULL,
    detail text DEFAULT '{}'::text NOT NULL,
    comment text DEFAULT ''::text NOT NULL,
    prev_hash text DEFAULT ''::text NOT NULL,
    hash text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE audit_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id;

CREATE TABLE comments (
    id bigint NOT NULL,
    request_id bigint NOT NULL,
    author_id bigint NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone
);

CREATE SEQUENCE comments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE comments_id_seq OWNED BY comments.id;

CREATE TABLE drift_items (
    id bigint NOT NULL,
    key text NOT NULL,
    kind text NOT NULL,
    severity text NOT NULL,
    address text NOT NULL,
    protocol text DEFAULT ''::text NOT NULL,
    port bigint DEFAULT 0 NOT NULL,
    last_port bigint DEFAULT 0 NOT NULL,
    service text DEFAULT ''::text NOT NULL,
    approved_service text DEFAULT ''::text NOT NULL,
    zone text DEFAULT ''::text NOT NULL,
    classification text DEFAULT ''::text NOT NULL,
    rule_id bigint DEFAULT 0 NOT NULL,
    request_id bigint DEFAULT 0 NOT NULL,
    detail text DEFAULT ''::text NOT NULL,
    evidence text DEFAULT '{}'::text NOT NULL,
    state text NOT NULL,
    first_seen timestamp with time zone,
    last_seen timestamp with time zone,
    last_scan_id bigint,
    resolved_at timestamp with time zone,
    acknowledged_by text DEFAULT ''::text NOT NULL,
    suppressed_until timestamp with time zone,
    suppress_reason text DEFAULT ''::text NOT NULL,
    filed_request_id bigint
);

CREATE SEQUENCE drift_items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE drift_items_id_seq OWNED BY drift_items.id;

CREATE TABLE job_leases (
    name text NOT NULL,
    holder text NOT NULL,
    lease_until timestamp with time zone,
    last_run_at timestamp with time zone
);

CREATE TABLE policy_documents (
    kind text NOT NULL,
    content text NOT NULL,
    updated_by text DEFAULT ''::text NOT NULL,
    updated_at timestamp with time zone
);

CREATE TABLE recert_campaigns (
    id bigint NOT NULL,
    name text NOT NULL,
    due_by timestamp with time zone NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone,
    closed_at timestamp with time zone
);

CREATE SEQUENCE recert_campaigns_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE recert_campaigns_id_seq OWNED BY recert_campaigns.id;

CREATE TABLE recertifications (
    id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    request_id bigint NOT NULL,
    team text DEFAULT ''::text NOT NULL,
    status text NOT NULL,
    justification text DEFAULT ''::text NOT NULL,
    new_expires_at timestamp with time zone,
    decided_by text DEFAULT ''::text NOT NULL,
    decided_at timestamp with time zone,
    reminded_at timestamp with time zone
);

CREATE SEQUENCE recertifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE recertifications_id_seq OWNED BY recertifications.id;

CREATE TABLE requests (
    id bigint NOT NULL,
    title text NOT NULL,
    justification text NOT NULL,
    state text NOT NULL,
    version bigint DEFAULT 1 NOT NULL,
    requester_id bigint NOT NULL,
    team text DEFAULT ''::text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    needs_second_approval boolean DEFAULT false NOT NULL,
    change_ref text DEFAULT ''::text NOT NULL,
    implement_note text DEFAULT ''::text NOT NULL,
    implementer_id bigint,
    findings text DEFAULT '[]'::text NOT NULL,
    exception boolean DEFAULT false NOT NULL,
    compensating_controls text DEFAULT '{}'::text NOT NULL,
    submitted_at timestamp with time zone,
    approved_at timestamp with time zone,
    certified_at timestamp with time zone,
    implemented_at timestamp with time zone,
    closed_at timestamp with time zone,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);

CREATE SEQUENCE requests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE requests_id_seq OWNED BY requests.id;

CREATE TABLE reviews (
    id bigint NOT NULL,
    request_id bigint NOT NULL,
    reviewer_id bigint NOT NULL,
    kind text NOT NULL,
    decision text NOT NULL,
    comment text DEFAULT ''::text NOT NULL,
    zone_confirmed boolean DEFAULT false NOT NULL,
    checklist text DEFAULT '[]'::text NOT NULL,
    voided boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone
);

CREATE SEQUENCE reviews_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE reviews_id_seq OWNED BY reviews.id;

CREATE TABLE rules (
    id bigint NOT NULL,
    request_id bigint NOT NULL,
    "position" bigint NOT NULL,
    source text NOT NULL,
    destination text NOT NULL,
    protocol text NOT NULL,
    ports text NOT NULL,
    service text DEFAULT ''::text NOT NULL,
    direction text NOT NULL
);

CREATE SEQUENCE rules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE rules_id_seq OWNED BY rules.id;

CREATE TABLE scan_runs (
    id bigint NOT NULL,
    kind text NOT NULL,
    profile text NOT NULL,
    targets text NOT NULL,
    tcp_ports text DEFAULT ''::text NOT NULL,
    udp_ports text DEFAULT ''::text NOT NULL,
    zone text DEFAULT ''::text NOT NULL,
    request_id bigint,
    status text NOT NULL,
    holder text DEFAULT ''::text NOT NULL,
    requested_by text NOT NULL,
    progress text DEFAULT '{}'::text NOT NULL,
    error text DEFAULT ''::text NOT NULL,
    report text DEFAULT ''::text NOT NULL,
    summary text DEFAULT ''::text NOT NULL,
    queued_at timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone
);

CREATE SEQUENCE scan_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE scan_runs_id_seq OWNED BY scan_runs.id;

CREATE TABLE scan_schedules (
    zone_id bigint NOT NULL,
    daily_hour bigint DEFAULT 2 NOT NULL,
    weekly_day bigint DEFAULT 0 NOT NULL,
    weekly_hour bigint DEFAULT 3 NOT NULL,
    updated_at timestamp with time zone
);

CREATE TABLE sessions (
    token character varying(64) NOT NULL,
    data bytea NOT NULL,
    expiry timestamp with time zone NOT NULL
);

CREATE TABLE settings (
    key text NOT NULL,
    value text NOT NULL,
    updated_at timestamp with time zone
);

CREATE TABLE users (
    id bigint NOT NULL,
    issuer text NOT NULL,
    subject text NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    team text DEFAULT ''::text NOT NULL,
    roles text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone,
    last_login_at timestamp with time zone
);

CREATE SEQUENCE users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE users_id_seq OWNED BY users.id;

CREATE TABLE zones (
    id bigint NOT NULL,
    name text NOT NULL,
    classification text NOT NULL,
    cidrs text DEFAULT ''::text NOT NULL,
    owner text DEFAULT ''::text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);

CREATE SEQUENCE zones_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE zones_id_seq OWNED BY zones.id;

ALTER TABLE ONLY alert_deliveries ALTER COLUMN id SET DEFAULT nextval('alert_deliveries_id_seq'::regclass);

ALTER TABLE ONLY api_tokens ALTER COLUMN id SET DEFAULT nextval('api_tokens_id_seq'::regclass);

ALTER TABLE ONLY assets ALTER COLUMN id SET DEFAULT nextval('assets_id_seq'::regclass);

ALTER TABLE ONLY audit_checkpoints ALTER COLUMN id SET DEFAULT nextval('audit_checkpoints_id_seq'::regclass);

ALTER TABLE ONLY audit_events ALTER COLUMN id SET DEFAULT nextval('audit_events_id_seq'::regclass);

ALTER TABLE ONLY comments ALTER COLUMN id SET DEFAULT nextval('comments_id_seq'::regclass);

ALTER TABLE ONLY drift_items ALTER COLUMN id SET DEFAULT nextval('drift_items_id_seq'::regclass);

ALTER TABLE ONLY recert_campaigns ALTER COLUMN id SET DEFAULT nextval('recert_campaigns_id_seq'::regclass);

ALTER TABLE ONLY recertifications ALTER COLUMN id SET DEFAULT nextval('recertifications_id_seq'::regclass);

ALTER TABLE ONLY requests ALTER COLUMN id SET DEFAULT nextval('requests_id_seq'::regclass);

ALTER TABLE ONLY reviews ALTER COLUMN id SET DEFAULT nextval('reviews_id_seq'::regclass);

ALTER TABLE ONLY rules ALTER COLUMN id SET DEFAULT nextval('rules_id_seq'::regclass);

ALTER TABLE ONLY scan_runs ALTER COLUMN id SET DEFAULT nextval('scan_runs_id_seq'::regclass);

ALTER TABLE ONLY users ALTER COLUMN id SET DEFAULT nextval('users_id_seq'::regclass);

ALTER TABLE ONLY zones ALTER COLUMN id SET DEFAULT nextval('zones_id_seq'::regclass);

ALTER TABLE ONLY alert_deliveries
    ADD CONSTRAINT alert_deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY assets
    ADD CONSTRAINT assets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY audit_checkpoints
    ADD CONSTRAINT audit_checkpoints_pkey PRIMARY KEY (id);

ALTER TABLE ONLY audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY comments
    ADD CONSTRAINT comments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY drift_items
    ADD CONSTRAINT drift_items_pkey PRIMARY KEY (id);

ALTER TABLE ONLY job_leases
    ADD CONSTRAINT job_leases_pkey PRIMARY KEY (name);

ALTER TABLE ONLY policy_documents
    ADD CONSTRAINT policy_documents_pkey PRIMARY KEY (kind);

ALTER TABLE ONLY recert_campaigns
    ADD CONSTRAINT recert_campaigns_pkey PRIMARY KEY (id);

ALTER TABLE ONLY recertifications
    ADD CONSTRAINT recertifications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY requests
    ADD CONSTRAINT requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY reviews
    ADD CONSTRAINT reviews_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rules
    ADD CONSTRAINT rules_pkey PRIMARY KEY (id);

ALTER TABLE ONLY scan_runs
    ADD CONSTRAINT scan_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY scan_schedules
    ADD CONSTRAINT scan_schedules_pkey PRIMARY KEY (zone_id);

ALTER TABLE ONLY sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (token);

ALTER TABLE ONLY settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (key);

ALTER TABLE ONLY users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY zones
    ADD CONSTRAINT zones_pkey PRIMARY KEY (id);

CREATE INDEX idx_alert_deliveries_status ON alert_deliveries USING btree (status);

CREATE UNIQUE INDEX idx_alert_once ON alert_deliveries USING btree (drift_item_id, channel);

CREATE UNIQUE INDEX idx_api_tokens_hash ON api_tokens USING btree (hash);

CREATE INDEX idx_api_tokens_user_id ON api_tokens USING btree (user_id);

CREATE UNIQUE INDEX idx_assets_address ON assets USING btree (address);

CREATE INDEX idx_assets_zone_id ON assets USING btree (zone_id);

CREATE INDEX idx_audit_checkpoints_tree_size ON audit_checkpoints USING btree (tree_size);

CREATE INDEX idx_audit_events_action ON audit_events USING btree (action);

CREATE INDEX idx_audit_events_at ON audit_events USING btree (at);

CREATE UNIQUE INDEX idx_audit_events_seq ON audit_events USING btree (seq);

CREATE INDEX idx_comments_request_id ON comments USING btree (request_id);

CREATE INDEX idx_drift_items_address ON drift_items USING btree (address);

CREATE INDEX idx_drift_items_first_seen ON drift_items USING btree (first_seen);

CREATE INDEX idx_drift_items_key ON drift_items USING btree (key);

CREATE INDEX idx_drift_items_kind ON drift_items USING btree (kind);

CREATE INDEX idx_drift_items_resolved_at ON drift_items USING btree (resolved_at);

CREATE INDEX idx_drift_items_severity ON drift_items USING btree (severity);

CREATE INDEX idx_drift_items_state ON drift_items USING btree (state);

CREATE INDEX idx_recertifications_campaign_id ON recertifications USING btree (campaign_id);

CREATE INDEX idx_recertifications_request_id ON recertifications USING btree (request_id);

CREATE INDEX idx_recertifications_status ON recertifications USING btree (status);

CREATE INDEX idx_requests_requester_id ON requests USING btree (requester_id);

CREATE INDEX idx_requests_state ON requests USING btree (state);

CREATE INDEX idx_reviews_request_id ON reviews USING btree (request_id);

CREATE INDEX idx_reviews_reviewer_id ON reviews USING btree (reviewer_id);

CREATE INDEX idx_rules_request_id ON rules USING btree (request_id);

CREATE INDEX idx_scan_runs_kind ON scan_runs USING btree (kind);

CREATE INDEX idx_scan_runs_request_id ON scan_runs USING btree (request_id);

CREATE INDEX idx_scan_runs_status ON scan_runs USING btree (status);

CREATE INDEX idx_sessions_expiry ON sessions USING btree (expiry);

CREATE INDEX idx_users_email ON users USING btree (email);

CREATE UNIQUE INDEX idx_users_identity ON users USING btree (issuer, subject);

CREATE UNIQUE INDEX idx_zones_name ON zones USING btree (name);

CREATE TRIGGER audit_checkpoints_append_only BEFORE DELETE OR UPDATE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION portcullis_append_only();

CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION portcullis_append_only();

CREATE TRIGGER audit_events_append_only BEFORE DELETE OR UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION portcullis_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION portcullis_append_only();

ALTER TABLE ONLY api_tokens
    ADD CONSTRAINT fk_api_tokens_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER TABLE ONLY assets
    ADD CONSTRAINT fk_assets_zone FOREIGN KEY (zone_id) REFERENCES zones(id) ON DELETE SET NULL;

ALTER TABLE ONLY comments
    ADD CONSTRAINT fk_comments_author FOREIGN KEY (author_id) REFERENCES users(id);

ALTER TABLE ONLY recertifications
    ADD CONSTRAINT fk_recertifications_campaign FOREIGN KEY (campaign_id) REFERENCES recert_campaigns(id);

ALTER TABLE ONLY recertifications
    ADD CONSTRAINT fk_recertifications_request FOREIGN KEY (request_id) REFERENCES requests(id);

ALTER TABLE ONLY requests
    ADD CONSTRAINT fk_requests_requester FOREIGN KEY (requester_id) REFERENCES users(id);

ALTER TABLE ONLY reviews
    ADD CONSTRAINT fk_requests_reviews FOREIGN KEY (request_id) REFERENCES requests(id) ON DELETE CASCADE;

ALTER TABLE ONLY rules
    ADD CONSTRAINT fk_requests_rules FOREIGN KEY (request_id) REFERENCES requests(id) ON DELETE CASCADE;

ALTER TABLE ONLY reviews
    ADD CONSTRAINT fk_reviews_reviewer FOREIGN KEY (reviewer_id) REFERENCES users(id);

ALTER TABLE ONLY scan_schedules
    ADD CONSTRAINT fk_scan_schedules_zone FOREIGN KEY (zone_id) REFERENCES zones(id) ON DELETE CASCADE;
