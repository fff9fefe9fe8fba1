package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The request form carries a bounded list of destinations and asks for the
// rest as the requester types, by address or by host name.
func TestDestinationSuggestions(t *testing.T) {
	a := newApp(t)
	c := a.as("alice")
	for _, tc := range []struct {
		typed      string
		want, not  []string
		wantStatus int
	}{
		{typed: "127.10.", want: []string{"127.10.0.10", "127.10.0.11"}, not: []string{"127.20.0.5"}},
		{typed: "127.20.0.5, 127.4", want: []string{"127.40.0.15"}, not: []string{"127.10.0.10"}}, // the last address being typed
		{typed: "BASTION", want: []string{"127.20.0.5"}, not: []string{"127.10.0.10"}},
		{typed: "10%", not: []string{"127."}}, // a wildcard is a character like any other
	} {
		resp := a.get(c, "/requests/asset-options?"+url.Values{"rules[0].destination": {tc.typed}}.Encode())
		body := a.body(resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d", tc.typed, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, `value="`+w+`"`) {
				t.Errorf("%q: %s not suggested: %s", tc.typed, w, body)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(body, `value="`+n) {
				t.Errorf("%q: %s suggested: %s", tc.typed, n, body)
			}
		}
	}
	if resp := a.get(a.as("rita"), "/requests/asset-options?q=127"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a reviewer got suggestions for a form they cannot file: %d", resp.StatusCode)
	}
}
