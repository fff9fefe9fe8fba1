package core

import (
	"fmt"
	"reflect"
	"slices"

	"gorm.io/gorm"
)

// Guard is a named condition a transition needs beyond its source state
// ("needs second approval", "approvers differ", "owner may lapse"). Check
// answers nil when the condition holds, or the domain error the person reads.
// C is what the feature knows when it fires an event: the actor, the row's
// owner, the first approver…
type Guard[C any] struct {
	Name  string
	Check func(C) error
}

// Transition is one row of a state machine's table: from any of the From
// states, Event leads to To (empty: the state stays) when every guard holds.
type Transition[S ~string, E ~string, C any] struct {
	From   []S
	Event  E
	To     S
	Guards []Guard[C]
}

// Machine is one kind of row's lifecycle, as data: the table of allowed
// (state, event) pairs with their guards, and where the row lives. Fire is
// the only way a feature changes the row's state: a conditional update
// (WHERE id = ? AND state = ? [AND version = ?]) that must touch exactly one
// row, then the audit event, both in the caller's transaction. Anything the
// table does not list is refused and changes nothing.
type Machine[S ~string, E ~string, C any] struct {
	Object    string // the audit log's object type: "request", "drift", "scan", "recertification"
	What      string // the row in messages: "drift item"
	Model     any    // a pointer to the gorm model, e.g. &models.DriftItem{}
	Column    string // the state column: "state" or "status"
	Versioned bool   // the row has version and updated_at columns, bumped by every transition
	// Action names the audit action of an event; nil: the event itself.
	Action func(E) string
	// Verb and Label word the refusals ("cannot acknowledge a drift item that
	// is resolved"); nil: the event and state names.
	Verb  func(E) string
	Label func(S) string

	States []S // every state, for validation and the exhaustive tests
	Events []E // every event
	Rows   []Transition[S, E, C]
}

// Move is one firing of an event on one row.
type Move[S ~string, E ~string] struct {
	ID      uint
	From    S   // the state the caller read
	Version int // the version the caller read (Versioned machines)
	Event   E
	Actor   Actor
	Set     map[string]any // other columns the transition writes
	Detail  any            // the audit event's detail
	Comment string
}

// Row finds the transition of ev from state from.
func (m *Machine[S, E, C]) Row(from S, ev E) (Transition[S, E, C], bool) {
	for _, t := range m.Rows {
		if t.Event == ev && slices.Contains(t.From, from) {
			return t, true
		}
	}
	return Transition[S, E, C]{}, false
}

// Target is the state ev leads to from from, or a conflict when the table
// does not list the pair.
func (m *Machine[S, E, C]) Target(from S, ev E) (S, error) {
	t, ok := m.Row(from, ev)
	if !ok {
		if !slices.Contains(m.Events, ev) {
			return "", fmt.Errorf("%s: unknown event %q", m.What, ev)
		}
		return "", Conflict(M("err.core.transition_refused", "cannot {{.Verb}} a {{.What}} that is {{.State}}",
			"Verb", m.VerbSaid(ev), "What", m.WhatSaid(), "State", m.LabelSaid(from)))
	}
	if t.To == "" {
		return from, nil
	}
	return t.To, nil
}

// Check applies the table and the row's guards without writing anything:
// nil when the event may happen.
func (m *Machine[S, E, C]) Check(from S, ev E, c C) (S, error) {
	to, err := m.Target(from, ev)
	if err != nil {
		return "", err
	}
	t, _ := m.Row(from, ev)
	for _, g := range t.Guards {
		if err := g.Check(c); err != nil {
			return "", err
		}
	}
	return to, nil
}

// Allowed reports whether ev may happen from from: what decides which
// buttons a page shows.
func (m *Machine[S, E, C]) Allowed(from S, ev E, c C) bool {
	_, err := m.Check(from, ev, c)
	return err == nil
}

// Fire moves one row through ev inside tx: the table and the guards, the
// conditional update, the audit event. It returns the new state. A row that
// moved since the caller read it (another state, another version) is a
// conflict and nothing is written, so of two people acting at once exactly
// one wins.
func (m *Machine[S, E, C]) Fire(st *Store, tx *gorm.DB, mv Move[S, E], c C) (S, error) {
	to, err := m.Check(mv.From, mv.Event, c)
	if err != nil {
		return "", err
	}
	updates := make(map[string]any, len(mv.Set)+3)
	for k, v := range mv.Set {
		updates[k] = v
	}
	updates[m.Column] = string(to)
	// A fresh model value each time: gorm writes the updates back into it,
	// and the table's Model is shared by every goroutine.
	row := reflect.New(reflect.TypeOf(m.Model).Elem()).Interface()
	q := tx.Model(row).Where("id = ? AND "+m.Column+" = ?", mv.ID, string(mv.From))
	if m.Versioned {
		updates["version"] = gorm.Expr("version + 1")
		updates["updated_at"] = st.Now()
		q = q.Where("version = ?", mv.Version)
	}
	res := q.Updates(updates)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected != 1 {
		return "", Conflict(M("err.core.changed_meanwhile", "{{.What}} #{{.ID}} was changed by someone else meanwhile; reload it and try again", "What", m.WhatSaid(), "ID", mv.ID))
	}
	action := string(mv.Event)
	if m.Action != nil {
		action = m.Action(mv.Event)
	}
	if err := st.Audit(tx, mv.Actor, action, m.Object, mv.ID, string(mv.From), string(to), mv.Detail, mv.Comment); err != nil {
		return "", err
	}
	return to, nil
}

// Validate checks the table itself: known states and events, at most one
// row per (state, event) pair, a source state for every row.
func (m *Machine[S, E, C]) Validate() error {
	seen := map[[2]string]bool{}
	for i, t := range m.Rows {
		if !slices.Contains(m.Events, t.Event) {
			return fmt.Errorf("%s row %d: unknown event %q", m.What, i, t.Event)
		}
		if len(t.From) == 0 {
			return fmt.Errorf("%s row %d (%s): no source state", m.What, i, t.Event)
		}
		if t.To != "" && !slices.Contains(m.States, t.To) {
			return fmt.Errorf("%s row %d (%s): unknown target state %q", m.What, i, t.Event, t.To)
		}
		for _, f := range t.From {
			if !slices.Contains(m.States, f) {
				return fmt.Errorf("%s row %d (%s): unknown source state %q", m.What, i, t.Event, f)
			}
			k := [2]string{string(f), string(t.Event)}
			if seen[k] {
				return fmt.Errorf("%s: two rows for %s from %s", m.What, t.Event, f)
			}
			seen[k] = true
		}
		for _, g := range t.Guards {
			if g.Name == "" || g.Check == nil {
				return fmt.Errorf("%s row %d (%s): a guard without a name or a check", m.What, i, t.Event)
			}
		}
	}
	return nil
}

// WhatSaid, VerbSaid and LabelSaid are the row, an event and a state as
// the refusals say them, translated under err.what.OBJECT,
// err.verb.OBJECT.EVENT and err.state.OBJECT.STATE.
func (m *Machine[S, E, C]) WhatSaid() Message {
	return M("err.what."+m.Object, m.What)
}

func (m *Machine[S, E, C]) VerbSaid(ev E) Message {
	return M("err.verb."+m.Object+"."+string(ev), m.verb(ev))
}

func (m *Machine[S, E, C]) LabelSaid(s S) Message {
	return M("err.state."+m.Object+"."+string(s), m.label(s))
}

func (m *Machine[S, E, C]) verb(ev E) string {
	if m.Verb != nil {
		return m.Verb(ev)
	}
	return string(ev)
}

func (m *Machine[S, E, C]) label(s S) string {
	if m.Label != nil {
		return m.Label(s)
	}
	return string(s)
}

// Pair is one (state, event) pair of a machine and what the table says of
// it: the tests walk every pair.
type Pair[S ~string, E ~string] struct {
	From   S
	Event  E
	Listed bool // the table has a row for it
	To     S    // the state it leads to, when listed
}

// Pairs lists every (state, event) pair, listed or not.
func (m *Machine[S, E, C]) Pairs() []Pair[S, E] {
	out := make([]Pair[S, E], 0, len(m.States)*len(m.Events))
	for _, s := range m.States {
		for _, ev := range m.Events {
			p := Pair[S, E]{From: s, Event: ev}
			if to, err := m.Target(s, ev); err == nil {
				p.Listed, p.To = true, to
			}
			out = append(out, p)
		}
	}
	return out
}
