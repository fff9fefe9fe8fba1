// Package core is what every feature of the domain shares: the store with
// its transactions, clock, audit append, versioned state step and
// single-instance jobs; actors and roles; and the domain errors handlers map
// to status codes. It never speaks HTTP.
package core

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/models"
)

// ErrorCode classifies a domain error; handlers map each to a status code.
type ErrorCode string

const (
	CodeInvalid      ErrorCode = "invalid"      // bad input
	CodeUnauthorized ErrorCode = "unauthorized" // who is asking is unknown
	CodeForbidden    ErrorCode = "forbidden"    // role or separation of duties
	CodeNotFound     ErrorCode = "not_found"
	CodeConflict     ErrorCode = "conflict"  // not allowed from the current state, or lost a race
	CodeTooLarge     ErrorCode = "too_large" // the input is larger than any caller may send
	CodeBusy         ErrorCode = "busy"      // the caller already has as much work running as allowed
)

// Error is a refusal the user should read: what is wrong and, for bad
// input, which field. Text says it in any language; Message is its English,
// for logs, the command line and code that only needs the gist.
type Error struct {
	Code    ErrorCode
	Message string
	Field   string
	Text    Message
}

// NewError is the refusal of kind code, about field ("" for none), saying m.
func NewError(code ErrorCode, field string, m Message) *Error {
	return &Error{Code: code, Field: field, Message: m.String(), Text: m}
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Said is what the error says: its Text, or for an error built without one
// its English Message as it stands.
func (e *Error) Said() Message {
	if e.Text.ID == "" && e.Text.English == "" {
		return Plain(e.Message)
	}
	return e.Text
}

// Invalid refuses bad input in field.
func Invalid(field string, m Message) error {
	return NewError(CodeInvalid, field, m)
}

// Unauthorized refuses someone whose identity is unknown.
func Unauthorized(m Message) error {
	return NewError(CodeUnauthorized, "", m)
}

// Forbidden refuses someone whose role or part in the work does not allow it.
func Forbidden(m Message) error {
	return NewError(CodeForbidden, "", m)
}

// Conflict refuses what the current state does not allow.
func Conflict(m Message) error {
	return NewError(CodeConflict, "", m)
}

// TooLarge refuses input larger than any caller may send.
func TooLarge(field string, m Message) error {
	return NewError(CodeTooLarge, field, m)
}

// NotFound says that the thing of kind what (a catalog noun under
// err.not_found, such as "request" or "drift_item") numbered id does not
// exist.
func NotFound(what string, id any) error {
	english := strings.ReplaceAll(what, "_", " ") + " {{.ID}} does not exist"
	return NewError(CodeNotFound, "", M("err.not_found."+what, english, "ID", id))
}

// ErrorCodeOf returns the code of a domain error, or "" for anything else
// (an internal failure).
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, models.ErrNotFound) {
		return CodeNotFound
	}
	return ""
}

// FieldErrors collects several invalid fields at once, so a form can show
// each message next to its field.
type FieldErrors []*Error

func (fe FieldErrors) Error() string {
	if len(fe) == 0 {
		return "no errors"
	}
	if len(fe) == 1 {
		return fe[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", fe[0].Error(), len(fe)-1)
}

// Unwrap lets errors.As find the first field error, so the whole set maps to 400.
func (fe FieldErrors) Unwrap() error {
	if len(fe) == 0 {
		return nil
	}
	return fe[0]
}

// ByField returns the English message for field, or "".
func (fe FieldErrors) ByField(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Add appends a refusal of bad input in field saying m.
func (fe *FieldErrors) Add(field string, m Message) {
	*fe = append(*fe, NewError(CodeInvalid, field, m))
}
