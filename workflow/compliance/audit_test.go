package compliance_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/auditlog"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// busyWorld is a world with a few requests through their lifecycle.
func busyWorld(t *testing.T, db *gorm.DB) *workflowtest.World {
	t.Helper()
	w := workflowtest.NewWorld(t, db)
	keys, err := compliance.NewAuditKeys("portcullis.test")
	workflowtest.Must(t, err)
	w.App.Compliance.SetAuditKeys(keys)
	for i := 0; i < 3; i++ {
		r := w.Submitted(t, workflowtest.LowRisk())
		_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
		workflowtest.Must(t, err)
		_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-1", "")
		workflowtest.Must(t, err)
	}
	return w
}

type exportDoc struct {
	auditlog.Header
	Events []models.ChainedEvent `json:"events"`
}

func exportJSON(t *testing.T, w *workflowtest.World) exportDoc {
	t.Helper()
	var buf bytes.Buffer
	workflowtest.Must(t, w.App.Compliance.ExportAudit(w.Ctx, w.Aude, compliance.AuditFilter{}, "json", &buf))
	var doc exportDoc
	workflowtest.Must(t, json.Unmarshal(buf.Bytes(), &doc))
	return doc
}

func rewrite(t *testing.T, doc exportDoc) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	jw, err := auditlog.NewJSONWriter(&buf, doc.Header)
	workflowtest.Must(t, err)
	for _, e := range doc.Events {
		workflowtest.Must(t, jw.Write(e))
	}
	workflowtest.Must(t, jw.Close())
	return &buf
}

func TestAuditChainVerifiesAndCatchesTampering(t *testing.T) {
	w := busyWorld(t, modelstest.SQLite(t))
	doc := exportJSON(t, w)
	if len(doc.Events) < 20 || doc.Checkpoint == nil {
		t.Fatalf("export has %d events, checkpoint %v", len(doc.Events), doc.Checkpoint)
	}
	vkey := w.App.Compliance.AuditVerifierKey()
	rep, err := auditlog.VerifyJSON(rewrite(t, doc), vkey)
	workflowtest.Must(t, err)
	if !rep.OK() || !rep.CheckpointVerified || rep.CheckpointSize != uint64(len(doc.Events)) {
		t.Fatalf("intact export: %+v", rep)
	}
	mid := len(doc.Events) / 2
	clone := func() exportDoc {
		c := doc
		c.Events = append([]models.ChainedEvent(nil), doc.Events...)
		return c
	}
	for _, tc := range []struct {
		name    string
		tamper  func(d *exportDoc)
		wantSeq uint64
		want    string
	}{
		{"alter a field", func(d *exportDoc) { d.Events[mid].Comment = "nothing to see" }, doc.Events[mid].Seq, "altered"},
		{"alter the actor and rehash", func(d *exportDoc) {
			d.Events[mid].Actor = "mallory@example.test"
			d.Events[mid].Hash = d.Events[mid].ComputeHash()
		}, doc.Events[mid+1].Seq, "does not link"},
		{"delete one event", func(d *exportDoc) { d.Events = append(d.Events[:mid], d.Events[mid+1:]...) }, doc.Events[mid+1].Seq, "missing"},
		{"delete the tail", func(d *exportDoc) { d.Events = d.Events[:len(d.Events)-3] }, doc.Events[len(doc.Events)-3].Seq, "tail was removed"},
		{"reorder two events", func(d *exportDoc) { d.Events[mid], d.Events[mid+1] = d.Events[mid+1], d.Events[mid] }, doc.Events[mid+1].Seq, ""},
		{"forge the checkpoint key", func(d *exportDoc) {
			other, _ := compliance.NewAuditKeys("portcullis.test")
			note, _ := auditlog.SignCheckpoint(other.Signer, uint64(len(d.Events)), d.Events[len(d.Events)-1].Hash)
			d.Checkpoint = &auditlog.Checkpoint{Note: note, VerifierKey: other.Verifier}
		}, 0, "signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := clone()
			tc.tamper(&d)
			rep, err := auditlog.VerifyJSON(rewrite(t, d), vkey)
			workflowtest.Must(t, err)
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			if rep.Problem.Seq != tc.wantSeq || !strings.Contains(rep.Problem.Message, tc.want) {
				t.Fatalf("problem %+v, want event %d and %q", rep.Problem, tc.wantSeq, tc.want)
			}
		})
	}
	// The same chain verifies as CSV, and a CSV alteration is caught too.
	var csvBuf bytes.Buffer
	workflowtest.Must(t, w.App.Compliance.ExportAudit(w.Ctx, w.Aude, compliance.AuditFilter{}, "csv", &csvBuf))
	rep, err = auditlog.VerifyCSV(bytes.NewReader(csvBuf.Bytes()))
	workflowtest.Must(t, err)
	if !rep.OK() || rep.Events != len(doc.Events) {
		t.Fatalf("CSV: %+v", rep)
	}
	altered := strings.Replace(csvBuf.String(), "CHG-1", "CHG-2", 1)
	rep, _ = auditlog.VerifyCSV(strings.NewReader(altered))
	if rep.OK() {
		t.Fatal("CSV alteration not detected")
	}
	// The stored chain verifies from the admin page too.
	rep, err = w.App.Compliance.VerifyAuditChain(w.Ctx, w.Adam)
	workflowtest.Must(t, err)
	if !rep.OK() || !rep.CheckpointVerified {
		t.Fatalf("stored chain: %+v", rep)
	}
	_, err = w.App.Compliance.VerifyAuditChain(w.Ctx, w.Alice)
	workflowtest.MustCode(t, err, core.CodeForbidden)
}

func TestDatabaseRefusesAuditChanges(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := busyWorld(t, db)
		_, err := w.App.Compliance.Checkpoint(w.Ctx)
		workflowtest.Must(t, err)
		for _, stmt := range []string{
			"UPDATE audit_events SET comment = 'x' WHERE seq = 2",
			"DELETE FROM audit_events WHERE seq = 2",
			"DELETE FROM audit_events",
			"UPDATE audit_checkpoints SET tree_size = 1",
			"DELETE FROM audit_checkpoints",
		} {
			err := db.Exec(stmt).Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want refusal", stmt, err)
			}
		}
		if db.Dialector.Name() == "postgres" {
			if err := db.Exec("TRUNCATE audit_events").Error; err == nil {
				t.Error("TRUNCATE accepted")
			}
		}
		rep, err := w.App.Compliance.VerifyAuditChain(w.Ctx, w.Aude)
		workflowtest.Must(t, err)
		if !rep.OK() {
			t.Fatalf("chain broken after refused changes: %+v", rep.Problem)
		}
	})
}

func TestAuditKeys(t *testing.T) {
	k, err := compliance.NewAuditKeys("acme.example")
	workflowtest.Must(t, err)
	parsed, err := compliance.ParseAuditSigner(k.Signer)
	workflowtest.Must(t, err)
	if parsed.Verifier != k.Verifier {
		t.Fatalf("derived verifier %q, want %q", parsed.Verifier, k.Verifier)
	}
	if _, err := compliance.ParseAuditSigner("not a key"); err == nil {
		t.Fatal("bad key accepted")
	}
}

// An event written on behalf of a client carries its address in both
// exports and under its hash; the stored chain still verifies.
func TestAuditExportsCarryClientAddress(t *testing.T) {
	w := busyWorld(t, modelstest.SQLite(t))
	r := w.Submitted(t, workflowtest.LowRisk())
	_, err := w.App.Requests.Review(core.WithClientAddr(w.Ctx, "198.51.100.23"), w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	doc := exportJSON(t, w)
	i := slices.IndexFunc(doc.Events, func(e models.ChainedEvent) bool { return e.ClientAddr == "198.51.100.23" })
	if i < 0 || doc.Events[i].HashVersion != models.AuditHashVersion {
		t.Fatalf("no event carries the client address with hash version %d", models.AuditHashVersion)
	}
	rep, err := auditlog.VerifyJSON(rewrite(t, doc), w.App.Compliance.AuditVerifierKey())
	workflowtest.Must(t, err)
	if !rep.OK() {
		t.Fatalf("intact export: %+v", rep.Problems)
	}
	doc.Events[i].ClientAddr = "203.0.113.66"
	rep, err = auditlog.VerifyJSON(rewrite(t, doc), w.App.Compliance.AuditVerifierKey())
	workflowtest.Must(t, err)
	if rep.OK() || rep.Problem.Seq != doc.Events[i].Seq || !strings.Contains(rep.Problem.Message, "altered") {
		t.Fatalf("a tampered client address: %+v, want event %d altered", rep.Problem, doc.Events[i].Seq)
	}
	var csvBuf bytes.Buffer
	workflowtest.Must(t, w.App.Compliance.ExportAudit(w.Ctx, w.Aude, compliance.AuditFilter{}, "csv", &csvBuf))
	if !strings.Contains(csvBuf.String(), ",198.51.100.23,2,") {
		t.Fatal("the CSV export lacks the client address")
	}
	rep, err = auditlog.VerifyCSV(strings.NewReader(strings.Replace(csvBuf.String(), ",198.51.100.23,", ",203.0.113.66,", 1)))
	workflowtest.Must(t, err)
	if rep.OK() || rep.Problem.Seq != doc.Events[i].Seq {
		t.Fatalf("a tampered client address in CSV: %+v", rep.Problem)
	}
	rep, err = w.App.Compliance.VerifyAuditChain(w.Ctx, w.Adam)
	workflowtest.Must(t, err)
	if !rep.OK() {
		t.Fatalf("stored chain: %+v", rep)
	}
}
