package report

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"
)

// csvWriter writes RFC 4180 CSV with "\n" line ends through a buffer, so
// memory stays constant whatever the number of rows.
type csvWriter struct {
	buf     *bufio.Writer
	csv     *csv.Writer
	opts    Options
	tables  int
	scratch []string // reused for neutralised cells: no allocation per row
}

func newCSVWriter(w io.Writer, opts Options) *csvWriter {
	buf := bufio.NewWriterSize(w, 64<<10)
	return &csvWriter{buf: buf, csv: csv.NewWriter(buf), opts: opts}
}

// begin writes no metadata: a CSV stays pure data that any spreadsheet or
// script reads, and the document's metadata lives in JSON, XLSX and PDF.
func (c *csvWriter) begin(Document) error {
	if c.opts.CSVOmitBOM {
		return nil
	}
	_, err := c.buf.WriteString("\uFEFF")
	return err
}

func (c *csvWriter) startTable(t Table) error {
	if c.opts.CSVSections {
		if c.tables > 0 {
			if err := c.buf.WriteByte('\n'); err != nil {
				return err
			}
		}
		// One physical line: a line break in the title would start a row.
		title := strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(t.Title)
		if _, err := c.buf.WriteString("# " + title + "\n"); err != nil {
			return err
		}
	}
	c.tables++
	header := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		header[i] = col.Title
	}
	return c.row(header)
}

func (c *csvWriter) row(cells []string) error {
	c.scratch = c.scratch[:0]
	for _, cell := range cells {
		c.scratch = append(c.scratch, NeutraliseCSVCell(cell))
	}
	// csv.Writer.Write reports the underlying writer's errors only on
	// Flush, so check its sticky error here to stop early on a broken
	// connection.
	if err := c.csv.Write(c.scratch); err != nil {
		return err
	}
	return c.csv.Error()
}

func (c *csvWriter) endTable() error {
	c.csv.Flush()
	return c.csv.Error()
}

func (c *csvWriter) close() error {
	c.csv.Flush()
	if err := c.csv.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

// NeutraliseCSVCell defuses spreadsheet formula injection: a cell that
// begins with '=', '+', '-', '@', a tab or a carriage return gets a leading
// apostrophe, so spreadsheet programs show it as text instead of evaluating
// it. The cost is that a negative number such as "-2" reads "'-2"; exports
// are evidence to be read, so safety wins.
func NeutraliseCSVCell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}

func (c *csvWriter) abort() {}
