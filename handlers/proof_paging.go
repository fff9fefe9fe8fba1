package handlers

import (
	"errors"
	"net/http"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// proofPaging reads a list's ?limit= and cursor parameters (cursorParam:
// "cursor", or e.g. "ports_cursor" where a page has several lists); a bad
// value is an invalid-input error naming the parameter.
func proofPaging[K any](r *http.Request, limitParam, cursorParam string) (paging.Request[K], error) {
	q := r.URL.Query()
	req, err := paging.Parse[K](q.Get(limitParam), q.Get(cursorParam))
	var pe *paging.InputError
	if errors.As(err, &pe) {
		field := limitParam
		if pe.Field == "cursor" {
			field = cursorParam
		}
		return req, &core.Error{Code: core.CodeInvalid, Field: field, Message: pe.Message}
	}
	return req, err
}

// proofLinks are a list's "Next page" and "First page" links: the current
// address with its filters, the cursor set to next (or dropped).
func proofLinks(r *http.Request, cursorParam, next string) web.ListLinks {
	var l web.ListLinks
	q := r.URL.Query()
	if next != "" {
		q.Set(cursorParam, next)
		l.Next = r.URL.Path + "?" + q.Encode()
	}
	if r.URL.Query().Get(cursorParam) != "" {
		q.Del(cursorParam)
		l.First = r.URL.Path
		if enc := q.Encode(); enc != "" {
			l.First += "?" + enc
		}
	}
	return l
}
