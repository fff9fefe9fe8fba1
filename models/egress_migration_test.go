package models_test

import (
	"os"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// migrationSection is the statement of one section ("Up" or "Down") of a
// goose migration file.
func migrationSection(t *testing.T, path, section string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	_, after, ok := strings.Cut(text, "-- +goose "+section+"\n")
	if !ok {
		t.Fatalf("%s has no %s section", path, section)
	}
	body, _, _ := strings.Cut(after, "-- +goose ")
	return body
}

// TestEgressRulesMigration: 00016 swaps the egress rules stored the old way
// round (peer as source, our asset as destination) and leaves ingress rules
// and egress rules already written as people write them alone; its Down
// puts every egress rule back the old way round.
func TestEgressRulesMigration(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		dir := "migrations/sqlite"
		if db.Dialector.Name() == "postgres" {
			dir = "migrations/postgres"
		}
		file := dir + "/00016_egress_rules_as_written.sql"
		user := models.User{Issuer: "test", Subject: "alice", Email: "alice@example.com", Name: "Alice"}
		if err := db.Create(&user).Error; err != nil {
			t.Fatal(err)
		}
		req := models.Request{Title: "t", Justification: "j", State: "draft", Version: 1, RequesterID: user.ID}
		if err := db.Omit("Rules", "Reviews", "Requester").Create(&req).Error; err != nil {
			t.Fatal(err)
		}
		rules := []models.Rule{
			{RequestID: req.ID, Position: 0, Source: "198.51.100.10/32", Destination: "127.50.0.10", Protocol: "tcp", Ports: "443", Direction: "egress"},
			{RequestID: req.ID, Position: 1, Source: "internet", Destination: "edge", Protocol: "tcp", Ports: "443", Direction: "egress"},
			{RequestID: req.ID, Position: 2, Source: "apps", Destination: "203.0.113.0/28", Protocol: "tcp", Ports: "443", Direction: "egress"},
			{RequestID: req.ID, Position: 3, Source: "internet", Destination: "127.50.0.10", Protocol: "tcp", Ports: "443", Direction: "ingress"},
		}
		if err := db.Create(&rules).Error; err != nil {
			t.Fatal(err)
		}
		read := func() [][2]string {
			var got []models.Rule
			if err := db.Order("position").Find(&got).Error; err != nil {
				t.Fatal(err)
			}
			out := make([][2]string, len(got))
			for i, r := range got {
				out[i] = [2]string{r.Source, r.Destination}
			}
			return out
		}
		before := read()
		if err := db.Exec(migrationSection(t, file, "Up")).Error; err != nil {
			t.Fatal(err)
		}
		want := [][2]string{
			{"127.50.0.10", "198.51.100.10/32"},
			{"edge", "internet"},
			{"apps", "203.0.113.0/28"},
			{"internet", "127.50.0.10"},
		}
		if got := read(); !equalPairs(got, want) {
			t.Fatalf("after Up: %v, want %v", got, want)
		}
		if err := db.Exec(migrationSection(t, file, "Down")).Error; err != nil {
			t.Fatal(err)
		}
		// Down puts every egress rule back the old way round, the one the
		// earlier release reads, including one that was written the new way.
		before[2] = [2]string{"203.0.113.0/28", "apps"}
		if got := read(); !equalPairs(got, before) {
			t.Fatalf("after Down: %v, want %v", got, before)
		}
	})
}

func equalPairs(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
