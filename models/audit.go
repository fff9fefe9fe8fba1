package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// AuditSchema names the canonical encoding that event hashes are computed over.
const AuditSchema = "portcullis.audit/v1"

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
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// Chained returns the exported form of a stored event.
func (e AuditEvent) Chained() ChainedEvent {
	return ChainedEvent{
		Seq: e.Seq, At: e.At.UTC(), ActorID: e.ActorID, Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, FromState: e.FromState, ToState: e.ToState, Detail: e.Detail, Comment: e.Comment,
		PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

// ComputeHash is SHA-256 over the canonical encoding: a JSON array of every
// field in a fixed order, the time in RFC 3339 with nanoseconds in UTC, and
// the previous event's hash, so that changing, removing or reordering any
// event breaks every hash after it.
func (e ChainedEvent) ComputeHash() string {
	var actorID any
	if e.ActorID != nil {
		actorID = *e.ActorID
	}
	canonical, _ := json.Marshal([]any{
		AuditSchema, e.Seq, e.At.UTC().Format(time.RFC3339Nano), actorID, e.Actor, e.Action,
		e.ObjectType, e.ObjectID, e.FromState, e.ToState, e.Detail, e.Comment, e.PrevHash,
	})
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

// appendOnlyTriggers make the database itself refuse to change or remove
// audit rows and checkpoints, whoever asks.
func appendOnlyTriggers(tx *gorm.DB) error {
	var stmts []string
	if tx.Dialector.Name() == "postgres" {
		stmts = []string{
			`CREATE OR REPLACE FUNCTION portcullis_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$ LANGUAGE plpgsql`,
		}
		for _, table := range []string{"audit_events", "audit_checkpoints"} {
			stmts = append(stmts,
				`DROP TRIGGER IF EXISTS `+table+`_append_only ON `+table,
				`CREATE TRIGGER `+table+`_append_only BEFORE UPDATE OR DELETE ON `+table+` FOR EACH ROW EXECUTE FUNCTION portcullis_append_only()`,
				`DROP TRIGGER IF EXISTS `+table+`_no_truncate ON `+table,
				`CREATE TRIGGER `+table+`_no_truncate BEFORE TRUNCATE ON `+table+` FOR EACH STATEMENT EXECUTE FUNCTION portcullis_append_only()`,
			)
		}
	} else {
		for _, table := range []string{"audit_events", "audit_checkpoints"} {
			for _, op := range []string{"UPDATE", "DELETE"} {
				name := table + "_no_" + map[string]string{"UPDATE": "update", "DELETE": "delete"}[op]
				stmts = append(stmts,
					`DROP TRIGGER IF EXISTS `+name,
					`CREATE TRIGGER `+name+` BEFORE `+op+` ON `+table+` BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: `+op+` on `+table+` refused'); END`,
				)
			}
		}
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}

// chainExistingEvents gives events written before the chain existed their
// sequence numbers and hashes, in the order they were written.
func chainExistingEvents(tx *gorm.DB) error {
	var events []AuditEvent
	if err := tx.Order("id").Find(&events).Error; err != nil {
		return err
	}
	prev := GenesisHash
	for i, e := range events {
		c := e.Chained()
		c.Seq, c.PrevHash = uint64(i+1), prev
		c.At = c.At.Truncate(time.Microsecond)
		c.Hash = c.ComputeHash()
		if err := tx.Model(&AuditEvent{}).Where("id = ?", e.ID).Updates(map[string]any{"seq": c.Seq, "prev_hash": c.PrevHash, "hash": c.Hash, "at": c.At}).Error; err != nil {
			return err
		}
		prev = c.Hash
	}
	return nil
}
