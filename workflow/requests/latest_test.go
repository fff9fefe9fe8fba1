package requests_test

import (
	"testing"

	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// A home's latest own requests are the first page of the requester's own
// list, kept until the next change: a request filed is there at once.
func TestLatestOwnIsTheFirstPageUntilAChange(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	first := w.Create(t, w.Alice, workflowtest.LowRisk())
	latest, err := w.App.Requests.LatestOwn(w.Ctx, w.Alice, 1)
	workflowtest.Must(t, err)
	if len(latest.Items) != 1 || latest.Items[0].ID != first.ID || latest.Next != "" || latest.Items[0].Title == "" || len(latest.Items[0].Rules) == 0 {
		t.Fatalf("latest: %+v, want request %d alone with its title and rules", latest, first.ID)
	}
	second := w.Create(t, w.Alice, workflowtest.LowRisk())
	latest, err = w.App.Requests.LatestOwn(w.Ctx, w.Alice, 1)
	workflowtest.Must(t, err)
	if len(latest.Items) != 1 || latest.Items[0].ID != second.ID || latest.Next == "" {
		t.Fatalf("after filing %d: %+v, want it first and a next page", second.ID, latest)
	}
	other, err := w.App.Requests.LatestOwn(w.Ctx, w.Rita, 1)
	workflowtest.Must(t, err)
	if len(other.Items) != 0 {
		t.Errorf("rita's latest: %+v, want none (the list is per person)", other.Items)
	}
}
