package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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

// textRun is a piece of a translated sentence: Technical runs are the
// Latin-script names of products, files and settings it quotes.
type textRun struct {
	Text      string
	Technical bool
}

// technicalRuns splits a translated text into its quoted technical names
// (runs of Latin letters, digits and the punctuation names use, holding a
// letter) and the rest.
func technicalRuns(s string) []textRun {
	var out []textRun
	add := func(text string, technical bool) {
		if n := len(out); n > 0 && out[n-1].Technical == technical {
			out[n-1].Text += text
			return
		}
		out = append(out, textRun{Text: text, Technical: technical})
	}
	word := func(r rune) bool {
		return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_.'/+=-:()", r))
	}
	for s != "" {
		end := strings.IndexFunc(s, func(r rune) bool { return !word(r) })
		if end == 0 {
			_, size := utf8.DecodeRuneInString(s)
			add(s[:size], false)
			s = s[size:]
			continue
		}
		if end < 0 {
			end = len(s)
		}
		run := s[:end]
		add(run, strings.IndexFunc(run, func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }) >= 0)
		s = s[end:]
	}
	return out
}
