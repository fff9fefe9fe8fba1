package core

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// Store is what every feature shares: the database, the logger and the
// clock. Features embed one *Store, so a clock set for the demo's history or
// a test is the clock of every feature at once.
type Store struct {
	db  *gorm.DB
	log *slog.Logger
	now func() time.Time
	// generation counts committed transactions of this instance, so that a
	// summary kept in memory knows when it may be out of date.
	generation atomic.Uint64
	// areaGenerations count them by the areas they wrote (see Area).
	areaGenerations [areaCount]atomic.Uint64
	// seenGenerations are the database's generations of each counted area
	// as this instance last read them (see DataGeneration).
	seenGenerations map[CountedArea]*atomic.Int64
	insertJob       JobInserter
	// committed is closed by this instance's next commit (see Committed).
	commitMu  sync.Mutex
	committed chan struct{}
	languages Languages
}

// NewStore wraps an open, migrated database.
func NewStore(db *gorm.DB, log *slog.Logger) *Store {
	watchWrites(db)
	seen := make(map[CountedArea]*atomic.Int64, len(countedAreaSummaries))
	for area := range countedAreaSummaries {
		seen[area] = new(atomic.Int64)
	}
	return &Store{db: db, log: log, now: func() time.Time { return time.Now().UTC() }, seenGenerations: seen}
}

// SetClock replaces the clock, for tests and the demo's history.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Now is the current time by the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// DB exposes the store for the few callers that seed or inspect it (demo, tests).
func (s *Store) DB() *gorm.DB { return s.db }

// Log is the injected logger.
func (s *Store) Log() *slog.Logger { return s.log }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

type clientAddrKey struct{}

// WithClientAddr notes, in a request's context, the network address the
// request came from; every audit event appended under that context records it.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddr is the address WithClientAddr noted, or "".
func ClientAddr(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// AnonymousActor is who a refused login or a rejected token is recorded as.
var AnonymousActor = Actor{ID: 0, Email: "anonymous", Name: "anonymous"}

// AuditNow appends one event in a transaction of its own, for events that
// go with no change of state (a refused login, a download).
func (s *Store) AuditNow(ctx context.Context, actor Actor, action, objectType string, objectID uint, detail any) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		return s.Audit(tx, actor, action, objectType, objectID, "", "", detail, "")
	})
}

// SystemActor is who the scanner and the scheduler act as.
var SystemActor = Actor{ID: 0, Email: "system", Name: "Portcullis"}

// auditLockKey is the PostgreSQL advisory lock that serialises appends to
// the chain; SQLite's immediate transactions serialise writers already.
const auditLockKey = 7_274_022

// Audit appends an event to the hash chain in the caller's transaction:
// appends are serialised, each event takes the next sequence number and the
// hash of the one before it.
func (s *Store) Audit(tx *gorm.DB, actor Actor, action, objectType string, objectID uint, from, to string, detail any, comment string) error {
	d := "{}"
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", auditLockKey).Error; err != nil {
			return err
		}
	}
	var last models.AuditEvent
	prev, seq := models.GenesisHash, uint64(1)
	err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Take(&last).Error
	switch {
	case err == nil:
		prev, seq = last.Hash, last.Seq+1
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	ev := models.AuditEvent{
		// Microseconds: what PostgreSQL keeps, so the hash survives the round trip.
		Seq: seq, At: s.now().Truncate(time.Microsecond), Actor: actor.Email, Action: action, ObjectType: objectType, ObjectID: objectID,
		FromState: from, ToState: to, Detail: d, Comment: comment, PrevHash: prev, HashVersion: models.AuditHashVersion,
	}
	if actor.ID != 0 {
		id := actor.ID
		ev.ActorID = &id
	}
	if addr := ClientAddr(tx.Statement.Context); addr != "" {
		ev.ClientAddr = &addr
	}
	ev.Hash = ev.Chained().ComputeHash()
	return tx.Create(&ev).Error
}

// InTx runs fn in one transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx, wrote := withWrites(ctx)
	err := s.db.WithContext(ctx).Transaction(fn)
	if err == nil {
		s.countCommit(wrote)
		s.signalCommit()
	}
	return concurrentChange(err)
}

// Committed returns a channel this instance's next committed transaction
// closes: live pages wake on it instead of waiting for their next poll.
// Another instance's commits are not signalled; pollers see those.
func (s *Store) Committed() <-chan struct{} {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if s.committed == nil {
		s.committed = make(chan struct{})
	}
	return s.committed
}

func (s *Store) signalCommit() {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if s.committed != nil {
		close(s.committed)
		s.committed = nil
	}
}

// concurrentChange turns PostgreSQL ending a transaction because another one
// touched the same rows (deadlock, serialization failure) into the conflict
// the losing user is shown anyway: nothing was written, and trying again on
// fresh data is the answer.
func concurrentChange(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001") {
		return Conflict(M("err.core.concurrent_change", "someone else changed this at the same moment; nothing was saved, reload and try again"))
	}
	return err
}

// Generation changes after every transaction this instance commits; another
// instance's writes are not seen, so what is kept by it must also age out.
func (s *Store) Generation() uint64 { return s.generation.Load() }

// JobInserter inserts a background job in the caller's transaction, so
// that the job exists exactly when the change that asked for it commits.
type JobInserter func(tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error

// SetJobInserter connects the job engine (workflow/jobs).
func (s *Store) SetJobInserter(insert JobInserter) { s.insertJob = insert }

// Enqueue inserts a background job in tx. A job that uniqueness rules out
// (the same one already waiting or done) is not an error.
func (s *Store) Enqueue(tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	if s.insertJob == nil {
		return errors.New("no job engine is connected: background work cannot be queued")
	}
	return s.insertJob(tx, args, opts)
}

// UpdateVersioned is the step of every state machine: it applies updates to
// row id of model (what: its name in messages) only if nobody changed the
// row since it was read at version, and bumps the version, so two people
// acting at once produce one winner and one conflict, never a corrupt state.
func (s *Store) UpdateVersioned(tx *gorm.DB, model any, what string, id uint, version int, updates map[string]any) error {
	all := map[string]any{"version": gorm.Expr("version + 1"), "updated_at": s.now()}
	for k, v := range updates {
		all[k] = v
	}
	res := tx.Model(model).Where("id = ? AND version = ?", id, version).Updates(all)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return Conflict(M("err.core.changed_meanwhile", "{{.What}} #{{.ID}} was changed by someone else meanwhile; reload it and try again", "What", M("err.what."+what, what), "ID", id))
	}
	return nil
}
