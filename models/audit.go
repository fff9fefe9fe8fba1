package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// AuditSchema names the canonical encoding that version-1 event hashes are
// computed over; AuditSchemaV2 that of version 2, which adds the client address.
const (
	AuditSchema   = "portcullis.audit/v1"
	AuditSchemaV2 = "portcullis.audit/v2"
)

// AuditHashVersion is the hash version of the events written now.
const AuditHashVersion = 2

// GenesisHash is the previous hash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainedEvent is an audit event as it is hashed and exported: everything
// the event says, its place in the chain, and the hashes.
type ChainedEvent struct {
	Seq        uint64    `json:"seq"`
	At         time.Time `json:"at"`
	ActorID    *uint     `json:"actor_id"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   uint      `json:"object_id"`
	FromState  string    `json:"from_state"`
	ToState    string    `json:"to_state"`
	Detail     string    `json:"detail"`
	Comment    string    `json:"comment"`
	// ClientAddr is "" when the event has none (background work).
	ClientAddr string `json:"client_addr"`
	// HashVersion 0 (an export from before versions) means 1.
	HashVersion int    `json:"hash_version"`
	PrevHash    string `json:"prev_hash"`
	Hash        string `json:"hash"`
}

// KnownHashVersion is true for the versions ComputeHash can compute.
func KnownHashVersion(v int) bool { return v >= 0 && v <= AuditHashVersion }

// Chained returns the exported form of a stored event.
func (e AuditEvent) Chained() ChainedEvent {
	addr := ""
	if e.ClientAddr != nil {
		addr = *e.ClientAddr
	}
	version := e.HashVersion
	if version == 0 {
		version = 1
	}
	return ChainedEvent{
		Seq: e.Seq, At: e.At.UTC(), ActorID: e.ActorID, Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, FromState: e.FromState, ToState: e.ToState, Detail: e.Detail, Comment: e.Comment,
		ClientAddr: addr, HashVersion: version, PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

// ComputeHash is SHA-256 over the canonical encoding: a JSON array of every
// field in a fixed order, the time in RFC 3339 with nanoseconds in UTC, and
// the previous event's hash, so that changing, removing or reordering any
// event breaks every hash after it. Version 1 (and 0, its old spelling)
// leaves the client address out, as events were hashed before it was
// recorded; version 2 puts it before the previous hash. The schema name
// leads the array, so an event cannot be passed off under the other
// version without its hash changing. An unknown version hashes to "",
// which no event carries.
func (e ChainedEvent) ComputeHash() string {
	var actorID any
	if e.ActorID != nil {
		actorID = *e.ActorID
	}
	fields := []any{e.Seq, e.At.UTC().Format(time.RFC3339Nano), actorID, e.Actor, e.Action,
		e.ObjectType, e.ObjectID, e.FromState, e.ToState, e.Detail, e.Comment}
	switch e.HashVersion {
	case 0, 1:
		fields = append(append([]any{AuditSchema}, fields...), e.PrevHash)
	case 2:
		fields = append(append([]any{AuditSchemaV2}, fields...), e.ClientAddr, e.PrevHash)
	default:
		return ""
	}
	canonical, _ := json.Marshal(fields)
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// AuditCheckpoint is a signed statement of the chain's length and head: an
// auditor holding one can prove that no event up to it was removed.
type AuditCheckpoint struct {
	ID        uint   `gorm:"primaryKey"`
	TreeSize  uint64 `gorm:"not null;index"`
	HeadHash  string `gorm:"not null"`
	Note      string `gorm:"not null"` // the signed note (golang.org/x/mod/sumdb/note)
	CreatedAt time.Time
}
