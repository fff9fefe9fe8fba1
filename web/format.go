package web

import (
	"net/http"
	"strconv"
	"strings"
)

func joinComma(s []string) string { return strings.Join(s, ", ") }

func statusTitle(status int) string {
	switch status {
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusConflict:
		return "Not possible now"
	case http.StatusBadRequest:
		return "Please check your input"
	case http.StatusUnauthorized:
		return "Login failed"
	}
	return "Something went wrong"
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
