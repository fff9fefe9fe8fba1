package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
)

// PDF layout, in millimetres on A4 landscape.
const (
	pdfMargin      = 12.0
	pdfBodySize    = 8.5 // points
	pdfLineHeight  = 4.2
	pdfCellPadding = 1.0
	pdfMaxLines    = 12 // a cell taller than this is cut with "…": a row must fit a page
	pdfFooterSpace = 10.0
	pdfFontFamily  = "report"
	pdfPagesAlias  = "{nb}"
)

// pdfWriter renders a readable report with fpdf. fpdf keeps the whole
// document in memory, which is why rows per table are capped (MaxPDFRows).
type pdfWriter struct {
	out     io.Writer
	pdf     *fpdf.Fpdf
	maxRows int
	doc     Document

	table         Table
	widths        []float64
	inTable       bool // the page header repeats the column header
	tables        int  // tables started so far
	printed, rows int
	zebra         bool
	// records lays out a table too wide for the page one row at a time, as
	// a block of "column: value" lines: a change record of twenty columns
	// squeezed into a landscape page is unreadable.
	records bool
}

// pdfMaxColumns is the widest table drawn as a grid; wider ones are records.
const pdfMaxColumns = 9

func newPDFWriter(w io.Writer, opts Options) (*pdfWriter, error) {
	font, err := loadPDFFont(opts.FontPath)
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New("L", "mm", "A4", "")
	// Before the font is added: fpdf sizes the font subset for the alias.
	pdf.AliasNbPages(pdfPagesAlias)
	pdf.AddUTF8FontFromBytes(pdfFontFamily, "", font)
	// fpdf prints font parse errors instead of returning them; selecting
	// the font is how a failed load shows.
	pdf.SetFont(pdfFontFamily, "", pdfBodySize)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("report: pdf: loading font: %w; %s", err, fontPackageHint)
	}
	maxRows := opts.MaxPDFRows
	if maxRows == 0 {
		maxRows = DefaultMaxPDFRows
	}
	p := &pdfWriter{out: w, pdf: pdf, maxRows: maxRows}
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+pdfFooterSpace)
	pdf.SetHeaderFunc(p.pageHeader)
	pdf.SetFooterFunc(p.pageFooter)
	return p, nil
}

func (p *pdfWriter) contentWidth() float64 {
	w, _ := p.pdf.GetPageSize()
	return w - 2*pdfMargin
}

func (p *pdfWriter) pageBottom() float64 {
	_, h := p.pdf.GetPageSize()
	return h - pdfMargin - pdfFooterSpace
}

func (p *pdfWriter) pageFooter() {
	p.pdf.SetY(-pdfMargin - 4)
	p.pdf.SetFont(pdfFontFamily, "", 7.5)
	p.pdf.SetTextColor(90, 90, 90)
	w := p.contentWidth()
	p.pdf.CellFormat(w*0.75, 5, p.fit(pdfText(p.doc.Title), w*0.75), "T", 0, "L", false, 0, "")
	p.pdf.CellFormat(w*0.25, 5, fmt.Sprintf(p.doc.Labels.PageOf, p.pdf.PageNo(), pdfPagesAlias), "T", 0, "R", false, 0, "")
	p.pdf.SetTextColor(0, 0, 0)
	p.pdf.SetFont(pdfFontFamily, "", pdfBodySize)
}

// pageHeader repeats the table's title and column header on every page a
// table continues onto.
func (p *pdfWriter) pageHeader() {
	if !p.inTable {
		return
	}
	p.pdf.SetFont(pdfFontFamily, "", 9)
	p.pdf.SetTextColor(90, 90, 90)
	p.pdf.CellFormat(p.contentWidth(), 6, pdfText(p.table.Title+p.doc.Labels.Continued), "", 1, "L", false, 0, "")
	p.pdf.SetTextColor(0, 0, 0)
	if !p.records {
		p.columnHeader()
	}
}

func (p *pdfWriter) begin(d Document) error {
	d.Labels = d.Labels.orEnglish()
	p.doc = d
	pdf := p.pdf
	pdf.SetTitle(d.Title, true)
	pdf.SetCreator("Portcullis", true)
	pdf.AddPage()
	w := p.contentWidth()

	pdf.SetY(35)
	pdf.SetFont(pdfFontFamily, "", 24)
	pdf.MultiCell(w, 11, pdfText(d.Title), "", "L", false)
	if d.Subtitle != "" {
		pdf.SetFont(pdfFontFamily, "", 14)
		pdf.SetTextColor(70, 70, 70)
		pdf.MultiCell(w, 7, pdfText(d.Subtitle), "", "L", false)
		pdf.SetTextColor(0, 0, 0)
	}
	pdf.Ln(6)

	var generated []Field
	if !d.GeneratedAt.IsZero() {
		generated = append(generated, Field{d.Labels.GeneratedAt, d.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	if d.GeneratedBy != "" {
		generated = append(generated, Field{d.Labels.GeneratedBy, d.GeneratedBy})
	}
	p.fieldTable("", generated)
	p.fieldTable(d.Labels.Filters, d.Filters)
	p.fieldTable(d.Labels.Summary, d.Summary)
	if len(d.Notes) > 0 {
		p.heading(d.Labels.Notes, 11)
		pdf.SetFont(pdfFontFamily, "", 9)
		for _, n := range d.Notes {
			pdf.MultiCell(w, 5, "•  "+pdfText(n), "", "L", false)
		}
	}
	return pdf.Error()
}

func (p *pdfWriter) heading(text string, size float64) {
	p.pdf.Ln(3)
	p.pdf.SetFont(pdfFontFamily, "", size)
	p.pdf.MultiCell(p.contentWidth(), size*0.5, pdfText(text), "", "L", false)
	p.pdf.Ln(1)
}

// fieldTable prints name/value pairs as a two-column table.
func (p *pdfWriter) fieldTable(heading string, fields []Field) {
	if len(fields) == 0 {
		return
	}
	if heading != "" {
		p.heading(heading, 11)
	}
	p.pdf.SetFont(pdfFontFamily, "", 9.5)
	widths := []float64{70, p.contentWidth() - 70}
	for _, f := range fields {
		p.drawRow(widths, []string{f.Name, f.Value}, 5, 0, true)
	}
	p.pdf.SetFont(pdfFontFamily, "", pdfBodySize)
	p.pdf.Ln(2)
}

func (p *pdfWriter) startTable(t Table) error {
	p.table = t
	p.printed, p.rows, p.zebra = 0, 0, false
	weights := columnWeights(t.Columns)
	var sum float64
	for _, w := range weights {
		sum += w
	}
	p.widths = make([]float64, len(weights))
	for i, w := range weights {
		p.widths[i] = p.contentWidth() * w / sum
	}
	// The first table starts after the cover; later ones start on a fresh
	// page unless the current one has room for a heading and a few rows.
	p.tables++
	if p.tables == 1 || p.pdf.GetY()+40 > p.pageBottom() {
		p.pdf.AddPage()
	} else {
		p.pdf.Ln(6)
	}
	p.heading(t.Title, 13)
	p.records = len(t.Columns) > pdfMaxColumns && !t.Grid
	if !p.records {
		p.columnHeader()
	}
	p.inTable = true
	return p.pdf.Error()
}

func (p *pdfWriter) columnHeader() {
	titles := make([]string, len(p.table.Columns))
	for i, col := range p.table.Columns {
		titles[i] = col.Title
	}
	p.pdf.SetFont(pdfFontFamily, "", pdfBodySize)
	p.drawRow(p.widths, titles, pdfLineHeight, 217, false)
}

func (p *pdfWriter) row(cells []string) error {
	p.rows++
	if p.maxRows > 0 && p.printed >= p.maxRows {
		return nil // counted for the "more rows" line at endTable
	}
	p.printed++
	p.zebra = !p.zebra
	shade := 0
	if !p.zebra {
		shade = 243
	}
	if p.records {
		p.drawRecord(cells)
		return p.pdf.Error()
	}
	p.drawRow(p.widths, cells, pdfLineHeight, shade, true)
	return p.pdf.Error()
}

// drawRecord prints one row as a block: the first column as its heading,
// then every non-empty cell under its column's title.
func (p *pdfWriter) drawRecord(cells []string) {
	widths := []float64{55, p.contentWidth() - 55}
	if p.pdf.GetY()+30 > p.pageBottom() {
		p.pdf.AddPage()
	}
	p.pdf.Ln(2)
	p.drawRow([]float64{p.contentWidth()}, []string{p.table.Columns[0].Title + " " + cells[0]}, pdfLineHeight+0.6, 217, true)
	for i := 1; i < len(cells); i++ {
		if strings.TrimSpace(cells[i]) == "" {
			continue
		}
		p.drawRow(widths, []string{p.table.Columns[i].Title, cells[i]}, pdfLineHeight, 0, true)
	}
}

// drawRow prints one row of wrapped cells with borders, on a grey
// background of the given level (0: none). When breakPage is set and the row
// does not fit, it moves to a new page first, where the page header repeats
// the column header.
func (p *pdfWriter) drawRow(widths []float64, cells []string, lineHeight float64, shade int, breakPage bool) {
	pdf := p.pdf
	lines := make([][]string, len(cells))
	height := 1
	for i, cell := range cells {
		lines[i] = p.wrap(pdfText(cell), widths[i])
		height = max(height, len(lines[i]))
	}
	rowHeight := float64(height)*lineHeight + 2*pdfCellPadding
	if breakPage && pdf.GetY()+rowHeight > p.pageBottom() {
		pdf.AddPage()
	}
	style := "D"
	if shade > 0 {
		style = "FD"
		pdf.SetFillColor(shade, shade, shade)
	}
	pdf.SetDrawColor(160, 160, 160)
	x, y := pdf.GetX(), pdf.GetY()
	for i, cellLines := range lines {
		pdf.Rect(x, y, widths[i], rowHeight, style)
		for j, line := range cellLines {
			pdf.SetXY(x, y+pdfCellPadding+float64(j)*lineHeight)
			pdf.CellFormat(widths[i], lineHeight, line, "", 0, "L", false, 0, "")
		}
		x += widths[i]
	}
	pdf.SetXY(pdfMargin, y+rowHeight)
}

// fit shortens text with "…" until it fits width on one line.
func (p *pdfWriter) fit(text string, width float64) string {
	if p.pdf.GetStringWidth(text) <= width {
		return text
	}
	runes := []rune(text)
	for len(runes) > 0 && p.pdf.GetStringWidth(string(runes)+"…") > width {
		runes = runes[:len(runes)-1]
	}
	return string(runes) + "…"
}

// wrap breaks text into lines that fit width, cutting it after pdfMaxLines.
func (p *pdfWriter) wrap(text string, width float64) []string {
	if text == "" {
		return nil
	}
	lines := p.pdf.SplitText(text, width)
	if len(lines) > pdfMaxLines {
		lines = lines[:pdfMaxLines]
		lines[pdfMaxLines-1] += " …"
	}
	return lines
}

func (p *pdfWriter) endTable() error {
	p.inTable = false
	if p.rows == 0 {
		p.pdf.Ln(2)
		p.pdf.CellFormat(p.contentWidth(), 6, p.doc.Labels.NoRows, "", 1, "L", false, 0, "")
	}
	if hidden := p.rows - p.printed; hidden > 0 {
		p.pdf.Ln(2)
		p.pdf.SetFont(pdfFontFamily, "", 10)
		p.pdf.CellFormat(p.contentWidth(), 6,
			fmt.Sprintf(p.doc.Labels.MoreRows, hidden), "", 1, "L", false, 0, "")
		p.pdf.SetFont(pdfFontFamily, "", pdfBodySize)
	}
	return p.pdf.Error()
}

func (p *pdfWriter) close() error {
	if err := p.pdf.Output(p.out); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	return nil
}

func (p *pdfWriter) abort() {}

// pdfText makes text safe for fpdf's UTF-8 fonts: its width table covers
// only the Basic Multilingual Plane (a rune beyond it would index out of
// range), and control characters other than a line break have no glyph.
func pdfText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r < ' ' || r == 0x7f:
			return ' '
		case r > 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}
