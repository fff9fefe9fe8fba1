package core_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
)

type lampState string
type lampEvent string

// lamp is a small machine over the drift_items table (any table with an id
// and a state column will do): off -> on -> off, and a broken state only a
// named person may enter.
type lampCtx struct{ actor core.Actor }

var lamp = &core.Machine[lampState, lampEvent, lampCtx]{
	Object: "lamp", What: "lamp", Model: &models.DriftItem{}, Column: "state",
	States: []lampState{"off", "on", "broken"},
	Events: []lampEvent{"switch_on", "switch_off", "break"},
	Rows: []core.Transition[lampState, lampEvent, lampCtx]{
		{From: []lampState{"off"}, Event: "switch_on", To: "on"},
		{From: []lampState{"on"}, Event: "switch_off", To: "off"},
		{From: []lampState{"off", "on"}, Event: "break", To: "broken", Guards: []core.Guard[lampCtx]{{
			Name: "a person breaks it",
			Check: func(c lampCtx) error {
				if c.actor.ID == 0 {
					return core.Forbidden(core.Plain("only a person can break a lamp"))
				}
				return nil
			},
		}}},
	},
}

func newLamp(t *testing.T, db *gorm.DB, state lampState) uint {
	t.Helper()
	d := models.DriftItem{Key: "lamp", Kind: "lamp", Severity: "low", Address: "127.0.0.1", State: string(state), FirstSeen: time.Now(), LastSeen: time.Now()}
	if err := db.Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func stateOf(t *testing.T, db *gorm.DB, id uint) string {
	t.Helper()
	var d models.DriftItem
	if err := db.First(&d, id).Error; err != nil {
		t.Fatal(err)
	}
	return d.State
}

func events(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&models.AuditEvent{}).Where("object_type = ?", "lamp").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMachineValidates(t *testing.T) {
	if err := lamp.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := *lamp
	bad.Rows = append(bad.Rows, core.Transition[lampState, lampEvent, lampCtx]{From: []lampState{"off"}, Event: "switch_on", To: "on"})
	if err := bad.Validate(); err == nil {
		t.Fatal("two rows for one pair passed validation")
	}
	bad.Rows = []core.Transition[lampState, lampEvent, lampCtx]{{From: []lampState{"off"}, Event: "switch_on", To: "dim"}}
	if err := bad.Validate(); err == nil {
		t.Fatal("an unknown target state passed validation")
	}
}

// TestMachineEveryPair fires every (state, event) pair on a fresh row: a
// listed pair moves the row and appends one audit event; any other is a
// conflict that changes nothing.
func TestMachineEveryPair(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := core.NewStore(db, modelstest.Logger())
		person := core.Actor{ID: 7, Email: "p@example.test"}
		for _, p := range lamp.Pairs() {
			id := newLamp(t, db, p.From)
			before := events(t, db)
			err := st.InTx(t.Context(), func(tx *gorm.DB) error {
				_, err := lamp.Fire(st, tx, core.Move[lampState, lampEvent]{ID: id, From: p.From, Event: p.Event, Actor: person}, lampCtx{actor: person})
				return err
			})
			after := events(t, db)
			if p.Listed {
				if err != nil {
					t.Errorf("%s from %s: %v", p.Event, p.From, err)
				}
				if got := stateOf(t, db, id); got != string(p.To) || after != before+1 {
					t.Errorf("%s from %s: state %s (want %s), %d audit events added", p.Event, p.From, got, p.To, after-before)
				}
				continue
			}
			if core.ErrorCodeOf(err) != core.CodeConflict {
				t.Errorf("%s from %s: want a conflict, got %v", p.Event, p.From, err)
			}
			if got := stateOf(t, db, id); got != string(p.From) || after != before {
				t.Errorf("%s from %s refused but state %s, %d audit events added", p.Event, p.From, got, after-before)
			}
		}
	})
}

func TestMachineGuardRefusesAndWritesNothing(t *testing.T) {
	db := modelstest.SQLite(t)
	st := core.NewStore(db, modelstest.Logger())
	id := newLamp(t, db, "on")
	err := st.InTx(t.Context(), func(tx *gorm.DB) error {
		_, err := lamp.Fire(st, tx, core.Move[lampState, lampEvent]{ID: id, From: "on", Event: "break", Actor: core.SystemActor}, lampCtx{actor: core.SystemActor})
		return err
	})
	if core.ErrorCodeOf(err) != core.CodeForbidden {
		t.Fatalf("want forbidden, got %v", err)
	}
	if stateOf(t, db, id) != "on" || events(t, db) != 0 {
		t.Fatal("a refused guard wrote something")
	}
	if lamp.Allowed("on", "break", lampCtx{}) || !lamp.Allowed("on", "break", lampCtx{actor: core.Actor{ID: 1}}) {
		t.Fatal("Allowed disagrees with the guard")
	}
}

// TestMachineStaleReadLoses fires from a state read before someone else
// moved the row: the conditional update touches nothing.
func TestMachineStaleReadLoses(t *testing.T) {
	db := modelstest.SQLite(t)
	st := core.NewStore(db, modelstest.Logger())
	id := newLamp(t, db, "off")
	fire := func(from lampState, ev lampEvent) error {
		return st.InTx(t.Context(), func(tx *gorm.DB) error {
			_, err := lamp.Fire(st, tx, core.Move[lampState, lampEvent]{ID: id, From: from, Event: ev, Actor: core.Actor{ID: 1}}, lampCtx{actor: core.Actor{ID: 1}})
			return err
		})
	}
	if err := fire("off", "switch_on"); err != nil {
		t.Fatal(err)
	}
	// Read as off, but it is on now: switch_on again must not apply.
	if err := fire("off", "break"); core.ErrorCodeOf(err) != core.CodeConflict {
		t.Fatalf("a stale read applied: %v", err)
	}
	if stateOf(t, db, id) != "on" || events(t, db) != 1 {
		t.Fatal("the stale transition wrote something")
	}
}

// TestMachineConcurrentFiresOneWins has several people read the same row
// and fire at once: exactly one wins, the others get a conflict, and the
// log holds one event.
func TestMachineConcurrentFiresOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := core.NewStore(db, modelstest.Logger())
		for round := 0; round < 5; round++ {
			id := newLamp(t, db, "off")
			before := events(t, db)
			const n = 4
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a := core.Actor{ID: uint(i + 1)}
					<-start
					errs[i] = st.InTx(t.Context(), func(tx *gorm.DB) error {
						_, err := lamp.Fire(st, tx, core.Move[lampState, lampEvent]{ID: id, From: "off", Event: "switch_on", Actor: a}, lampCtx{actor: a})
						return err
					})
				}()
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range errs {
				var de *core.Error
				switch {
				case err == nil:
					won++
				case errors.As(err, &de) && de.Code == core.CodeConflict:
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 || events(t, db) != before+1 || stateOf(t, db, id) != "on" {
				t.Fatalf("round %d: %d winners, %d events", round, won, events(t, db)-before)
			}
		}
	})
}
