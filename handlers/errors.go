package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// statusOf is the one place where domain errors become HTTP status codes.
func statusOf(err error) int {
	switch core.ErrorCodeOf(err) {
	case core.CodeInvalid:
		return http.StatusBadRequest
	case core.CodeUnauthorized:
		return http.StatusUnauthorized
	case core.CodeForbidden:
		return http.StatusForbidden
	case core.CodeNotFound:
		return http.StatusNotFound
	case core.CodeConflict:
		return http.StatusConflict
	case core.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case core.CodeBusy:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// publicMessage is what the user may read, in their language: the domain's
// own message after the field it is about, or a generic one for internal
// failures (whose detail goes to the log only).
func publicMessage(ctx context.Context, err error) (msg, field string) {
	var de *core.Error
	if errors.As(err, &de) {
		msg = say(ctx, de.Said())
		if de.Field != "" {
			msg = de.Field + ": " + msg
		}
		return msg, de.Field
	}
	return locale.T(ctx, "err.internal"), ""
}

// errorText is what the user may read of err without the field's name:
// for a refusal shown beside its field or after a sentence of its own.
func errorText(ctx context.Context, err error) string {
	var de *core.Error
	if errors.As(err, &de) {
		return say(ctx, de.Said())
	}
	return locale.T(ctx, "err.internal")
}

// say is m in the reader's language — its catalog text, or its English
// where the catalog has none — with every value that is itself a message
// (a field's label, a role, a state) said in that language too.
func say(ctx context.Context, m core.Message) string {
	nested := func(n core.Message) string { return say(ctx, n) }
	if t := m.Texts[locale.Lang(ctx)]; t != "" {
		return t
	}
	if m.ID != "" {
		if s := locale.Say(ctx, m.ID, m.English, m.Values(nested)); s != "" {
			return s
		}
	}
	return m.Render(nested, m.English)
}

// clientGone reports whether a failure is only the consequence of the
// client going away: net/http cancels the request's context then, and the
// database call in flight fails because of it. The drivers do not always
// say so with context.Canceled — pgx reports "driver: bad connection" or
// "dial tcp …: operation was canceled" for a connection cut short — so any
// failure once the request's context is cancelled counts as the client's
// doing. A deadline that ran out is not: that is ours to look at.
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// logFailure logs an internal failure as an error, and a request whose
// client went away as what it is: nothing went wrong on our side.
func (s *Server) logFailure(r *http.Request, msg string, err error) {
	if clientGone(r) {
		s.log.Info("request cancelled by the client", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	s.log.Error(msg, "method", r.Method, "path", r.URL.Path, "err", err)
}

// fail renders an error page for a failed page request.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		s.logFailure(r, "request failed", err)
	}
	s.renderError(w, r, status, humanMessage(r.Context(), err))
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, web.ErrorPage(s.page(r, locale.T(r.Context(), "error.title")), status, msg))
}

// apiError writes the JSON error of the API contract.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		s.logFailure(r, "api request failed", err)
	}
	msg, field := publicMessage(r.Context(), err)
	// "body" is the HTTP body here, not a form's comment: said as it is.
	if field != "" && field != "body" {
		msg = humanMessage(r.Context(), err)
	}
	body := apiErrorBody{}
	body.Error.Code = apiCode(status)
	body.Error.Message = msg
	body.Error.Field = field
	var ie *inventory.ImportError
	if errors.As(err, &ie) {
		body.Error.Lines = importLines(r.Context(), ie.Lines)
	}
	writeJSON(w, status, body)
}

type apiErrorBody struct {
	Error struct {
		Code    string                `json:"code"`
		Message string                `json:"message"`
		Field   string                `json:"field,omitempty"`
		Lines   []inventory.LineError `json:"lines,omitempty"`
	} `json:"error"`
}

func apiCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	}
	return "internal"
}

// writeJSON writes v as compact JSON: indenting it was a second pass over
// the output, a quarter of the CPU of a page of 50 requests.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// render writes a component with a status. The page is drawn whole first
// and sent in one write with its length: streamed, templ's 4 KB buffer made
// each 4 KB a write of its own to the connection (22 for a page of 90 KB),
// and a page that failed half-way was sent cut short under its status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf, _ := s.pageBuffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		// A rare huge page does not keep its buffer alive.
		if buf.Cap() <= maxPooledPage {
			buf.Reset()
			s.pageBuffers.Put(buf)
		}
	}()
	if err := c.Render(r.Context(), buf); err != nil {
		if clientGone(r) {
			// Nobody reads the page; the access log still has its status.
			s.log.Debug("render cut short: the client went away", "path", r.URL.Path, "err", err)
			w.WriteHeader(status)
			return
		}
		s.log.Error("render", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxPooledPage is the largest page buffer kept for the next page.
const maxPooledPage = 1 << 20

// fieldErrors turns a validation error into messages by field, for forms,
// in the reader's language.
func fieldErrors(ctx context.Context, err error) map[string]string {
	out := map[string]string{}
	var fe core.FieldErrors
	if errors.As(err, &fe) {
		for _, e := range fe {
			if _, seen := out[e.Field]; !seen {
				out[e.Field] = say(ctx, e.Said())
			}
		}
		return out
	}
	var de *core.Error
	if errors.As(err, &de) && de.Code == core.CodeInvalid {
		out[de.Field] = say(ctx, de.Said())
	}
	return out
}

// errorSummary is publicMessage for a sentence about the whole refusal:
// the first problem, and how many more a set of field errors holds.
func errorSummary(ctx context.Context, err error) string {
	msg, _ := publicMessage(ctx, err)
	var fe core.FieldErrors
	if errors.As(err, &fe) && len(fe) > 1 {
		msg += locale.T(ctx, "err.and_more", "Count", len(fe)-1)
	}
	return msg
}

// importLines are the bad lines of an import with their messages in the
// reader's language; line numbers and fields stay as they are.
func importLines(ctx context.Context, lines []inventory.LineError) []inventory.LineError {
	out := make([]inventory.LineError, len(lines))
	for i, l := range lines {
		l.Message = say(ctx, l.Said())
		out[i] = l
	}
	return out
}
