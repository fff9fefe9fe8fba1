package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Column describes one column of a table.
type Column struct {
	Key   string  // JSON object key of the cell; must be unique within the table
	Title string  // heading shown to people; Key is used when empty
	Width float64 // relative width hint for PDF and XLSX; 0 means "average"
}

// Table describes a table before its rows are written.
type Table struct {
	Key     string // JSON key, base of the XLSX sheet name; unique within a document
	Title   string // heading shown to people (CSV section line, PDF heading); Key when empty
	Columns []Column
	// Grid keeps a wide table a grid in the PDF, one line of cells per row,
	// where it would otherwise print each row as a block of its own: a log
	// read down its rows, like the audit log, is read as a table.
	Grid bool
}

// Document carries the metadata of an export. CSV ignores it; JSON, XLSX and
// PDF show it (the PDF on its cover page, the XLSX on its "Summary" sheet).
type Document struct {
	Title, Subtitle string
	GeneratedAt     time.Time
	GeneratedBy     string
	Filters         []Field // e.g. {"Period", "2026-01-01 to 2026-06-30"}
	Summary         []Field // headline figures
	Notes           []string
}

// Field is a name and a value shown together.
type Field struct{ Name, Value string }

// Writer writes one document. Calls must come in the order
// Begin, then for each table StartTable, Row…, EndTable, then Close.
// A Writer is not safe for concurrent use. After any error every later call
// returns that same error: the output is incomplete and should be discarded.
type Writer interface {
	Begin(Document) error
	StartTable(Table) error
	Row(cells ...string) error // len(cells) must equal len(columns)
	EndTable() error
	Close() error // flushes; the caller closes the underlying io.Writer
}

// Options tune the writers. The zero value is usable.
type Options struct {
	// FontPath is a TrueType font (.ttf, or a .ttc collection whose first
	// face is used) with Chinese glyphs for the PDF writer. Empty means
	// search DefaultFontPaths.
	FontPath string
	// MaxPDFRows caps the rows printed per table in a PDF, which is a
	// readable report rather than a data dump. 0 means DefaultMaxPDFRows;
	// a negative value means no cap.
	MaxPDFRows int
	// CSVSections precedes every CSV table with a "# <title>" line and
	// separates tables by a blank line. Without it a CSV holds exactly one
	// table and a second StartTable is an error. A CSV is written as it
	// goes, so this must be known before the first table is written.
	CSVSections bool
	// CSVOmitBOM leaves out the UTF-8 byte order mark that otherwise starts
	// a CSV; the mark is what makes Excel read Chinese names correctly.
	CSVOmitBOM bool
}

// DefaultMaxPDFRows is the PDF row cap per table when Options.MaxPDFRows is 0.
const DefaultMaxPDFRows = 2000

// Formats lists the formats New accepts.
var Formats = []string{"csv", "json", "xlsx", "pdf"}

// ContentType returns the MIME type of a format, or "" for an unknown one.
func ContentType(format string) string {
	switch format {
	case "csv":
		return "text/csv; charset=utf-8"
	case "json":
		return "application/json"
	case "xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case "pdf":
		return "application/pdf"
	}
	return ""
}

// Extension returns the file name extension of a format, with its dot, or ""
// for an unknown one.
func Extension(format string) string {
	if ContentType(format) == "" {
		return ""
	}
	return "." + format
}

// New returns a Writer of the given format writing to w.
func New(format string, w io.Writer, opts Options) (Writer, error) {
	if w == nil {
		return nil, errors.New("report: nil io.Writer")
	}
	var fw formatWriter
	var err error
	switch format {
	case "csv":
		fw = newCSVWriter(w, opts)
	case "json":
		fw = newJSONWriter(w)
	case "xlsx":
		fw, err = newXLSXWriter(w)
	case "pdf":
		fw, err = newPDFWriter(w, opts)
	default:
		return nil, fmt.Errorf("report: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return nil, err
	}
	return &checkedWriter{format: format, out: fw, multiTable: format != "csv" || opts.CSVSections}, nil
}

// formatWriter is what each format implements. checkedWriter has already
// validated the call order and the cell counts, so implementations only
// render.
type formatWriter interface {
	begin(Document) error
	startTable(Table) error
	row(cells []string) error
	endTable() error
	close() error
	abort() // releases resources after an error; the output is abandoned
}

// checkedWriter enforces the Writer contract once for every format.
type checkedWriter struct {
	format     string
	out        formatWriter
	multiTable bool

	begun, closed bool
	tables        int
	table         *Table
	tableKeys     map[string]bool
	err           error // sticky: the first error ends the document
}

func (c *checkedWriter) fail(err error) error {
	if c.err == nil {
		c.err = err
	}
	return c.err
}

func (c *checkedWriter) Begin(d Document) error {
	if c.err != nil {
		return c.err
	}
	if c.begun {
		return c.fail(errors.New("report: Begin called twice"))
	}
	c.begun = true
	c.tableKeys = make(map[string]bool)
	if err := c.out.begin(d); err != nil {
		return c.fail(err)
	}
	return nil
}

func (c *checkedWriter) StartTable(t Table) error {
	if c.err != nil {
		return c.err
	}
	switch {
	case !c.begun:
		return c.fail(fmt.Errorf("report: table %q started before Begin", t.Key))
	case c.closed:
		return c.fail(fmt.Errorf("report: table %q started after Close", t.Key))
	case c.table != nil:
		return c.fail(fmt.Errorf("report: table %q started while table %q is open", t.Key, c.table.Key))
	case c.tables > 0 && !c.multiTable:
		return c.fail(fmt.Errorf("report: table %q: a CSV holds one table unless Options.CSVSections is set", t.Key))
	}
	if err := validateTable(t); err != nil {
		return c.fail(err)
	}
	if c.tableKeys[t.Key] {
		return c.fail(fmt.Errorf("report: table key %q used twice", t.Key))
	}
	c.tableKeys[t.Key] = true
	t = withDefaultTitles(t)
	c.table = &t
	c.tables++
	if err := c.out.startTable(t); err != nil {
		return c.fail(err)
	}
	return nil
}

func validateTable(t Table) error {
	if t.Key == "" {
		return errors.New("report: table with an empty key")
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("report: table %q has no columns", t.Key)
	}
	seen := make(map[string]bool, len(t.Columns))
	for i, col := range t.Columns {
		if col.Key == "" {
			return fmt.Errorf("report: table %q: column %d has an empty key", t.Key, i+1)
		}
		if seen[col.Key] {
			return fmt.Errorf("report: table %q: column key %q used twice", t.Key, col.Key)
		}
		seen[col.Key] = true
	}
	return nil
}

// withDefaultTitles fills empty titles from keys, on a copy so the caller's
// column slice is left alone.
func withDefaultTitles(t Table) Table {
	if t.Title == "" {
		t.Title = t.Key
	}
	cols := make([]Column, len(t.Columns))
	copy(cols, t.Columns)
	for i := range cols {
		if cols[i].Title == "" {
			cols[i].Title = cols[i].Key
		}
	}
	t.Columns = cols
	return t
}

func (c *checkedWriter) Row(cells ...string) error {
	if c.err != nil {
		return c.err
	}
	if c.table == nil {
		return c.fail(errors.New("report: Row called outside a table"))
	}
	if len(cells) != len(c.table.Columns) {
		return c.fail(fmt.Errorf("report: table %q: row has %d cells, want %d", c.table.Key, len(cells), len(c.table.Columns)))
	}
	if err := c.out.row(cells); err != nil {
		return c.fail(err)
	}
	return nil
}

func (c *checkedWriter) EndTable() error {
	if c.err != nil {
		return c.err
	}
	if c.table == nil {
		return c.fail(errors.New("report: EndTable called outside a table"))
	}
	c.table = nil
	if err := c.out.endTable(); err != nil {
		return c.fail(err)
	}
	return nil
}

// Close finishes the document. It also releases temporary files after an
// error or an abandoned document, so callers should always call it (a defer
// is fine); it then returns the error that stopped the document.
func (c *checkedWriter) Close() error {
	if c.closed {
		if c.err != nil {
			return c.err
		}
		return errors.New("report: Close called twice")
	}
	c.closed = true
	if c.err == nil {
		switch {
		case !c.begun:
			c.err = errors.New("report: Close called before Begin")
		case c.table != nil:
			c.err = fmt.Errorf("report: Close called while table %q is open", c.table.Key)
		}
	}
	if c.err != nil {
		c.out.abort()
		return c.err
	}
	if err := c.out.close(); err != nil {
		c.out.abort()
		return c.fail(err)
	}
	return nil
}

// columnWeights turns width hints into positive weights: columns without a
// hint get the average of the hinted ones, so a partial set of hints works.
func columnWeights(cols []Column) []float64 {
	var sum float64
	var hinted int
	for _, col := range cols {
		if col.Width > 0 {
			sum += col.Width
			hinted++
		}
	}
	fallback := 1.0
	if hinted > 0 {
		fallback = sum / float64(hinted)
	}
	weights := make([]float64, len(cols))
	for i, col := range cols {
		weights[i] = fallback
		if col.Width > 0 {
			weights[i] = col.Width
		}
	}
	return weights
}
