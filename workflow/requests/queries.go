package requests

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// Detail is a request with everything its page shows.
type Detail struct {
	Request  models.Request
	Reviews  []models.Review
	Comments []models.Comment
	Timeline []models.AuditEvent
	// Destinations are the assets the rules reach, with their zones.
	Destinations []models.Asset
	// FirstApproval is the valid first approval, when one was given.
	FirstApproval *models.Review
	// Verification is the latest verification scan and what it saw.
	Verification *models.ScanRun
	Evidence     []Evidence
	// TimelineCut and CommentsCut say the page shows only the latest
	// MaxDetailItems (the audit export has them all).
	TimelineCut, CommentsCut bool
}

// MaxDetailItems bounds the reviews, comments and timeline events a
// request's page reads.
const MaxDetailItems = 200

// Checklist decodes a review's checklist answers.
func Checklist(r models.Review) []ChecklistAnswer {
	var out []ChecklistAnswer
	_ = json.Unmarshal([]byte(r.Checklist), &out)
	return out
}

// Get reads a request that the actor may see.
func (s *Service) Get(ctx context.Context, actor core.Actor, id uint) (*Detail, error) {
	db := s.DB().WithContext(ctx)
	r, err := LoadRequest(db, id)
	if err != nil {
		return nil, err
	}
	if err := s.canSee(actor, r); err != nil {
		return nil, err
	}
	d := &Detail{Request: *r}
	// Each list reads its own index by request and is bounded: a request
	// whose discussion grows long shows its latest part.
	if err := db.Preload("Reviewer").Where("request_id = ?", id).Order("id DESC").Limit(MaxDetailItems).Find(&d.Reviews).Error; err != nil {
		return nil, err
	}
	slices.Reverse(d.Reviews)
	for i, rv := range d.Reviews {
		if !rv.Voided && rv.Kind == "review" && rv.Decision == string(DecisionApprove) {
			d.FirstApproval = &d.Reviews[i]
		}
	}
	if err := db.Preload("Author").Where("request_id = ?", id).Order("id DESC").Limit(MaxDetailItems).Find(&d.Comments).Error; err != nil {
		return nil, err
	}
	slices.Reverse(d.Comments)
	if err := db.Where("object_type = ? AND object_id = ?", "request", id).Order("seq DESC").Limit(MaxDetailItems).Find(&d.Timeline).Error; err != nil {
		return nil, err
	}
	slices.Reverse(d.Timeline)
	d.TimelineCut = len(d.Timeline) == MaxDetailItems
	d.CommentsCut = len(d.Comments) == MaxDetailItems
	var addrs []string
	for _, ru := range r.Rules {
		addrs = append(addrs, strings.Split(OurSide(ru), ",")...)
	}
	if err := db.Preload("Zone").Where("address IN ?", addrs).Order("address").Find(&d.Destinations).Error; err != nil {
		return nil, err
	}
	if d.Verification, d.Evidence, err = s.verification.VerificationEvidence(db, id); err != nil {
		return nil, err
	}
	return d, nil
}

// Filter narrows a list of requests.
type Filter struct {
	States []State
	Search string // in the title, the justification and the id
	Mine   bool   // only the actor's own requests
	Limit  int    // List only: at most this many (paging.MaxLimit when 0)
}

// ListKey is where a page of the request list starts: newest first.
type ListKey struct {
	ID uint `json:"id"`
}

// QueueKey is where a page of a work queue starts: oldest first by the
// time the request entered the queue's stage.
type QueueKey struct {
	At time.Time `json:"at"`
	ID uint      `json:"id"`
}

// RegisterKey is where a page of the rule register starts: soonest expiry first.
type RegisterKey struct {
	ExpiresAt time.Time `json:"expires_at"`
	ID        uint      `json:"id"`
}

// List returns the first requests the actor may see, newest first (at most
// f.Limit, paging.MaxLimit when unset). Lists that page use ListPage.
func (s *Service) List(ctx context.Context, actor core.Actor, f Filter) ([]models.Request, error) {
	limit := f.Limit
	if limit <= 0 || limit > paging.MaxLimit {
		limit = paging.MaxLimit
	}
	p, err := s.ListPage(ctx, actor, f, paging.Request[ListKey]{Limit: limit})
	return p.Items, err
}

// ListPage returns one page of the requests the actor may see, newest first.
//
// Who may see what is a union of index reads, never one OR over the table:
// everything (security), the actor's own requests (requester_id), their
// team's filed by others (team, requester_id <> actor). Each branch reads
// at most one page in id order from its own index, and the branches are
// merged here, so a page costs the same at 100 requests as at 100,000.
func (s *Service) ListPage(ctx context.Context, actor core.Actor, f Filter, page paging.Request[ListKey]) (paging.Page[models.Request], error) {
	if err := core.CheckLength("q", core.M("err.field.search", "the search text"), strings.TrimSpace(f.Search), core.Limits.Search); err != nil {
		return paging.Page[models.Request]{}, err
	}
	db := s.DB().WithContext(ctx)
	var branches []*gorm.DB
	base := func() *gorm.DB {
		q := db.Model(&models.Request{})
		if term := strings.TrimSpace(f.Search); term != "" {
			like := "%" + strings.ToLower(strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(term)) + "%"
			id := strings.TrimPrefix(term, "#")
			q = q.Where(`(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(justification) LIKE ? ESCAPE '\' OR CAST(id AS TEXT) = ?)`, like, like, id)
		}
		if page.After != nil {
			q = q.Where("id < ?", page.After.ID)
		}
		return q
	}
	withStates := func(q *gorm.DB) *gorm.DB {
		if len(f.States) > 0 {
			q = q.Where("state IN ?", f.States)
		}
		return q
	}
	switch {
	case actor.SeesAllRequests() && !f.Mine:
		if len(f.States) == 0 {
			branches = append(branches, base())
		}
		// One branch per state, each in order from the (state, id) index.
		for _, st := range slices.Compact(slices.Sorted(slices.Values(f.States))) {
			branches = append(branches, base().Where("state = ?", st))
		}
	case f.Mine || actor.Team == "":
		branches = append(branches, withStates(base().Where("requester_id = ?", actor.ID)))
	default:
		branches = append(branches,
			withStates(base().Where("requester_id = ?", actor.ID)),
			withStates(base().Where("team = ? AND requester_id <> ?", actor.Team, actor.ID)))
	}
	rows, err := s.mergeBranches(db, branches, "", page.Fetch())
	if err != nil {
		return paging.Page[models.Request]{}, err
	}
	return paging.Cut(page, rows, func(r models.Request) ListKey { return ListKey{ID: r.ID} }), nil
}

// mergeBranches reads up to fetch rows of each branch in the order of the
// stage-time column at (ascending, then id; "" orders by id, newest first),
// merges them in that order, keeps the first fetch and attaches their
// requester and rules.
func (s *Service) mergeBranches(db *gorm.DB, branches []*gorm.DB, at string, fetch int) ([]models.Request, error) {
	order := "id DESC"
	if at != "" {
		order = at + ", id"
	}
	if len(branches) == 1 {
		rows, err := findRequests(branches[0].Order(order).Limit(fetch), fetch)
		if err != nil {
			return nil, err
		}
		return rows, s.attach(db, rows)
	}
	// Each branch gives only its sort keys (an index answers that alone),
	// read into small structs rather than whole models; the whole rows are
	// read for the page that is left after merging, not for every branch's page.
	keys := make([]sortKey, 0, fetch*len(branches))
	cols := "id"
	if at != "" {
		cols = "id, " + at
	}
	// One statement for all the branches (a round trip each on PostgreSQL):
	// each branch a subquery of its own, read from its own index, in its
	// order and cut at fetch; the union is merged here.
	parts := make([]string, len(branches))
	subqueries := make([]any, len(branches))
	for i, q := range branches {
		parts[i] = "SELECT * FROM (?) AS branch" + strconv.Itoa(i)
		subqueries[i] = q.Select(cols).Order(order).Limit(fetch)
	}
	keys, err := appendKeys(keys, db.Raw(strings.Join(parts, " UNION ALL "), subqueries...), at != "")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if at == "" {
			return cmp.Compare(b.id, a.id)
		}
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id))
	})
	keys = slices.CompactFunc(keys, func(a, b sortKey) bool { return a.id == b.id })
	if len(keys) > fetch {
		keys = keys[:fetch]
	}
	if len(keys) == 0 {
		return nil, nil
	}
	ids := make([]uint, len(keys))
	place := make(map[uint]int, len(keys))
	for i, k := range keys {
		ids[i] = k.id
		place[k.id] = i
	}
	found, err := findRequests(db.Where("id IN ?", ids), len(ids))
	if err != nil {
		return nil, err
	}
	// In the merged order; a row deleted between the two reads is left out.
	rows := make([]models.Request, len(ids))
	present := make([]bool, len(ids))
	for _, r := range found {
		i := place[r.ID]
		rows[i], present[i] = r, true
	}
	out := rows[:0]
	for i := range rows {
		if present[i] {
			out = append(out, rows[i])
		}
	}
	return out, s.attach(db, out)
}

// sortKey is where a request sits in a merged list: its stage time (zero
// when the list is by id alone or the time is unset) and id.
type sortKey struct {
	id uint
	at time.Time
}

func appendKeys(keys []sortKey, q *gorm.DB, withTime bool) ([]sortKey, error) {
	rows, err := q.Rows()
	if err != nil {
		return keys, err
	}
	defer rows.Close()
	for rows.Next() {
		var k sortKey
		var at sql.NullTime
		if withTime {
			err = rows.Scan(models.Uint(&k.id), &at)
		} else {
			err = rows.Scan(models.Uint(&k.id))
		}
		if err != nil {
			return keys, err
		}
		if at.Valid {
			k.at = at.Time.UTC()
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// LatestOwn is the first page of n of the actor's own requests, as
// ListPage(ForRequestList(ctx), actor, Filter{Mine: true}, …) gives it,
// kept until a change like the counts beside it on their home, which reads
// it on every view. The page is shared: callers never change it.
func (s *Service) LatestOwn(ctx context.Context, actor core.Actor, n int) (paging.Page[models.Request], error) {
	return s.latestOwn.Get(s.Store, ownLatest{ownScope{actor.ID, actor.Team}, n}, func() (paging.Page[models.Request], error) {
		return s.ListPage(ForRequestList(ctx), actor, Filter{Mine: true}, paging.Request[ListKey]{Limit: n})
	})
}

// attach loads the requester and the rules of a page of requests: two
// queries by key, whatever the page's size, each only for what is not kept
// from earlier pages (listcache.go). The requester is what a list shows of
// a person (findRequesters): not their login, roles or settings.
func (s *Service) attach(db *gorm.DB, rows []models.Request) error {
	if len(rows) == 0 {
		return nil
	}
	kept := !inTransaction(db)
	var people []uint
	var generation uint64
	if kept {
		people, generation = s.requesters.get(s.Store, rows)
	} else {
		for _, r := range rows {
			people = append(people, r.RequesterID)
		}
	}
	if len(people) > 0 {
		slices.Sort(people)
		people = slices.Compact(people)
		users, err := findRequesters(db.Where("id IN ?", people), len(people))
		if err != nil {
			return err
		}
		byID := make(map[uint]models.User, len(users))
		for _, u := range users {
			byID[u.ID] = u
		}
		for i := range rows {
			if u, ok := byID[rows[i].RequesterID]; ok {
				rows[i].Requester = u
			}
		}
		if kept {
			s.requesters.keep(generation, users)
		}
	}
	return s.attachRules(db, rows)
}

// attachRules loads the rules of requests in one query, for those whose
// rules, as of their version, are not kept from an earlier page.
func (s *Service) attachRules(db *gorm.DB, rows []models.Request) error {
	if len(rows) == 0 {
		return nil
	}
	l, listed := listingOf(db)
	summed := listed && l.summedRules
	// Rules read in a transaction may be ones it wrote and will not commit.
	kept := !inTransaction(db)
	missing := make([]int, 0, len(rows))
	if kept {
		missing = s.listedRules.get(rows, summed)
	} else {
		for i := range rows {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	ids := make([]uint, len(missing))
	for n, i := range missing {
		ids[n] = rows[i].ID
	}
	rules, err := findRules(db.Where("request_id IN ?", ids).Order("request_id, position"), len(ids)*2)
	if err != nil {
		return err
	}
	// Each request's rules are a run of the one slice, in position order.
	byRequest := make(map[uint][]models.Rule, len(ids))
	for i := 0; i < len(rules); {
		j := i + 1
		for j < len(rules) && rules[j].RequestID == rules[i].RequestID {
			j++
		}
		byRequest[rules[i].RequestID] = rules[i:j:j]
		i = j
	}
	for _, i := range missing {
		rows[i].Rules = byRequest[rows[i].ID]
	}
	if kept {
		s.listedRules.keep(rows, missing, summed)
	}
	return nil
}

// inTransaction tells whether db runs in a transaction, whose reads may see
// writes that are never committed.
func inTransaction(db *gorm.DB) bool {
	_, ok := db.Statement.ConnPool.(gorm.TxCommitter)
	return ok
}

// A queue is the requests waiting at one stage, oldest first. Each state is
// its own branch so that (state, stage time, id) serves it from an index.
type queue struct {
	id       int    // its place in Service.queueCounts
	column   string // the stage time: submitted_at or approved_at
	branches func(db *gorm.DB) []*gorm.DB
}

// approvedBy is the condition "has a valid approval" (of a kind when given),
// asked per request so that it reads the reviews index, not every review.
func approvedBy(kind string) string {
	c := "EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND reviews.voided = false AND reviews.decision = '" + string(DecisionApprove) + "'"
	if kind != "" {
		c += " AND reviews.kind = '" + kind + "'"
	}
	return c + ")"
}

// stateIs is the condition "in state st" with the state written out. The
// queues' conditions are the code's own, never input, and written in the
// statement so that PostgreSQL plans it once: bound, it costed a plan for
// any state from an average state's share of the table, found that dearer
// than the plans it made knowing the state, and planned every execution anew.
func stateIs(st State) string { return "state = " + quotedState(st) }

// quotedState is st as an SQL string literal; states are the code's own
// words (lower case and underscores), never input.
func quotedState(st State) string { return "'" + string(st) + "'" }

var (
	reviewQueue = queue{id: 0, column: "submitted_at", branches: func(db *gorm.DB) []*gorm.DB {
		return []*gorm.DB{
			db.Model(&models.Request{}).Where(stateIs(StateSubmitted)),
			db.Model(&models.Request{}).Where(stateIs(StateInReview) + " AND NOT " + approvedBy("")),
		}
	}}
	approvalQueue = queue{id: 1, column: "submitted_at", branches: func(db *gorm.DB) []*gorm.DB {
		return []*gorm.DB{db.Model(&models.Request{}).Where(stateIs(StateInReview) + " AND needs_second_approval = true AND " + approvedBy("review"))}
	}}
	implementationQueue = queue{id: 2, column: "approved_at", branches: func(db *gorm.DB) []*gorm.DB {
		return []*gorm.DB{
			db.Model(&models.Request{}).Where(stateIs(StateApproved)),
			db.Model(&models.Request{}).Where(stateIs(StateVerificationFailed)),
		}
	}}
)

func queueAt(column string, r models.Request) time.Time {
	var t *time.Time
	if column == "approved_at" {
		t = r.ApprovedAt
	} else {
		t = r.SubmittedAt
	}
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func (s *Service) queuePage(ctx context.Context, q queue, page paging.Request[QueueKey]) (paging.Page[models.Request], error) {
	db := s.DB().WithContext(ctx)
	branches := q.branches(db)
	for i, b := range branches {
		if page.After != nil {
			branches[i] = b.Where("("+q.column+", id) > (?, ?)", page.After.At.UTC(), page.After.ID)
		}
	}
	key := func(r models.Request) QueueKey { return QueueKey{At: queueAt(q.column, r), ID: r.ID} }
	rows, err := s.mergeBranches(db, branches, q.column, page.Fetch())
	if err != nil {
		return paging.Page[models.Request]{}, err
	}
	return paging.Cut(page, rows, key), nil
}

// queueCount is the length of a queue: the same for everyone who sees it, so
// it is counted once until something changes.
func (s *Service) queueCount(ctx context.Context, q queue) (int, error) {
	return s.queueCounts[q.id].Get(s.Store, func() (int, error) { return s.countQueue(ctx, q) })
}

func (s *Service) countQueue(ctx context.Context, q queue) (int, error) {
	total := 0
	for _, b := range q.branches(s.DB().WithContext(ctx)) {
		var n int64
		if err := b.Count(&n).Error; err != nil {
			return 0, err
		}
		total += int(n)
	}
	return total, nil
}

func firstPage[K any]() paging.Request[K] { return paging.Request[K]{Limit: paging.MaxLimit} }

// ReviewQueue lists what waits for a first review: submitted requests and
// those in review without a valid approval (the first page; see ReviewQueuePage).
func (s *Service) ReviewQueue(ctx context.Context, actor core.Actor) ([]models.Request, error) {
	p, err := s.ReviewQueuePage(ctx, actor, firstPage[QueueKey]())
	return p.Items, err
}

// ReviewQueuePage is one page of the review queue, oldest submission first.
func (s *Service) ReviewQueuePage(ctx context.Context, actor core.Actor, page paging.Request[QueueKey]) (paging.Page[models.Request], error) {
	if !actor.Has(core.RoleReviewer, core.RoleApprover) {
		return paging.Page[models.Request]{}, core.Forbidden(core.M("err.requests.review_queue_role", "you need the reviewer role to see the review queue"))
	}
	return s.queuePage(ctx, reviewQueue, page)
}

// ApprovalQueue lists requests with a first approval that wait for the
// security lead (the first page; see ApprovalQueuePage).
func (s *Service) ApprovalQueue(ctx context.Context, actor core.Actor) ([]models.Request, error) {
	p, err := s.ApprovalQueuePage(ctx, actor, firstPage[QueueKey]())
	return p.Items, err
}

// ApprovalQueuePage is one page of the second-approval queue.
func (s *Service) ApprovalQueuePage(ctx context.Context, actor core.Actor, page paging.Request[QueueKey]) (paging.Page[models.Request], error) {
	if !actor.Has(core.RoleApprover) {
		return paging.Page[models.Request]{}, core.Forbidden(core.M("err.requests.approval_queue_role", "you need the approver role to see the approval queue"))
	}
	return s.queuePage(ctx, approvalQueue, page)
}

// ImplementationQueue lists approved requests (and failed verifications to
// retry): the first page; see ImplementationQueuePage.
func (s *Service) ImplementationQueue(ctx context.Context, actor core.Actor) ([]models.Request, error) {
	p, err := s.ImplementationQueuePage(ctx, actor, firstPage[QueueKey]())
	return p.Items, err
}

// ImplementationQueuePage is one page of the implementation queue, oldest approval first.
func (s *Service) ImplementationQueuePage(ctx context.Context, actor core.Actor, page paging.Request[QueueKey]) (paging.Page[models.Request], error) {
	if !actor.Has(core.RoleImplementer) {
		return paging.Page[models.Request]{}, core.Forbidden(core.M("err.requests.implementation_queue_role", "you need the implementer role to see the implementation queue"))
	}
	return s.queuePage(ctx, implementationQueue, page)
}

// QueueCounts are how many requests wait in each queue the actor works
// (absent: not the actor's queue), counted by aggregate queries.
type QueueCounts struct {
	Review, Approval, Implementation *int
}

// QueueName names a work queue.
type QueueName string

const (
	QueueReview         QueueName = "review"
	QueueApproval       QueueName = "approval"
	QueueImplementation QueueName = "implementation"
)

// CountQueue counts one queue the actor works, by aggregate.
func (s *Service) CountQueue(ctx context.Context, actor core.Actor, name QueueName) (int, error) {
	switch name {
	case QueueReview:
		if !actor.Has(core.RoleReviewer, core.RoleApprover) {
			return 0, core.Forbidden(core.M("err.requests.review_queue_role", "you need the reviewer role to see the review queue"))
		}
		return s.queueCount(ctx, reviewQueue)
	case QueueApproval:
		if !actor.Has(core.RoleApprover) {
			return 0, core.Forbidden(core.M("err.requests.approval_queue_role", "you need the approver role to see the approval queue"))
		}
		return s.queueCount(ctx, approvalQueue)
	case QueueImplementation:
		if !actor.Has(core.RoleImplementer) {
			return 0, core.Forbidden(core.M("err.requests.implementation_queue_role", "you need the implementer role to see the implementation queue"))
		}
		return s.queueCount(ctx, implementationQueue)
	}
	return 0, core.Invalid("queue", core.M("err.requests.queue_unknown", "{{.Name}} is not a queue", "Name", strconv.Quote(string(name))))
}

// CountQueues counts the queues the actor works.
func (s *Service) CountQueues(ctx context.Context, actor core.Actor) (QueueCounts, error) {
	var out QueueCounts
	for _, q := range []struct {
		ok  bool
		q   queue
		dst **int
	}{
		{actor.Has(core.RoleReviewer, core.RoleApprover), reviewQueue, &out.Review},
		{actor.Has(core.RoleApprover), approvalQueue, &out.Approval},
		{actor.Has(core.RoleImplementer), implementationQueue, &out.Implementation},
	} {
		if !q.ok {
			continue
		}
		n, err := s.queueCount(ctx, q.q)
		if err != nil {
			return out, err
		}
		*q.dst = &n
	}
	return out, nil
}

// RegisterEntry is one allowed opening of the approved policy.
type RegisterEntry struct {
	Rule      models.Rule
	Request   models.Request
	Approvers []string
}

// RuleRegister lists every approved rule with its expiry, soonest expiry
// first. It reads the whole register: pages use RegisterPage.
func (s *Service) RuleRegister(ctx context.Context, actor core.Actor) ([]RegisterEntry, error) {
	var out []RegisterEntry
	page := paging.Request[RegisterKey]{Limit: paging.MaxLimit}
	for {
		p, err := s.RegisterPage(ctx, actor, page)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		if page, err = paging.Parse[RegisterKey]("200", p.Next); err != nil {
			return nil, err
		}
	}
}

// RegisterPage is one page of the rule register: the rules of up to
// page.Limit requests in force, soonest expiry first (then by id). The
// cursor is the last request's (expires_at, id), read from the partial
// index of the requests in force, which is in that order.
func (s *Service) RegisterPage(ctx context.Context, actor core.Actor, page paging.Request[RegisterKey]) (paging.Page[RegisterEntry], error) {
	db := s.DB().WithContext(ctx)
	from := "requests"
	if db.Dialector.Name() == "sqlite" {
		// SQLite's planner, on the statistics PRAGMA optimize keeps
		// (analysis_limit), judged each state a thousand rows and chose to
		// sort all the requests in force; the partial index is the order.
		from = "requests INDEXED BY idx_requests_in_force_expiry"
	}
	q := db.Table(from).Where(inForceClause)
	if page.After != nil {
		q = q.Where("(expires_at, id) > (?, ?)", page.After.ExpiresAt.UTC(), page.After.ID)
	}
	reqs, err := s.mergeBranches(db, []*gorm.DB{q}, "expires_at", page.Fetch())
	if err != nil {
		return paging.Page[RegisterEntry]{}, err
	}
	cut := paging.Cut(page, reqs, func(r models.Request) RegisterKey { return RegisterKey{ExpiresAt: r.ExpiresAt.UTC(), ID: r.ID} })
	ids := make([]uint, len(cut.Items))
	for i, r := range cut.Items {
		ids[i] = r.ID
	}
	approvers, err := approversOf(db, ids)
	if err != nil {
		return paging.Page[RegisterEntry]{}, err
	}
	n := 0
	for _, r := range cut.Items {
		n += len(r.Rules)
	}
	out := paging.Page[RegisterEntry]{Next: cut.Next, Items: make([]RegisterEntry, 0, n)}
	for _, r := range cut.Items {
		for _, ru := range r.Rules {
			out.Items = append(out.Items, RegisterEntry{Rule: ru, Request: r, Approvers: approvers[r.ID]})
		}
	}
	return out, nil
}

// inForceClause selects the requests in force with the state list written
// out as the partial index idx_requests_in_force_expiry has it: a planner
// matches a query's condition with the index's by their text, which bound
// parameters would not give. The states are the code's own, never input.
var inForceClause = func() string {
	quoted := make([]string, len(InForceStates))
	for i, st := range InForceStates {
		quoted[i] = quotedState(st)
	}
	return "state IN (" + strings.Join(quoted, ", ") + ")"
}()

// approversOf are the e-mails of who approved each of the requests, in order.
func approversOf(db *gorm.DB, ids []uint) (map[uint][]string, error) {
	approvers := map[uint][]string{}
	if len(ids) == 0 {
		return approvers, nil
	}
	var rows []struct {
		RequestID uint
		Email     string
	}
	if err := db.Model(&models.Review{}).Select("reviews.request_id, users.email").Joins("JOIN users ON users.id = reviews.reviewer_id").
		Where("reviews.request_id IN ? AND reviews.voided = ? AND reviews.decision = ?", ids, false, DecisionApprove).
		Order("reviews.id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, rv := range rows {
		approvers[rv.RequestID] = append(approvers[rv.RequestID], rv.Email)
	}
	return approvers, nil
}

// Counts is the number of requests in each state the actor can see: one
// aggregate per visibility branch (all, own, the team's filed by others).
func (s *Service) Counts(ctx context.Context, actor core.Actor) (map[State]int, error) {
	if actor.SeesAllRequests() {
		// The same for everyone who sees every request: counted once until
		// something changes; each caller gets its own copy.
		all, err := s.allCounts.Get(s.Store, func() (map[State]int, error) { return s.countStates(ctx, actor) })
		return maps.Clone(all), err
	}
	own, err := s.ownCounts.Get(s.Store, ownScope{actor.ID, actor.Team}, func() (map[State]int, error) { return s.countStates(ctx, actor) })
	return maps.Clone(own), err
}

func (s *Service) countStates(ctx context.Context, actor core.Actor) (map[State]int, error) {
	db := s.DB().WithContext(ctx)
	var branches []*gorm.DB
	switch {
	case actor.SeesAllRequests():
		branches = append(branches, db.Model(&models.Request{}))
	case actor.Team == "":
		branches = append(branches, db.Model(&models.Request{}).Where("requester_id = ?", actor.ID))
	default:
		branches = append(branches, db.Model(&models.Request{}).Where("requester_id = ?", actor.ID),
			db.Model(&models.Request{}).Where("team = ? AND requester_id <> ?", actor.Team, actor.ID))
	}
	out := map[State]int{}
	for _, q := range branches {
		var rows []struct {
			State string
			N     int
		}
		if err := q.Select("state, COUNT(*) AS n").Group("state").Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[State(r.State)] += r.N
		}
	}
	return out, nil
}

// DaysLeft is how many whole days remain until t.
func DaysLeft(now, t time.Time) int {
	return int(t.Sub(now).Hours() / 24)
}
