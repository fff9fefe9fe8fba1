package handlers

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExportsOutliveTheServerWriteTimeout serves the app with a write
// timeout far shorter than any export: the audit and report downloads set
// their own deadline, so they still arrive whole.
func TestExportsOutliveTheServerWriteTimeout(t *testing.T) {
	a := newApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: a.srv.Routes(), WriteTimeout: time.Millisecond}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	base := "http://" + ln.Addr().String() + "/api/v1"
	for _, tc := range []struct{ path, prefix string }{
		{"/audit/export?format=csv&from=2000-01-01", "seq,at,"},
		{"/reports/changes?format=csv&from=2000-01-01&to=2999-12-31", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, base+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+a.tokens[email("aude")])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), tc.prefix) || strings.Count(string(body), "\n") < 5 {
			t.Fatalf("%s: status %d, err %v, %d bytes: %.200s", tc.path, resp.StatusCode, err, len(body), body)
		}
	}
}
