package inventory_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func tierOf(t *testing.T, w *workflowtest.World, app string) policy.Tier {
	t.Helper()
	tiers, err := w.App.Inventory.Tiers(w.Ctx)
	workflowtest.Must(t, err)
	return inventory.TierOf(tiers, app)
}

func TestImportAssetsWithTiers(t *testing.T) {
	for _, c := range []struct {
		name string
		csv  string
		// bad lines as "line field", and words of the first message; none: imported
		bad      []string
		contains string
	}{
		{name: "agreeing lines", csv: "address,application,tier\n10.40.1.1,pilot,innovation\n10.40.1.2,pilot,Innovation\n10.40.1.3,ledger,critical\n10.40.1.4,pilot,\n"},
		{name: "disagreeing lines", csv: "address,application,tier\n10.40.1.1,pilot,innovation\n10.40.1.2,ledger,critical\n10.40.1.3,pilot,standard\n",
			bad: []string{"4 tier"}, contains: `application "pilot" is innovation on line 2 but standard on line 4`},
		{name: "an unknown tier", csv: "address,application,tier\n10.40.1.1,pilot,experimental\n", bad: []string{"2 tier"}, contains: "not one of innovation, standard, critical"},
		{name: "a tier without an application", csv: "address,application,tier\n10.40.1.1,,innovation\n", bad: []string{"2 tier"}, contains: "no application"},
		{name: "a bad address beside a disagreement", csv: "address,application,tier\nnot-an-ip,pilot,innovation\n10.40.1.2,pilot,critical\n10.40.1.3,pilot,innovation\n",
			bad: []string{"2 address", "3 tier"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := workflowtest.SQLiteWorld(t)
			var before int64
			w.App.DB().Model(&models.Asset{}).Count(&before)
			created, _, err := w.App.Inventory.ImportAssets(w.Ctx, w.Adam, strings.NewReader(c.csv))
			if len(c.bad) == 0 {
				workflowtest.Must(t, err)
				if created != 4 || tierOf(t, w, "pilot") != policy.TierInnovation || tierOf(t, w, "ledger") != policy.TierCritical {
					t.Fatalf("created %d, pilot %s, ledger %s", created, tierOf(t, w, "pilot"), tierOf(t, w, "ledger"))
				}
				return
			}
			var ie *inventory.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err %v, want an import error", err)
			}
			workflowtest.MustCode(t, err, core.CodeInvalid)
			var got []string
			for _, l := range ie.Lines {
				got = append(got, fmt.Sprintf("%d %s", l.Line, l.Field))
			}
			if strings.Join(got, ",") != strings.Join(c.bad, ",") {
				t.Fatalf("bad lines %v, want %v (%+v)", got, c.bad, ie.Lines)
			}
			if c.contains != "" && !strings.Contains(ie.Lines[0].Message, c.contains) {
				t.Fatalf("message %q lacks %q", ie.Lines[0].Message, c.contains)
			}
			// Nothing half-written: no asset, no tier.
			var after, tiered int64
			w.App.DB().Model(&models.Asset{}).Count(&after)
			w.App.DB().Model(&models.Application{}).Count(&tiered)
			if after != before || tiered != 0 {
				t.Fatalf("assets %d → %d, %d tiers written by a refused import", before, after, tiered)
			}
		})
	}
}

func TestSetTier(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	workflowtest.MustCode(t, w.App.Inventory.SetTier(w.Ctx, w.Rita, "pilot", "innovation"), core.CodeForbidden)
	for _, c := range []struct{ app, tier, field string }{
		{"", "innovation", "application"}, {"pilot", "bold", "tier"}, {strings.Repeat("a", core.Limits.Label+1), "critical", "application"},
	} {
		if _, ok := workflowtest.FieldErrorsOf(w.App.Inventory.SetTier(w.Ctx, w.Adam, c.app, c.tier))[c.field]; !ok {
			t.Errorf("SetTier(%q, %q) not refused on %s", c.app, c.tier, c.field)
		}
	}
	workflowtest.Must(t, w.App.Inventory.SetTier(w.Ctx, w.Adam, "pilot", "innovation"))
	workflowtest.Must(t, w.App.Inventory.SetTier(w.Ctx, w.Adam, "pilot", "innovation")) // no change, no event
	var events []models.AuditEvent
	workflowtest.Must(t, w.App.DB().Where("action = ?", "application.tier").Find(&events).Error)
	if len(events) != 1 || events[0].FromState != "standard" || events[0].ToState != "innovation" {
		t.Fatalf("audit %+v", events)
	}
	apps, err := w.App.Inventory.ListApplications(w.Ctx)
	workflowtest.Must(t, err)
	if len(apps) != 1 || apps[0].Name != "pilot" || apps[0].Tier != policy.TierInnovation || apps[0].UpdatedBy != w.Adam.Email {
		t.Fatalf("applications %+v", apps)
	}
}
