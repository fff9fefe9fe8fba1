package drift

import (
	"encoding/json"
	"strings"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/driftrules"
)

// EvidenceOf decodes what the scanner saw that an item rests on. Items
// stored before evidence was recorded, or with evidence that does not
// decode, have none.
func EvidenceOf(d models.DriftItem) driftrules.Evidence {
	var e driftrules.Evidence
	if err := json.Unmarshal([]byte(d.Evidence), &e); err != nil {
		return driftrules.Evidence{}
	}
	return e
}

// EvidenceField is one thing the scanner saw, named for people.
type EvidenceField struct {
	// Name is the field's key in the message catalogs (drift_evidence.NAME)
	// and its English name in exports.
	Name, Value string
}

// evidenceNames are the exports' English names of the fields.
var evidenceNames = map[string]string{"state": "Port state", "product": "Product", "banner": "Banner", "tls": "TLS", "findings": "Weak configuration"}

// EvidenceFields lists the evidence that was seen, in a fixed order,
// leaving out what is empty.
func EvidenceFields(e driftrules.Evidence) []EvidenceField {
	var out []EvidenceField
	add := func(name, value string) {
		if value = strings.TrimSpace(value); value != "" {
			out = append(out, EvidenceField{Name: name, Value: value})
		}
	}
	add("state", e.State)
	add("product", e.Product+" "+e.Version)
	add("banner", e.Banner)
	if e.TLS {
		add("tls", "yes")
	}
	add("findings", strings.Join(e.Findings, ", "))
	return out
}

// EvidenceText is the evidence as one readable line for exports:
// "Port state: open; Product: nginx 1.25; TLS: yes".
func EvidenceText(e driftrules.Evidence) string {
	fields := EvidenceFields(e)
	parts := make([]string, len(fields))
	for i, f := range fields {
		// A banner may hold line breaks: one line per item keeps the
		// export's rows readable.
		parts[i] = evidenceNames[f.Name] + ": " + strings.Join(strings.Fields(f.Value), " ")
	}
	return strings.Join(parts, "; ")
}
