// Package report writes audit and compliance exports — the change record,
// the rule register (PCI DSS 1.2.5), the insecure-services register
// (1.2.6), drift and scan evidence, the re-certification record (1.2.7) —
// in four formats through one streaming Writer:
//
//	w, err := report.New("xlsx", httpResponse, report.Options{})
//	w.Begin(report.Document{Title: "Rule register", GeneratedAt: now})
//	w.StartTable(report.Table{Key: "rules", Title: "Rules", Columns: cols})
//	for rule := range rules { w.Row(cells(rule)...) }
//	w.EndTable()
//	err = w.Close() // always call it: it also removes temporary files
//
// Rows are written as they arrive, so callers can stream a year of history
// straight from a database cursor.
//
// # CSV
//
// RFC 4180 with "\n" line ends, starting with a UTF-8 byte order mark so
// Excel reads Chinese names (Options.CSVOmitBOM drops it). A CSV holds only
// data: the Document's metadata is not written, so any spreadsheet or
// script reads the file as it is. One table gives a plain CSV whose first
// row is the column titles. Several tables need Options.CSVSections, set
// before writing because a streamed CSV cannot be rewritten: each table is
// then preceded by a line "# <table title>", and tables are separated by a
// blank line. Every cell, titles included, is neutralised against formula
// injection (see NeutraliseCSVCell).
//
// # JSON
//
// One object: title, subtitle, generated_at (RFC 3339, UTC, or null),
// generated_by, filters and summary (arrays of {"name","value"}), notes, and
// tables, each {"key","title","columns":[{"key","title"}],"rows":[…]} with
// every row an object from column key to cell text. One row per line.
// Values are exact: no neutralisation, as JSON is read by programs.
//
// # XLSX
//
// A "Summary" sheet (title, generation, filters, summary figures, notes and
// a list of the table sheets with their row counts), then one sheet per
// table named from its Key (forbidden characters become '_', at most 31
// characters, made unique). The header row is bold and frozen; column
// widths follow the width hints. Every cell is a string, never a formula.
// A table beyond Excel's 1,048,576 rows continues on sheets "key (2)",
// "key (3)", … each with the header row. Cells are inline strings. Each
// table sheet's XML is streamed through a small buffer into a temporary
// file (about 60 bytes per cell), and at Close the zip is written straight
// to the io.Writer, so memory stays flat whatever the number of rows.
//
// # PDF
//
// A readable A4 landscape report: a cover page (title, subtitle, generated
// at/by, filters, summary, notes), then each table with its header row
// repeated on every page, wrapped cell text and "Page N of M" footers.
// Text is set in a TrueType font with Chinese glyphs (Options.FontPath or
// DefaultFontPaths; Debian's fonts-wqy-microhei). Characters outside the
// Basic Multilingual Plane print as U+FFFD. The PDF is built in memory, so
// each table is cut after Options.MaxPDFRows rows with a line pointing to
// the CSV and XLSX exports.
package report
