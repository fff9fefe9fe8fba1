package requests

import (
	"context"
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
		u := models.User{Issuer: "i", Subject: "s", Email: "a@example.test", Name: "A", Team: "payments"}
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
		// Listed (queues) and shown (plain lists): each request has the
		// columns it shows, the rest zero.
		for _, c := range []struct {
			name    string
			columns []string
			ctx     context.Context
			partial func(models.Request) bool // the columns read and left out, on the full request
		}{
			{"listed", listedColumns, ForListing(t.Context()), func(r models.Request) bool {
				return r.Justification == "" && r.Title == "full" && r.Innovation
			}},
			{"shown", shownColumns, ForRequestList(t.Context()), func(r models.Request) bool {
				return r.Findings == "" && r.Title == "full" && r.NeedsSecondApproval
			}},
		} {
			var want []models.Request
			if err := db.Select(c.columns).Order("id").Find(&want).Error; err != nil {
				t.Fatal(err)
			}
			got, err := findRequests(db.WithContext(c.ctx).Order("id"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || !reflect.DeepEqual(got, want) || !c.partial(got[1]) {
				t.Errorf("%s requests read\n%+v\nFind reads\n%+v", c.name, got, want)
			}
		}
		var userViaFind models.User
		if err := db.First(&userViaFind, u.ID).Error; err != nil {
			t.Fatal(err)
		}
		people, err := findRequesters(db.Where("id = ?", u.ID), 1)
		if err != nil {
			t.Fatal(err)
		}
		want := models.User{ID: userViaFind.ID, Email: userViaFind.Email, Name: userViaFind.Name, Team: userViaFind.Team}
		if len(people) != 1 || !reflect.DeepEqual(people[0], want) {
			t.Errorf("requesters read %+v, want %+v", people, want)
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
		// Summed up, each rule has its request, protocol and ports, the rest zero.
		var summariesViaFind []models.Rule
		if err := db.Select(summaryRuleColumns).Order("id").Find(&summariesViaFind).Error; err != nil {
			t.Fatal(err)
		}
		summaries, err := findRules(db.WithContext(ForRuleSummaries(t.Context())).Order("id"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(summaries) != 2 || !reflect.DeepEqual(summaries, summariesViaFind) || summaries[1].Ports != "53" || summaries[1].Source != "" {
			t.Errorf("summed-up rules read\n%+v\nFind reads\n%+v", summaries, summariesViaFind)
		}
	})
}
