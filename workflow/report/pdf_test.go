package report

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pdfToText extracts the text of a PDF with poppler's pdftotext. Outside CI
// the test is skipped when the tool is missing; CI must have it.
func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not found: install the Debian package poppler-utils")
		}
		t.Skip("pdftotext not found: install the Debian package poppler-utils to run this test")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// requireFont skips (or, in CI, fails) when no default font is installed.
func requireFont(t *testing.T) {
	t.Helper()
	if _, err := loadPDFFont(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func TestPDFText(t *testing.T) {
	requireFont(t)
	text := pdfToText(t, writeSample(t, "pdf", Options{}, changesTable, rulesTable))
	for _, want := range []string{
		"Change record", "PCI DSS 1.2.7 re-certification", // cover
		"2026-07-01 07:30:00 UTC", "张伟 (auditor)", "2026-01-01 to 2026-06-30", "Timestamps are UTC.",
		"Requested by", "CHG-4", "支付网关", "Rule register", "=1+1", // tables
		"Page 1 of 2", "Page 2 of 2", // footer
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
}

func TestPDFRowCapAndRepeatedHeader(t *testing.T) {
	requireFont(t)
	var buf bytes.Buffer
	w, err := New("pdf", &buf, Options{MaxPDFRows: 150})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Begin(Document{Title: "Drift evidence"})
	_ = w.StartTable(Table{Key: "drift", Title: "Drift", Columns: []Column{{Key: "host", Title: "Host name"}, {Key: "port", Title: "Port"}}})
	for range 1000 {
		if err := w.Row("db-1.payments.example 数据库", "5432"); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.EndTable()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text := pdfToText(t, buf.Bytes())
	if !strings.Contains(text, "… 850 more rows: download CSV or XLSX") {
		t.Errorf("no truncation line in:\n%s", text)
	}
	pages := strings.Split(text, "\f")
	var tablePages int
	for _, page := range pages[1:] {
		if strings.Contains(page, "db-1.payments.example") {
			tablePages++
			if !strings.Contains(page, "Host name") {
				t.Errorf("a table page lacks the column header:\n%s", page)
			}
		}
	}
	if tablePages < 2 {
		t.Errorf("150 rows fit on %d page(s); the test needs a page break", tablePages)
	}
}

func TestPDFMissingFont(t *testing.T) {
	_, err := New("pdf", &bytes.Buffer{}, Options{FontPath: filepath.Join(t.TempDir(), "absent.ttf")})
	if err == nil || !strings.Contains(err.Error(), "fonts-wqy-microhei") {
		t.Errorf("err = %v, want one naming the Debian font package", err)
	}
}

func TestPDFNotAFont(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bogus.ttf")
	if err := os.WriteFile(path, []byte("this is not a font at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New("pdf", &bytes.Buffer{}, Options{FontPath: path}); err == nil {
		t.Error("a text file was accepted as a font")
	}
}

func TestSingleTrueTypeFont(t *testing.T) {
	cff := []byte("OTTO\x00\x01\x00\x00\x00\x00\x00\x00")
	if _, err := singleTrueTypeFont(cff); err == nil || !strings.Contains(err.Error(), "CFF") {
		t.Errorf("CFF font: err = %v", err)
	}

	// A collection of one face with one 5-byte table: the extracted font
	// is the face's directory followed by the table, padded to 4 bytes.
	ttc := make([]byte, 16)
	copy(ttc, "ttcf")
	binary.BigEndian.PutUint32(ttc[4:], 0x00010000)
	binary.BigEndian.PutUint32(ttc[8:], 1)
	binary.BigEndian.PutUint32(ttc[12:], 16)
	face := make([]byte, 12+16)
	binary.BigEndian.PutUint32(face, sfntTrueType)
	binary.BigEndian.PutUint16(face[4:], 1)
	copy(face[12:], "name")
	binary.BigEndian.PutUint32(face[12+4:], 0xDEADBEEF)
	binary.BigEndian.PutUint32(face[12+8:], uint32(16+len(face)))
	binary.BigEndian.PutUint32(face[12+12:], 5)
	ttc = append(append(ttc, face...), "hello"...)

	got, err := singleTrueTypeFont(ttc)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), face...), "hello\x00\x00\x00"...)
	binary.BigEndian.PutUint32(want[12+8:], 28) // the table now follows the directory
	if !bytes.Equal(got, want) {
		t.Errorf("extracted font = %x\nwant %x", got, want)
	}

	binary.BigEndian.PutUint32(ttc[16+12+12:], 1<<30) // table length past the end
	if _, err := singleTrueTypeFont(ttc); err == nil {
		t.Error("a truncated collection was accepted")
	}
}

// Every default font that is installed must load and render Chinese.
func TestDefaultFontPaths(t *testing.T) {
	var found int
	for _, path := range DefaultFontPaths {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		found++
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := writeSample(t, "pdf", Options{FontPath: path}, changesTable)
			if text := pdfToText(t, data); !strings.Contains(text, "张伟") || !strings.Contains(text, "支付网关") {
				t.Errorf("Chinese text missing with %s:\n%s", path, text)
			}
		})
	}
	if found == 0 {
		t.Skip("no default font installed")
	}
}
