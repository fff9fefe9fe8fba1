package handlers

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
)

// A Limit is a token bucket: Burst calls at once, refilled at PerMinute.
type Limit struct {
	Burst     int
	PerMinute int
}

// RateLimits bound, per client address and per user, what is costly or
// what guessing uses; ordinary page views and API reads are not limited.
// They are kept in memory, per instance.
type RateLimits struct {
	Login          Limit // /auth/login and /auth/callback, per client
	TokenFailures  Limit // rejected bearer tokens, per client
	Evaluate       Limit // rule evaluation (API and the form's live check), per user
	Export         Limit // audit exports and reports, per user
	Scan           Limit // scans started by hand, per user
	ClientMultiple int   // a client address gets this many users' worth (a shared NAT)
	// EvaluationsInFlight is how many evaluations one user may have
	// running at once (0: 2).
	EvaluationsInFlight int
}

// DefaultRateLimits are generous for people and tight for scripts: the
// form's live evaluation fires at most twice a second while someone types.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		Login:               Limit{Burst: 60, PerMinute: 60},
		TokenFailures:       Limit{Burst: 20, PerMinute: 10},
		Evaluate:            Limit{Burst: 30, PerMinute: 120},
		Export:              Limit{Burst: 60, PerMinute: 30},
		Scan:                Limit{Burst: 10, PerMinute: 10},
		ClientMultiple:      4,
		EvaluationsInFlight: 2,
	}
}

// bucketSet is one limit's buckets, by key.
type bucketSet struct {
	limit Limit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds memory: past it, buckets that have refilled are dropped.
const maxBuckets = 50_000

func newBucketSet(l Limit) *bucketSet {
	return &bucketSet{limit: l, now: time.Now, buckets: map[string]*bucket{}}
}

func (s *bucketSet) rate() float64 { return float64(s.limit.PerMinute) / 60 }

// refill brings a bucket up to now; the caller holds the lock.
func (s *bucketSet) refill(key string, now time.Time) *bucket {
	b, ok := s.buckets[key]
	if !ok {
		if len(s.buckets) >= maxBuckets {
			s.prune(now)
		}
		b = &bucket{tokens: float64(s.limit.Burst), at: now}
		s.buckets[key] = b
		return b
	}
	b.tokens = math.Min(float64(s.limit.Burst), b.tokens+now.Sub(b.at).Seconds()*s.rate())
	b.at = now
	return b
}

func (s *bucketSet) prune(now time.Time) {
	for k, b := range s.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*s.rate() >= float64(s.limit.Burst) {
			delete(s.buckets, k)
		}
	}
}

// wait is how long until key has a token; 0 when it has one now.
func (s *bucketSet) wait(key string, now time.Time) time.Duration {
	b := s.refill(key, now)
	if b.tokens >= 1 {
		return 0
	}
	if s.rate() <= 0 {
		return time.Hour
	}
	return time.Duration((1 - b.tokens) / s.rate() * float64(time.Second))
}

// take spends a token of every key, or none when one of them has none: it
// returns how long to wait then.
func (s *bucketSet) take(keys ...string) time.Duration {
	if s == nil || s.limit.Burst <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var longest time.Duration
	for _, k := range keys {
		longest = max(longest, s.wait(k, now))
	}
	if longest > 0 {
		return longest
	}
	for _, k := range keys {
		s.buckets[k].tokens--
	}
	return 0
}

// blocked says how long key must wait, spending nothing.
func (s *bucketSet) blocked(key string) time.Duration {
	if s == nil || s.limit.Burst <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[key]; !ok {
		return 0 // a client that never failed gets no bucket
	}
	return s.wait(key, s.now())
}

// spend takes a token if there is one (a failure is counted, never refused here).
func (s *bucketSet) spend(key string) {
	s.take(key)
}

// limiters are the server's buckets.
type limiters struct {
	login, tokenFailures *bucketSet
	// per route class: the user's buckets and the client's (ClientMultiple times larger)
	user, client map[string]*bucketSet
	// evaluations in flight, per user
	evaluations *inFlight
}

func newLimiters(rl RateLimits) *limiters {
	scale := func(l Limit) Limit {
		m := max(rl.ClientMultiple, 1)
		return Limit{Burst: l.Burst * m, PerMinute: l.PerMinute * m}
	}
	l := &limiters{login: newBucketSet(rl.Login), tokenFailures: newBucketSet(rl.TokenFailures),
		user: map[string]*bucketSet{}, client: map[string]*bucketSet{}}
	if rl.EvaluationsInFlight <= 0 {
		rl.EvaluationsInFlight = 2
	}
	l.evaluations = newInFlight(rl.EvaluationsInFlight)
	for class, lim := range map[string]Limit{"evaluate": rl.Evaluate, "export": rl.Export, "scan": rl.Scan} {
		l.user[class], l.client[class] = newBucketSet(lim), newBucketSet(scale(lim))
	}
	return l
}

// limitedRoutes name the costly routes and the limit each falls under.
var limitedRoutes = map[string]string{
	"GET /auth/login":            "login",
	"GET /auth/callback":         "login",
	"POST /api/v1/evaluate":      "evaluate",
	"POST /requests/evaluate":    "evaluate",
	"GET /audit/export":          "export",
	"GET /audit/reports":         "export",
	"GET /api/v1/audit/export":   "export",
	"GET /api/v1/reports/{kind}": "export",
	"GET /reports/{id}/pdf":      "export",
	"POST /scans":                "scan",
	"POST /api/v1/scans":         "scan",
}

// rateLimited wraps a route of a limited class.
func (s *Server) rateLimited(class string, api bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := core.ClientAddr(r.Context())
		var wait time.Duration
		if class == "login" {
			wait = s.limits.login.take(client)
		} else {
			// Each bucket set is checked on its own: a user's calls count
			// against the user wherever they come from, and a client's
			// against the client whoever sends them.
			actor, _ := actorFrom(r)
			if wait = s.limits.user[class].blocked(userKey(actor)); wait == 0 {
				if wait = s.limits.client[class].take(client); wait == 0 {
					s.limits.user[class].spend(userKey(actor))
				}
			}
		}
		if wait > 0 {
			s.tooManyRequests(w, r, wait, api)
			return
		}
		h(w, r)
	}
}

func userKey(a core.Actor) string { return strconv.FormatUint(uint64(a.ID), 10) }

// tooManyRequests answers 429 with the seconds to wait.
func (s *Server) tooManyRequests(w http.ResponseWriter, r *http.Request, wait time.Duration, api bool) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	msg := locale.T(r.Context(), "err.too_many_requests", "Seconds", max(secs, 1))
	if api {
		body := apiErrorBody{}
		body.Error.Code = "too_many_requests"
		body.Error.Message = msg
		writeJSON(w, http.StatusTooManyRequests, body)
		return
	}
	s.renderError(w, r, http.StatusTooManyRequests, msg)
}
