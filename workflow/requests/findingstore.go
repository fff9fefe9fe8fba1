package requests

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// storedFinding is a finding as a request keeps it: the engine's own JSON
// (what the API and the reports read) plus its message apart from any one
// language, so that each reader later gets it in theirs with the same
// ports, zones and services. Findings stored before "said" existed decode
// without it and are shown by their code.
type storedFinding struct {
	Finding
	Said *storedMessage `json:"said,omitempty"`
	// ControlTexts are the required controls in other languages, where the
	// catalog gave them (Finding.ControlTexts).
	ControlTexts []map[string]string `json:"control_texts,omitempty"`
}

// storedMessage is a core.Message in JSON: values that are data as text,
// values that are themselves messages nested.
type storedMessage struct {
	ID      string                   `json:"id,omitempty"`
	English string                   `json:"en"`
	Values  map[string]string        `json:"values,omitempty"`
	Nested  map[string]storedMessage `json:"said,omitempty"`
	// Texts are words the data gave in other languages (core.Given).
	Texts map[string]string `json:"texts,omitempty"`
}

func storeMessage(m core.Message) storedMessage {
	out := storedMessage{ID: m.ID, English: m.English, Texts: m.Texts}
	for _, a := range m.Args {
		k, v := a.Name, a.Value
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
	m := core.Message{ID: s.ID, English: s.English, Texts: s.Texts}
	if len(s.Values)+len(s.Nested) > 0 {
		m.Args = make([]core.Arg, 0, len(s.Values)+len(s.Nested))
	}
	// By name: the stored maps have no order of their own.
	for _, k := range slices.Sorted(maps.Keys(s.Values)) {
		m.Args = append(m.Args, core.Arg{Name: k, Value: s.Values[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Nested)) {
		m.Args = append(m.Args, core.Arg{Name: k, Value: s.Nested[k].message()})
	}
	return m
}

// encodeFindings is the findings as a request stores them.
func encodeFindings(findings []Finding) string {
	stored := make([]storedFinding, len(findings))
	for i, f := range findings {
		stored[i] = storedFinding{Finding: f, ControlTexts: f.ControlTexts}
		if f.Said.ID != "" {
			said := storeMessage(f.Said)
			stored[i].Said = &said
		}
	}
	b, _ := json.Marshal(stored)
	return string(b)
}

// Gravity is the most severe of a request's stored findings (the first of
// that rank; "" with none) and whether any blocks approval: what a work
// queue marks each request with. It decodes those two fields alone, not
// each finding's messages and controls as FindingsOf does, and keeps the
// answer by stored text: a queue decodes its 50 requests' findings on every
// view, and requests for like rules store the same findings.
func Gravity(r models.Request) (worst policy.Severity, blocking bool) {
	gravities.Lock()
	g, ok := gravities.byFindings[r.Findings]
	gravities.Unlock()
	if ok {
		return g.worst, g.blocking
	}
	var stored []struct {
		Severity policy.Severity `json:"severity"`
		Blocking bool            `json:"blocking"`
	}
	if json.Unmarshal([]byte(r.Findings), &stored) != nil {
		return "", false
	}
	rank := -1
	for _, f := range stored {
		blocking = blocking || f.Blocking
		if f.Severity.Rank() > rank {
			rank, worst = f.Severity.Rank(), f.Severity
		}
	}
	gravities.Lock()
	if gravities.byFindings == nil || len(gravities.byFindings) >= gravitiesKept {
		gravities.byFindings = map[string]gravity{}
	}
	gravities.byFindings[r.Findings] = gravity{worst, blocking}
	gravities.Unlock()
	return worst, blocking
}

// gravitiesKept bounds the texts Gravity keeps: past it they are dropped.
const gravitiesKept = 4096

type gravity struct {
	worst    policy.Severity
	blocking bool
}

var gravities struct {
	sync.Mutex
	byFindings map[string]gravity
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
		out[i].ControlTexts = s.ControlTexts
		if s.Said != nil {
			out[i].Said = s.Said.message()
		}
	}
	return out
}
