package report

import (
	"io"
	"os"
	"strconv"
	"testing"
)

// The 1M benchmarks show that exports stream: run them under
// /usr/bin/time -v to see peak RSS, e.g.
//
//	/usr/bin/time -v go test -run '^$' -bench XLSX1M -benchtime 1x ./workflow/report/
const benchRows = 1_000_000

var benchTable = Table{Key: "changes", Title: "Changes", Columns: []Column{
	{Key: "id"}, {Key: "at"}, {Key: "by"}, {Key: "zone"}, {Key: "host"},
	{Key: "port"}, {Key: "proto"}, {Key: "action"}, {Key: "state"}, {Key: "reason"},
}}

func writeBenchRows(b *testing.B, format string, out io.Writer) {
	w, err := New(format, out, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Begin(Document{Title: "Benchmark"}); err != nil {
		b.Fatal(err)
	}
	if err := w.StartTable(benchTable); err != nil {
		b.Fatal(err)
	}
	for i := range benchRows {
		n := strconv.Itoa(i)
		if err := w.Row("CHG-"+n, "2026-06-30T12:00:00Z", "张伟", "payments", "host-"+n+".example",
			"443", "tcp", "=allow", "approved", "re-certified for PCI DSS 1.2.7"); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.EndTable(); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkCSV1M(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		writeBenchRows(b, "csv", io.Discard)
	}
}

func BenchmarkXLSX1M(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.CreateTemp(b.TempDir(), "bench-*.xlsx")
		if err != nil {
			b.Fatal(err)
		}
		writeBenchRows(b, "xlsx", f)
		info, _ := f.Stat()
		b.ReportMetric(float64(info.Size())/(1<<20), "MB-file")
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}
