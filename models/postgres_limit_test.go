package models_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestPostgresPlansListStatementsOnce: on PostgreSQL a LIMIT and OFFSET are
// written into the statement, so that a list's prepared statement gets one
// generic plan instead of being planned again at every execution (the
// generic plan of "LIMIT $1" is costed as if a tenth of the table were
// read, which the planner always judged worse); the rows are the same.
func TestPostgresPlansListStatementsOnce(t *testing.T) {
	db := modelstest.Postgres(t)
	for i := range 5 {
		if err := db.Create(&models.Zone{Name: "zone-" + string(rune('a'+i)), Classification: "internal", CIDRs: "10.0.0.0/8"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	list := func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&models.Zone{}).Where("classification = ?", "internal").Order("name").Limit(2).Offset(1)
	}
	stmt := list(db.Session(&gorm.Session{DryRun: true})).Find(&[]models.Zone{}).Statement
	if sql := stmt.SQL.String(); !strings.HasSuffix(sql, "ORDER BY name LIMIT 2 OFFSET 1") || len(stmt.Vars) != 1 {
		t.Errorf("statement %q with %d parameters; want the limit and offset written in it and one parameter", sql, len(stmt.Vars))
	}
	var names []string
	if err := list(db).Pluck("name", &names).Error; err != nil || strings.Join(names, ",") != "zone-b,zone-c" {
		t.Fatalf("rows %v (%v), want zone-b,zone-c", names, err)
	}
	// Run as the pages do (a statement prepared on its connection), past
	// the planner's five trial plans: it is then planned once.
	var custom, generic int64
	err := db.Connection(func(tx *gorm.DB) error {
		for range 10 {
			if err := list(tx.Session(&gorm.Session{NewDB: true})).Pluck("name", &names).Error; err != nil {
				return err
			}
		}
		return tx.Raw(`SELECT custom_plans, generic_plans FROM pg_prepared_statements WHERE statement LIKE '%FROM "zones"%LIMIT 2 OFFSET 1'`).Row().Scan(&custom, &generic)
	})
	if err != nil {
		t.Fatalf("the list's prepared statement: %v", err)
	}
	if generic < 5 {
		t.Errorf("of 10 runs, %d were planned again and %d used the one generic plan; want the generic plan from the sixth on", custom, generic)
	}
}
