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
// the table shows each slot's last run (linked, with its status and what it
// concluded) and when it comes next, or that it is off.
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
	r := row()
	for _, want := range []string{`id="daily-on-` + id + `" checked`, `href="/scans/` + strconv.FormatUint(uint64(run.ID), 10) + `"`, "drift: 1 new, 0 resolved", "Next: "} {
		if !strings.Contains(r, want) {
			t.Errorf("the zone's row lacks %q:\n%s", want, r)
		}
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
	if strings.Contains(r, `id="daily-on-`+id+`" checked`) || !strings.Contains(r, "Off: not scanned on this slot.") {
		t.Errorf("the daily slot does not read as off:\n%s", r)
	}
	if !strings.Contains(r, `<option value="2" selected>`) || !strings.Contains(r, `<option value="4" selected>04:00 UTC</option>`) {
		t.Errorf("the weekly slot does not show Tuesday 04:00:\n%s", r)
	}
}
