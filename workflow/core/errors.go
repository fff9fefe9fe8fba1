// Package core is what every feature of the domain shares: the store with
// its transactions, clock, audit append, versioned state step and
// single-instance jobs; actors and roles; and the domain errors handlers map
// to status codes. It never speaks HTTP.
package core

import (
	"errors"
	"fmt"

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
// input, which field.
type Error struct {
	Code    ErrorCode
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func Invalid(field, format string, a ...any) error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, a...)}
}

func Forbidden(format string, a ...any) error {
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf(format, a...)}
}

func Conflict(format string, a ...any) error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, a...)}
}

func NotFound(what string, id any) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %v does not exist", what, id)}
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

// ByField returns the message for field, or "".
func (fe FieldErrors) ByField(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}
