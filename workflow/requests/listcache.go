package requests

import (
	"sync"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// ruleCacheMax bounds the rules kept for lists: past it they are dropped and
// read again as pages ask for them. A page holds at most 100 requests.
const ruleCacheMax = 20000

// ruleKey names one version of a request's rules. A request's rules are
// written only when it is created or edited, and an edit is a step that
// bumps the request's version and its change time; so the rules read for a
// (request, version, change time) stay right on every instance sharing the
// database, with no need to hear of another instance's writes.
type ruleKey struct {
	request uint
	version int
	changed int64 // updated_at in Unix nanoseconds: a reused id has a new one
	summed  bool  // summaryRuleColumns only
}

func ruleKeyOf(r *models.Request, summed bool) ruleKey {
	return ruleKey{r.ID, r.Version, r.UpdatedAt.UnixNano(), summed}
}

// ruleCache keeps the rules lists showed, so that a list page reads from
// the database only the rules of requests changed since it was last shown.
// Readers share the kept slices and must not change them. What is kept is
// also dropped after core.SummaryMaxAge: rules rewritten other than by a
// step (a migration another instance runs, an operator's SQL) show within
// that.
type ruleCache struct {
	mu    sync.Mutex
	byKey map[ruleKey][]models.Rule
	since time.Time
}

// get sets the kept rules of rows and returns the indexes of rows that had none.
func (c *ruleCache) get(rows []models.Request, summed bool) (missing []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.since) >= core.SummaryMaxAge {
		c.byKey, c.since = nil, time.Now()
	}
	for i := range rows {
		rules, ok := c.byKey[ruleKeyOf(&rows[i], summed)]
		if !ok {
			missing = append(missing, i)
			continue
		}
		rows[i].Rules = rules
	}
	return missing
}

// keep keeps the rules just read for rows (the ones get found missing).
func (c *ruleCache) keep(rows []models.Request, missing []int, summed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil || len(c.byKey)+len(missing) > ruleCacheMax {
		c.byKey = make(map[ruleKey][]models.Rule, len(missing))
	}
	// attachRules hands each request a clipped run of one slice: a reader
	// appending to its copy gets its own array.
	for _, i := range missing {
		c.byKey[ruleKeyOf(&rows[i], summed)] = rows[i].Rules
	}
}

// requesterAreas are what requesterCache is read from.
var requesterAreas = []core.Area{core.AreaPeople}

// requesterCacheMax bounds the requesters kept for lists.
const requesterCacheMax = 20000

// requesterCache keeps what lists show of the people who filed requests
// (findRequesters) until this instance commits a change to people or
// core.SummaryMaxAge passes, the same terms as the counts beside the lists:
// a person renamed or moved to another team by another instance shows
// under their old name for at most that long.
type requesterCache struct {
	mu         sync.Mutex
	generation uint64
	since      time.Time
	byID       map[uint]models.User
}

// get sets the kept requester of each of rows and returns the ids of the
// requesters it does not keep (sorted, each once), and the generation to
// keep the ones read for them under.
func (c *requesterCache) get(st *core.Store, rows []models.Request) (missing []uint, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	generation = st.GenerationOf(requesterAreas)
	if c.byID == nil || c.generation != generation || time.Since(c.since) >= core.SummaryMaxAge || len(c.byID) > requesterCacheMax {
		c.byID, c.generation, c.since = map[uint]models.User{}, generation, time.Now()
	}
	for i := range rows {
		u, ok := c.byID[rows[i].RequesterID]
		if !ok {
			missing = append(missing, rows[i].RequesterID)
			continue
		}
		rows[i].Requester = u
	}
	return missing, generation
}

// keep keeps users read at generation, unless a commit came meanwhile: they
// may have been read before it.
func (c *requesterCache) keep(generation uint64, users []models.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation != generation {
		return
	}
	for _, u := range users {
		c.byID[u.ID] = u
	}
}
