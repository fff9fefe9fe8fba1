package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/web/locale"
)

func joinComma(s []string) string { return strings.Join(s, ", ") }

func statusTitle(ctx context.Context, status int) string {
	switch status {
	case http.StatusForbidden:
		return locale.T(ctx, "error.title_forbidden")
	case http.StatusNotFound:
		return locale.T(ctx, "error.title_not_found")
	case http.StatusConflict:
		return locale.T(ctx, "error.title_conflict")
	case http.StatusBadRequest:
		return locale.T(ctx, "error.title_bad_request")
	case http.StatusUnauthorized:
		return locale.T(ctx, "error.title_unauthorized")
	}
	return locale.T(ctx, "error.title_other")
}

func itoa(n int) string { return strconv.Itoa(n) }

func idStr(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func fieldName(i int, name string) string { return "rules[" + itoa(i) + "]." + name }

func invalidAttr(msg string) string {
	if msg != "" {
		return "true"
	}
	return "false"
}

// firstNonEmpty is what the user typed, else the form's default.
func firstNonEmpty(typed, fallback string) string {
	if typed != "" {
		return typed
	}
	return fallback
}
