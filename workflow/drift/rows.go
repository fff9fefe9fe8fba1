package drift

import (
	"database/sql"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// itemColumns are every column of models.DriftItem, in the order scanItem
// reads them: the drift pages read 50 items through models.ReadRows rather
// than gorm's reflected Find (TestItemReaderMatchesFind keeps them equal).
var itemColumns = []string{
	"id", "key", "kind", "severity", "address", "protocol", "port", "last_port", "service",
	"approved_service", "zone", "classification", "rule_id", "request_id", "detail", "detail_facts", "evidence",
	"state", "first_seen", "last_seen", "last_scan_id", "resolved_at", "acknowledged_by",
	"suppressed_until", "suppress_reason", "filed_request_id",
}

func scanItem(rows *sql.Rows, d *models.DriftItem) error {
	return rows.Scan(models.Uint(&d.ID), &d.Key, &d.Kind, &d.Severity, &d.Address, &d.Protocol, &d.Port, &d.LastPort, &d.Service,
		&d.ApprovedService, &d.Zone, &d.Classification, &d.RuleID, &d.RequestID, &d.Detail, &d.DetailFacts, &d.Evidence,
		&d.State, &d.FirstSeen, &d.LastSeen, &d.LastScanID, &d.ResolvedAt, &d.AcknowledgedBy,
		&d.SuppressedUntil, &d.SuppressReason, &d.FiledRequestID)
}

func scanID(rows *sql.Rows, id *uint) error { return rows.Scan(models.Uint(id)) }

// readItemsInOrder reads the items of ids, in the order of ids; an item
// gone between the two reads is left out.
func readItemsInOrder(db *gorm.DB, ids []uint) ([]models.DriftItem, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := models.ReadRows(db.Model(&models.DriftItem{}).Select(itemColumns).Where("id IN ?", ids), len(ids), scanItem)
	if err != nil {
		return nil, err
	}
	byID := make(map[uint]int, len(found))
	for i, d := range found {
		byID[d.ID] = i
	}
	out := make([]models.DriftItem, 0, len(found))
	for _, id := range ids {
		if i, ok := byID[id]; ok {
			out = append(out, found[i])
		}
	}
	return out, nil
}
