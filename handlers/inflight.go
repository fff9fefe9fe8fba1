package handlers

import (
	"net/http"
	"sync"

	"github.com/portcullis/portcullis/web/locale"
)

// inFlight bounds how many calls of one costly kind each user has running
// at once. A rate limit bounds how often calls start; this bounds how much
// memory and CPU one user holds at a time, whatever the rate.
type inFlight struct {
	max int

	mu      sync.Mutex
	running map[string]int
}

func newInFlight(max int) *inFlight {
	return &inFlight{max: max, running: map[string]int{}}
}

// acquire takes a slot for key; false when key already has max running.
func (f *inFlight) acquire(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[key] >= f.max {
		return false
	}
	f.running[key]++
	return true
}

func (f *inFlight) release(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[key]--; f.running[key] <= 0 {
		delete(f.running, key)
	}
}

// limitInFlight answers 429 when the user already has the maximum of
// these calls running.
func (s *Server) limitInFlight(f *inFlight, api bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, _ := actorFrom(r)
		key := userKey(actor)
		if !f.acquire(key) {
			w.Header().Set("Retry-After", "1")
			msg := locale.T(r.Context(), "err.evaluations_running", "Max", f.max)
			if api {
				body := apiErrorBody{}
				body.Error.Code = "too_many_requests"
				body.Error.Message = msg
				writeJSON(w, http.StatusTooManyRequests, body)
				return
			}
			s.renderError(w, r, http.StatusTooManyRequests, msg)
			return
		}
		defer f.release(key)
		h(w, r)
	}
}
