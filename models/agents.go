package models

import "time"

// Agent is a scanner agent: the same binary run inside a zone, which dials
// out to the server, takes chunks of that zone's scans and sends results
// back. It is enrolled with a one-time token (only its hash is kept) and
// then known by the Ed25519 public key it made itself.
type Agent struct {
	ID    uint   `gorm:"primaryKey"`
	Name  string `gorm:"not null;uniqueIndex"`
	Zones string `gorm:"not null"` // comma-separated zone names, or "internet"
	// State is enrolling (token issued), active or revoked.
	State          string `gorm:"not null"`
	TokenHash      string `gorm:"not null;default:''"`
	TokenExpiresAt time.Time
	PublicKey      string `gorm:"not null;default:''"` // base64 Ed25519
	Version        string `gorm:"not null;default:''"`
	// ScopeHash is the hash of the last scope document signed for the
	// agent; a different one means the zones' CIDRs changed: re-issued.
	ScopeHash     string `gorm:"not null;default:''"`
	ScopeIssuedAt *time.Time
	CreatedBy     string `gorm:"not null"`
	CreatedAt     time.Time
	EnrolledAt    *time.Time
	LastSeenAt    *time.Time
	// StartedAt is when the agent process says it started: a new value is a
	// new connection, audited once.
	StartedAt *time.Time
	// CurrentWork is no longer written: an agent's work is read from the
	// chunk it holds under a live lease (agents.View.Work).
	CurrentWork    string  `gorm:"not null;default:''"`
	PortsPerSecond float64 `gorm:"not null;default:0"`
	RevokedAt      *time.Time
	RevokedBy      string `gorm:"not null;default:''"`
}

// AgentNonce is a request nonce an agent used, kept for the replay window.
type AgentNonce struct {
	AgentID uint   `gorm:"primaryKey;autoIncrement:false"`
	Nonce   string `gorm:"primaryKey"`
	SeenAt  time.Time
}

// AgentServerKey is the server's Ed25519 key that signs agents' scope
// documents; one row, shared by every instance.
type AgentServerKey struct {
	ID         uint   `gorm:"primaryKey"`
	PrivateKey string `gorm:"not null"` // base64 seed
	CreatedAt  time.Time
}

// ScanChunk is a part of a zone scan (some hosts × the run's ports) that
// one agent at a time holds under a lease.
type ScanChunk struct {
	ID       uint   `gorm:"primaryKey"`
	RunID    uint   `gorm:"not null"`
	Position int    `gorm:"not null"`
	Zone     string `gorm:"not null"`
	// Vantage is internal (scanned from inside the zone) or internet (the
	// assets' public addresses, from outside).
	Vantage  string `gorm:"not null;default:'internal'"`
	Targets  string `gorm:"not null"` // comma-separated addresses
	TCPPorts string `gorm:"not null;default:''"`
	UDPPorts string `gorm:"not null;default:''"`
	Profile  string `gorm:"not null"`
	// State is queued, leased or done.
	State   string `gorm:"not null"`
	AgentID *uint
	// Lease counts the takes: only the holder of the current lease may send
	// results or finish the chunk.
	Lease      int `gorm:"not null;default:0"`
	LeaseUntil *time.Time
	HostsDone  int    `gorm:"not null;default:0"`
	Refused    string `gorm:"not null;default:''"` // addresses the agent refused as outside its scope
	FinishedAt *time.Time
}

// ScanChunkHost records which agent sent a chunk's host: once per host,
// whoever sends it again.
type ScanChunkHost struct {
	ChunkID uint   `gorm:"primaryKey;autoIncrement:false"`
	Address string `gorm:"primaryKey"`
	AgentID uint   `gorm:"not null"`
	At      time.Time
}

// ScanChunkUpload is one accepted result upload, by (chunk, lease,
// sequence): a resend after a cut is acknowledged and changes nothing.
type ScanChunkUpload struct {
	ChunkID uint `gorm:"primaryKey;autoIncrement:false"`
	Lease   int  `gorm:"primaryKey;autoIncrement:false"`
	Seq     int  `gorm:"primaryKey;autoIncrement:false"`
	Hosts   int  `gorm:"not null"`
	At      time.Time
}
