// Package models holds the gorm models and the store: how Portcullis keeps
// its data in SQLite or PostgreSQL, and the migrations that shape it.
package models

import (
	"time"
)

// User is a person known through the identity provider, keyed on (issuer, subject).
type User struct {
	ID          uint   `gorm:"primaryKey"`
	Issuer      string `gorm:"not null;uniqueIndex:idx_users_identity"`
	Subject     string `gorm:"not null;uniqueIndex:idx_users_identity"`
	Email       string `gorm:"not null;index"`
	Name        string `gorm:"not null"`
	Team        string `gorm:"not null;default:''"`
	Roles       string `gorm:"not null;default:''"` // space-separated role names, refreshed at every login
	CreatedAt   time.Time
	LastLoginAt *time.Time
	// DisabledAt is set when an admin disables the user: no login, session
	// or token works until an admin enables them again.
	DisabledAt     *time.Time
	DisabledReason string `gorm:"not null;default:''"`
	// RefreshToken is the identity provider's refresh token from the last
	// login, sealed with AES-GCM (never the token itself); nil when the
	// provider issued none. AccessCheckedAt is when the access check last
	// asked the provider about this user.
	RefreshToken    []byte
	AccessCheckedAt *time.Time
	// Language (en, zh-CN) and TimeZone (an IANA name) are the person's
	// choices on the profile; empty: the browser's and the server's defaults.
	Language string `gorm:"not null;default:''"`
	TimeZone string `gorm:"not null;default:''"`
}

// APIToken is a bearer token for the JSON API. Only a hash of the secret is kept.
type APIToken struct {
	ID         uint   `gorm:"primaryKey"`
	UserID     uint   `gorm:"not null;index"`
	User       User   `gorm:"constraint:OnDelete:CASCADE"`
	Name       string `gorm:"not null"`
	Prefix     string `gorm:"not null"` // first characters, shown so a user can tell tokens apart
	Hash       string `gorm:"not null;uniqueIndex"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// ExpiresAt ends the token; nil only on tokens made before tokens
	// expired, which end the default lifetime after their creation.
	ExpiresAt *time.Time
}

// Session is a browser session, stored for alexedwards/scs.
type Session struct {
	Token  string    `gorm:"primaryKey;size:64"`
	Data   []byte    `gorm:"not null"`
	Expiry time.Time `gorm:"not null;index"`
	// UserID is the logged-in user the session belongs to (nil before
	// login), so that ending a person's access can delete their sessions.
	UserID *uint `gorm:"index"`
}

// Zone is a network zone with a sensitivity classification.
type Zone struct {
	ID             uint   `gorm:"primaryKey"`
	Name           string `gorm:"not null;uniqueIndex"`
	Classification string `gorm:"not null"`
	CIDRs          string `gorm:"column:cidrs;not null;default:''"` // one prefix per line
	Owner          string `gorm:"not null;default:''"`
	Description    string `gorm:"not null;default:''"`
	// CheckCredentials lets the server's scans of the zone try default
	// credentials on the services they find (off unless an admin turns it on).
	CheckCredentials bool `gorm:"not null;default:false"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// CredentialList is the admin's list of default credentials the scans try,
// sealed: it holds passwords. There is one, with ID 1.
type CredentialList struct {
	ID        uint   `gorm:"primaryKey;autoIncrement:false"`
	Sealed    []byte `gorm:"not null"`
	Entries   int    `gorm:"not null;default:0"`
	UpdatedBy string `gorm:"not null;default:''"`
	UpdatedAt time.Time
}

// Asset is a host in the inventory. Its zone is derived from its address.
type Asset struct {
	ID          uint   `gorm:"primaryKey"`
	Address     string `gorm:"not null;uniqueIndex"`
	Hostname    string `gorm:"not null;default:''"`
	OwnerTeam   string `gorm:"not null;default:''"`
	Application string `gorm:"not null;default:''"`
	ZoneID      *uint  `gorm:"index"`
	Zone        *Zone  `gorm:"constraint:OnDelete:SET NULL"`
	// PublicAddress is the asset's internet-facing (NAT) address, which an
	// internet-vantage agent scans; empty when it has none.
	PublicAddress string `gorm:"not null;default:''"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Application is the risk tier an admin gave an application (the
// `application` of assets). An application without a row is standard.
type Application struct {
	ID        uint   `gorm:"primaryKey"`
	Name      string `gorm:"not null;uniqueIndex"`
	Tier      string `gorm:"not null;default:'standard'"` // innovation | standard | critical
	UpdatedBy string `gorm:"not null;default:''"`
	UpdatedAt time.Time
}

// AssessmentQuestionnaire is one version of the security questionnaire a
// request touching an innovation-tier application answers. Versions are
// only added, so the questions a request was asked stay readable.
type AssessmentQuestionnaire struct {
	Version   uint   `gorm:"primaryKey;autoIncrement:false"`
	Questions string `gorm:"not null"` // JSON list of questions
	CreatedBy string `gorm:"not null;default:''"`
	CreatedAt time.Time
}

// Request is a port-opening request and its place in the lifecycle.
type Request struct {
	ID                  uint   `gorm:"primaryKey"`
	Title               string `gorm:"not null"`
	Justification       string `gorm:"not null"`
	State               string `gorm:"not null;index"`
	Version             int    `gorm:"not null;default:1"` // bumped by every transition and edit
	RequesterID         uint   `gorm:"not null;index"`
	Requester           User
	Team                string    `gorm:"not null;default:''"`
	ExpiresAt           time.Time `gorm:"not null"`
	NeedsSecondApproval bool      `gorm:"not null;default:false"`
	ChangeRef           string    `gorm:"not null;default:''"`
	ImplementNote       string    `gorm:"not null;default:''"`
	ImplementerID       *uint
	// Findings are the policy engine's verdicts on the rules, as JSON.
	Findings string `gorm:"not null;default:'[]'"`
	// Exception is set when security approved despite blocking findings,
	// with the compensating controls recorded per finding (JSON).
	Exception            bool   `gorm:"not null;default:false"`
	CompensatingControls string `gorm:"not null;default:'{}'"`
	// Innovation is set while the rules touch an asset of an
	// innovation-tier application (the policy's innovation-tier finding);
	// Assessment holds the security questionnaire as it was asked and the
	// requester's answers (JSON), empty when none was needed.
	Innovation  bool   `gorm:"not null;default:false"`
	Assessment  string `gorm:"not null;default:''"`
	SubmittedAt *time.Time
	ApprovedAt  *time.Time
	// CertifiedAt is when the opening was last confirmed as still needed:
	// its approval, then each re-certification.
	CertifiedAt   *time.Time
	ImplementedAt *time.Time
	ClosedAt      *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Rules         []Rule   `gorm:"constraint:OnDelete:CASCADE"`
	Reviews       []Review `gorm:"constraint:OnDelete:CASCADE"`
}

// Rule is one proposed (and, once approved, allowed) opening of a request.
type Rule struct {
	ID        uint `gorm:"primaryKey"`
	RequestID uint `gorm:"not null;index"`
	Position  int  `gorm:"not null"`
	// A rule reads in the direction the connection is opened. Ingress:
	// Source is "internet", a zone name or comma-separated CIDRs, and
	// Destination our assets (comma-separated addresses or a zone name).
	// Egress: Source is our assets, Destination the outside peer.
	Source      string `gorm:"not null"`
	Destination string `gorm:"not null"`
	Protocol    string `gorm:"not null"`
	Ports       string `gorm:"not null"`
	Service     string `gorm:"not null;default:''"`
	Direction   string `gorm:"not null"`
}

// Review is a decision by security on a request: a first review or a second approval.
type Review struct {
	ID            uint `gorm:"primaryKey"`
	RequestID     uint `gorm:"not null;index"`
	ReviewerID    uint `gorm:"not null;index"`
	Reviewer      User
	Kind          string `gorm:"not null"` // review | second_approval
	Decision      string `gorm:"not null"` // approve | reject | changes_requested
	Comment       string `gorm:"not null;default:''"`
	ZoneConfirmed bool   `gorm:"not null;default:false"`
	Checklist     string `gorm:"not null;default:'[]'"`  // JSON list of checklist answers
	Voided        bool   `gorm:"not null;default:false"` // set when the request is edited afterwards
	CreatedAt     time.Time
}

// Comment is a message on a request's discussion.
type Comment struct {
	ID        uint `gorm:"primaryKey"`
	RequestID uint `gorm:"not null;index"`
	AuthorID  uint `gorm:"not null"`
	Author    User
	Body      string `gorm:"not null"`
	CreatedAt time.Time
}

// AuditEvent records one state change or decision. Rows are only ever
// appended (the database refuses updates and deletes), and each carries the
// hash of the one before it.
type AuditEvent struct {
	ID         uint      `gorm:"primaryKey"`
	Seq        uint64    `gorm:"uniqueIndex"` // 1, 2, 3… in the order of the chain
	At         time.Time `gorm:"not null;index"`
	ActorID    *uint
	Actor      string `gorm:"not null"` // e-mail or "system", kept even if the user goes
	Action     string `gorm:"not null;index"`
	ObjectType string `gorm:"not null"`
	ObjectID   uint   `gorm:"not null"`
	FromState  string `gorm:"not null;default:''"`
	ToState    string `gorm:"not null;default:''"`
	Detail     string `gorm:"not null;default:'{}'"` // JSON
	Comment    string `gorm:"not null;default:''"`
	PrevHash   string `gorm:"not null;default:''"`
	Hash       string `gorm:"not null;default:''"`
	// ClientAddr is the network address the request came from (behind
	// trusted proxies, the client they name); empty for background work.
	// Covered by the hash from hash version 2 on; events written before
	// keep the version-1 hash that leaves it out.
	ClientAddr *string
	// HashVersion is the canonical encoding Hash was computed over (see
	// ChainedEvent.ComputeHash): 1 before client addresses were hashed.
	HashVersion int `gorm:"not null;default:1"`
}

// Setting is one tunable of the policy, editable by admins.
type Setting struct {
	Key       string `gorm:"primaryKey"`
	Value     string `gorm:"not null"`
	UpdatedAt time.Time
}

// PolicyDocument is an admin-edited part of the policy: the port catalog
// (YAML) or the zone matrix (JSON). Absent, the shipped defaults apply.
type PolicyDocument struct {
	Kind      string `gorm:"primaryKey"` // catalog | matrix
	Content   string `gorm:"not null"`
	UpdatedBy string `gorm:"not null;default:''"`
	UpdatedAt time.Time
}

// RecertCampaign is a round of re-certification: the rules due by DueBy,
// which their owners confirm with a fresh justification or let lapse.
type RecertCampaign struct {
	ID        uint      `gorm:"primaryKey"`
	Name      string    `gorm:"not null"`
	DueBy     time.Time `gorm:"not null"`
	CreatedBy string    `gorm:"not null"`
	CreatedAt time.Time
	ClosedAt  *time.Time
}

// Recertification is one request's place in a campaign.
type Recertification struct {
	ID            uint `gorm:"primaryKey"`
	CampaignID    uint `gorm:"not null;index"`
	Campaign      RecertCampaign
	RequestID     uint `gorm:"not null;index"`
	Request       Request
	RequesterID   uint   `gorm:"not null;default:0"` // the request's, copied so "my items" is one index range
	Team          string `gorm:"not null;default:''"`
	Status        string `gorm:"not null;index"` // pending | recertified | lapsed
	Justification string `gorm:"not null;default:''"`
	NewExpiresAt  *time.Time
	DecidedBy     string `gorm:"not null;default:''"`
	DecidedAt     *time.Time
	RemindedAt    *time.Time
}

// ScanRun is one scan the server ran or will run, with its report.
type ScanRun struct {
	ID          uint   `gorm:"primaryKey"`
	Kind        string `gorm:"not null;index"` // on_demand | daily | weekly | verification
	Profile     string `gorm:"not null"`
	Targets     string `gorm:"not null"`            // comma-separated addresses
	TCPPorts    string `gorm:"not null;default:''"` // port spec, empty: the profile's
	UDPPorts    string `gorm:"not null;default:''"`
	Zone        string `gorm:"not null;default:''"`
	RequestID   *uint  `gorm:"index"`
	Status      string `gorm:"not null;index"` // queued | running | done | failed
	Holder      string `gorm:"not null;default:''"`
	RequestedBy string `gorm:"not null"`
	Progress    string `gorm:"not null;default:'{}'"` // JSON snapshot while running
	Error       string `gorm:"not null;default:''"`
	Report      string `gorm:"not null;default:''"` // the scan report (contract JSON)
	Summary     string `gorm:"not null;default:''"` // what the run concluded, for people
	QueuedAt    time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
}

// ScanSchedule says when the assets of a zone are scanned.
type ScanSchedule struct {
	ZoneID     uint `gorm:"primaryKey;autoIncrement:false"`
	Zone       Zone `gorm:"constraint:OnDelete:CASCADE"`
	DailyHour  int  `gorm:"not null;default:2"` // UTC hour of the daily common-ports scan; -1: off
	WeeklyDay  int  `gorm:"not null;default:0"` // 0 Sunday … 6 Saturday; -1: off
	WeeklyHour int  `gorm:"not null;default:3"` // UTC hour of the weekly full scan
	UpdatedAt  time.Time
}

// DriftItem is a difference between the approved policy and what a scan
// saw, followed from its first sighting until it is resolved.
type DriftItem struct {
	ID              uint   `gorm:"primaryKey"`
	Key             string `gorm:"not null;index"`
	Kind            string `gorm:"not null;index"`
	Severity        string `gorm:"not null;index"`
	Address         string `gorm:"not null;index"`
	Protocol        string `gorm:"not null;default:''"`
	Port            int    `gorm:"not null;default:0"`
	LastPort        int    `gorm:"not null;default:0"`
	Service         string `gorm:"not null;default:''"`
	ApprovedService string `gorm:"not null;default:''"`
	Zone            string `gorm:"not null;default:''"`
	Classification  string `gorm:"not null;default:''"`
	RuleID          uint   `gorm:"not null;default:0"`
	RequestID       uint   `gorm:"not null;default:0"`
	Detail          string `gorm:"not null;default:''"` // English, as recorded
	// DetailFacts are the facts Detail quotes beyond the other fields
	// (JSON), for saying it in another language; empty for items recorded
	// before they were kept.
	DetailFacts     string    `gorm:"not null;default:''"`
	Evidence        string    `gorm:"not null;default:'{}'"` // JSON
	State           string    `gorm:"not null;index"`        // open | acknowledged | resolved | suppressed
	FirstSeen       time.Time `gorm:"index"`
	LastSeen        time.Time
	LastScanID      uint
	ResolvedAt      *time.Time `gorm:"index"`
	AcknowledgedBy  string     `gorm:"not null;default:''"`
	SuppressedUntil *time.Time
	SuppressReason  string `gorm:"not null;default:''"`
	FiledRequestID  *uint
}

// AlertDelivery is one drift alert to one channel, delivered by a River job
// inserted with it: what admins read when delivery fails. NextAttempt is when
// the job will try again.
type AlertDelivery struct {
	ID          uint   `gorm:"primaryKey"`
	DriftItemID uint   `gorm:"not null;uniqueIndex:idx_alert_once"`
	Channel     string `gorm:"not null;uniqueIndex:idx_alert_once"`
	Status      string `gorm:"not null;index"` // pending | delivered | failed
	Attempts    int    `gorm:"not null;default:0"`
	LastError   string `gorm:"not null;default:''"`
	NextAttempt time.Time
	DeliveredAt *time.Time
	CreatedAt   time.Time
}

// ScanResult is what one run recorded for one host (Protocol "" and Port 0:
// the host itself, up or down, tarpit or not) or for one of its ports. Rows
// are written as each host's result comes in; diffs and the asset page read
// them instead of parsing reports.
type ScanResult struct {
	ID       uint   `gorm:"primaryKey"`
	RunID    uint   `gorm:"not null"`
	Address  string `gorm:"not null"`
	Protocol string `gorm:"not null;default:''"`
	Port     int    `gorm:"not null;default:0"`
	State    string `gorm:"not null;default:''"` // host: up | down; port: open | closed | filtered | open|filtered
	Tarpit   bool   `gorm:"not null;default:false"`
	Service  string `gorm:"not null;default:''"`
	Product  string `gorm:"not null;default:''"`
	Version  string `gorm:"not null;default:''"`
	TLS      bool   `gorm:"column:tls;not null;default:false"`
	Banner   string `gorm:"not null;default:''"`
	Findings string `gorm:"not null;default:'[]'"` // JSON list of the scan-report findings
}
