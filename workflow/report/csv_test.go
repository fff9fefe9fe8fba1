package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
)

func TestCSVSingleTableGolden(t *testing.T) {
	got := writeSample(t, "csv", Options{}, changesTable)
	checkGolden(t, "single.csv.golden", got)

	// It must parse as plain CSV: header, then the neutralised rows.
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(got, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatalf("parsing the CSV: %v", err)
	}
	want := [][]string{
		{"Change", "Requested by", "Summary", "port"},
		{"CHG-1", "张伟", "开放 支付网关 443 <b>&", "443"},
		{"CHG-2", "'=SUM(A1)", "'+1", "'-2"},
		{"CHG-3", "'@x", "'\tTabbed", "'\rCR"},
		{"CHG-4", `Alice, "the auditor"`, "line1\nline2", ""},
	}
	if !slices.EqualFunc(records, want, slices.Equal) {
		t.Errorf("records = %q\nwant %q", records, want)
	}
}

func TestCSVSectionsGolden(t *testing.T) {
	got := writeSample(t, "csv", Options{CSVSections: true, CSVOmitBOM: true}, changesTable, rulesTable)
	checkGolden(t, "sections.csv.golden", got)
}

func TestCSVSecondTableNeedsSections(t *testing.T) {
	w, err := New("csv", &bytes.Buffer{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Begin(Document{})
	_ = w.StartTable(changesTable)
	_ = w.EndTable()
	if err := w.StartTable(rulesTable); err == nil {
		t.Fatal("second CSV table without CSVSections: no error")
	}
}

func TestNeutraliseCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":         "",
		"=SUM(A1)": "'=SUM(A1)",
		"+1":       "'+1",
		"-2":       "'-2",
		"@x":       "'@x",
		"\tx":      "'\tx",
		"\rx":      "'\rx",
		"a=b":      "a=b",
		"张伟":       "张伟",
		" =1":      " =1",
	} {
		if got := NeutraliseCSVCell(in); got != want {
			t.Errorf("NeutraliseCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
