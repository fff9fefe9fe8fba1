package requests

import (
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestRowReadersMatchFind: the hand-written readers of the list pages name
// every column of their model (a column added to the model and not to the
// reader fails here) and read the same values gorm's Find reads, on both
// databases, with set and unset optional fields.
func TestRowReadersMatchFind(t *testing.T) {
	modelstest.CheckColumns(t, &models.Request{}, requestColumns)
	modelstest.CheckColumns(t, &models.Rule{}, ruleColumns)
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		u := models.User{Issuer: "i", Subject: "s", Email: "a@example.test", Name: "A"}
		if err := db.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
		imp := u.ID
		for i, r := range []models.Request{
			{Title: "bare", Justification: "j", State: "draft", Version: 1, RequesterID: u.ID, ExpiresAt: at, Findings: "[]", CompensatingControls: "{}"},
			{Title: "full", Justification: "why ✓", State: "active", Version: 7, RequesterID: u.ID, Team: "payments", ExpiresAt: at.Add(time.Hour),
				NeedsSecondApproval: true, ChangeRef: "CHG-1", ImplementNote: "done", ImplementerID: &imp, Findings: `[{"code":"x"}]`,
				Exception: true, CompensatingControls: `{"x":"y"}`, Innovation: true, Assessment: `{"a":1}`,
				SubmittedAt: &at, ApprovedAt: &at, CertifiedAt: &at, ImplementedAt: &at, ClosedAt: &at,
				Rules: []models.Rule{{Position: 0, Source: "internet", Destination: "10.0.0.1", Protocol: "tcp", Ports: "443", Service: "https", Direction: "ingress"},
					{Position: 1, Source: "office", Destination: "10.0.0.2,10.0.0.3", Protocol: "udp", Ports: "53", Direction: "egress"}}},
		} {
			if err := db.Omit("Requester").Create(&r).Error; err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		var viaFind []models.Request
		if err := db.Order("id").Find(&viaFind).Error; err != nil {
			t.Fatal(err)
		}
		got, err := findRequests(db.Order("id"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !reflect.DeepEqual(got, viaFind) {
			t.Errorf("requests read\n%+v\nFind reads\n%+v", got, viaFind)
		}
		var rulesViaFind []models.Rule
		if err := db.Order("id").Find(&rulesViaFind).Error; err != nil {
			t.Fatal(err)
		}
		rules, err := findRules(db.Order("id"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != 2 || !reflect.DeepEqual(rules, rulesViaFind) {
			t.Errorf("rules read\n%+v\nFind reads\n%+v", rules, rulesViaFind)
		}
	})
}
