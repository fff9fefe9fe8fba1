package auditlog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"slices"
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

// Exports written before client addresses were exported (testdata, made
// by that version's code) still verify, and tampering in them is still
// caught at its event.
func TestLegacyExportsStillVerify(t *testing.T) {
	for _, tc := range []struct {
		file   string
		verify func(r *strings.Reader) (*Report, error)
	}{
		{"testdata/export-v1.csv", func(r *strings.Reader) (*Report, error) { return VerifyCSV(r) }},
		{"testdata/export-v1.json", func(r *strings.Reader) (*Report, error) { return VerifyJSON(r, "") }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := tc.verify(strings.NewReader(string(b)))
			if err != nil || !rep.OK() || rep.Events != 5 {
				t.Fatalf("a legacy export no longer verifies: %v %+v", err, rep)
			}
			rep, err = tc.verify(strings.NewReader(strings.Replace(string(b), "Baseline checked.", "Baseline checked!", 1)))
			if err != nil || rep.OK() || rep.Problem.Seq != 3 {
				t.Fatalf("tampering in a legacy export: %v %+v, want event 3", err, rep)
			}
		})
	}
}

// Events written now carry their client address in both exports, under
// their hash: altering the address, or passing the event off as one of
// the old version that left it out, breaks that event. Old events in the
// same export still verify, and the report says their addresses are not
// vouched for.
func TestClientAddressIsExportedAndChained(t *testing.T) {
	prev := models.GenesisHash
	at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	var evs []models.ChainedEvent
	for i := 1; i <= 5; i++ {
		e := models.ChainedEvent{Seq: uint64(i), At: at.Add(time.Duration(i) * time.Second), Actor: "ann@example.com",
			Action: "user.login_failed", ObjectType: "user", ClientAddr: fmt.Sprintf("192.0.2.%d", 10+i), HashVersion: 2, PrevHash: prev}
		if i == 1 {
			e.HashVersion = 1 // written before the upgrade: its address is shown, not hashed
		}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		evs = append(evs, e)
	}
	csvText, jsonText := csvExport(t, evs), jsonExport(t, evs)
	if !strings.Contains(csvText, ",client_addr,hash_version,") || !strings.Contains(csvText, ",192.0.2.13,2,") {
		t.Fatalf("the CSV export lacks the client address:\n%s", csvText)
	}
	if !strings.Contains(jsonText, `"client_addr":"192.0.2.13","hash_version":2`) {
		t.Fatalf("the JSON export lacks the client address:\n%s", jsonText)
	}
	verifiers := map[string]func(string) (*Report, error){
		"csv":  func(s string) (*Report, error) { return VerifyCSV(strings.NewReader(s)) },
		"json": func(s string) (*Report, error) { return VerifyJSON(strings.NewReader(s), "") },
	}
	texts := map[string]string{"csv": csvText, "json": jsonText}
	for name, verify := range verifiers {
		t.Run(name, func(t *testing.T) {
			rep, err := verify(texts[name])
			if err != nil || !rep.OK() || rep.Events != 5 {
				t.Fatalf("intact export: %v %+v", err, rep)
			}
			if !slices.ContainsFunc(rep.Notes, func(n string) bool {
				return strings.Contains(n, "1 events were written before client addresses were hashed")
			}) {
				t.Errorf("no note on the old event's unhashed address: %q", rep.Notes)
			}
			// The third event's address and version, as each export writes them.
			cell := map[string]func(addr, version string) string{
				"csv":  func(addr, version string) string { return "," + addr + "," + version + "," },
				"json": func(addr, version string) string { return `"client_addr":"` + addr + `","hash_version":` + version },
			}[name]
			for tamper, text := range map[string]string{
				"address":               strings.Replace(texts[name], cell("192.0.2.13", "2"), cell("198.51.100.9", "2"), 1),
				"address and downgrade": strings.Replace(texts[name], cell("192.0.2.13", "2"), cell("198.51.100.9", "1"), 1),
				"unknown version":       strings.Replace(texts[name], cell("192.0.2.13", "2"), cell("192.0.2.13", "7"), 1),
			} {
				if text == texts[name] {
					t.Fatalf("%s: the tampering changed nothing", tamper)
				}
				rep, err := verify(text)
				if err != nil || rep.OK() || rep.Problem.Seq != 3 || len(rep.Problems) != 1 {
					t.Errorf("%s tampered: %v %+v, want event 3 alone", tamper, err, rep.Problems)
				}
			}
		})
	}
}
