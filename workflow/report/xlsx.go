package report

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	summarySheet      = "Summary"
	maxSheetNameUnits = 31        // Excel's limit, counted in UTF-16 code units
	maxSheetRows      = 1_048_576 // Excel's row limit
	maxCellUnits      = 32_767    // Excel's cell text limit, in UTF-16 code units

	// Cell style indexes into cellXfs of xlsxStyles.
	styleNone   = 0
	styleHeader = 1 // bold on grey, thin bottom border
	styleTitle  = 2 // bold, 16 pt
	styleBold   = 3

	// xlsxBufferSize is the write buffer of each sheet's temporary file.
	xlsxBufferSize = 32 << 10
)

// xlsxWriter writes the SpreadsheetML itself. Each table sheet's XML is
// streamed into a temporary file through a small buffer; close then zips the
// workbook parts, the Summary sheet (built in memory, it is small) and the
// sheets copied from their files straight into the caller's io.Writer. So
// memory stays small and flat however many rows there are.
type xlsxWriter struct {
	out io.Writer
	// labels are the document's words for the summary sheet's list of tables.
	labels Labels

	// rowsPerSheet is Excel's row limit; a table that outgrows it continues
	// on another sheet. A field so tests can exercise that with few rows.
	rowsPerSheet int

	summary    []xlsxSummaryLine
	usedNames  map[string]bool   // lower-cased sheet names: Excel ignores case
	contents   []xlsxContentLine // sheets written, listed on the Summary at close
	sheetFiles []*spillFile      // one per table sheet, in order

	table    Table
	colNames []string // column letters of the current table: A, B, …
	widths   []float64
	sheet    *bufio.Writer // the current sheet's temporary file
	sheetRow int           // last row written on the current sheet
	part     int           // 1 for a table's first sheet, 2 for its first continuation…
	scratch  []byte
}

type xlsxSummaryLine struct {
	style  int // of the first cell
	values []string
}

type xlsxContentLine struct {
	sheet, title string
	rows         int
}

func newXLSXWriter(w io.Writer) (*xlsxWriter, error) {
	return &xlsxWriter{out: w, rowsPerSheet: maxSheetRows, usedNames: map[string]bool{}}, nil
}

// begin records the Summary sheet; the list of tables is appended to it at
// close, where it is written.
func (x *xlsxWriter) begin(d Document) error {
	d.Labels = d.Labels.orEnglish()
	x.labels = d.Labels
	x.usedNames[strings.ToLower(summarySheet)] = true
	x.summaryLine(styleTitle, d.Title)
	if d.Subtitle != "" {
		x.summaryLine(styleNone, d.Subtitle)
	}
	x.summaryLine(styleNone)
	if !d.GeneratedAt.IsZero() {
		x.summaryLine(styleNone, d.Labels.GeneratedAt, d.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if d.GeneratedBy != "" {
		x.summaryLine(styleNone, d.Labels.GeneratedBy, d.GeneratedBy)
	}
	x.summaryFields(d.Labels.Filters, d.Filters)
	x.summaryFields(d.Labels.Summary, d.Summary)
	if len(d.Notes) > 0 {
		x.summaryLine(styleNone)
		x.summaryLine(styleBold, d.Labels.Notes)
		for _, n := range d.Notes {
			x.summaryLine(styleNone, n)
		}
	}
	return nil
}

func (x *xlsxWriter) summaryFields(heading string, fields []Field) {
	if len(fields) == 0 {
		return
	}
	x.summaryLine(styleNone)
	x.summaryLine(styleBold, heading)
	for _, f := range fields {
		x.summaryLine(styleNone, f.Name, f.Value)
	}
}

// summaryLine adds a Summary row of strings from column A; style applies to
// its first cell. No values makes an empty row.
func (x *xlsxWriter) summaryLine(style int, values ...string) {
	x.summary = append(x.summary, xlsxSummaryLine{style: style, values: values})
}

func (x *xlsxWriter) startTable(t Table) error {
	x.table = t
	x.part = 0
	x.colNames = make([]string, len(t.Columns))
	for i := range x.colNames {
		x.colNames[i] = columnName(i + 1)
	}
	weights := columnWeights(t.Columns)
	var mean float64
	for _, w := range weights {
		mean += w
	}
	mean /= float64(len(weights))
	x.widths = make([]float64, len(weights))
	for i, w := range weights {
		x.widths[i] = min(max(16*w/mean, 6), 100)
	}
	return x.openSheet()
}

// openSheet starts a sheet for the current table (or its next part) in a new
// spillFile and writes the bold, frozen header row.
func (x *xlsxWriter) openSheet() error {
	x.part++
	base := x.table.Key
	if x.part > 1 {
		base = fmt.Sprintf("%s (%d)", x.table.Key, x.part)
	}
	name := x.uniqueSheetName(base)
	f := &spillFile{}
	x.sheetFiles = append(x.sheetFiles, f)
	x.sheet = bufio.NewWriterSize(f, xlsxBufferSize)
	x.contents = append(x.contents, xlsxContentLine{sheet: name, title: x.table.Title})

	w := x.sheet
	w.WriteString(xlsxSheetStart)
	w.WriteString(`<sheetViews><sheetView workbookViewId="0">` +
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>` +
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>` +
		`</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`)
	writeCols(w, x.widths)
	w.WriteString(`<sheetData>`)
	x.sheetRow = 1
	x.startRow(w, 1)
	for i, col := range x.table.Columns {
		x.cell(w, i, 1, styleHeader, col.Title)
	}
	_, err := w.WriteString(`</row>`)
	return err
}

// closeSheet ends the current sheet's XML and flushes it to its file.
func (x *xlsxWriter) closeSheet() error {
	if x.sheet == nil {
		return nil
	}
	w := x.sheet
	x.sheet = nil
	w.WriteString(`</sheetData>`)
	w.WriteString(xlsxSheetEnd)
	return w.Flush()
}

// uniqueSheetName makes base a legal sheet name not used yet: forbidden
// characters become '_', it fits 31 UTF-16 units, and clashes get a number.
func (x *xlsxWriter) uniqueSheetName(base string) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || r < ' ' {
			return '_'
		}
		return r
	}, base)
	name = strings.Trim(name, "' ")
	if name == "" {
		name = "Table"
	}
	candidate := truncateUTF16(name, maxSheetNameUnits)
	for n := 2; x.usedNames[strings.ToLower(candidate)] || strings.EqualFold(candidate, "History"); n++ {
		suffix := fmt.Sprintf(" %d", n)
		candidate = truncateUTF16(name, maxSheetNameUnits-len(suffix)) + suffix
	}
	x.usedNames[strings.ToLower(candidate)] = true
	return candidate
}

func truncateUTF16(s string, units int) string {
	n := 0
	for i, r := range s {
		n += len(utf16.Encode([]rune{r}))
		if n > units {
			return strings.TrimRight(s[:i], "' ")
		}
	}
	return s
}

// row writes every value as an inline string cell, never a formula, so
// "=1+1" stays text. Empty cells are left out.
func (x *xlsxWriter) row(cells []string) error {
	if x.sheetRow >= x.rowsPerSheet {
		if err := x.closeSheet(); err != nil {
			return err
		}
		if err := x.openSheet(); err != nil {
			return err
		}
	}
	x.sheetRow++
	x.contents[len(x.contents)-1].rows++
	w := x.sheet
	x.startRow(w, x.sheetRow)
	for i, c := range cells {
		x.cell(w, i, x.sheetRow, styleNone, c)
	}
	_, err := w.WriteString(`</row>`)
	return err
}

func (x *xlsxWriter) endTable() error {
	return x.closeSheet()
}

// startRow writes <row r="n">.
func (x *xlsxWriter) startRow(w *bufio.Writer, n int) {
	b := append(x.scratch[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `">`...)
	w.Write(b)
	x.scratch = b
}

// cell writes one inline string cell at column col (0-based) of row n. An
// empty value writes nothing unless the cell has a style.
func (x *xlsxWriter) cell(w *bufio.Writer, col, n, style int, value string) {
	if value == "" && style == styleNone {
		return
	}
	b := append(x.scratch[:0], `<c r="`...)
	b = append(b, x.colNames[col]...)
	b = strconv.AppendInt(b, int64(n), 10)
	if style != styleNone {
		b = append(b, `" s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
	}
	if value == "" {
		b = append(b, `"/>`...)
		w.Write(b)
		x.scratch = b
		return
	}
	if len(value) > maxCellUnits {
		value = truncateCellText(value)
	}
	b = append(b, `" t="inlineStr"><is><t`...)
	if needsPreserve(value) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	w.Write(b)
	x.scratch = b
	writeCellText(w, value)
	w.WriteString(`</t></is></c>`)
}

// writeCellText writes s as XML character data the way Excel reads it: cut
// to Excel's 32,767 UTF-16 units, markup characters and CR escaped,
// characters XML cannot carry dropped, invalid UTF-8 replaced by U+FFFD, and
// "_xHHHH_", which Excel would read as an escaped character, escaped itself.
func writeCellText(w *bufio.Writer, s string) {
	if len(s) > maxCellUnits { // a UTF-8 byte is at most one UTF-16 unit
		s = truncateCellText(s)
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '<' && c != '>' && c != '&' && c != '_' {
			i++
			continue
		}
		var esc string
		size := 1
		switch {
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '&':
			esc = "&amp;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\t' || c == '\n':
			i++
			continue
		case c == '_':
			if !isEscapedChar(s[i:]) {
				i++
				continue
			}
			w.WriteString(s[last:i])
			w.WriteString("_x005F")
			last = i
			i++
			continue
		case c < 0x20: // not allowed in XML 1.0
			esc = ""
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			switch {
			case r == utf8.RuneError && n == 1:
				esc = "\uFFFD"
			case r == 0xFFFE || r == 0xFFFF:
				esc = ""
			default:
				i += n
				continue
			}
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		i += size
		last = i
	}
	w.WriteString(s[last:])
}

// needsPreserve reports whether s starts or ends with white space, which
// XML readers may otherwise drop.
func needsPreserve(s string) bool {
	for _, c := range []byte{s[0], s[len(s)-1]} {
		if c <= ' ' { // white space, or a control character dropped before it
			return true
		}
	}
	return false
}

// isEscapedChar reports whether s starts with "_xHHHH_".
func isEscapedChar(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// truncateCellText cuts s to Excel's cell limit of UTF-16 units.
func truncateCellText(s string) string {
	n := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if n+u > maxCellUnits {
			return s[:i]
		}
		n += u
	}
	return s
}

// columnName turns a 1-based column number into its letters: 1 → A, 27 → AA.
func columnName(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append(b, byte('A'+n%26))
		n /= 26
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func writeCols(w *bufio.Writer, widths []float64) {
	if len(widths) == 0 {
		return
	}
	w.WriteString(`<cols>`)
	for i, width := range widths {
		n := strconv.Itoa(i + 1)
		w.WriteString(`<col min="` + n + `" max="` + n + `" width="` +
			strconv.FormatFloat(width, 'f', -1, 64) + `" customWidth="1"/>`)
	}
	w.WriteString(`</cols>`)
}

const (
	xlsxXMLHeader  = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	xlsxMainNS     = `http://schemas.openxmlformats.org/spreadsheetml/2006/main`
	xlsxRelNS      = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	xlsxSheetStart = xlsxXMLHeader + `<worksheet xmlns="` + xlsxMainNS + `" xmlns:r="` + xlsxRelNS + `">`
	xlsxSheetEnd   = `<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`

	xlsxStyles = xlsxXMLHeader + `<styleSheet xmlns="` + xlsxMainNS + `">` +
		`<fonts count="3">` +
		`<font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
		`<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
		`<font><b/><sz val="16"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
		`</fonts>` +
		`<fills count="3">` +
		`<fill><patternFill patternType="none"/></fill>` +
		`<fill><patternFill patternType="gray125"/></fill>` +
		`<fill><patternFill patternType="solid"><fgColor rgb="FFD9D9D9"/><bgColor indexed="64"/></patternFill></fill>` +
		`</fills>` +
		`<borders count="2">` +
		`<border><left/><right/><top/><bottom/><diagonal/></border>` +
		`<border><left/><right/><top/><bottom style="thin"><color rgb="FF808080"/></bottom><diagonal/></border>` +
		`</borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="4">` +
		`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>` +
		`<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
		`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
		`</cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
		`</styleSheet>`

	xlsxRootRels = xlsxXMLHeader +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="` + xlsxRelNS + `/officeDocument" Target="xl/workbook.xml"/>` +
		`</Relationships>`
)

// close lists the sheets on the Summary sheet and zips the workbook straight
// into the caller's io.Writer, copying each table sheet from its file.
func (x *xlsxWriter) close() error {
	defer x.abort()
	if err := x.closeSheet(); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	if len(x.contents) > 0 {
		x.summaryLine(styleNone)
		x.summaryLine(styleBold, x.labels.Sheet, x.labels.Table, x.labels.Rows)
		for _, c := range x.contents {
			x.summaryLine(styleNone, c.sheet, c.title, strconv.Itoa(c.rows))
		}
	}
	if err := x.writeZip(); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	return nil
}

func (x *xlsxWriter) writeZip() error {
	names := make([]string, 0, 1+len(x.contents))
	names = append(names, summarySheet)
	for _, c := range x.contents {
		names = append(names, c.sheet)
	}

	var types, workbook, rels bytes.Buffer
	types.WriteString(xlsxXMLHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`)
	workbook.WriteString(xlsxXMLHeader + `<workbook xmlns="` + xlsxMainNS + `" xmlns:r="` + xlsxRelNS + `">` +
		`<bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	rels.WriteString(xlsxXMLHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, name := range names {
		n := strconv.Itoa(i + 1)
		types.WriteString(`<Override PartName="/xl/worksheets/sheet` + n + `.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`)
		workbook.WriteString(`<sheet name="` + escapeAttr(name) + `" sheetId="` + n + `" r:id="rId` + n + `"/>`)
		rels.WriteString(`<Relationship Id="rId` + n + `" Type="` + xlsxRelNS + `/worksheet" Target="worksheets/sheet` + n + `.xml"/>`)
	}
	types.WriteString(`</Types>`)
	workbook.WriteString(`</sheets></workbook>`)
	rels.WriteString(`<Relationship Id="rId` + strconv.Itoa(len(names)+1) + `" Type="` + xlsxRelNS +
		`/styles" Target="styles.xml"/></Relationships>`)

	zw := zip.NewWriter(x.out)
	for _, part := range []struct{ name, data string }{
		{"[Content_Types].xml", types.String()},
		{"_rels/.rels", xlsxRootRels},
		{"xl/workbook.xml", workbook.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"xl/styles.xml", xlsxStyles},
	} {
		fw, err := zw.Create(part.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(fw, part.data); err != nil {
			return err
		}
	}

	fw, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	sw := bufio.NewWriterSize(fw, 4<<10)
	x.writeSummary(sw)
	if err := sw.Flush(); err != nil {
		return err
	}

	for i, f := range x.sheetFiles {
		fw, err := zw.Create("xl/worksheets/sheet" + strconv.Itoa(i+2) + ".xml")
		if err != nil {
			return err
		}
		if err := f.copyTo(fw); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeSummary writes the Summary sheet, the workbook's selected one.
func (x *xlsxWriter) writeSummary(w *bufio.Writer) {
	w.WriteString(xlsxSheetStart +
		`<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>`)
	writeCols(w, []float64{28, 50, 50})
	w.WriteString(`<sheetData>`)
	x.colNames = x.colNames[:0]
	for i := range 3 {
		x.colNames = append(x.colNames, columnName(i+1))
	}
	for i, line := range x.summary {
		if len(line.values) == 0 {
			continue
		}
		for len(x.colNames) < len(line.values) {
			x.colNames = append(x.colNames, columnName(len(x.colNames)+1))
		}
		x.startRow(w, i+1)
		for j, v := range line.values {
			style := styleNone
			if j == 0 {
				style = line.style
			}
			x.cell(w, j, i+1, style, v)
		}
		w.WriteString(`</row>`)
	}
	w.WriteString(`</sheetData>` + xlsxSheetEnd)
}

func escapeAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// abort closes and removes the temporary sheet files.
func (x *xlsxWriter) abort() {
	x.sheet = nil
	for _, f := range x.sheetFiles {
		f.remove()
	}
	x.sheetFiles = nil
}

// spillFile holds a sheet's XML in memory up to spillThreshold bytes, then
// in a temporary file: small sheets never touch the disk, so a document
// abandoned without Close leaves no file behind unless it was large.
type spillFile struct {
	mem  []byte
	file *os.File
}

const spillThreshold = 64 << 10

func (s *spillFile) Write(p []byte) (int, error) {
	if s.file == nil {
		if len(s.mem)+len(p) <= spillThreshold {
			s.mem = append(s.mem, p...)
			return len(p), nil
		}
		f, err := os.CreateTemp("", "portcullis-xlsx-*.xml")
		if err != nil {
			return 0, err
		}
		s.file = f
		if _, err := f.Write(s.mem); err != nil {
			return 0, err
		}
		s.mem = nil
	}
	return s.file.Write(p)
}

// copyTo writes everything written so far to w.
func (s *spillFile) copyTo(w io.Writer) error {
	if s.file == nil {
		_, err := w.Write(s.mem)
		return err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, struct{ io.Reader }{s.file})
	return err
}

// remove releases the memory and deletes the temporary file, if any.
func (s *spillFile) remove() {
	s.mem = nil
	if s.file != nil {
		_ = s.file.Close()
		_ = os.Remove(s.file.Name())
		s.file = nil
	}
}
