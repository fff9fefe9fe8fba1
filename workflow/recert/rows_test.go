package recert

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestItemReaderMatchesPreload: the items' reader names every column of an
// item and of its campaign, and reads what Preload("Campaign").Find reads,
// on both databases, with set and unset optional fields.
func TestItemReaderMatchesPreload(t *testing.T) {
	var items, campaigns []string
	for _, c := range itemColumns {
		if name, ok := strings.CutPrefix(c, "recertifications."); ok {
			items = append(items, name)
		} else {
			campaigns = append(campaigns, strings.TrimPrefix(c, "recert_campaigns."))
		}
	}
	modelstest.CheckColumns(t, &models.Recertification{}, items)
	modelstest.CheckColumns(t, &models.RecertCampaign{}, campaigns)
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		u := models.User{Issuer: "i", Subject: "s", Email: "a@example.test", Name: "A", Team: "payments"}
		if err := db.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
		req := models.Request{Title: "t", Justification: "j", State: "active", Version: 1, RequesterID: u.ID, ExpiresAt: at, Findings: "[]", CompensatingControls: "{}"}
		if err := db.Omit("Requester").Create(&req).Error; err != nil {
			t.Fatal(err)
		}
		open := models.RecertCampaign{Name: "open", DueBy: at, CreatedBy: "lee@example.test"}
		closed := models.RecertCampaign{Name: "closed ✓", DueBy: at.Add(time.Hour), CreatedBy: "lee@example.test", ClosedAt: &at}
		for _, c := range []*models.RecertCampaign{&open, &closed} {
			if err := db.Create(c).Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, it := range []models.Recertification{
			{CampaignID: open.ID, RequestID: req.ID, RequesterID: u.ID, Team: "payments", Status: "pending"},
			{CampaignID: closed.ID, RequestID: req.ID, RequesterID: u.ID, Team: "payments", Status: "recertified", Justification: "still used",
				NewExpiresAt: &at, DecidedBy: "a@example.test", DecidedAt: &at, RemindedAt: &at},
		} {
			if err := db.Omit("Campaign", "Request").Create(&it).Error; err != nil {
				t.Fatal(err)
			}
		}
		var viaPreload []models.Recertification
		if err := db.Preload("Campaign").Order("id").Find(&viaPreload).Error; err != nil {
			t.Fatal(err)
		}
		got, err := findItems(db.Order("recertifications.id"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !reflect.DeepEqual(got, viaPreload) {
			t.Errorf("items read\n%+v\nPreload reads\n%+v", got, viaPreload)
		}
	})
}
