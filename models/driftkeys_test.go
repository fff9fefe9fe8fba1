package models_test

import (
	"testing"

	"github.com/portcullis/portcullis/models"
)

// Stored approved-closed items take their request into their key (step 14),
// so the scanner's next comparison finds them again instead of opening a
// second item; other kinds and keys already carrying it are left as they are.
func TestStaleRuleKeysNameTheirRequest(t *testing.T) {
	for _, tc := range gooseDatabases() {
		t.Run(tc.name, func(t *testing.T) {
			driverDSN, openDSN := tc.dsn(t)
			sqlDB := tc.upTo(t, driverDSN, 13)
			ins := `INSERT INTO drift_items ("key", kind, severity, address, request_id, state) VALUES ($1, $2, 'info', '10.0.0.5', $3, 'open')`
			for _, it := range []struct {
				key, kind string
				request   int
			}{
				{"approved-closed|10.0.0.5|tcp|443", "approved-closed", 15},
				{"approved-closed|10.0.0.5|tcp|8443|request-17", "approved-closed", 17},
				{"open-unapproved|10.0.0.5|tcp|22", "open-unapproved", 0},
				{"service-mismatch|10.0.0.5|tcp|80", "service-mismatch", 9},
			} {
				if _, err := sqlDB.Exec(ins, it.key, it.kind, it.request); err != nil {
					t.Fatal(err)
				}
			}
			db := open(t, openDSN)
			var keys []string
			if err := db.Model(&models.DriftItem{}).Order("id").Pluck("key", &keys).Error; err != nil {
				t.Fatal(err)
			}
			want := []string{
				"approved-closed|10.0.0.5|tcp|443|request-15",
				"approved-closed|10.0.0.5|tcp|8443|request-17",
				"open-unapproved|10.0.0.5|tcp|22",
				"service-mismatch|10.0.0.5|tcp|80",
			}
			if len(keys) != len(want) {
				t.Fatalf("keys %q", keys)
			}
			for i := range want {
				if keys[i] != want[i] {
					t.Errorf("key %d: %q, want %q", i, keys[i], want[i])
				}
			}
		})
	}
}
