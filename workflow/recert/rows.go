package recert

import (
	"database/sql"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// itemColumns are every column of models.Recertification and of its
// campaign, in the order scanItem reads them: a page of items is read with
// its campaigns in one joined query, without gorm's reflected Find and
// Preload (a second query) for each page.
var itemColumns = []string{
	"recertifications.id", "recertifications.campaign_id", "recertifications.request_id", "recertifications.requester_id",
	"recertifications.team", "recertifications.status", "recertifications.justification", "recertifications.new_expires_at",
	"recertifications.decided_by", "recertifications.decided_at", "recertifications.reminded_at",
	"recert_campaigns.id", "recert_campaigns.name", "recert_campaigns.due_by", "recert_campaigns.created_by",
	"recert_campaigns.created_at", "recert_campaigns.closed_at",
}

func scanItem(rows *sql.Rows, it *models.Recertification) error {
	c := &it.Campaign
	return rows.Scan(models.Uint(&it.ID), models.Uint(&it.CampaignID), models.Uint(&it.RequestID), models.Uint(&it.RequesterID), &it.Team, &it.Status, &it.Justification, &it.NewExpiresAt,
		&it.DecidedBy, &it.DecidedAt, &it.RemindedAt, models.Uint(&c.ID), &c.Name, &c.DueBy, &c.CreatedBy, &c.CreatedAt, &c.ClosedAt)
}

// findItems reads the items of q (a query on recertifications) with their
// campaigns, as q.Preload("Campaign").Find would.
func findItems(q *gorm.DB, capacity int) ([]models.Recertification, error) {
	return models.ReadRows(q.Model(&models.Recertification{}).Select(itemColumns).
		Joins("JOIN recert_campaigns ON recert_campaigns.id = recertifications.campaign_id"), capacity, scanItem)
}
