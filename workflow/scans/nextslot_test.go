package scans

import (
	"testing"
	"time"
)

func TestNextSlots(t *testing.T) {
	// Tuesday 1 December 2026, 10:30 UTC.
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	daily := []struct {
		hour int
		want *time.Time
	}{
		{-1, nil},
		{11, new(at(1, 11))}, // later today
		{10, new(at(2, 10))}, // this hour has begun: tomorrow
		{2, new(at(2, 2))},
	}
	for _, c := range daily {
		got := nextDaily(now, c.hour)
		if (got == nil) != (c.want == nil) || (got != nil && !got.Equal(*c.want)) {
			t.Errorf("nextDaily(%d) = %v, want %v", c.hour, got, c.want)
		}
	}
	weekly := []struct {
		day, hour int
		want      *time.Time
	}{
		{-1, 3, nil},
		{2, 11, new(at(1, 11))}, // Tuesday, later today
		{2, 9, new(at(8, 9))},   // Tuesday, passed: next week
		{0, 3, new(at(6, 3))},   // Sunday
		{3, 0, new(at(2, 0))},   // Wednesday midnight
	}
	for _, c := range weekly {
		got := nextWeekly(now, c.day, c.hour)
		if (got == nil) != (c.want == nil) || (got != nil && !got.Equal(*c.want)) {
			t.Errorf("nextWeekly(%d, %d) = %v, want %v", c.day, c.hour, got, c.want)
		}
	}
}
