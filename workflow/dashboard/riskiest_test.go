package dashboard_test

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// The riskiest assets rank by the severity of their live drift (one
// critical item outweighs several high ones), resolved items do not count,
// an address outside the inventory still shows; the oldest live drift is
// the first seen, open or acknowledged. The inbox counts the live drift on
// the assets of the reader's team.
func TestRiskiestAssetsAndOldestDrift(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, inventory.AssetInput{Address: "10.50.0.11", Hostname: "pay-db", OwnerTeam: "payments"})
		workflowtest.Must(t, err)
		now := time.Now().UTC().Truncate(time.Second)
		n := 0
		item := func(address, severity, state string, age int) {
			n++
			d := models.DriftItem{Key: fmt.Sprintf("k%d", n), Kind: "open-unapproved", Severity: severity, Address: address, Protocol: "tcp", Port: 1000 + n,
				State: state, FirstSeen: now.AddDate(0, 0, -age), LastSeen: now, Evidence: "{}"}
			if state == "resolved" {
				d.ResolvedAt = &now
			}
			workflowtest.Must(t, w.App.InTx(w.Ctx, func(tx *gorm.DB) error { return tx.Create(&d).Error }))
		}
		item("10.40.0.15", "high", "open", 1)
		item("10.40.0.15", "high", "acknowledged", 2)
		item("10.40.0.15", "high", "open", 3)
		item("10.50.0.11", "critical", "open", 4)
		item("10.50.0.11", "critical", "resolved", 90)
		item("192.0.2.9", "low", "acknowledged", 40) // not in the inventory
		d, err := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
		workflowtest.Must(t, err)
		var order []string
		for _, r := range d.Riskiest {
			order = append(order, r.Address)
		}
		if fmt.Sprint(order) != "[10.50.0.11 10.40.0.15 192.0.2.9]" {
			t.Fatalf("riskiest: %v, want the critical asset, then three highs, then the low", order)
		}
		if r := d.Riskiest[0]; r.Asset == nil || r.Asset.Hostname != "pay-db" || r.BySeverity["critical"] != 1 {
			t.Errorf("riskiest asset: %+v", r)
		}
		if d.Riskiest[1].BySeverity["high"] != 3 || d.Riskiest[2].Asset != nil {
			t.Errorf("riskiest: %+v", d.Riskiest)
		}
		if len(d.Oldest) != 5 || d.Oldest[0].Item.Address != "192.0.2.9" || d.Oldest[1].Item.Address != "10.50.0.11" || d.Oldest[0].Asset != nil || d.Oldest[1].Asset == nil {
			t.Errorf("oldest: %+v", d.Oldest)
		}
		in, err := w.App.Dashboard.Inbox(w.Ctx, w.Alice)
		workflowtest.Must(t, err)
		if in.Drift != 1 {
			t.Errorf("alice's team (payments) has 1 live item on its assets, the inbox counts %d", in.Drift)
		}
	})
}

// Past the eight it lists, the dashboard keeps the heaviest addresses, and
// among equal ones the lower in byte order, on both databases (their
// collations would order "10.5.0.9" and "10.50.0.1" differently).
func TestRiskiestAssetsTies(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		now := time.Now().UTC().Truncate(time.Second)
		n := 0
		item := func(address, severity string) {
			n++
			d := models.DriftItem{Key: fmt.Sprintf("k%d", n), Kind: "open-unapproved", Severity: severity, Address: address, Protocol: "tcp", Port: 1000 + n,
				State: "open", FirstSeen: now, LastSeen: now, Evidence: "{}"}
			workflowtest.Must(t, w.App.InTx(w.Ctx, func(tx *gorm.DB) error { return tx.Create(&d).Error }))
		}
		for _, a := range []string{"10.50.0.1", "10.5.0.9", "10.5.0.10", "10.6.0.1", "10.7.0.1", "10.8.0.1", "10.9.0.1", "10.0.0.1", "10.1.0.1"} {
			item(a, "medium")
		}
		item("192.0.2.1", "weird") // an unknown severity weighs 1
		item("192.0.2.2", "low")
		item("192.0.2.2", "low")
		item("192.0.2.2", "low")
		item("192.0.2.2", "low") // 4 × 2 = 8, as one medium
		d, err := w.App.Dashboard.Dashboard(w.Ctx, w.Rita)
		workflowtest.Must(t, err)
		var order []string
		for _, r := range d.Riskiest {
			order = append(order, fmt.Sprintf("%s:%d", r.Address, r.Score))
		}
		want := "[10.0.0.1:8 10.1.0.1:8 10.5.0.10:8 10.5.0.9:8 10.50.0.1:8 10.6.0.1:8 10.7.0.1:8 10.8.0.1:8]"
		if fmt.Sprint(order) != want {
			t.Errorf("riskiest: %v, want %s", order, want)
		}
	})
}
