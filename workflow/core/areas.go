package core

import (
	"context"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"
)

// An Area is a part of the data that kept summaries are counted from. A
// commit ends what is kept only for the areas whose tables it wrote: the
// scanner's results, an agent's heartbeat or a delivered alert, several a
// second on a busy instance, leave the request counts beside every page
// kept, where ending everything at each commit made every view count them
// again.
type Area uint8

const (
	AreaRequests  Area = iota // requests, their rules, reviews and comments
	AreaPeople                // users
	AreaInventory             // zones, assets, applications, settings, the policy, schedules
	AreaScans                 // scan runs, their results and chunks, agents
	AreaDrift                 // drift items
	AreaRecert                // re-certification campaigns and items
	// areaOther is every other table (the audit log, sessions, tokens,
	// deliveries): no kept summary is counted from them.
	areaOther
	areaCount
)

// tableAreas is the area of each table a kept summary may be counted from;
// a table not named here is in areaOther.
var tableAreas = map[string]Area{
	"requests": AreaRequests, "rules": AreaRequests, "reviews": AreaRequests, "comments": AreaRequests,
	"users": AreaPeople,
	"zones": AreaInventory, "assets": AreaInventory, "applications": AreaInventory, "settings": AreaInventory,
	"policy_documents": AreaInventory, "scan_schedules": AreaInventory, "assessment_questionnaires": AreaInventory,
	"credential_lists": AreaInventory,
	"scan_runs":        AreaScans, "scan_results": AreaScans, "scan_chunks": AreaScans, "scan_chunk_hosts": AreaScans,
	"scan_chunk_uploads": AreaScans, "agents": AreaScans,
	"drift_items":      AreaDrift,
	"recert_campaigns": AreaRecert, "recertifications": AreaRecert,
}

// written is the set of areas one transaction wrote (a bit each); every
// area when it ran a statement whose table gorm could not tell.
type written struct{ areas atomic.Uint32 }

const allAreas = 1<<areaCount - 1

func (w *written) table(name string) {
	bits := uint32(allAreas)
	if name != "" {
		a, ok := tableAreas[name]
		if !ok {
			a = areaOther
		}
		bits = 1 << a
	}
	w.areas.Or(bits)
}

type writtenKey struct{}

// noteWrites records, in the transaction's context, the table of each
// statement that wrote (create, update, delete, raw).
func noteWrites(db *gorm.DB) {
	if db.Error != nil || db.Statement.Context == nil {
		return
	}
	if w, ok := db.Statement.Context.Value(writtenKey{}).(*written); ok {
		w.table(db.Statement.Table)
	}
}

// noteSQLWrites is noteWrites for statements gorm runs as they were
// written (Exec, Raw with Scan or Find), which write nothing when they are a
// SELECT: the audit log's lock (SELECT pg_advisory_xact_lock) is taken by
// every audited transaction.
func noteSQLWrites(db *gorm.DB) {
	sql := strings.TrimLeft(db.Statement.SQL.String(), " \t\n(")
	if len(sql) >= 6 && strings.EqualFold(sql[:6], "SELECT") {
		return
	}
	noteWrites(db)
}

// watchWrites registers noteWrites once on db.
func watchWrites(db *gorm.DB) {
	const name = "portcullis:note_writes"
	cb := db.Callback()
	if cb.Create().Get(name) != nil {
		return
	}
	cb.Create().After("gorm:create").Register(name, noteWrites)
	cb.Update().After("gorm:update").Register(name, noteWrites)
	cb.Delete().After("gorm:delete").Register(name, noteWrites)
	cb.Raw().After("gorm:raw").Register(name, noteSQLWrites)
	cb.Query().After("gorm:query").Register(name, noteSQLWrites)
	cb.Row().After("gorm:row").Register(name, noteSQLWrites)
}

// withWrites is ctx with an empty set of written areas for one transaction.
func withWrites(ctx context.Context) (context.Context, *written) {
	w := &written{}
	return context.WithValue(ctx, writtenKey{}, w), w
}

// countCommit counts a commit that wrote the areas of w.
func (s *Store) countCommit(w *written) {
	bits := w.areas.Load()
	for a := range Area(areaCount) {
		if bits&(1<<a) != 0 {
			s.areaGenerations[a].Add(1)
		}
	}
	s.generation.Add(1)
}

// GenerationOf changes after every transaction this instance commits that
// writes one of areas (Generation when none are named).
func (s *Store) GenerationOf(areas []Area) uint64 {
	if len(areas) == 0 {
		return s.Generation()
	}
	var sum uint64
	for _, a := range areas {
		sum += s.areaGenerations[a].Load()
	}
	return sum
}
