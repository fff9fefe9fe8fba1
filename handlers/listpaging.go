package handlers

import (
	"errors"
	"net/http"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// pageParams reads a list's limit and cursor parameters (a page with several
// lists gives each its own, e.g. "ports_cursor"); a bad value is an
// invalid-input error naming the parameter.
func pageParams[K any](r *http.Request, limitParam, cursorParam string) (paging.Request[K], error) {
	q := r.URL.Query()
	page, err := paging.Parse[K](q.Get(limitParam), q.Get(cursorParam))
	var pe *paging.InputError
	if errors.As(err, &pe) {
		field := limitParam
		if pe.Field == "cursor" {
			field = cursorParam
		}
		// The paging package words its refusal in English; the catalog
		// says the same under the part that was refused.
		return page, core.Invalid(field, core.M("err.paging."+pe.Field, "{{.Reason}}", "Reason", core.Plain(pe.Message), "Max", paging.MaxLimit))
	}
	return page, err
}

// cursorPage reads the ?limit= and ?cursor= of a page with one list.
func cursorPage[K any](r *http.Request) (paging.Request[K], error) {
	return pageParams[K](r, "limit", "cursor")
}

// pageLinks are a list's Next link (the current URL, its filters and other
// lists' cursors kept, this list's cursor replaced) and, when not on the
// first page, its First link.
func pageLinks(r *http.Request, cursorParam, next string) web.ListLinks {
	at := func(cursor string) string {
		u := *r.URL
		q := u.Query()
		q.Del(cursorParam)
		if cursor != "" {
			q.Set(cursorParam, cursor)
		}
		u.RawQuery = q.Encode()
		return u.RequestURI()
	}
	var l web.ListLinks
	if next != "" {
		l.Next = at(next)
	}
	if r.URL.Query().Get(cursorParam) != "" {
		l.First = at("")
	}
	return l
}

// nextCursor adds the cursor of the next page to an API list answer, absent
// on the last page.
func nextCursor(out map[string]any, next string) map[string]any {
	if next != "" {
		out["next_cursor"] = next
	}
	return out
}
