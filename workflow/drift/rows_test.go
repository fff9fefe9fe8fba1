package drift

import (
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestItemReaderMatchesFind: the drift pages' row reader names every
// column of models.DriftItem and reads what gorm's Find reads, in the
// order asked for, on both databases.
func TestItemReaderMatchesFind(t *testing.T) {
	modelstest.CheckColumns(t, &models.DriftItem{}, itemColumns)
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		at := time.Date(2026, 5, 6, 7, 8, 9, 250000000, time.UTC)
		filed := uint(9)
		items := []models.DriftItem{
			{Key: "a", Kind: "open-unapproved", Severity: "high", Address: "10.0.0.1", State: Open, FirstSeen: at, LastSeen: at, Evidence: "{}"},
			{Key: "b", Kind: "service-mismatch", Severity: "low", Address: "10.0.0.2", Protocol: "tcp", Port: 22, LastPort: 22, Service: "ssh",
				ApprovedService: "https", Zone: "dmz", Classification: "dmz", RuleID: 3, RequestID: 4, Detail: "d ✓", Evidence: `{"x":1}`,
				State: Suppressed, FirstSeen: at, LastSeen: at.Add(time.Hour), LastScanID: 5, ResolvedAt: &at, AcknowledgedBy: "rita",
				SuppressedUntil: &at, SuppressReason: "maintenance", FiledRequestID: &filed},
		}
		if err := db.Create(&items).Error; err != nil {
			t.Fatal(err)
		}
		var viaFind []models.DriftItem
		if err := db.Order("id DESC").Find(&viaFind).Error; err != nil {
			t.Fatal(err)
		}
		got, err := readItemsInOrder(db, []uint{items[1].ID, 424242, items[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !reflect.DeepEqual(got, viaFind) {
			t.Errorf("read\n%+v\nFind reads\n%+v", got, viaFind)
		}
	})
}
