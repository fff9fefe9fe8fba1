// Package web holds the pages of Portcullis as templ components. Components
// take view models built by the handlers, never database rows, so a page
// shows exactly what the handler decided it should.
package web

import "github.com/portcullis/portcullis/web/locale"

// Page is what every page's frame needs.
type Page struct {
	Title     string
	User      *User
	Nav       []NavItem
	Flash     string
	FlashKind string // ok | error | info
	HTMX      string // path of the vendored htmx file
	// Limits are the free-text limits the domain enforces, shown by the
	// forms (maxlength and a hint).
	Limits Limits
}

// Limits mirrors core.TextLimits field for field (handlers convert one to
// the other), so that components need not import the domain.
type Limits struct {
	Title, Justification, Comment, Reason, ChecklistNote, CompensatingControl int
	ChangeRef, ChangeNote, Name, Hostname, Label, Search                      int
	AssessmentAnswer                                                          int
}

// User is the logged-in person, as the header shows them.
type User struct {
	Name, Email, Team string
	Roles             []string
}

// NavItem is one link of the top navigation. Links of the same Group
// (empty: none) share a menu, so that the navigation stays on one line.
type NavItem struct {
	Label, Href string
	Current     bool
	// Count is how much waits for the reader there (0: nothing, no badge);
	// CountLabel says it in words for screen readers.
	Count      int
	CountLabel string
	Group      string
}

// DemoLogin is a demo account shown on the login page in demo mode.
type DemoLogin struct {
	Email, Password, Name string
	Roles                 []string
}

// Login is the login page.
type Login struct {
	Provider  string
	LoggedOut bool
	ReturnTo  string
	Demo      []DemoLogin
}

// StateCount is the number of requests in one state.
type StateCount struct {
	State, Label string
	Count        int
	Href         string
}

// Home is the landing page.
type Home struct {
	// Name is the reader's, in the welcome.
	Name   string
	Counts []StateCount
	Mine   []RequestRow
	// MineHref lists all of the actor's requests when Mine shows only the latest.
	MineHref string
	Queues   []QueueLink
	// CanRequest offers New request (requesters).
	CanRequest bool
	// Recerts are the reader's first pending re-certifications of RecertTotal.
	Recerts     []RecertItem
	RecertTotal int
	// TeamDrift are the reader's team's assets with live drift.
	TeamDrift []AssetLink
	// Needs are what auditors and admins chase.
	Needs []Need
}

// ListLinks are the links between the pages of a list: Next carries the
// cursor and the current filters, First (set when not on the first page)
// drops the cursor.
type ListLinks struct {
	Next, First string
}

// QueueLink points at a work queue with its length.
type QueueLink struct {
	Label, Href string
	Count       int
}

// RequestRow is one line of a request list.
type RequestRow struct {
	ID                     uint
	Href                   string
	Title                  string
	State, StateLabel      string
	Requester              string
	Team                   string
	Rules                  string // short summary
	Updated                string
	Expires                string
	NeedsSecond            bool
	AwaitingSecondApproval bool
}

// Option is one choice of a select or a filter.
type Option struct {
	Value, Label string
	Selected     bool
}

// RequestList is the list of requests with its filters.
type RequestList struct {
	Heading string
	Rows    []RequestRow
	States  []Option
	Query   string
	// SearchMax is the longest search text the server takes.
	SearchMax int
	Mine      bool
	CanFile   bool
	Links     ListLinks
}

// RuleForm is one rule's fields in the request form.
type RuleForm struct {
	Index                                                    int
	Source, Destination, Protocol, Ports, Service, Direction string
	Errors                                                   map[string]string // by field name
	// Evaluated: the policy has judged the rule; Findings are its verdicts
	// and Incomplete why it could not be judged yet, shown beside it.
	Evaluated  bool
	Findings   []FindingView
	Incomplete []string
	// Hints say what the last scan saw on the rule's destination hosts.
	Hints []PortHintView
}

// PortHintView is what the last broad scan of one destination host saw on
// the ports a rule asks for, and where else the service answers.
type PortHintView struct {
	Address, When     string
	Answering, Silent string // "tcp/443, tcp/80"
	Elsewhere         string // "tcp/8443 (http, TLS)"
	Full              bool   // Elsewhere is every open port
}

// RequestForm is the create/edit form.
type RequestForm struct {
	Action          string
	Editing         bool
	ID              uint
	AfterSubmission bool // editing voids approvals: say so
	Title           string
	Justification   string
	ExpiresAt       string
	MinDate         string
	MaxDate         string
	MaxDays         int
	Rules           []RuleForm
	Errors          map[string]string
	Zones           []Option
	Assets          []Option
	Choices         RuleChoices
	FormError       string
	// Problems list why the form was refused, each field named as the form
	// shows it, linked to the field.
	Problems []Problem
	Findings Findings
	DriftID  uint // the drift item this request answers, when filed from one
	// Assessment is the security questionnaire, with questions only when
	// the rules touch an innovation-tier application; Answers are what the
	// requester typed in it, by question id.
	Assessment AssessmentForm
	Answers    map[string]string
}

// RuleView is a rule as the request page shows it.
type RuleView struct {
	Number                                                   int
	Source, Destination, Protocol, Ports, Service, Direction string
}

// AssetView is a destination asset with its zone.
type AssetView struct {
	Address, Hostname, Zone, Classification, OwnerTeam, Application string
}

// ReviewView is one review decision.
type ReviewView struct {
	Reviewer, Kind, Decision, Comment, At string
	ZoneConfirmed                         bool
	Voided                                bool
	Checklist                             []ChecklistView
}

// ChecklistView is one answered item.
type ChecklistView struct {
	Text, Result, Note string
	Catalog            bool // Text is the service catalog's (English), not a translated baseline item
}

// Event is a timeline entry.
type Event struct {
	At, Actor, Action, From, To, Comment string
	Kind                                 string // the action as recorded (submit, first_approve), for the page's data-action
}

// CommentView is one comment of the discussion.
type CommentView struct {
	Author, At, Body string
}

// Action is a button the viewer may press on a request.
type Action struct {
	Label, Href string
	Method      string // GET for a link, POST for a form button
	Style       string // "", secondary, danger
	NeedsReason bool   // asks to confirm, with a reason (cancel, revoke)
	// Name ("cancel", "revoke") and Question (what the step does) of a
	// step that asks to confirm.
	Name, Question string
	// Reason and ReasonError: what was typed, and why it was refused.
	Reason, ReasonError string
}

// RequestDetail is the request page.
type RequestDetail struct {
	ID                  uint
	Title               string
	State, StateLabel   string
	Requester, Team     string
	Justification       string
	Created, Submitted  string
	Expires             string
	NeedsSecondApproval bool
	AwaitingSecond      bool
	FirstApprover       string
	ChangeRef, ImplNote string
	Implemented         string
	Rules               []RuleView
	Findings            Findings
	Exception           bool
	Destinations        []AssetView
	Reviews             []ReviewView
	Timeline            []Event
	Comments            []CommentView
	Actions             []Action
	CanComment          bool
	// CommentDraft and CommentError: a refused comment, kept to correct.
	CommentDraft, CommentError string
	Verification               string // the latest verification scan's page, when one ran
	VerificationStatus         string
	VerificationState          string // the scan's status as stored (done, failed), for the page's data-status
	Evidence                   []EvidenceRow
	// Innovation: the rules touch an innovation-tier application; the
	// assessment its requester answered, when one was needed.
	Innovation bool
	Assessment *AssessmentView
	// Live is the page's change stream (live.templ); AuditLogHref the
	// audit log browser filtered to this request, for those who may read it.
	Live, AuditLogHref string
}

// ChecklistItem is one row of the review form's checklist.
type ChecklistItem struct {
	ID, Text, Result, Note, Error string
	Index                         int
	Required                      bool // demanded by a finding
	Untranslated                  bool // a control as an admin wrote it into the service catalog, in English
}

// ReviewForm is the review page.
type ReviewForm struct {
	Request       RequestDetail
	Checklist     []ChecklistItem
	Decision      string
	Comment       string
	ZoneConfirmed bool
	Errors        map[string]string
	FormError     string
	Second        bool // the security lead's second approval
}

// ImplementForm is the implementer's form.
type ImplementForm struct {
	Request   RequestDetail
	ChangeRef string
	Note      string
	Errors    map[string]string
}

// Queue is a work queue page.
type Queue struct {
	Heading, Intro, Empty string
	Rows                  []WorkQueueRow
	// ShowRules lists each row's rules in full (the implementation queue:
	// what goes on the firewall).
	ShowRules    bool
	ActionLabel  string
	ActionSuffix string // appended to the request's href
	// Total is how many wait in the queue, across every page.
	Total int
	Links ListLinks
}

// Register is one page of the rule register.
type Register struct {
	Rows  []RegisterRow
	Links ListLinks
}

// RegisterRow is one allowed opening.
type RegisterRow struct {
	RequestID                                                uint
	Href                                                     string
	Title                                                    string
	Source, Destination, Protocol, Ports, Service, Direction string
	State, StateLabel                                        string
	Approvers                                                string
	Expires                                                  string
	DaysLeft                                                 int
	Exception                                                bool
	Innovation                                               bool
}

// ZoneRow is a zone in the inventory.
type ZoneRow struct {
	ID                                 uint
	Name, Classification, CIDRs, Owner string
	Description                        string
	Assets                             int
	CheckCredentials                   bool
}

// Zones is the zone list.
type Zones struct {
	Rows    []ZoneRow
	CanEdit bool
}

// ZoneForm creates or edits a zone.
type ZoneForm struct {
	Action, Name, Classification, CIDRs, Owner, Description string
	Editing                                                 bool
	CheckCredentials                                        bool
	ID                                                      uint
	Classifications                                         []Option
	Errors                                                  map[string]string
}

// AssetRow is an asset in the inventory.
type AssetRow struct {
	ID                                                              uint
	Address, Hostname, OwnerTeam, Application, Zone, Classification string
	Tier                                                            string // the application's risk tier
}

// Assets is the asset list.
type Assets struct {
	Rows    []AssetRow
	CanEdit bool
	Links   ListLinks
}

// AssetForm creates or edits an asset.
type AssetForm struct {
	Action, Address, Hostname, OwnerTeam, Application string
	PublicAddress                                     string
	Editing                                           bool
	ID                                                uint
	Errors                                            map[string]string
}

// ImportLine is a bad line of a CSV import.
type ImportLine struct {
	Line           int
	Field, Message string
}

// AssetImport is the CSV import page.
type AssetImport struct {
	Lines   []ImportLine
	Error   string
	Summary string
}

// TokenRow is one API token on the profile page.
type TokenRow struct {
	ID                              uint
	Name, Prefix, Created, LastUsed string
	Expires                         string
	Revoked, Expired                bool
}

// Profile is the user's own page.
type Profile struct {
	Name, Email, Team string
	Roles             []string
	Tokens            []TokenRow
	NewSecret         string
	// TokenName is what the name field held when the token was refused.
	TokenName string
	Error     string
	// TTL is what the lifetime field holds; TTLHint says the default and maximum.
	TTL, TTLError, TTLHint string
	// Language and TimeZone are the person's choices ("": not chosen), or
	// what they typed when refused; Languages and Zones are offered, the
	// zones as suggestions. DefaultZone applies when none is chosen; Now is
	// the current time as the person's pages show it.
	Language, TimeZone           string
	LanguageError, TimeZoneError string
	Languages                    []locale.Language
	Zones                        []string
	DefaultZone, Now             string
}

// UserRow is one user for admins.
type UserRow struct {
	ID                                          uint
	Email, Name, Team, Roles, Issuer, LastLogin string
	// Disabled is when an admin disabled the user (empty: enabled), and why.
	Disabled, DisabledReason string
	// Self: the admin looking at the page, who cannot disable themselves.
	Self bool
	// ReasonDraft and ReasonError: a refused disable's reason, as typed, and why.
	ReasonDraft, ReasonError string
}

// Users is one page of the user list.
type Users struct {
	Rows  []UserRow
	Links ListLinks
	// ReasonMax bounds the reason for disabling a user.
	ReasonMax int
}

// Setting is one field of the settings form.
type Setting struct {
	Name, Label, Hint, Value, Error string
	// Max is the length limit of a list typed as text; 0 for numbers.
	Max int
}

// Settings is the admin's settings form.
type Settings struct {
	Fields []Setting
}

// MessagePart is a run of a message: its words, or a value it names
// (Data), which reads the same in every language.
type MessagePart struct {
	Text string
	Data bool
}

// FindingView is one verdict of the policy engine.
type FindingView struct {
	Rule           int // 1-based
	Code, Severity string
	Message        string
	// Parts are Message with the values it names (addresses, ports,
	// service names) told apart from its words, so that the page can mark
	// them as data; nil shows Message as it is.
	Parts            []MessagePart
	Blocking         bool
	RequiredControls []string
	// ControlsUntranslated: a required control is as an admin wrote it
	// into the service catalog, in English.
	ControlsUntranslated bool
	// Key names the finding in the exception form; Control is what the reviewer recorded.
	Key, Control, Error string
}

// Findings is the findings panel (request form, request page, review page).
type Findings struct {
	Items      []FindingView
	Incomplete []string // rules that could not be judged yet, and why
	// RuleIncomplete are the reasons by rule number (from 1), for the
	// request form, which shows them beside each rule.
	RuleIncomplete map[int][]string
	Evaluated      bool
}

// MatrixCell is one cell of the zone matrix form.
type MatrixCell struct {
	From, To, Access string
}

// MatrixRow is one "from" classification.
type MatrixRow struct {
	From  string
	Cells []MatrixCell
}

// Violation is an active rule a changed policy would block.
type Violation struct {
	Rule     string
	Href     string
	Findings []FindingView
}

// CodeLine is one numbered line of a file shown around an error.
type CodeLine struct {
	N    int
	Text string
	Bad  bool
}

// PolicyPage is the admin's view of the policy, with a what-if preview.
type PolicyPage struct {
	Classifications []string
	Accesses        []string
	Matrix          []MatrixRow
	CatalogYAML     string
	CatalogError    string
	// CatalogErrorLine is the line the error is on (0: none), and
	// CatalogExcerpt the lines around it.
	CatalogErrorLine int
	CatalogExcerpt   []CodeLine
	// Gutter is the editor's line numbers, one per line of the YAML.
	Gutter     string
	Services   int
	Preview    string // "matrix" or "catalog" when a preview was asked for
	Active     int
	Violations []Violation
}

// Audit is the audit log page.
type Audit struct {
	Reports     []Option
	Zones       []Option
	States      []Option
	VerifierKey string
	Verified    bool
	OK          bool
	Result      string
	Notes       []string
}

// AuditEventRow is one event of the audit log browser.
type AuditEventRow struct {
	Seq                uint64
	At, Actor, Action  string
	Object, ObjectHref string
	FromState, ToState string
	Comment            string
	// Client is the address the event's request came from ("" for jobs).
	Client string
}

// AuditLog is a page of the audit log, newest first.
type AuditLog struct {
	Rows        []AuditEventRow
	ObjectTypes []Option
	ObjectType  string // the filter the form carries on
	ObjectID    string
	Before      string
	Error       string
	Links       ListLinks // the next and the first page
}

// RecertItem is one opening waiting for its owners' decision.
type RecertItem struct {
	ID                uint
	RequestID         uint
	Href, Title, Team string
	Rules             string
	Campaign, DueBy   string
	Expires           string
	Status, DecidedBy string
	Justification     string
	DefaultExpiry     string
	// What the owner typed into a refused form, and why it was refused.
	JustificationDraft, JustificationError string
	ExpiresDraft                           string
	ReasonDraft, ReasonError               string
}

// CampaignRow is a campaign with its progress.
type CampaignRow struct {
	ID                           uint
	Name, DueBy, CreatedBy       string
	Pending, Recertified, Lapsed int
	Done                         int
	Teams                        []TeamRow
}

// TeamRow is one team's progress in a campaign.
type TeamRow struct {
	Team                               string
	Pending, Recertified, Lapsed, Done int
}

// Recertification is the re-certification page.
type Recertification struct {
	Mine      []RecertItem
	Campaigns []CampaignRow
	// Links to the next and first pages of each list.
	MineLinks      ListLinks
	CampaignsLinks ListLinks
	CanStart       bool
	SeesProgress   bool
	DefaultDue     string
	MaxDate        string
	Error          string
	// The campaign form as typed, when it was refused.
	NameDraft, NameError string
	DueDraft             string
}

// CampaignPage is one campaign with every item.
type CampaignPage struct {
	Campaign CampaignRow
	Items    []RecertItem
	Links    ListLinks // the next and first pages of the items
}

// Count is a labelled number.
type Count struct {
	Label, Href, Class string
	N                  int
}

// HeatCell is one zone × severity cell.
type HeatCell struct {
	N     int
	Class string // heat-0 … heat-4
	Href  string
}

// HeatRow is one zone of the heat map.
type HeatRow struct {
	Zone  string
	Cells []HeatCell
}

// Chart is the 30-day trend: two lines in a 100×100 box that stretches to
// any width, axis labels placed by percentage in HTML so that they keep a
// readable size on a phone.
type Chart struct {
	OpenedPoints   string // SVG polyline points, 0–100 on both axes
	ResolvedPoints string
	XLabels        []ChartLabel
	YLabels        []ChartLabel
	OpenedTotal    int
	ResolvedTotal  int
}

// ChartLabel is an axis label at Pos percent along its axis (from the left,
// or from the top).
type ChartLabel struct {
	Pos  string
	Text string
}

// DashboardView is the security lead's morning page.
type DashboardView struct {
	BySeverity []Count
	ByKind     []Count
	Severities []string
	Heat       []HeatRow
	Trend      Chart
	Waiting    []Count
	Expiring   []RequestRow
	LastScans  []ScanRow
	Riskiest   []RiskRow
	Oldest     []OldDriftRow
}

// DriftRow is a drift item in a list.
type DriftRow struct {
	ID                                       uint
	Kind, Severity, Address, Port, Service   string
	Zone, State, Detail, FirstSeen, LastSeen string
	RequestHref                              string
	CanAcknowledge, CanSuppress, CanRequest  bool
	FiledHref                                string
	SuppressedUntil, SuppressReason          string
	// Evidence is what the scanner saw, as named fields.
	Evidence []Field
	// The suppress form as typed, when it was refused: the form opens with it.
	SuppressOpen             bool
	ReasonDraft, ReasonError string
	UntilDraft               string
	// The acknowledge comment as typed, when it was refused.
	CommentDraft, CommentError string
}

// DriftList is the drift page.
type DriftList struct {
	Rows       []DriftRow
	States     []Option
	Kinds      []Option
	Severities []Option
	Error      string
	MinUntil   string
	Zone       string // filters the form carries on
	Asset      string
	Pages      ListLinks
	Live       string // the page's change stream (live.templ)
}

// ScanRow is a scan run in a list.
type ScanRow struct {
	ID                                 uint
	Href, Kind, Profile, Targets, Zone string
	Status, Queued, Started, Finished  string
	RequestedBy                        string
}

// ScanChange is a difference from the previous scan.
type ScanChange struct {
	Address, Port, Change, Before, After string
}

// ScanPortRow is one port of a scan report.
type ScanPortRow struct {
	Address, Port, State, Service, Product, Banner, Findings string
	TLS, Tarpit                                              bool
}

// ScanView is one scan run.
type ScanView struct {
	Run       ScanRow
	Running   bool
	Progress  string // JSON snapshot for the first paint
	Error     string
	Summary   string
	Changes   []ScanChange
	Ports     []ScanPortRow
	HostsDown []string
	// ChangesMore and HostsDownMore are how many were left out.
	ChangesMore, HostsDownMore int
	PortPages                  ListLinks
	// Phases and Statuses name the scanner's phases and the scan states in
	// the reader's language, for the live progress line (static/scan.js).
	Phases, Statuses map[string]string
}

// ScansPage lists runs and starts new ones.
type ScansPage struct {
	Rows     []ScanRow
	CanStart bool
	Targets  []Option
	Error    string
	Pages    ListLinks
	Live     string // the page's change stream (live.templ)
}

// LivePort is a port the latest scan saw on an asset, beside its approval.
type LivePort struct {
	Port, State, Service, Banner, Findings string
	Approval                               string // the approving request's number, when Approved
	Approved                               bool
}

// AssetDetail is an asset's page: approved rules and live ports side by side.
type AssetDetail struct {
	Asset    AssetRow
	Rules    []RegisterRow
	Live     []LivePort
	LastScan string
	ScanHref string
	Drift    []DriftRow
	// DriftHref lists all of the asset's drift when more is open than shown.
	DriftHref    string
	History      []ScanRow
	LivePages    ListLinks
	HistoryPages ListLinks
}

// DeliveryRow is one alert delivery.
type DeliveryRow struct {
	DriftID                                uint
	Channel, Status, LastError, Next, Done string
	Attempts                               int
}

// ScheduleRow is one zone's scan schedule.
type ScheduleRow struct {
	ZoneID                           uint
	Zone, Classification             string
	Assets                           int
	DailyOn, WeeklyOn                bool
	DailyHour, WeeklyDay, WeeklyHour int // shown in the selects even when off
	LastDaily, LastWeekly            *ScheduledRun
	NextDaily, NextWeekly            string // "" when off
	// DailyAt and WeeklyAt say when each slot runs, as the list shows it.
	DailyAt, WeeklyAt string
}

// ScheduleEdit is the form of one zone's scan schedule.
type ScheduleEdit struct {
	Schedule    ScheduleRow
	Days, Hours []Option
	Error       string
}

// ScheduledRun is the latest run a schedule slot queued, as people read it.
type ScheduledRun struct {
	Href, ID, Status, StatusKey, When, Summary string
}

// Operations is the admin page for scans and alerts.
type Operations struct {
	Schedules  []ScheduleRow
	Deliveries []DeliveryRow
	// CanEdit links each zone to its schedule's form (admins).
	CanEdit bool
	// DeliveryFilters are links to each status (Value is the link).
	DeliveryFilters []Option
	DeliveryPages   ListLinks
	// JobsLink links to the background jobs page (admins only).
	JobsLink string
}

// Evidence is one approved port as a verification saw it.
type EvidenceRow struct {
	Rule                                  int
	Address, Port, State, Service, Banner string
	Verdict                               string
	OK                                    bool
}

// Jobs is the admins' page of background jobs.
type Jobs struct {
	// States name the columns of Queues' counts.
	States []string
	Queues []QueueRow
	Failed []FailedJobRow
	Pages  ListLinks
	// RiverUI links to River's own UI when it is mounted (PostgreSQL).
	RiverUI string
}

// QueueRow is one queue's jobs, counted per state in the order of Jobs.States.
type QueueRow struct {
	Queue  string
	Counts []int
	Total  int
}

// FailedJobRow is a job that failed, with its errors.
type FailedJobRow struct {
	ID, Kind, Queue, State, Attempts, At, Args string
	Errors                                     string // one a line, oldest first
}

// CredentialListForm is the state of the admin's default-credential list: what
// may be shown of it (never its entries) and the error of a rejected list.
type CredentialListForm struct {
	Stored               bool
	Entries              int
	UpdatedBy, UpdatedAt string
	Error                string
}

// Problem is one reason a form was refused, linked to its field.
type Problem struct {
	Text, Href string
}
