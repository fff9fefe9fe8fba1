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
// while it is being counted wait for that count instead of starting theirs.
type Summary[T any] struct {
	mu         sync.Mutex
	value      T
	ok         bool
	generation uint64
	builtAt    time.Time
}

// Get returns the kept value, or counts it again with build.
func (m *Summary[T]) Get(st *Store, build func() (T, error)) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gen, now := st.Generation(), time.Now()
	if m.ok && m.generation == gen && now.Sub(m.builtAt) < SummaryMaxAge {
		return m.value, nil
	}
	v, err := build()
	if err != nil {
		var zero T
		return zero, err
	}
	m.value, m.ok, m.generation, m.builtAt = v, true, gen, now
	return v, nil
}

// summariesMaxKeys bounds a Summaries: past it the kept values are dropped and
// counted again as they are asked for.
const summariesMaxKeys = 4096

// Summaries keeps one Summary per key, for counts that differ by who asks or
// what is shown (one person's requests, one campaign's progress).
type Summaries[K comparable, T any] struct {
	mu    sync.Mutex
	byKey map[K]*Summary[T]
}

// Get returns key's kept value, or counts it again with build.
func (m *Summaries[K, T]) Get(st *Store, key K, build func() (T, error)) (T, error) {
	m.mu.Lock()
	if m.byKey == nil || len(m.byKey) >= summariesMaxKeys {
		m.byKey = map[K]*Summary[T]{}
	}
	s := m.byKey[key]
	if s == nil {
		s = &Summary[T]{}
		m.byKey[key] = s
	}
	m.mu.Unlock()
	return s.Get(st, build)
}
