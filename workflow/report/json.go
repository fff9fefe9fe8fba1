package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"time"
)

// jsonWriter streams one JSON object. Every row is written as soon as it
// arrives; only the current table's column keys are held.
//
// Layout (one row per line so the file diffs and greps well):
//
//	{"title":…,"subtitle":…,"generated_at":…,"generated_by":…,
//	"filters":[{"name":…,"value":…}],
//	"summary":[…],
//	"notes":[…],
//	"tables":[
//	{"key":…,"title":…,"columns":[{"key":…,"title":…}],"rows":[
//	{"col":"value",…},
//	…
//	]}
//	]}
type jsonWriter struct {
	buf       *bufio.Writer
	scratch   bytes.Buffer
	enc       *json.Encoder // writes into scratch; HTML escaping off
	tables    int
	rows      int
	columnKey [][]byte // encoded column keys with their colon, reused per row
}

func newJSONWriter(w io.Writer) *jsonWriter {
	j := &jsonWriter{buf: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.scratch)
	j.enc.SetEscapeHTML(false)
	return j
}

// str returns s encoded as a JSON string. The result is only valid until the
// next call.
func (j *jsonWriter) str(s string) []byte {
	j.scratch.Reset()
	_ = j.enc.Encode(s) // encoding a string cannot fail
	return bytes.TrimSuffix(j.scratch.Bytes(), []byte("\n"))
}

func (j *jsonWriter) pair(name, value string) {
	j.buf.Write(j.str(name))
	j.buf.WriteByte(':')
	j.buf.Write(j.str(value))
}

func (j *jsonWriter) fields(name string, fields []Field) {
	j.buf.WriteString(",\n\"" + name + `":[`)
	for i, f := range fields {
		if i > 0 {
			j.buf.WriteByte(',')
		}
		j.buf.WriteByte('{')
		j.pair("name", f.Name)
		j.buf.WriteByte(',')
		j.pair("value", f.Value)
		j.buf.WriteByte('}')
	}
	j.buf.WriteByte(']')
}

func (j *jsonWriter) begin(d Document) error {
	j.buf.WriteByte('{')
	j.pair("title", d.Title)
	j.buf.WriteByte(',')
	j.pair("subtitle", d.Subtitle)
	j.buf.WriteString(`,"generated_at":`)
	if d.GeneratedAt.IsZero() {
		j.buf.WriteString("null")
	} else {
		j.buf.Write(j.str(d.GeneratedAt.UTC().Format(time.RFC3339)))
	}
	j.buf.WriteByte(',')
	j.pair("generated_by", d.GeneratedBy)
	j.fields("filters", d.Filters)
	j.fields("summary", d.Summary)
	j.buf.WriteString(",\n\"notes\":[")
	for i, n := range d.Notes {
		if i > 0 {
			j.buf.WriteByte(',')
		}
		j.buf.Write(j.str(n))
	}
	j.buf.WriteString("],\n\"tables\":[")
	return nil
}

func (j *jsonWriter) startTable(t Table) error {
	if j.tables > 0 {
		j.buf.WriteByte(',')
	}
	j.tables++
	j.rows = 0
	j.buf.WriteString("\n{")
	j.pair("key", t.Key)
	j.buf.WriteByte(',')
	j.pair("title", t.Title)
	j.buf.WriteString(`,"columns":[`)
	j.columnKey = j.columnKey[:0]
	for i, col := range t.Columns {
		if i > 0 {
			j.buf.WriteByte(',')
		}
		j.buf.WriteByte('{')
		j.pair("key", col.Key)
		j.buf.WriteByte(',')
		j.pair("title", col.Title)
		j.buf.WriteByte('}')
		key := append([]byte(nil), j.str(col.Key)...)
		j.columnKey = append(j.columnKey, append(key, ':'))
	}
	j.buf.WriteString(`],"rows":[`)
	return nil
}

func (j *jsonWriter) row(cells []string) error {
	if j.rows > 0 {
		j.buf.WriteByte(',')
	}
	j.rows++
	j.buf.WriteString("\n{")
	for i, cell := range cells {
		if i > 0 {
			j.buf.WriteByte(',')
		}
		j.buf.Write(j.columnKey[i])
		j.buf.Write(j.str(cell))
	}
	// bufio.Writer keeps its first write error and returns it from every
	// later call, so checking once per row is enough.
	_, err := j.buf.WriteString("}")
	return err
}

func (j *jsonWriter) endTable() error {
	if j.rows > 0 {
		j.buf.WriteByte('\n')
	}
	_, err := j.buf.WriteString("]}")
	return err
}

func (j *jsonWriter) close() error {
	if j.tables > 0 {
		j.buf.WriteByte('\n')
	}
	j.buf.WriteString("]}\n")
	return j.buf.Flush()
}

func (j *jsonWriter) abort() {}
