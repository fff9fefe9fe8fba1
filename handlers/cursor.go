package handlers

import (
	"errors"
	"net/http"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// pageOf reads ?limit= and the cursor parameter named param (a page with
// several lists gives each its own); a bad value is an invalid-input error
// naming the parameter.
func pageOf[K any](r *http.Request, param string) (paging.Request[K], error) {
	q := r.URL.Query()
	page, err := paging.Parse[K](q.Get("limit"), q.Get(param))
	var pe *paging.InputError
	if errors.As(err, &pe) {
		field := pe.Field
		if field == "cursor" {
			field = param
		}
		return page, core.Invalid(field, "%s", pe.Message)
	}
	return page, err
}

// cursorHrefs are a list's Next link (the current URL, its filters and
// other lists' cursors kept, this list's cursor replaced) and, when not on
// the first page, its First link.
func cursorHrefs(r *http.Request, param, next string) (nextHref, firstHref string) {
	at := func(cursor string) string {
		u := *r.URL
		q := u.Query()
		q.Del(param)
		if cursor != "" {
			q.Set(param, cursor)
		}
		u.RawQuery = q.Encode()
		return u.RequestURI()
	}
	if next != "" {
		nextHref = at(next)
	}
	if r.URL.Query().Get(param) != "" {
		firstHref = at("")
	}
	return nextHref, firstHref
}
