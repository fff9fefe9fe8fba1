package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func sampleDocument() Document {
	return Document{
		Title:       "Change record",
		Subtitle:    "PCI DSS 1.2.7 re-certification",
		GeneratedAt: time.Date(2026, 7, 1, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
		GeneratedBy: "张伟 (auditor)",
		Filters:     []Field{{"Period", "2026-01-01 to 2026-06-30"}, {"Zone", "payments"}},
		Summary:     []Field{{"Changes", "4"}, {"Approved", "3"}, {"Owner", "=1+2"}},
		Notes:       []string{"Timestamps are UTC."},
	}
}

var changesTable = Table{
	Key:   "changes",
	Title: "Changes",
	Columns: []Column{
		{Key: "id", Title: "Change", Width: 1},
		{Key: "requested_by", Title: "Requested by", Width: 2},
		{Key: "summary", Title: "Summary", Width: 4},
		{Key: "port"}, // no title, no width: defaults apply
	},
}

var changesRows = [][]string{
	{"CHG-1", "张伟", "开放 支付网关 443 <b>&", "443"},
	{"CHG-2", "=SUM(A1)", "+1", "-2"},
	{"CHG-3", "@x", "\tTabbed", "\rCR"},
	{"CHG-4", `Alice, "the auditor"`, "line1\nline2", ""},
}

var rulesTable = Table{
	Key:   "rules/1.2.5",
	Title: "Rule register",
	Columns: []Column{
		{Key: "rule", Title: "Rule"},
		{Key: "service", Title: "Service"},
	},
}

var rulesRows = [][]string{
	{"R-1", "ssh"},
	{"R-2", "=1+1"},
}

// writeSample writes the sample document with the given tables.
func writeSample(t testing.TB, format string, opts Options, tables ...Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, opts)
	if err != nil {
		t.Fatalf("New(%q): %v", format, err)
	}
	if err := w.Begin(sampleDocument()); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	for _, table := range tables {
		rows := changesRows
		if table.Key == rulesTable.Key {
			rows = rulesRows
		}
		if err := w.StartTable(table); err != nil {
			t.Fatalf("StartTable(%s): %v", table.Key, err)
		}
		for _, row := range rows {
			if err := w.Row(row...); err != nil {
				t.Fatalf("Row: %v", err)
			}
		}
		if err := w.EndTable(); err != nil {
			t.Fatalf("EndTable: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output:\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
