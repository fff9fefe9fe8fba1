package core

import "context"

// A CountedArea is a set of tables whose writes the database counts itself
// (migrations 00022 and 00023): triggers add to the area's generation in
// each writer's transaction, whoever the writer is — this instance, another one on the
// same database, or an operator's SQL.
type CountedArea string

const (
	// CountedRequests is what a list of requests shows: the requests, their
	// rules and reviews, and the people who filed and approved them (their
	// names, teams, roles and last logins); and what a request's page adds:
	// its comments and the audit events of its timeline.
	CountedRequests CountedArea = "requests"
	// CountedRecert is re-certification campaigns and their items.
	CountedRecert CountedArea = "recert"
	// CountedInventory is zones, assets, applications, settings, scan
	// schedules and the assessment questionnaire.
	CountedInventory CountedArea = "inventory"
	// CountedScans is scan runs, their status and progress included, and
	// their results by host and port.
	CountedScans CountedArea = "scans"
	// CountedDrift is drift items.
	CountedDrift CountedArea = "drift"
	// CountedAlerts is the deliveries of drift alerts.
	CountedAlerts CountedArea = "alerts"
	// CountedReports is the periodic reports and who subscribed to them
	// (migration 00023).
	CountedReports CountedArea = "reports"
	// CountedAudit is the audit log: every event appended (migration 00023).
	CountedAudit CountedArea = "audit"
)

// countedAreaSummaries are the areas of kept summaries (see Area) each
// counted area holds.
var countedAreaSummaries = map[CountedArea][]Area{
	CountedRequests:  {AreaRequests, AreaPeople},
	CountedRecert:    {AreaRecert},
	CountedInventory: {AreaInventory},
	CountedScans:     {AreaScans},
	CountedDrift:     {AreaDrift},
	CountedAlerts:    nil, // no summary is counted from deliveries but those that name no area
	CountedReports:   nil,
	CountedAudit:     nil,
}

// DataGeneration is the sum of the areas' generations. Each only grows, so
// two reads that give the same sum saw the same rows in those areas; what is
// read after it is at least as new as it.
//
// An area found further on than this instance last saw it was written
// meanwhile, by this instance or by another one: the summaries counted from
// it are counted again when next asked for (but those that settle, see
// Summary.SetSettle). A page drawn after this read then shows another
// instance's change in its summaries (a queue's total, the latest requests)
// as soon as in its rows, not up to SummaryMaxAge later.
func (s *Store) DataGeneration(ctx context.Context, areas ...CountedArea) (int64, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT area, generation FROM data_generations WHERE area IN ?", areas).Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var area CountedArea
		var g int64
		if err := rows.Scan(&area, &g); err != nil {
			return 0, err
		}
		sum += g
		s.sawGeneration(area, g)
	}
	return sum, rows.Err()
}

// sawGeneration notes that area was at generation g, ending the summaries
// counted from it if that is further on than last seen.
func (s *Store) sawGeneration(area CountedArea, g int64) {
	last, ok := s.seenGenerations[area]
	if !ok || g <= last.Load() {
		return
	}
	// Ended before g is noted as seen: a reader who finds g already seen
	// must find the summaries ended too. Two readers may both end them; that
	// costs one count more.
	for _, a := range countedAreaSummaries[area] {
		s.areaGenerations[a].Add(1)
	}
	s.generation.Add(1)
	for {
		old := last.Load()
		if g <= old || last.CompareAndSwap(old, g) {
			return
		}
	}
}
