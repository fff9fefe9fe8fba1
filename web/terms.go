package web

import (
	"context"
	"strings"

	"github.com/portcullis/portcullis/web/locale"
)

// The domain's stable words (roles, request states, severities, drift kinds,
// scan states) are shown through the catalogs' term families: the message
// id is the family's prefix and the word, e.g. state.in_review. The terms
// test in handlers checks every word the domain defines is in each catalog.
const (
	TermRole        = "role."
	TermState       = "state."
	TermSeverity    = "severity."
	TermDriftKind   = "drift_kind."
	TermScanStatus  = "scan_status."
	TermJobState    = "job_state."
	TermAgentStatus = "agent_status."
	TermTier        = "tier."
)

// Term is the word of a family in the reader's language; a word the
// catalogs lack is shown as it is, so new domain words stay readable.
func Term(ctx context.Context, family, word string) string {
	id := family + word
	if s := locale.T(ctx, id); s != id {
		return s
	}
	return strings.ReplaceAll(word, "_", " ")
}

// roleNames lists role names in the reader's language.
func roleNames(ctx context.Context, roles []string) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = Term(ctx, TermRole, r)
	}
	return strings.Join(names, locale.T(ctx, "common.list_separator"))
}

// ServiceTitle is what a catalog service is, in the reader's language:
// the shipped catalog's titles are translated under service_title.NAME;
// in English, and for a service the catalog does not ship, title (what the
// admin's catalog says) is shown as it is.
func ServiceTitle(ctx context.Context, name, title string) string {
	if locale.Lang(ctx) == locale.Offered[0].Tag {
		return title
	}
	id := "service_title." + name
	if s := locale.T(ctx, id); s != id {
		return s
	}
	return title
}
