package scans_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// Only the targets of zones where an admin turned the checks on reach the
// scanner as credential targets, and turning them on is audited.
func TestCredentialChecksFollowTheZoneSwitch(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{}
	w.App.Scans.SetScanner(sc, scans.Policy{})

	scanNow(t, w, "10.40.0.15", "10.50.0.10")
	if got := sc.Jobs[0].CheckCredentials; len(got) != 0 {
		t.Fatalf("credential targets %v with every zone off (the default)", got)
	}

	zones, err := w.App.Inventory.ListZones(w.Ctx)
	workflowtest.Must(t, err)
	var apps models.Zone
	for _, z := range zones {
		if z.Name == "apps" {
			apps = z
		}
	}
	in := inventory.ZoneInput{Name: apps.Name, Classification: apps.Classification, CIDRs: apps.CIDRs, CheckCredentials: true}
	_, err = w.App.Inventory.SaveZone(w.Ctx, w.Rita, apps.ID, in)
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Inventory.SaveZone(w.Ctx, w.Adam, apps.ID, in)
	workflowtest.Must(t, err)
	var ev models.AuditEvent
	workflowtest.Must(t, w.App.DB().Where("action = ? AND object_id = ?", "zone.update", apps.ID).Order("seq desc").First(&ev).Error)
	if !strings.Contains(ev.Detail, `"CheckCredentials":true`) || !strings.Contains(ev.Detail, `"CheckCredentials":false`) {
		t.Errorf("the audit event does not show the switch going on: %s", ev.Detail)
	}

	scanNow(t, w, "10.40.0.15", "10.50.0.10")
	got := sc.Jobs[1].CheckCredentials
	if len(got) != 1 || got[0] != netip.MustParseAddr("10.40.0.15") {
		t.Fatalf("credential targets %v, want only 10.40.0.15 (apps on, pci off)", got)
	}
}
