package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestXLSXReadBack(t *testing.T) {
	data := writeSample(t, "xlsx", Options{}, changesTable, rulesTable)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("opening the workbook: %v", err)
	}
	defer f.Close()

	wantSheets := []string{"Summary", "changes", "rules_1.2.5"}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets = %q, want %q", got, wantSheets)
	}

	rows, err := f.GetRows("changes")
	if err != nil {
		t.Fatal(err)
	}
	want := append([][]string{{"Change", "Requested by", "Summary", "port"}}, changesRows...)
	// Trailing empty cells are not stored, so compare what is there.
	want[len(want)-1] = want[len(want)-1][:3]
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("changes rows = %q\nwant %q", rows, want)
	}

	// "=1+1" must be a plain string cell, never a formula.
	formula, err := f.GetCellFormula("rules_1.2.5", "B3")
	if err != nil || formula != "" {
		t.Errorf("B3 formula = %q, %v; want none", formula, err)
	}
	value, _ := f.GetCellValue("rules_1.2.5", "B3")
	cellType, _ := f.GetCellType("rules_1.2.5", "B3")
	if value != "=1+1" || cellType != excelize.CellTypeInlineString {
		t.Errorf("B3 = %q of type %v, want the text =1+1", value, cellType)
	}

	// The header row is frozen.
	panes, err := f.GetPanes("changes")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the first row frozen", panes, err)
	}

	// Document text is never a formula either.
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		for r, row := range rows {
			for c := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s holds the formula %q", sheet, cell, formula)
				}
			}
		}
	}

	summary, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(summary)
	for _, s := range []string{"Change record", "Generated at", "2026-07-01 07:30:00 UTC", "张伟 (auditor)",
		"Period", "2026-01-01 to 2026-06-30", "Approved", "=1+2", "Timestamps are UTC.", "rules_1.2.5", "Rule register"} {
		if !strings.Contains(text, s) {
			t.Errorf("Summary sheet lacks %q: %v", s, summary)
		}
	}
}

func TestXLSXSheetNames(t *testing.T) {
	x := &xlsxWriter{usedNames: map[string]bool{"summary": true}}
	for _, tc := range []struct{ base, want string }{
		{"changes", "changes"},
		{"Changes", "Changes 2"}, // Excel compares names without case
		{"a[b]:c*d?e/f\\g", "a_b__c_d_e_f_g"},
		{"summary", "summary 2"},
		{"'quoted'", "quoted"},
		{"", "Table"},
		{strings.Repeat("x", 40), strings.Repeat("x", 31)},
		{strings.Repeat("x", 40), strings.Repeat("x", 29) + " 2"},
		{strings.Repeat("支付网关", 10), strings.Repeat("支付网关", 7) + "支付网"},
	} {
		if got := x.uniqueSheetName(tc.base); got != tc.want {
			t.Errorf("uniqueSheetName(%q) = %q, want %q", tc.base, got, tc.want)
		}
	}
}

// A table longer than Excel's row limit continues on further sheets, each
// with the header row.
func TestXLSXTableContinuesOnNextSheet(t *testing.T) {
	var buf bytes.Buffer
	w, err := New("xlsx", &buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.(*checkedWriter).out.(*xlsxWriter).rowsPerSheet = 3 // header and two rows
	_ = w.Begin(Document{Title: "Scan evidence"})
	_ = w.StartTable(Table{Key: "scan", Columns: []Column{{Key: "port"}}})
	for i := range 5 {
		if err := w.Row(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.EndTable()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][][]string{
		"scan":     {{"port"}, {"0"}, {"1"}},
		"scan (2)": {{"port"}, {"2"}, {"3"}},
		"scan (3)": {{"port"}, {"4"}},
	}
	for sheet, wantRows := range want {
		rows, err := f.GetRows(sheet)
		if err != nil || !slices.EqualFunc(rows, wantRows, slices.Equal) {
			t.Errorf("sheet %q = %q, %v; want %q", sheet, rows, err, wantRows)
		}
	}
}
