package core

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/models/modelstest"
)

// A value counted again only for its age is still given to the readers
// that arrive meanwhile; they wait only for a count the value of an older
// generation needs, and after it get the new value.
func TestSummaryGivesTheAgedValueWhileItIsCountedAgain(t *testing.T) {
	st := NewStore(modelstest.SQLite(t), modelstest.Logger())
	var m Summary[int]
	if v, err := m.Get(st, func() (int, error) { return 1, nil }); err != nil || v != 1 {
		t.Fatalf("first count: %d, %v", v, err)
	}
	m.mu.Lock()
	m.builtAt = time.Now().Add(-SummaryMaxAge)
	m.mu.Unlock()
	countWhileKeptIsGiven(t, st, &m, 1, 2)

	// After a commit the kept value is not given: readers wait for the count.
	st.generation.Add(1)
	countWithAWaiter(t, st, &m, 4)
}

// countWhileKeptIsGiven has one reader count m again (to counted) and
// checks that a reader arriving meanwhile is given the kept value at once,
// without a count of its own, and that the count is kept after it.
func countWhileKeptIsGiven(t *testing.T, st *Store, m *Summary[int], kept, counted int) {
	t.Helper()
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan int)
	go func() {
		v, _ := m.Get(st, func() (int, error) { close(started); <-release; return counted, nil })
		done <- v
	}()
	<-started
	if v, err := m.Get(st, func() (int, error) { t.Error("a second count while one runs"); return 0, nil }); err != nil || v != kept {
		t.Errorf("during the count: %d, %v, want the kept %d", v, err, kept)
	}
	close(release)
	if v := <-done; v != counted {
		t.Errorf("the count gave %d, want %d", v, counted)
	}
	if v, _ := m.Get(st, func() (int, error) { return counted + 1, nil }); v != counted {
		t.Errorf("after the count: %d, want %d", v, counted)
	}
}

// countWithAWaiter has one reader count m again (to counted) and checks that
// a reader arriving meanwhile waits for that count rather than being given
// the kept value, and then gets the new one.
func countWithAWaiter(t *testing.T, st *Store, m *Summary[int], counted int) {
	t.Helper()
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan int)
	go func() {
		v, _ := m.Get(st, func() (int, error) { close(started); <-release; return counted, nil })
		done <- v
	}()
	<-started
	waited := make(chan int)
	go func() {
		v, _ := m.Get(st, func() (int, error) { return counted + 1, nil })
		waited <- v
	}()
	select {
	case v := <-waited:
		close(release)
		t.Fatalf("a reader got %d while the value was counted again, want it to wait", v)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if v, w := <-done, <-waited; v != counted || w != counted {
		t.Errorf("after the count: %d and %d, want %d for both", v, w, counted)
	}
}

// A settling value is given after commits until it is older than its settle
// time; then one reader counts it again while the others still get it.
func TestSummarySettlesAfterCommits(t *testing.T) {
	st := NewStore(modelstest.SQLite(t), modelstest.Logger())
	var m Summary[int]
	// Half of SummaryMaxAge: time enough for two views while it settles,
	// and for a count after it, before the value is too old to give.
	settle := SummaryMaxAge / 2
	m.SetSettle(settle)
	if v, _ := m.Get(st, func() (int, error) { return 1, nil }); v != 1 {
		t.Fatalf("first count: %d", v)
	}
	for range 3 {
		st.generation.Add(1)
	}
	if v, _ := m.Get(st, func() (int, error) { t.Error("counted again while settling"); return 0, nil }); v != 1 {
		t.Errorf("after commits, while settling: %d, want the kept 1", v)
	}
	// The settle time passes: one reader counts, the others get the kept value.
	m.mu.Lock()
	m.builtAt = time.Now().Add(-settle)
	m.mu.Unlock()
	countWhileKeptIsGiven(t, st, &m, 1, 2)
	// Never past SummaryMaxAge, which bounds what another instance's changes
	// wait: not even to the readers that arrive while one counts it again.
	m.mu.Lock()
	m.builtAt = time.Now().Add(-SummaryMaxAge)
	m.mu.Unlock()
	st.generation.Add(1)
	countWithAWaiter(t, st, &m, 4)
}
