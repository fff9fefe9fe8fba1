// Package auditlog writes and checks exports of the hash-chained audit log.
// Verification is offline: it needs the exported file and, to trust the
// checkpoint, the verifier key of the server that signed it.
package auditlog

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/portcullis/portcullis/models"
)

// ExportSchema names the JSON export format.
const ExportSchema = "portcullis.audit-export/v1"

// CheckpointOrigin begins every checkpoint's text.
const CheckpointOrigin = "portcullis.audit/v1"

// Checkpoint is a signed statement: the chain had TreeSize events and its
// last one had HeadHash.
type Checkpoint struct {
	Note        string `json:"note"`
	VerifierKey string `json:"verifier_key"`
}

// CheckpointText is what is signed.
func CheckpointText(size uint64, head string) string {
	raw, _ := hex.DecodeString(head)
	return fmt.Sprintf("%s\n%d\n%s\n", CheckpointOrigin, size, base64.StdEncoding.EncodeToString(raw))
}

// SignCheckpoint signs the chain's size and head with a note signer key.
func SignCheckpoint(skey string, size uint64, head string) (string, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return "", fmt.Errorf("audit signing key: %w", err)
	}
	msg, err := note.Sign(&note.Note{Text: CheckpointText(size, head)}, signer)
	if err != nil {
		return "", err
	}
	return string(msg), nil
}

// OpenCheckpoint checks a checkpoint's signature with vkey and reads it.
func OpenCheckpoint(signed, vkey string) (size uint64, head string, err error) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return 0, "", fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(verifier))
	if err != nil {
		return 0, "", fmt.Errorf("the checkpoint's signature does not verify with key %s: %w", verifier.Name(), err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 3 || lines[0] != CheckpointOrigin {
		return 0, "", errors.New("the checkpoint is not a Portcullis audit checkpoint")
	}
	size, err = strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return 0, "", errors.New("the checkpoint's size is not a number")
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != 32 {
		return 0, "", errors.New("the checkpoint's head hash is malformed")
	}
	return size, hex.EncodeToString(raw), nil
}

// Problem is the first thing wrong with a log.
type Problem struct {
	Seq     uint64 `json:"seq"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return fmt.Sprintf("event %d: %s", p.Seq, p.Message) }

// Report is the outcome of a verification.
type Report struct {
	Events             int
	FirstSeq, LastSeq  uint64
	CheckpointSize     uint64
	CheckpointVerified bool
	Problem            *Problem
	Notes              []string
}

// OK is true when nothing is wrong.
func (r *Report) OK() bool { return r.Problem == nil }

// Verifier checks events one at a time, in order, so a log of any size is
// checked in constant memory.
type Verifier struct {
	report   Report
	prevHash string
	prevSeq  uint64
	headAt   map[uint64]string // hash at the checkpoint's size, when seen
	wantSeq  uint64            // the checkpoint's size, 0 when none is known yet
}

// NewVerifier starts a verification; checkpointSize, when not zero, is the
// size whose head hash should be remembered for the checkpoint check.
func NewVerifier(checkpointSize uint64) *Verifier {
	return &Verifier{wantSeq: checkpointSize, headAt: map[uint64]string{}}
}

// Add checks the next event. It returns the first problem; later calls keep returning it.
func (v *Verifier) Add(e models.ChainedEvent) *Problem {
	if v.report.Problem != nil {
		return v.report.Problem
	}
	fail := func(format string, a ...any) *Problem {
		v.report.Problem = &Problem{Seq: e.Seq, Message: fmt.Sprintf(format, a...)}
		return v.report.Problem
	}
	if e.ComputeHash() != e.Hash {
		return fail("its content does not match its hash: the event was altered")
	}
	if v.report.Events == 0 {
		v.report.FirstSeq = e.Seq
		if e.Seq == 1 && e.PrevHash != models.GenesisHash {
			return fail("the first event does not start the chain")
		}
		if e.Seq > 1 {
			v.report.Notes = append(v.report.Notes, fmt.Sprintf("the export starts at event %d: the link to earlier events is taken on trust", e.Seq))
		}
	} else {
		switch {
		case e.Seq <= v.prevSeq:
			return fail("comes after event %d: events are out of order", v.prevSeq)
		case e.Seq != v.prevSeq+1:
			return fail("follows event %d: events %d to %d are missing", v.prevSeq, v.prevSeq+1, e.Seq-1)
		case e.PrevHash != v.prevHash:
			return fail("does not link to event %d before it: an event was removed, replaced or reordered", v.prevSeq)
		}
	}
	if e.Seq == v.wantSeq {
		v.headAt[e.Seq] = e.Hash
	}
	v.prevHash, v.prevSeq = e.Hash, e.Seq
	v.report.Events++
	v.report.LastSeq = e.Seq
	return nil
}

// Finish checks the checkpoint against what was seen: the event at its size
// must carry its head hash, and the log must not end before it.
func (v *Verifier) Finish(size uint64, head string, verified bool, windowEnd bool) *Report {
	r := &v.report
	r.CheckpointSize, r.CheckpointVerified = size, verified
	if r.Problem != nil || size == 0 {
		return r
	}
	switch {
	case r.Events > 0 && size > r.LastSeq && !windowEnd:
		r.Problem = &Problem{Seq: r.LastSeq + 1, Message: fmt.Sprintf("is missing: the log ends at event %d but the signed checkpoint covers %d events (the tail was removed)", r.LastSeq, size)}
	case r.Events == 0 && !windowEnd:
		r.Problem = &Problem{Seq: 1, Message: fmt.Sprintf("is missing: the export holds no event but the signed checkpoint covers %d", size)}
	case size >= r.FirstSeq && size <= r.LastSeq:
		if v.headAt[size] != head {
			r.Problem = &Problem{Seq: size, Message: "does not carry the head hash the checkpoint signed: the log was rewritten"}
		}
	}
	return r
}

// Header is what a JSON export says before its events.
type Header struct {
	Schema     string      `json:"schema"`
	ExportedAt time.Time   `json:"exported_at"`
	From       *time.Time  `json:"from,omitempty"`
	To         *time.Time  `json:"to,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// JSONWriter streams a JSON export: the header, then the events one by one.
type JSONWriter struct {
	w     io.Writer
	count int
	err   error
}

// NewJSONWriter writes the header and opens the events list.
func NewJSONWriter(w io.Writer, h Header) (*JSONWriter, error) {
	h.Schema = ExportSchema
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	// The header's fields, then "events": [ … ] — written by hand so events stream.
	b = bytes.TrimSuffix(b, []byte("}"))
	if _, err := fmt.Fprintf(w, "%s,\"events\":[\n", b); err != nil {
		return nil, err
	}
	return &JSONWriter{w: w}, nil
}

// Write adds one event.
func (j *JSONWriter) Write(e models.ChainedEvent) error {
	if j.err != nil {
		return j.err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.count == 0 {
		sep = ""
	}
	j.count++
	_, j.err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return j.err
}

// Close ends the document.
func (j *JSONWriter) Close() error {
	if j.err != nil {
		return j.err
	}
	_, err := io.WriteString(j.w, "\n]}\n")
	return err
}

// CSVHeader are the columns of a CSV export.
var CSVHeader = []string{"seq", "at", "actor_id", "actor", "action", "object_type", "object_id", "from_state", "to_state", "detail", "comment", "prev_hash", "hash"}

// NeutraliseCell keeps a spreadsheet from running a cell as a formula.
func NeutraliseCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSVRecord is one event as a CSV row, neutralised.
func CSVRecord(e models.ChainedEvent) []string {
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatUint(uint64(*e.ActorID), 10)
	}
	rec := []string{strconv.FormatUint(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), actorID, e.Actor, e.Action, e.ObjectType,
		strconv.FormatUint(uint64(e.ObjectID), 10), e.FromState, e.ToState, e.Detail, e.Comment, e.PrevHash, e.Hash}
	for i := range rec {
		rec[i] = NeutraliseCell(rec[i])
	}
	return rec
}

// VerifyJSON reads a JSON export as a stream and verifies it. trustedKey,
// when given, is the verifier key the checkpoint must be signed with;
// otherwise the key in the file is used and the report says so.
func VerifyJSON(r io.Reader, trustedKey string) (*Report, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON audit export: it does not start with an object")
	}
	var h Header
	var v *Verifier
	var size uint64
	var head string
	verified := false
	var notes []string
	sawEvents := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON audit export: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "schema":
			if err := dec.Decode(&h.Schema); err != nil || h.Schema != ExportSchema {
				return nil, fmt.Errorf("schema %q is not %s", h.Schema, ExportSchema)
			}
		case "to":
			if err := dec.Decode(&h.To); err != nil {
				return nil, fmt.Errorf("the export's to field: %w", err)
			}
		case "checkpoint":
			if err := dec.Decode(&h.Checkpoint); err != nil {
				return nil, fmt.Errorf("the export's checkpoint: %w", err)
			}
			if h.Checkpoint != nil {
				key := trustedKey
				if key == "" {
					key = h.Checkpoint.VerifierKey
					notes = append(notes, "the checkpoint was checked with the key inside the file; pass the server's verifier key to trust it")
				}
				size, head, err = OpenCheckpoint(h.Checkpoint.Note, key)
				if err != nil {
					return &Report{Problem: &Problem{Message: err.Error()}}, nil
				}
				verified = trustedKey != ""
			}
		case "events":
			sawEvents = true
			v = NewVerifier(size)
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return nil, errors.New("events is not a list")
			}
			for dec.More() {
				var e models.ChainedEvent
				if err := dec.Decode(&e); err != nil {
					return nil, fmt.Errorf("event after %d events: %w", v.report.Events, err)
				}
				if p := v.Add(e); p != nil {
					break
				}
			}
			if v.report.Problem != nil {
				rep := v.report
				rep.Notes = append(notes, rep.Notes...)
				return &rep, nil
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("events list: %w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	if !sawEvents {
		return nil, errors.New("not a JSON audit export: no events list")
	}
	rep := v.Finish(size, head, verified, h.To != nil)
	rep.Notes = append(notes, rep.Notes...)
	if h.Checkpoint == nil {
		rep.Notes = append(rep.Notes, "the export carries no checkpoint: removal of the newest events cannot be ruled out")
	}
	return rep, nil
}

// VerifyCSV verifies a CSV export (the chain only: CSV carries no checkpoint).
func VerifyCSV(r io.Reader) (*Report, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil || strings.Join(header, ",") != strings.Join(CSVHeader, ",") {
		return nil, errors.New("not a CSV audit export: the header differs")
	}
	v := NewVerifier(0)
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		e, err := fromCSV(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if v.Add(e) != nil {
			break
		}
	}
	rep := v.Finish(0, "", false, false)
	rep.Notes = append(rep.Notes, "CSV exports carry no checkpoint: verify the JSON export to rule out removal of the newest events")
	return rep, nil
}

func unneutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

func fromCSV(rec []string) (models.ChainedEvent, error) {
	if len(rec) != len(CSVHeader) {
		return models.ChainedEvent{}, fmt.Errorf("%d columns, want %d", len(rec), len(CSVHeader))
	}
	for i := range rec {
		rec[i] = unneutralise(rec[i])
	}
	var e models.ChainedEvent
	var err error
	if e.Seq, err = strconv.ParseUint(rec[0], 10, 64); err != nil {
		return e, errors.New("seq is not a number")
	}
	if e.At, err = time.Parse(time.RFC3339Nano, rec[1]); err != nil {
		return e, errors.New("at is not an RFC 3339 time")
	}
	if rec[2] != "" {
		n, err := strconv.ParseUint(rec[2], 10, 32)
		if err != nil {
			return e, errors.New("actor_id is not a number")
		}
		id := uint(n)
		e.ActorID = &id
	}
	obj, err := strconv.ParseUint(rec[6], 10, 32)
	if err != nil {
		return e, errors.New("object_id is not a number")
	}
	e.Actor, e.Action, e.ObjectType, e.ObjectID = rec[3], rec[4], rec[5], uint(obj)
	e.FromState, e.ToState, e.Detail, e.Comment, e.PrevHash, e.Hash = rec[7], rec[8], rec[9], rec[10], rec[11], rec[12]
	return e, nil
}
