package core

import (
	"sync"
	"time"
)

// SummaryMaxAge bounds how stale a kept summary may be after a change made
// by another instance sharing the database.
const SummaryMaxAge = 10 * time.Second

// Summary keeps one value counted from the database - the same for every
// reader, such as a dashboard or the number of requests waiting - until this
// instance commits a change or SummaryMaxAge passes. Readers that arrive
// while it is being counted wait for that count instead of starting theirs,
// except when it is counted again only for its age: they then get the kept
// value, as stale a moment ago, rather than queue behind a count that takes
// the seeded dashboard 100 ms (its slowest views under load).
type Summary[T any] struct {
	counting   sync.Mutex // held by the one reader counting
	mu         sync.Mutex // guards the fields below
	value      T
	ok         bool
	generation uint64
	builtAt    time.Time
	recounting bool // a reader counts again a value others may still be given
	settle     time.Duration
	areas      []Area // what it is counted from; none: everything
}

// SetAreas names the areas the value is counted from: only a commit that
// writes one of them ends it.
func (m *Summary[T]) SetAreas(areas ...Area) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.areas = areas
}

// SetSettle lets a value younger than d be given after this instance's
// commits too, and the one reader who counts it again after that be the only
// one to wait: for a summary that costs far more to count than a view (the
// dashboard's, a tenth of a second at a company's size), which a busy
// instance's commits, several a second, would otherwise have every view count
// again. Its readers see a change at most d (and one count) late, and never
// a value older than SummaryMaxAge that a commit made out of date.
func (m *Summary[T]) SetSettle(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settle = d
}

// Get returns the kept value, or counts it again with build.
func (m *Summary[T]) Get(st *Store, build func() (T, error)) (T, error) {
	if v, ok := m.kept(st, true); ok {
		return v, nil
	}
	m.counting.Lock()
	defer m.counting.Unlock()
	// Another reader may have counted it while this one waited.
	if v, ok := m.kept(st, false); ok {
		return v, nil
	}
	m.mu.Lock()
	gen, now := st.GenerationOf(m.areas), time.Now()
	m.recounting = m.ok && (m.generation == gen || m.settle > 0)
	m.mu.Unlock()
	v, err := build()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recounting = false
	if err != nil {
		var zero T
		return zero, err
	}
	m.value, m.ok, m.generation, m.builtAt = v, true, gen, now
	return v, nil
}

// kept is the kept value if it may be used: of this generation (or settling)
// and young, or (when orAged) one another reader counts again, unless a
// commit made it out of date and it does not settle.
func (m *Summary[T]) kept(st *Store, orAged bool) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ok {
		age := time.Since(m.builtAt)
		current := m.generation == st.GenerationOf(m.areas)
		if (current || age < m.settle) && age < SummaryMaxAge {
			return m.value, true
		}
		if orAged && m.recounting && (current || m.settle > 0 && age < SummaryMaxAge) {
			return m.value, true
		}
	}
	var zero T
	return zero, false
}

// summariesMaxKeys bounds a Summaries: past it the kept values are dropped and
// counted again as they are asked for.
const summariesMaxKeys = 4096

// Summaries keeps one Summary per key, for counts that differ by who asks or
// what is shown (one person's requests, one campaign's progress).
type Summaries[K comparable, T any] struct {
	mu    sync.Mutex
	byKey map[K]*Summary[T]
	areas []Area
}

// SetAreas names the areas every key's value is counted from (see
// Summary.SetAreas).
func (m *Summaries[K, T]) SetAreas(areas ...Area) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.areas = areas
	m.byKey = nil
}

// Get returns key's kept value, or counts it again with build.
func (m *Summaries[K, T]) Get(st *Store, key K, build func() (T, error)) (T, error) {
	m.mu.Lock()
	if m.byKey == nil || len(m.byKey) >= summariesMaxKeys {
		m.byKey = map[K]*Summary[T]{}
	}
	s := m.byKey[key]
	if s == nil {
		s = &Summary[T]{areas: m.areas}
		m.byKey[key] = s
	}
	m.mu.Unlock()
	return s.Get(st, build)
}
