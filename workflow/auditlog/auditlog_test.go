package auditlog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
)

// chain builds n correctly hashed events; comment(i) gives event i's comment.
func chain(n int, comment func(i int) string) []models.ChainedEvent {
	prev := models.GenesisHash
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var evs []models.ChainedEvent
	for i := 1; i <= n; i++ {
		e := models.ChainedEvent{Seq: uint64(i), At: at.Add(time.Duration(i) * time.Second), Actor: "ann@example.com",
			Action: "request.comment", ObjectType: "request", ObjectID: 7, Comment: comment(i), PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		evs = append(evs, e)
	}
	return evs
}

func csvExport(t *testing.T, evs []models.ChainedEvent) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(CSVHeader)
	for _, e := range evs {
		w.Write(CSVRecord(e))
	}
	w.Flush()
	return b.String()
}

func jsonExport(t *testing.T, evs []models.ChainedEvent) string {
	t.Helper()
	var b bytes.Buffer
	jw, err := NewJSONWriter(&b, Header{ExportedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		jw.Write(e)
	}
	jw.Close()
	return b.String()
}

// Comments that begin with a quote, formula-like or not, survive the trip
// through a neutralised CSV cell unchanged, so the chain verifies.
func TestCSVQuotedCellsVerify(t *testing.T) {
	comments := []string{"'=1+1", "=1+1", "''=SUM(A1)", "'plain", "'", "''", "-5", "'+", "it's fine", "@home", "'\tx"}
	evs := chain(len(comments), func(i int) string { return comments[i-1] })
	rep, err := VerifyCSV(strings.NewReader(csvExport(t, evs)))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Events != len(comments) {
		t.Fatalf("a faithful CSV export does not verify: %+v", rep.Problems)
	}
	for _, c := range comments {
		if got := unneutralise(NeutraliseCell(c)); got != c {
			t.Errorf("%q comes back as %q", c, got)
		}
		if n := NeutraliseCell(c); n != "" && strings.ContainsRune("=+-@\t\r", rune(n[0])) {
			t.Errorf("%q is exported as %q, which a spreadsheet runs", c, n)
		}
	}
}

// A field that no longer parses is tampering with that event, reported by
// its number; verification goes on and reports every broken event.
func TestTamperedFieldsAreReportedAndVerificationGoesOn(t *testing.T) {
	evs := chain(6, func(i int) string { return fmt.Sprintf("comment %d", i) })
	stamp2 := evs[1].At.Format(time.RFC3339Nano)

	csvText := csvExport(t, evs)
	csvText = strings.Replace(csvText, stamp2, stamp2+"x", 1)        // event 2: time no longer parses
	csvText = strings.Replace(csvText, "comment 4", "comment 40", 1) // event 4: content altered
	csvText = strings.Replace(csvText, "\n6,", "\nsix,", 1)          // event 6: seq no longer parses

	jsonText := jsonExport(t, evs)
	jsonText = strings.Replace(jsonText, stamp2, stamp2+"x", 1)
	jsonText = strings.Replace(jsonText, "comment 4", "comment 40", 1)
	jsonText = strings.Replace(jsonText, `"seq":6,`, `"seq":"six",`, 1)

	for name, verify := range map[string]func() (*Report, error){
		"csv":  func() (*Report, error) { return VerifyCSV(strings.NewReader(csvText)) },
		"json": func() (*Report, error) { return VerifyJSON(strings.NewReader(jsonText), "") },
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := verify()
			if err != nil {
				t.Fatalf("tampering taken for bad input: %v", err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, fmt.Sprintf("%d: %s", p.Seq, p.Message))
			}
			if rep.OK() || len(rep.Problems) != 3 || rep.Problem.Seq != 2 || rep.Problems[1].Seq != 4 || rep.Problems[2].Seq != 6 {
				t.Fatalf("want events 2, 4 and 6 reported, got %q", got)
			}
			if !strings.Contains(rep.Problems[0].Message, "at") || !strings.Contains(rep.Problems[0].Message, "altered") {
				t.Errorf("event 2's message does not name the field: %q", rep.Problems[0].Message)
			}
			if rep.Events != 6 {
				t.Errorf("%d events checked, want 6", rep.Events)
			}
		})
	}
}

func FuzzVerifyCSV(f *testing.F) {
	evs := chain(3, func(i int) string { return "'=x" })
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(CSVHeader)
	for _, e := range evs {
		w.Write(CSVRecord(e))
	}
	w.Flush()
	f.Add(b.String())
	f.Fuzz(func(t *testing.T, s string) {
		rep, err := VerifyCSV(strings.NewReader(s))
		if err == nil && rep.OK() != (rep.Problem == nil) {
			t.Fatal("inconsistent report")
		}
	})
}
