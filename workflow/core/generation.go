package core

import "context"

// A CountedArea is a set of tables whose writes the database counts itself
// (migration 00022): triggers add to the area's generation in each writer's
// transaction, whoever the writer is — this instance, another one on the
// same database, or an operator's SQL.
type CountedArea string

const (
	// CountedRequests is what a list of requests shows: the requests, their
	// rules and reviews, and the people who filed and approved them.
	CountedRequests CountedArea = "requests"
	// CountedRecert is re-certification campaigns and their items.
	CountedRecert CountedArea = "recert"
	// CountedInventory is zones, assets, applications, settings and scan
	// schedules.
	CountedInventory CountedArea = "inventory"
	// CountedScans is scan runs, their status and progress included, and
	// their results by host and port.
	CountedScans CountedArea = "scans"
	// CountedDrift is drift items.
	CountedDrift CountedArea = "drift"
	// CountedAlerts is the deliveries of drift alerts.
	CountedAlerts CountedArea = "alerts"
)

// DataGeneration is the sum of the areas' generations. Each only grows, so
// two reads that give the same sum saw the same rows in those areas; what is
// read after it is at least as new as it.
func (s *Store) DataGeneration(ctx context.Context, areas ...CountedArea) (int64, error) {
	var g int64
	err := s.db.WithContext(ctx).Raw("SELECT COALESCE(SUM(generation), 0) FROM data_generations WHERE area IN ?", areas).Row().Scan(&g)
	return g, err
}
