package core

import (
	"fmt"
	"time"
)

// Language is what the domain writes to people outside the pages in: the
// text of e-mails, alert messages and report documents, in one language
// and time zone. The web's message catalogs (web/locale) provide it; the
// machine parts (kinds, codes, keys, file names) never go through it.
type Language interface {
	// Tag is the BCP 47 tag: en, zh-CN.
	Tag() string
	// Text is the message id, its {{.Name}} placeholders filled from args
	// (name/value pairs).
	Text(id string, args ...any) string
	// Time and Date format an instant in the language and its time zone.
	Time(t time.Time) string
	Date(t time.Time) string
}

// Languages gives the Language of a person's choice (tag, zone as stored
// on their profile); "" or a choice no longer offered means the server's
// default.
type Languages func(tag, zone string) Language

// SetLanguages sets where the domain's texts come from.
func (s *Store) SetLanguages(l Languages) { s.languages = l }

// Language is the Language of a person's choice, or of the server's
// default for "". Before SetLanguages a Language of message ids stands
// in, which makes a missing wiring plain in any text.
func (s *Store) Language(tag, zone string) Language {
	if s.languages == nil {
		return messageIDs{}
	}
	return s.languages(tag, zone)
}

// messageIDs answers every message with its id and times in UTC, RFC 3339.
type messageIDs struct{}

func (messageIDs) Tag() string { return "en" }
func (messageIDs) Text(id string, args ...any) string {
	if len(args) == 0 {
		return id
	}
	return id + fmt.Sprint(args...)
}
func (messageIDs) Time(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func (messageIDs) Date(t time.Time) string { return t.UTC().Format(time.DateOnly) }
