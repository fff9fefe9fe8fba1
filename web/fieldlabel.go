package web

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/web/locale"
)

// fieldPath reads a field path of the API contract: a name, then any
// number of [index] or .name parts ("rules[0].destination[1]").
var fieldPath = regexp.MustCompile(`^([a-z_]+)(?:\[([^\]]{1,100})\])?(?:\.([a-z_]+))?(?:\[\d{1,4}\])?$`)

// controlKey is a finding's key in the exception form: "0:zone-path" is
// rule 1's zone-path finding.
var controlKey = regexp.MustCompile(`^(\d{1,4}):`)

// FieldLabel names a field the way the forms show it, in the reader's
// language: "rules[0].source" reads "Rule 1, source", "expires_at" reads
// "Expires on". The API keeps the path in its `field`; this is for the
// human text beside it. A path it does not know stays as it is.
func FieldLabel(ctx context.Context, field string) string {
	m := fieldPath.FindStringSubmatch(field)
	if m == nil {
		return field
	}
	name, index, part := m[1], m[2], m[3]
	if k := controlKey.FindStringSubmatch(index); name == "compensating_controls" && k != nil {
		n, _ := strconv.Atoi(k[1])
		return locale.T(ctx, "field.rule_part", "N", n+1, "Field", catalogLabel(ctx, "rule_field.compensating_control", name))
	}
	if n, err := strconv.Atoi(index); name == "rules" && err == nil {
		if part == "" {
			return locale.T(ctx, "field.rule_n", "N", n+1)
		}
		return locale.T(ctx, "field.rule_part", "N", n+1, "Field", catalogLabel(ctx, "rule_field."+part, part))
	}
	if n, err := strconv.Atoi(index); name == "checklist" && err == nil {
		return locale.T(ctx, "field.checklist_n", "N", n+1)
	}
	return catalogLabel(ctx, "field."+name, strings.ReplaceAll(name, "_", " "))
}

// catalogLabel is the catalog's text for id, or fallback when no catalog has it.
func catalogLabel(ctx context.Context, id, fallback string) string {
	if t := locale.T(ctx, id); t != id {
		return t
	}
	return fallback
}
