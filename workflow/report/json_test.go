package report

import (
	"encoding/json"
	"reflect"
	"testing"
)

type jsonDocument struct {
	Title       string   `json:"title"`
	Subtitle    string   `json:"subtitle"`
	GeneratedAt string   `json:"generated_at"`
	GeneratedBy string   `json:"generated_by"`
	Filters     []Field  `json:"filters"`
	Summary     []Field  `json:"summary"`
	Notes       []string `json:"notes"`
	Tables      []struct {
		Key     string              `json:"key"`
		Title   string              `json:"title"`
		Columns []map[string]string `json:"columns"`
		Rows    []map[string]string `json:"rows"`
	} `json:"tables"`
}

func TestJSONGolden(t *testing.T) {
	got := writeSample(t, "json", Options{}, changesTable, rulesTable)
	checkGolden(t, "document.json.golden", got)

	var doc jsonDocument
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if doc.Title != "Change record" || doc.GeneratedAt != "2026-07-01T07:30:00Z" || doc.GeneratedBy != "张伟 (auditor)" {
		t.Errorf("metadata = %q, %q, %q", doc.Title, doc.GeneratedAt, doc.GeneratedBy)
	}
	if len(doc.Filters) != 2 || doc.Filters[1] != (Field{"Zone", "payments"}) {
		t.Errorf("filters = %v", doc.Filters)
	}
	if len(doc.Tables) != 2 {
		t.Fatalf("%d tables, want 2", len(doc.Tables))
	}
	changes := doc.Tables[0]
	if changes.Key != "changes" || len(changes.Rows) != len(changesRows) {
		t.Fatalf("first table %q has %d rows", changes.Key, len(changes.Rows))
	}
	// JSON is data, not a spreadsheet: values are kept exactly.
	for i, row := range changesRows {
		want := map[string]string{"id": row[0], "requested_by": row[1], "summary": row[2], "port": row[3]}
		if !reflect.DeepEqual(changes.Rows[i], want) {
			t.Errorf("row %d = %q, want %q", i, changes.Rows[i], want)
		}
	}
	if changes.Columns[3]["title"] != "port" {
		t.Errorf("untitled column got title %q, want its key", changes.Columns[3]["title"])
	}
}

func TestJSONEmptyDocumentParses(t *testing.T) {
	got := writeSample(t, "json", Options{})
	var doc jsonDocument
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("empty document is not JSON: %v\n%s", err, got)
	}
	if len(doc.Tables) != 0 {
		t.Errorf("tables = %v", doc.Tables)
	}
}
