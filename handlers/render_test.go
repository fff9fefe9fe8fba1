package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// TestPagesAreSentWhole: a page goes out with its length, and one whose
// drawing fails half-way is an error, not the half drawn under status 200.
func TestPagesAreSentWhole(t *testing.T) {
	a := newApp(t)
	resp := a.get(a.as("rita"), "/queue/review")
	body := a.body(resp)
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("a page of %d bytes came with length %d, transfer encoding %v", len(body), resp.ContentLength, resp.TransferEncoding)
	}
	half := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		io.WriteString(w, "<h1>half a page")
		return errors.New("the view model lacked a field")
	})
	rec := httptest.NewRecorder()
	a.srv.render(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, half)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "half a page") {
		t.Errorf("a page that failed half-way: status %d, body %q", rec.Code, rec.Body.String())
	}
	whole := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strings.Repeat("x", 90_000))
		return err
	})
	rec = httptest.NewRecorder()
	a.srv.render(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusCreated, whole)
	if rec.Code != http.StatusCreated || rec.Body.Len() != 90_000 || rec.Header().Get("Content-Length") != strconv.Itoa(90_000) {
		t.Errorf("a page of 90,000 bytes: status %d, %d bytes, length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}
