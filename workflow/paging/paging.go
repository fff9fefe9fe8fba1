// Package paging cuts lists into pages by keyset: a page asks for the rows
// after the last one the client saw, in the list's own order, so a page costs
// the same however deep it is and a cursor stays valid while rows are added.
package paging

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

const (
	// DefaultLimit is the page size when the client names none.
	DefaultLimit = 50
	// MaxLimit is the largest page a client may ask for.
	MaxLimit = 200
	// maxCursorLen bounds what is decoded: a cursor is a few sort-key values.
	maxCursorLen = 512
)

// InputError names the query parameter that is wrong.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Request is one page asked for: at most Limit rows after the row whose sort
// key is After (nil for the first page). K is the list's sort key, e.g.
// struct{ExpiresAt time.Time; ID uint}.
type Request[K any] struct {
	Limit int
	After *K
}

// Parse reads the ?limit= and ?cursor= parameters.
func Parse[K any](limit, cursor string) (Request[K], error) {
	req := Request[K]{Limit: DefaultLimit}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxLimit {
			return req, &InputError{Field: "limit", Message: fmt.Sprintf("limit is a number from 1 to %d", MaxLimit)}
		}
		req.Limit = n
	}
	if cursor == "" {
		return req, nil
	}
	key, err := decode[K](cursor)
	if err != nil {
		return req, &InputError{Field: "cursor", Message: "cursor is not one this server issued; start again from the first page"}
	}
	req.After = &key
	return req, nil
}

// First is the first page of the default size.
func First[K any]() Request[K] { return Request[K]{Limit: DefaultLimit} }

// Fetch is how many rows the query should read: one more than the page, so
// that the presence of a next page is known without counting.
func (r Request[K]) Fetch() int {
	if r.Limit <= 0 {
		return DefaultLimit + 1
	}
	return r.Limit + 1
}

// Page is one page of a list and the cursor of the next ("" on the last).
type Page[T any] struct {
	Items []T
	Next  string
}

// Cut trims rows read with Fetch to the page and makes the next cursor from
// the last row kept.
func Cut[T, K any](r Request[K], rows []T, key func(T) K) Page[T] {
	limit := r.Fetch() - 1
	if len(rows) <= limit {
		return Page[T]{Items: rows}
	}
	rows = rows[:limit]
	return Page[T]{Items: rows, Next: Encode(key(rows[len(rows)-1]))}
}

// Encode makes an opaque cursor from a sort key.
func Encode[K any](key K) string {
	b, err := json.Marshal(key)
	if err != nil {
		// Sort keys are plain structs of numbers, strings and times.
		panic("paging: sort key does not marshal: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decode[K any](cursor string) (K, error) {
	var key K
	if len(cursor) > maxCursorLen {
		return key, fmt.Errorf("cursor too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return key, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&key); err != nil {
		return key, err
	}
	if dec.More() {
		return key, fmt.Errorf("trailing data in cursor")
	}
	return key, nil
}
