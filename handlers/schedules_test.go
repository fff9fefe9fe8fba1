package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
)

// A slot is switched off by unticking it, whatever hour its select shows;
// the operations page lists each zone's schedule as text (when each slot
// runs, its last run linked with its status and what it concluded, when it
// comes next, or that it is off) and links admins to the zone's form.
func TestScheduleSwitchesAndRuns(t *testing.T) {
	a := newApp(t)
	adam := a.as("adam")
	var zone models.Zone
	if err := a.svc.DB().Where("name = ?", "dmz").First(&zone).Error; err != nil {
		t.Fatal(err)
	}
	done := time.Now().UTC().Add(-time.Hour)
	run := models.ScanRun{Kind: "daily", Profile: "common", Targets: "127.10.0.10", Zone: zone.Name, Status: "done", RequestedBy: "schedule",
		Progress: "{}", Summary: "drift: 1 new, 0 resolved", QueuedAt: done.Add(-time.Minute), FinishedAt: &done}
	if err := a.svc.DB().Create(&run).Error; err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatUint(uint64(zone.ID), 10)
	row := func() string {
		page := a.body(a.get(adam, "/admin/operations"))
		m := regexp.MustCompile(`(?s)<tr id="schedule-` + id + `">.*?</tr>`).FindString(page)
		if m == "" {
			t.Fatalf("no schedule row for zone %s:\n%s", id, page)
		}
		return m
	}
	form := func() string {
		resp := a.get(adam, "/admin/operations/schedules/"+id)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("schedule form: status %d", resp.StatusCode)
		}
		return a.body(resp)
	}
	r := row()
	for _, want := range []string{`id="daily-at-` + id + `">`, `href="/scans/` + strconv.FormatUint(uint64(run.ID), 10) + `"`, "drift: 1 new, 0 resolved", "Next: ",
		`href="/admin/operations/schedules/` + id + `"`} {
		if !strings.Contains(r, want) {
			t.Errorf("the zone's row lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "<select") || strings.Contains(r, "<form") {
		t.Errorf("the zone's row holds a form; its form is on a page of its own:\n%s", r)
	}
	if f := form(); !strings.Contains(f, `id="daily-on-`+id+`" checked`) {
		t.Errorf("the zone's form does not show the daily slot on:\n%s", f)
	}
	// An auditor reads the schedules but is not offered a form.
	if body := a.body(a.get(a.as("aude"), "/admin/operations")); strings.Contains(body, "/admin/operations/schedules/") {
		t.Error("an auditor is linked to a schedule form")
	}
	if resp := a.get(a.as("aude"), "/admin/operations/schedules/"+id); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an auditor opening a schedule form: status %d, want 403", resp.StatusCode)
	}

	// Daily unticked (its hour still chosen), weekly on Tuesday at 04:00.
	resp := a.post(adam, "/admin/operations/schedules/"+id, url.Values{"daily_hour": {"5"}, "weekly_on": {"on"}, "weekly_day": {"2"}, "weekly_hour": {"4"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: status %d: %s", resp.StatusCode, a.body(resp))
	}
	var sched models.ScanSchedule
	if err := a.svc.DB().First(&sched, "zone_id = ?", zone.ID).Error; err != nil {
		t.Fatal(err)
	}
	if sched.DailyHour != -1 || sched.WeeklyDay != 2 || sched.WeeklyHour != 4 {
		t.Fatalf("stored schedule %+v, want daily off and weekly Tuesday 04:00", sched)
	}
	r = row()
	if strings.Contains(r, `id="daily-at-`+id+`"`) || !strings.Contains(r, "Off: not scanned on this slot.") {
		t.Errorf("the daily slot does not read as off:\n%s", r)
	}
	if !strings.Contains(r, "Tuesday at 04:00 UTC") {
		t.Errorf("the weekly slot does not read Tuesday 04:00:\n%s", r)
	}
	f := form()
	if strings.Contains(f, `id="daily-on-`+id+`" checked`) {
		t.Errorf("the form shows the daily slot on:\n%s", f)
	}
	if !strings.Contains(f, `<option value="2" selected>`) || !strings.Contains(f, `<option value="4" selected>04:00 UTC</option>`) {
		t.Errorf("the form does not show Tuesday 04:00:\n%s", f)
	}

	// A refused save shows the zone's form again with why.
	resp = a.post(adam, "/admin/operations/schedules/"+id, url.Values{"daily_on": {"on"}, "daily_hour": {"25"}, "weekly_day": {"2"}, "weekly_hour": {"4"}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="sched-`+id+`"`) || !strings.Contains(body, `role="alert"`) {
		t.Errorf("refused save: status %d, want 400 with the zone's form and why:\n%s", resp.StatusCode, body)
	}
}
