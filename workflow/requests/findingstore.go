package requests

import (
	"encoding/json"
	"fmt"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// storedFinding is a finding as a request keeps it: the engine's own JSON
// (what the API and the reports read) plus its message apart from any one
// language, so that each reader later gets it in theirs with the same
// ports, zones and services. Findings stored before "said" existed decode
// without it and are shown by their code.
type storedFinding struct {
	Finding
	Said *storedMessage `json:"said,omitempty"`
}

// storedMessage is a core.Message in JSON: values that are data as text,
// values that are themselves messages nested.
type storedMessage struct {
	ID      string                   `json:"id,omitempty"`
	English string                   `json:"en"`
	Values  map[string]string        `json:"values,omitempty"`
	Nested  map[string]storedMessage `json:"said,omitempty"`
}

func storeMessage(m core.Message) storedMessage {
	out := storedMessage{ID: m.ID, English: m.English}
	for k, v := range m.Data {
		if n, ok := v.(core.Message); ok {
			if out.Nested == nil {
				out.Nested = map[string]storedMessage{}
			}
			out.Nested[k] = storeMessage(n)
			continue
		}
		if out.Values == nil {
			out.Values = map[string]string{}
		}
		out.Values[k] = fmt.Sprint(v)
	}
	return out
}

func (s storedMessage) message() core.Message {
	m := core.Message{ID: s.ID, English: s.English}
	if len(s.Values)+len(s.Nested) > 0 {
		m.Data = make(map[string]any, len(s.Values)+len(s.Nested))
	}
	for k, v := range s.Values {
		m.Data[k] = v
	}
	for k, n := range s.Nested {
		m.Data[k] = n.message()
	}
	return m
}

// encodeFindings is the findings as a request stores them.
func encodeFindings(findings []Finding) string {
	stored := make([]storedFinding, len(findings))
	for i, f := range findings {
		stored[i] = storedFinding{Finding: f}
		if f.Said.ID != "" {
			said := storeMessage(f.Said)
			stored[i].Said = &said
		}
	}
	b, _ := json.Marshal(stored)
	return string(b)
}

// FindingsOf decodes a request's stored findings.
func FindingsOf(r models.Request) []Finding {
	var stored []storedFinding
	if json.Unmarshal([]byte(r.Findings), &stored) != nil {
		return nil
	}
	out := make([]Finding, len(stored))
	for i, s := range stored {
		out[i] = s.Finding
		if s.Said != nil {
			out[i].Said = s.Said.message()
		}
	}
	return out
}
