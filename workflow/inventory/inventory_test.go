package inventory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestAssetZoneIsDerivedFromAddress(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	assets, err := w.App.Inventory.ListAssets(w.Ctx)
	workflowtest.Must(t, err)
	zoneOf := map[string]string{}
	for _, a := range assets {
		if a.Zone != nil {
			zoneOf[a.Address] = a.Zone.Name
		}
	}
	if zoneOf["10.50.0.10"] != "pci" || zoneOf["2001:db8:40::15"] != "apps" {
		t.Fatalf("derived zones %v", zoneOf)
	}
	// A more specific zone takes the host over, and a deleted zone lets it go.
	z, err := w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, inventory.ZoneInput{Name: "pci-core", Classification: "high", CIDRs: "10.40.0.16/32"})
	workflowtest.Must(t, err)
	a := findAsset(t, w, "10.40.0.16")
	if a.Zone == nil || a.Zone.Name != "pci-core" {
		t.Fatalf("asset zone %+v, want pci-core", a.Zone)
	}
	workflowtest.Must(t, w.App.Inventory.DeleteZone(w.Ctx, w.Adam, z.ID))
	if a := findAsset(t, w, "10.40.0.16"); a.Zone == nil || a.Zone.Name != "apps" {
		t.Fatalf("after delete: %+v, want apps", a.Zone)
	}
}

func findAsset(t *testing.T, w *workflowtest.World, addr string) models.Asset {
	t.Helper()
	assets, err := w.App.Inventory.ListAssets(w.Ctx)
	workflowtest.Must(t, err)
	for _, a := range assets {
		if a.Address == addr {
			return a
		}
	}
	t.Fatalf("no asset %s", addr)
	return models.Asset{}
}

func TestZoneInputErrors(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	for _, tc := range []struct {
		in    inventory.ZoneInput
		field string
	}{
		{inventory.ZoneInput{Name: "x", Classification: "secret", CIDRs: "10.9.0.0/16"}, "classification"},
		{inventory.ZoneInput{Name: "x", Classification: "low", CIDRs: "10.9.0.1/16"}, "cidrs"},
		{inventory.ZoneInput{Name: "x", Classification: "low"}, "cidrs"},
		{inventory.ZoneInput{Name: "9x", Classification: "low", CIDRs: "10.9.0.0/16"}, "name"},
		{inventory.ZoneInput{Name: "dmz", Classification: "low", CIDRs: "10.9.0.0/16"}, "name"},
	} {
		_, err := w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, tc.in)
		workflowtest.MustCode(t, err, core.CodeInvalid)
		if _, ok := workflowtest.FieldErrorsOf(err)[tc.field]; !ok {
			var fe core.FieldErrors
			if !errors.As(err, &fe) || fe.ByField(tc.field) == "" {
				t.Errorf("%+v: error %v does not name %s", tc.in, err, tc.field)
			}
		}
	}
}

func TestImportAssetsAllOrNothing(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	count := func() int64 {
		var n int64
		w.App.DB().Model(&models.Asset{}).Count(&n)
		return n
	}
	before := count()
	bad := "address,hostname,owner_team,application\n10.40.0.50,crm2,sales,CRM\n10.40.0.999,broken,sales,CRM\n10.40.0.51,crm3,sales,CRM\n10.40.0.50,dup,sales,CRM\n"
	_, _, err := w.App.Inventory.ImportAssets(w.Ctx, w.Adam, strings.NewReader(bad))
	var ie *inventory.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want an import error", err)
	}
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if len(ie.Lines) != 2 || ie.Lines[0].Line != 3 || ie.Lines[0].Field != "address" || ie.Lines[1].Line != 5 || !strings.Contains(ie.Lines[1].Message, "line 2") {
		t.Fatalf("line errors %+v", ie.Lines)
	}
	if count() != before {
		t.Fatalf("a bad file imported %d assets", count()-before)
	}
	good := "hostname,address\ncrm2,10.40.0.50\npay,10.50.0.10\n"
	created, updated, err := w.App.Inventory.ImportAssets(w.Ctx, w.Adam, strings.NewReader(good))
	workflowtest.Must(t, err)
	if created != 1 || updated != 1 || count() != before+1 {
		t.Fatalf("created %d updated %d", created, updated)
	}
	if a := findAsset(t, w, "10.40.0.50"); a.Zone == nil || a.Zone.Name != "apps" || a.Hostname != "crm2" {
		t.Fatalf("imported asset %+v", a)
	}
	_, _, err = w.App.Inventory.ImportAssets(w.Ctx, w.Rita, strings.NewReader(good))
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, _, err = w.App.Inventory.ImportAssets(w.Ctx, w.Adam, strings.NewReader("host,name\nx,y\n"))
	workflowtest.MustCode(t, err, core.CodeInvalid)
}
