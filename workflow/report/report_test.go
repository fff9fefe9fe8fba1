package report

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNewUnknownFormat(t *testing.T) {
	if _, err := New("docx", &bytes.Buffer{}, Options{}); err == nil || !strings.Contains(err.Error(), "docx") {
		t.Errorf("err = %v, want one naming the format", err)
	}
}

func TestContentTypeAndExtension(t *testing.T) {
	for _, format := range Formats {
		if ContentType(format) == "" || Extension(format) != "."+format {
			t.Errorf("%s: content type %q, extension %q", format, ContentType(format), Extension(format))
		}
	}
	if ContentType("docx") != "" || Extension("docx") != "" {
		t.Error("an unknown format has a content type or extension")
	}
}

// newTestWriter returns a Writer for format, skipping PDF without a font.
func newTestWriter(t *testing.T, format string) Writer {
	t.Helper()
	if format == "pdf" {
		requireFont(t)
	}
	w, err := New(format, &bytes.Buffer{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRowCellCountMismatch(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			w := newTestWriter(t, format)
			_ = w.Begin(Document{})
			_ = w.StartTable(rulesTable)
			err := w.Row("R-1", "ssh", "extra")
			if err == nil || !strings.Contains(err.Error(), rulesTable.Key) || !strings.Contains(err.Error(), "3 cells, want 2") {
				t.Fatalf("err = %v, want one naming the table and the counts", err)
			}
			// The error sticks: the document is incomplete.
			if err2 := w.Row("R-1", "ssh"); !errors.Is(err2, err) && err2.Error() != err.Error() {
				t.Errorf("after an error Row returned %v", err2)
			}
			if err2 := w.Close(); err2 == nil {
				t.Error("Close after an error returned nil")
			}
		})
	}
}

func TestCallOrder(t *testing.T) {
	for name, calls := range map[string]func(Writer) error{
		"table before Begin": func(w Writer) error { return w.StartTable(rulesTable) },
		"row outside a table": func(w Writer) error {
			_ = w.Begin(Document{})
			return w.Row("a", "b")
		},
		"end outside a table": func(w Writer) error {
			_ = w.Begin(Document{})
			return w.EndTable()
		},
		"nested tables": func(w Writer) error {
			_ = w.Begin(Document{})
			_ = w.StartTable(rulesTable)
			return w.StartTable(changesTable)
		},
		"duplicate table key": func(w Writer) error {
			_ = w.Begin(Document{})
			_ = w.StartTable(rulesTable)
			_ = w.EndTable()
			return w.StartTable(rulesTable)
		},
		"no columns": func(w Writer) error {
			_ = w.Begin(Document{})
			return w.StartTable(Table{Key: "empty"})
		},
		"duplicate column key": func(w Writer) error {
			_ = w.Begin(Document{})
			return w.StartTable(Table{Key: "t", Columns: []Column{{Key: "a"}, {Key: "a"}}})
		},
		"close with open table": func(w Writer) error {
			_ = w.Begin(Document{})
			_ = w.StartTable(rulesTable)
			return w.Close()
		},
		"close before Begin": func(w Writer) error { return w.Close() },
		"Begin twice": func(w Writer) error {
			_ = w.Begin(Document{})
			return w.Begin(Document{})
		},
	} {
		for _, format := range []string{"json", "xlsx"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				if err := calls(newTestWriter(t, format)); err == nil {
					t.Error("no error")
				}
			})
		}
	}
}

// failingWriter fails every write, like a dropped HTTP connection.
type failingWriter struct{}

var errDropped = errors.New("connection dropped")

func (failingWriter) Write([]byte) (int, error) { return 0, errDropped }

func TestWriteErrorsReachTheCaller(t *testing.T) {
	for _, format := range []string{"csv", "json", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			w, err := New(format, failingWriter{}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_ = w.Begin(Document{})
			_ = w.StartTable(rulesTable)
			_ = w.Row("R-1", "ssh")
			_ = w.EndTable()
			if err := w.Close(); !errors.Is(err, errDropped) {
				t.Errorf("Close = %v, want the write error", err)
			}
		})
	}
}

func TestColumnWeights(t *testing.T) {
	got := columnWeights([]Column{{Width: 1}, {Width: 3}, {}})
	if got[0] != 1 || got[1] != 3 || got[2] != 2 {
		t.Errorf("weights = %v, want [1 3 2]", got)
	}
	got = columnWeights([]Column{{}, {}})
	if got[0] != 1 || got[1] != 1 {
		t.Errorf("weights without hints = %v, want [1 1]", got)
	}
}

// Writers share no state: many exports can run at once (run with -race).
func TestConcurrentWriters(t *testing.T) {
	for _, format := range Formats {
		for i := range 3 {
			t.Run(fmt.Sprintf("%s-%d", format, i), func(t *testing.T) {
				t.Parallel()
				if format == "pdf" {
					requireFont(t)
				}
				writeSample(t, format, Options{CSVSections: true}, changesTable, rulesTable)
			})
		}
	}
}
