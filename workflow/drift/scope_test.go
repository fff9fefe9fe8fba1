package drift_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// A scan of one host reads that host's drift items and the rules that reach
// it, nothing of another host: the other host's item and rule are neither
// loaded nor touched.
func TestDriftComparisonReadsOnlyTheScannedHosts(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	const other, scanned = "10.50.0.10", "10.40.0.15"
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{
		other:   {{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true}, {Port: 3306, Protocol: "tcp", State: "open", Service: "mysql"}},
		scanned: {{Port: 8080, Protocol: "tcp", State: "open", Service: "http"}},
	}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	w.Implemented(t, workflowtest.LowRisk()) // a rule on 10.50.0.10 tcp/443, verified by its scan
	w.RunQueued(t)
	_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{other}, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	theirs, err := w.App.Drift.List(w.Ctx, w.Rita, drift.Filter{Address: other})
	workflowtest.Must(t, err)
	if len(theirs) != 1 || theirs[0].Port != 3306 {
		t.Fatalf("drift on the other host: %+v", theirs)
	}

	var loadedItems, loadedRules, loadedRequests []string
	workflowtest.Must(t, w.App.DB().Callback().Query().After("gorm:query").Register("test:watch", func(tx *gorm.DB) {
		switch d := tx.Statement.Dest.(type) {
		case *[]models.DriftItem:
			for _, it := range *d {
				loadedItems = append(loadedItems, it.Address)
			}
		case *[]models.Rule:
			for _, ru := range *d {
				loadedRules = append(loadedRules, ru.Destination)
			}
		case *[]models.Request:
			for _, r := range *d {
				loadedRequests = append(loadedRequests, r.Title)
			}
		}
	}))
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{scanned}, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	workflowtest.Must(t, w.App.DB().Callback().Query().Remove("test:watch"))

	for _, a := range loadedItems {
		if a != scanned {
			t.Fatalf("the scan of %s loaded a drift item of %s", scanned, a)
		}
	}
	for _, d := range loadedRules {
		if d == other {
			t.Fatalf("the scan of %s loaded a rule on %s", scanned, other)
		}
	}
	if len(loadedRequests) != 0 {
		t.Fatalf("the scan loaded requests it has no rule of: %v", loadedRequests)
	}
	mine, err := w.App.Drift.List(w.Ctx, w.Rita, drift.Filter{Address: scanned})
	workflowtest.Must(t, err)
	if len(mine) != 1 || mine[0].Port != 8080 {
		t.Fatalf("drift on the scanned host: %+v", mine)
	}
	after, err := w.App.Drift.Get(w.Ctx, w.Rita, theirs[0].ID)
	workflowtest.Must(t, err)
	if after.State != theirs[0].State || after.LastScanID != theirs[0].LastScanID || !after.LastSeen.Equal(theirs[0].LastSeen) {
		t.Fatalf("the other host's item changed: %+v -> %+v", theirs[0], after)
	}
}

// A zone rule reaches the hosts of its zone: scanning one of them still
// judges against it.
func TestZoneRulesStillReachTheirHosts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		reaching, err := drift.RulesReaching(w.App.DB(), []string{"10.40.0.15"}, []string{"apps"}, nil)
		workflowtest.Must(t, err)
		if len(reaching) != 0 {
			t.Fatalf("rules of no state: %+v", reaching)
		}
		// Rules written straight: one on the zone, one on two addresses, one
		// elsewhere, one on two other addresses; and a request that ended
		// with a rule on two addresses, one of them the host's.
		req := models.Request{Title: "t", Justification: "j", State: "active", RequesterID: w.Alice.ID}
		workflowtest.Must(t, w.App.DB().Create(&req).Error)
		for i, dest := range []string{"apps", "10.40.0.16,10.40.0.15", "10.50.0.10", "10.40.0.20,10.40.0.21"} {
			workflowtest.Must(t, w.App.DB().Create(&models.Rule{RequestID: req.ID, Position: i, Source: "office", Destination: dest, Protocol: "tcp", Ports: "22", Direction: "ingress"}).Error)
		}
		ended := models.Request{Title: "t", Justification: "j", State: "expired", RequesterID: w.Alice.ID}
		workflowtest.Must(t, w.App.DB().Create(&ended).Error)
		workflowtest.Must(t, w.App.DB().Create(&models.Rule{RequestID: ended.ID, Position: 0, Source: "office", Destination: "10.40.0.15,10.40.0.30", Protocol: "tcp", Ports: "23", Direction: "ingress"}).Error)
		reaching, err = drift.RulesReaching(w.App.DB(), []string{"10.40.0.15"}, []string{"apps"}, []requests.State{requests.StateActive})
		workflowtest.Must(t, err)
		got := map[string]bool{}
		for _, r := range reaching {
			got[r.Rule.Destination] = true
			if r.Request.ID != req.ID {
				t.Fatalf("rule without its request, or of a request not in force: %+v", r)
			}
		}
		if len(got) != 2 || !got["apps"] || !got["10.40.0.16,10.40.0.15"] {
			t.Fatalf("rules reaching 10.40.0.15: %v", got)
		}
	})
}
