package workflowtest

import (
	"reflect"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/workflow/core"
)

// Fixture makes the rows a machine's table test fires on.
type Fixture[S ~string, E ~string, C any] struct {
	// NewRow inserts a row in state from and returns its id and version.
	NewRow func(t *testing.T, from S) (id uint, version int)
	// Guarded is who fires ev and what the guards read: an actor the guards
	// accept, so that only the table decides.
	Guarded func(t *testing.T, id uint, from S, ev E) (core.Actor, C)
}

// StateOf reads a row's state column.
func StateOf[S ~string, E ~string, C any](t testing.TB, db *gorm.DB, m *core.Machine[S, E, C], id uint) S {
	t.Helper()
	var got []string
	row := reflect.New(reflect.TypeOf(m.Model).Elem()).Interface()
	if err := db.Model(row).Where("id = ?", id).Pluck(m.Column, &got).Error; err != nil || len(got) != 1 {
		t.Fatalf("%s #%d: %v (%d rows)", m.What, id, err, len(got))
	}
	return S(got[0])
}

// AuditCount counts the audit events of one row.
func AuditCount(t testing.TB, db *gorm.DB, object string, id uint) int64 {
	t.Helper()
	var n int64
	if err := db.Table("audit_events").Where("object_type = ? AND object_id = ?", object, id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// EveryPair fires every (state, event) pair of m on a fresh row: a pair the
// table lists moves the row to its target and appends exactly one audit
// event; any other pair is a conflict and changes nothing.
func EveryPair[S ~string, E ~string, C any](t *testing.T, st *core.Store, m *core.Machine[S, E, C], fx Fixture[S, E, C]) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	for _, p := range m.Pairs() {
		id, version := fx.NewRow(t, p.From)
		actor, c := fx.Guarded(t, id, p.From, p.Event)
		before := AuditCount(t, db, m.Object, id)
		err := st.InTx(t.Context(), func(tx *gorm.DB) error {
			_, err := m.Fire(st, tx, core.Move[S, E]{ID: id, From: p.From, Version: version, Event: p.Event, Actor: actor}, c)
			return err
		})
		got, added := StateOf(t, db, m, id), AuditCount(t, db, m.Object, id)-before
		if p.Listed {
			if err != nil || got != p.To || added != 1 {
				t.Errorf("%s: %s from %s: err %v, state %s (want %s), %d audit events", m.What, p.Event, p.From, err, got, p.To, added)
			}
			continue
		}
		if core.ErrorCodeOf(err) != core.CodeConflict || got != p.From || added != 0 {
			t.Errorf("%s: %s from %s is not in the table but: err %v, state %s, %d audit events", m.What, p.Event, p.From, err, got, added)
		}
	}
}

// OneWins has each of actors read row id in state from and fire ev at the
// same moment: exactly one wins, the others get a conflict, and the row's
// log holds one new event.
func OneWins[S ~string, E ~string, C any](t *testing.T, st *core.Store, m *core.Machine[S, E, C], id uint, from S, version int, ev E, guarded func(core.Actor) C, actors ...core.Actor) {
	t.Helper()
	db := st.DB()
	before := AuditCount(t, db, m.Object, id)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(actors))
	for i, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = st.InTx(t.Context(), func(tx *gorm.DB) error {
				_, err := m.Fire(st, tx, core.Move[S, E]{ID: id, From: from, Version: version, Event: ev, Actor: a}, guarded(a))
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case core.ErrorCodeOf(err) != core.CodeConflict:
			t.Fatalf("%s: %s by %s: %v", m.What, ev, actors[i].Email, err)
		}
	}
	if added := AuditCount(t, db, m.Object, id) - before; won != 1 || added != 1 {
		t.Fatalf("%s: %s fired at once by %d people: %d won, %d audit events", m.What, ev, len(actors), won, added)
	}
}
