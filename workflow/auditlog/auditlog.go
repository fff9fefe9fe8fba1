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
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/portcullis/portcullis/models"
)

// ExportSchema names the JSON export format. Version 2 adds each event's
// client_addr and hash_version; exports of version 1 still verify.
const (
	ExportSchema       = "portcullis.audit-export/v2"
	legacyExportSchema = "portcullis.audit-export/v1"
)

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

// Problem is one thing wrong with a log, at one event.
type Problem struct {
	Seq     uint64 `json:"seq"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return fmt.Sprintf("event %d: %s", p.Seq, p.Message) }

// maxProblems bounds what a report lists, so a log that is wrong everywhere
// is still checked in constant memory; the rest are only counted.
const maxProblems = 1000

// Report is the outcome of a verification.
type Report struct {
	Events             int
	FirstSeq, LastSeq  uint64
	CheckpointSize     uint64
	CheckpointVerified bool
	// Problem is the first thing wrong; Problems lists every one found (up
	// to maxProblems), and MoreProblems counts those beyond.
	Problem      *Problem
	Problems     []Problem
	MoreProblems int
	Notes        []string
}

// OK is true when nothing is wrong.
func (r *Report) OK() bool { return r.Problem == nil }

func (r *Report) add(p Problem) *Problem {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, p)
	} else {
		r.MoreProblems++
	}
	if r.Problem == nil {
		first := p
		r.Problem = &first
	}
	return &p
}

// Verifier checks events one at a time, in order, so a log of any size is
// checked in constant memory. It keeps going past a broken event, taking
// the broken event's recorded hash and number as the chain's next link, so
// that every broken event is reported, not only the first.
type Verifier struct {
	report   Report
	prevHash string
	prevSeq  uint64
	headAt   map[uint64]string // hash at the checkpoint's size, when seen
	wantSeq  uint64            // the checkpoint's size, 0 when none is known yet
	// unhashedAddrs counts version-1 events that show a client address
	// their hash does not cover.
	unhashedAddrs int
}

// NewVerifier starts a verification; checkpointSize, when not zero, is the
// size whose head hash should be remembered for the checkpoint check.
func NewVerifier(checkpointSize uint64) *Verifier {
	return &Verifier{wantSeq: checkpointSize, headAt: map[uint64]string{}}
}

// Add checks the next event and returns what is wrong with it, or nil.
func (v *Verifier) Add(e models.ChainedEvent) *Problem {
	var msg string
	switch {
	case !models.KnownHashVersion(e.HashVersion):
		msg = fmt.Sprintf("its hash version %d is not one this verifier knows (1 to %d): the event was altered, or a newer Portcullis wrote it", e.HashVersion, models.AuditHashVersion)
	case e.ComputeHash() != e.Hash:
		msg = "its content does not match its hash: the event was altered"
	case v.report.Events == 0 && e.Seq == 1 && e.PrevHash != models.GenesisHash:
		msg = "the first event does not start the chain"
	case v.report.Events == 0:
	case e.Seq <= v.prevSeq:
		msg = fmt.Sprintf("comes after event %d: events are out of order", v.prevSeq)
	case e.Seq != v.prevSeq+1:
		msg = fmt.Sprintf("follows event %d: events %d to %d are missing", v.prevSeq, v.prevSeq+1, e.Seq-1)
	case e.PrevHash != v.prevHash && v.prevHash != "": // "": after an event whose hash could not be read
		msg = fmt.Sprintf("does not link to event %d before it: an event was removed, replaced or reordered", v.prevSeq)
	}
	if v.report.Events == 0 {
		v.report.FirstSeq = e.Seq
		if e.Seq > 1 {
			v.report.Notes = append(v.report.Notes, fmt.Sprintf("the export starts at event %d: the link to earlier events is taken on trust", e.Seq))
		}
	}
	if e.HashVersion < 2 && e.ClientAddr != "" {
		v.unhashedAddrs++
	}
	v.next(e.Seq, e.Hash)
	if msg == "" {
		return nil
	}
	return v.report.add(Problem{Seq: e.Seq, Message: msg})
}

// Unreadable records an event that cannot be read back at all (a field that
// no longer parses): it is reported as altered, and the chain goes on from
// its recorded hash. seq is 0 when even the event's number is unreadable;
// the event then takes the number after the one before it.
func (v *Verifier) Unreadable(seq uint64, hash, why string) *Problem {
	if seq == 0 {
		seq = v.prevSeq + 1
	}
	if v.report.Events == 0 {
		v.report.FirstSeq = seq
	}
	v.next(seq, hash)
	return v.report.add(Problem{Seq: seq, Message: why + ": the event was altered"})
}

func (v *Verifier) next(seq uint64, hash string) {
	if seq == v.wantSeq {
		v.headAt[seq] = hash
	}
	v.prevHash, v.prevSeq = hash, seq
	v.report.Events++
	v.report.LastSeq = seq
}

// Finish checks the checkpoint against what was seen: the event at its size
// must carry its head hash, and the log must not end before it.
func (v *Verifier) Finish(size uint64, head string, verified bool, windowEnd bool) *Report {
	r := &v.report
	r.CheckpointSize, r.CheckpointVerified = size, verified
	v.noteUnhashedAddrs()
	if size == 0 {
		return r
	}
	switch {
	case r.Events > 0 && size > r.LastSeq && !windowEnd:
		r.add(Problem{Seq: r.LastSeq + 1, Message: fmt.Sprintf("is missing: the log ends at event %d but the signed checkpoint covers %d events (the tail was removed)", r.LastSeq, size)})
	case r.Events == 0 && !windowEnd:
		r.add(Problem{Seq: 1, Message: fmt.Sprintf("is missing: the export holds no event but the signed checkpoint covers %d", size)})
	case size >= r.FirstSeq && size <= r.LastSeq:
		if v.headAt[size] != head {
			r.add(Problem{Seq: size, Message: "does not carry the head hash the checkpoint signed: the log was rewritten"})
		}
	}
	return r
}

// noteUnhashedAddrs says, once, how many client addresses the chain does not
// vouch for.
func (v *Verifier) noteUnhashedAddrs() {
	if v.unhashedAddrs > 0 {
		v.report.Notes = append(v.report.Notes, fmt.Sprintf("%d events were written before client addresses were hashed (hash version 1): their client address is shown but not covered by the chain", v.unhashedAddrs))
		v.unhashedAddrs = 0
	}
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
var CSVHeader = []string{"seq", "at", "actor_id", "actor", "action", "object_type", "object_id", "from_state", "to_state", "detail", "comment", "client_addr", "hash_version", "prev_hash", "hash"}

// legacyCSVHeader are the columns of exports written before client
// addresses were exported; such files still verify.
var legacyCSVHeader = []string{"seq", "at", "actor_id", "actor", "action", "object_type", "object_id", "from_state", "to_state", "detail", "comment", "prev_hash", "hash"}

// NeutraliseCell keeps a spreadsheet from running a cell as a formula.
func NeutraliseCell(s string) string {
	if formulaLike(s) {
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
	version := e.HashVersion
	if version == 0 {
		version = 1
	}
	rec := []string{strconv.FormatUint(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), actorID, e.Actor, e.Action, e.ObjectType,
		strconv.FormatUint(uint64(e.ObjectID), 10), e.FromState, e.ToState, e.Detail, e.Comment, e.ClientAddr, strconv.Itoa(version), e.PrevHash, e.Hash}
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
			if err := dec.Decode(&h.Schema); err != nil || (h.Schema != ExportSchema && h.Schema != legacyExportSchema) {
				return nil, fmt.Errorf("schema %q is not %s or %s", h.Schema, ExportSchema, legacyExportSchema)
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
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					// The JSON itself is broken: nothing after this point can be read.
					v.Unreadable(0, "", fmt.Sprintf("the export cannot be read from here on (%v)", err))
					return finishReport(v, notes), nil
				}
				var e models.ChainedEvent
				if err := json.Unmarshal(raw, &e); err != nil {
					seq, hash, why := salvageJSON(raw, err)
					v.Unreadable(seq, hash, why)
					continue
				}
				v.Add(e)
			}
			if _, err := dec.Token(); err != nil {
				v.Unreadable(0, "", fmt.Sprintf("the export cannot be read from here on (%v)", err))
				return finishReport(v, notes), nil
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

// finishReport ends a verification cut short by unreadable input.
func finishReport(v *Verifier, notes []string) *Report {
	v.noteUnhashedAddrs()
	rep := v.report
	rep.Notes = append(notes, rep.Notes...)
	return &rep
}

// salvageJSON reads what it can of an event that does not decode: its
// number and hash, so the chain goes on, and which field is wrong.
func salvageJSON(raw json.RawMessage, err error) (seq uint64, hash, why string) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return 0, "", "it is not a JSON object"
	}
	json.Unmarshal(fields["seq"], &seq)
	json.Unmarshal(fields["hash"], &hash)
	field := ""
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field = te.Field
	} else if _, terr := time.Parse(time.RFC3339Nano, strings.Trim(string(fields["at"]), `"`)); terr != nil {
		field = "at"
	}
	if field == "at" {
		return seq, hash, "its time (at) is not an RFC 3339 time"
	}
	if field != "" {
		return seq, hash, fmt.Sprintf("its field %s does not parse", field)
	}
	return seq, hash, fmt.Sprintf("it does not parse (%v)", err)
}

// VerifyCSV verifies a CSV export (the chain only: CSV carries no checkpoint).
func VerifyCSV(r io.Reader) (*Report, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil || !slices.Equal(header, CSVHeader) && !slices.Equal(header, legacyCSVHeader) {
		return nil, errors.New("not a CSV audit export: the header differs")
	}
	columns := len(header)
	cr.FieldsPerRecord = -1 // a row with a column too many or too few is a broken event, reported below
	v := NewVerifier(0)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, err
			}
			v.Unreadable(0, "", fmt.Sprintf("line %d does not parse as CSV (%v)", pe.StartLine, pe.Err))
			continue
		}
		e, err := fromCSV(rec, columns)
		if err != nil {
			v.Unreadable(e.Seq, e.Hash, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		v.Add(e)
	}
	rep := v.Finish(0, "", false, false)
	rep.Notes = append(rep.Notes, "CSV exports carry no checkpoint: verify the JSON export to rule out removal of the newest events")
	return rep, nil
}

// unneutralise undoes NeutraliseCell exactly: it strips the one quote that
// NeutraliseCell added, and nothing from a cell that began with a quote of
// its own.
func unneutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && formulaLike(s[1:]) {
		return s[1:]
	}
	return s
}

// formulaLike is true for a cell a spreadsheet could run, and for such a
// cell behind any number of quotes: "'=1" must gain a quote on export
// too, or reading it back could not tell it from a neutralised "=1".
func formulaLike(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// fromCSV reads a row of a file whose header has columns columns: the
// current header, or the legacy one without client_addr and hash_version.
func fromCSV(rec []string, columns int) (models.ChainedEvent, error) {
	for i := range rec {
		rec[i] = unneutralise(rec[i])
	}
	var e models.ChainedEvent
	var err error
	// The number and hash first: with them a broken row is named and the chain goes on.
	e.Seq, err = strconv.ParseUint(rec[0], 10, 64)
	e.Hash = rec[len(rec)-1]
	if len(rec) != columns {
		return e, fmt.Errorf("%d columns, want %d", len(rec), columns)
	}
	if err != nil {
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
	e.FromState, e.ToState, e.Detail, e.Comment = rec[7], rec[8], rec[9], rec[10]
	if columns == len(CSVHeader) {
		e.ClientAddr = rec[11]
		if e.HashVersion, err = strconv.Atoi(rec[12]); err != nil {
			return e, errors.New("hash_version is not a number")
		}
	}
	e.PrevHash = rec[len(rec)-2]
	return e, nil
}
