package handlers

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
)

// Page views must not write: on SQLite every write queues behind the one
// writer, so a session saved on every request makes reads wait for writes.
func TestPageViewsDoNotWriteTheSession(t *testing.T) {
	a := newApp(t)
	c := a.as("rita")
	before := sessionRows(t, a)
	if len(before) != 1 {
		t.Fatalf("%d sessions after one login, want 1", len(before))
	}
	for _, path := range []string{"/", "/requests", "/register", "/profile", "/"} {
		if resp := a.get(c, path); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	after := sessionRows(t, a)
	if len(after) != 1 || !after[0].Expiry.Equal(before[0].Expiry) || string(after[0].Data) != string(before[0].Data) {
		t.Fatalf("page views rewrote the session: before %v, after %v", before[0].Expiry, after[0].Expiry)
	}
}

func TestIdleSessionEnds(t *testing.T) {
	// The idle deadline is decided on the server's clock, which the test
	// moves: a slow request under -race cannot eat into the idle time.
	clock := &manualClock{at: time.Now()}
	a := newApp(t, func(c *Config) { c.SessionIdle = time.Second; c.Now = clock.Now })
	c := a.as("rita")
	if resp := a.get(c, "/requests"); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: GET /requests answered %d", resp.StatusCode)
	}
	// Activity renews the idle deadline: requests spaced under the idle
	// timeout keep the session alive past it (1.6 s after the login).
	for range 4 {
		clock.Advance(400 * time.Millisecond)
		if resp := a.get(c, "/requests"); resp.StatusCode != http.StatusOK {
			t.Fatalf("active session ended: GET /requests answered %d", resp.StatusCode)
		}
	}
	clock.Advance(1500 * time.Millisecond)
	resp := a.get(c, "/requests")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") == "" {
		t.Fatalf("idle session: GET /requests answered %d, want a redirect to the login page", resp.StatusCode)
	}
	if n := len(sessionRows(t, a)); n != 0 {
		t.Fatalf("%d sessions left after the idle one ended, want 0", n)
	}
}

// manualClock is a clock that moves only when a test advances it; the
// mutex makes it safe to read from the server's goroutines.
type manualClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

func sessionRows(t *testing.T, a *app) []models.Session {
	t.Helper()
	var rows []models.Session
	if err := a.svc.DB().Order("token").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}
