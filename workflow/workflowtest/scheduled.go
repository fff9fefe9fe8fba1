package workflowtest

import (
	"context"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/scans"
)

// ScanMornings runs a zone's scheduled scans on consecutive mornings from
// the day after now (02:30 UTC), the network answering as each day's map
// says (open ports by address), through the app's own schedule, so that the
// daily reports follow. The app's clock is left at the last morning; it
// returns that time.
func ScanMornings(t testing.TB, app *workflow.App, days ...map[string][]scans.Port) time.Time {
	t.Helper()
	ctx := context.Background()
	fake := &FakeScanner{}
	app.Scans.SetScanner(fake, scans.Policy{})
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), now.Day(), 2, 30, 0, 0, time.UTC).AddDate(0, 0, 1)
	var at time.Time
	app.SetClock(func() time.Time { return at })
	w := &World{App: app, Ctx: ctx}
	for i, open := range days {
		at = first.AddDate(0, 0, i)
		fake.Open = open
		_, err := w.ScheduleDue(t)
		Must(t, err)
		w.RunQueued(t)
	}
	last := at
	app.SetClock(func() time.Time { return last })
	return last
}
