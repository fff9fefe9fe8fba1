//go:build lab

package lab

import (
	"strings"
	"testing"
	"time"
)

func TestBenchGoals(t *testing.T) {
	perfect := score{truePositives: 3, serviceRight: 3}
	rows := []benchRow{
		{scenario: "lab", tool: "portcullis (SYN, identify, UDP)", method: "syn", wall: 20 * time.Second, score: perfect, scored: true},
		{scenario: "lab", tool: "nmap -sT -p- -T4", wall: 90 * time.Second, score: perfect, scored: true},
		{scenario: "lab", tool: "nmap -sS -p- -T4", wall: 50 * time.Second, score: perfect, scored: true},
		{scenario: "delay (30ms, 1%)", tool: "portcullis (SYN, identify, UDP)", method: "syn", wall: time.Minute, score: perfect, scored: true},
		{scenario: "delay (30ms, 1%)", tool: "portcullis --connect (identify, UDP)", method: "connect", wall: 3 * time.Minute, score: perfect, scored: true},
		{scenario: "delay (30ms, 1%)", tool: "nmap -sS -p- -T4", wall: 12 * time.Minute, note: "stopped after 12m0s"},
		{scenario: "/16 sweep", tool: "portcullis -p common", method: "syn", wall: time.Minute, rss: 50 * 1024, note: "finished, 3 open ports found"},
	}
	out := goals(rows)
	for _, want := range []struct{ goal, verdict string }{
		{"SYN <= 1/3 of nmap -sT -p- -T4", "met      20s vs 1m30s"},
		{"SYN no slower than nmap -sS -p- -T4", "met      20s vs 50s"},
		{"syn >= 5x faster than nmap -sS -p- -T4", "met      1m0s vs nmap stopped after 12m0s: at least 12.0x"},
		{"connect >= 5x faster than nmap -sS -p- -T4", "not met  3m0s vs nmap stopped after 12m0s: at least 4.0x"},
		{"/16 common sweep < 200 MB peak RSS", "met      50 MiB"},
	} {
		ok := false
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, want.goal) && strings.Contains(line, " "+want.verdict) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("no goal line with %q and %q:\n%s", want.goal, want.verdict, out)
		}
	}
}
