package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/portcullis/portcullis/workflow/core"
)

// badText says what is wrong with a text for storage, or "" when it is fine.
// PostgreSQL refuses NUL bytes and invalid UTF-8 outright (a 500 before this
// check); SQLite would store them and hand them back to every reader.
func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}

// textError is the 400 naming the field whose text is unusable.
func textError(field, why string) error {
	return core.Invalid(field, core.M("err.input.text", "{{.Field}} {{.Reason}}", "Field", field, "Reason", core.Plain(why)))
}

// checkValues finds the first unusable name or value, in a stable order.
func checkValues(vals map[string][]string) error {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if why := badText(k); why != "" {
			return textError("a parameter name", why)
		}
		for _, v := range vals[k] {
			if why := badText(v); why != "" {
				return textError(k, why)
			}
		}
	}
	return nil
}

// validText refuses, before any handler runs, a request whose path, query
// parameters or form values are not text a database can store: once, for
// every route, on both databases. JSON bodies are checked by decodeJSON.
func (s *Server) validText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.checkRequestText(w, r)
		if err == nil {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.apiError(w, r, err)
			return
		}
		msg, _ := publicMessage(r.Context(), err)
		s.renderError(w, r, statusOf(err), msg)
	})
}

// maxFormBody bounds every form; formBodyLimits the forms allowed less.
const maxFormBody = 1 << 20

var formBodyLimits = map[string]int64{"/requests/evaluate": maxEvaluateBody, "/requests/assessment": maxEvaluateBody}

func (s *Server) checkRequestText(w http.ResponseWriter, r *http.Request) error {
	if why := badText(r.URL.Path); why != "" {
		return textError("the path", why)
	}
	if err := checkValues(r.URL.Query()); err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		limit, ok := formBodyLimits[r.URL.Path]
		if !ok {
			limit = maxFormBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := r.ParseForm(); err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return core.TooLarge("body", core.M("err.input.form_too_large", "the form is larger than {{.KiB}} KiB", "KiB", limit>>10))
			}
			return core.Invalid("body", core.M("err.input.form_cannot_read", "the form cannot be read: {{.Reason}}", "Reason", core.Plain(err.Error())))
		}
		return checkValues(r.PostForm)
	}
	return nil
}

// checkJSONText finds a JSON string (key or value) that is not text a
// database can store, and names the field it is in. encoding/json would
// turn invalid UTF-8 into U+FFFD silently and pass "\u0000" through.
func checkJSONText(raw []byte) error {
	valid := utf8.Valid(raw)
	if valid && !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil // the common case: nothing to find
	}
	// Mark each invalid sequence with a noncharacter, so that decoding
	// keeps it visible, then find the strings that hold a mark or a NUL.
	marked := raw
	if !valid {
		marked = bytes.ToValidUTF8(raw, []byte(invalidMark))
	}
	var doc any
	if err := json.Unmarshal(marked, &doc); err != nil {
		return nil // the decoding proper reports syntax errors
	}
	return findBadText(doc, "")
}

const invalidMark = "\ufdd0"

func findBadText(v any, path string) error {
	why := func(s string) string {
		if strings.Contains(s, invalidMark) {
			return "is not valid UTF-8 text"
		}
		return badText(s)
	}
	name := path
	if name == "" {
		name = "body"
	}
	switch t := v.(type) {
	case string:
		if w := why(t); w != "" {
			return textError(name, w)
		}
	case []any:
		for _, item := range t {
			if err := findBadText(item, path); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			if w := why(k); w != "" {
				return textError("a field name in "+name, w)
			}
			if err := findBadText(t[k], sub); err != nil {
				return err
			}
		}
	}
	return nil
}
