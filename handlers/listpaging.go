package handlers

import (
	"errors"
	"net/http"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// cursorPage reads ?limit= and ?cursor=; a bad value is an invalid-input
// error naming the parameter.
func cursorPage[K any](r *http.Request) (paging.Request[K], error) {
	q := r.URL.Query()
	page, err := paging.Parse[K](q.Get("limit"), q.Get("cursor"))
	var pe *paging.InputError
	if errors.As(err, &pe) {
		return page, core.Invalid(pe.Field, "%s", pe.Message)
	}
	return page, err
}

// listLinks makes a page's Next and First links: the current URL with its
// filters, the cursor replaced.
func listLinks(r *http.Request, next string) web.ListLinks {
	var l web.ListLinks
	at := func(cursor string) string {
		u := *r.URL
		q := u.Query()
		q.Del("cursor")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		u.RawQuery = q.Encode()
		return u.RequestURI()
	}
	if next != "" {
		l.Next = at(next)
	}
	if r.URL.Query().Get("cursor") != "" {
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
