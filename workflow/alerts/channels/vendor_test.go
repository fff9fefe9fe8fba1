package channels

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The vendor receivers below stand in for DingTalk, Feishu, WeCom, Slack,
// Teams, Alibaba Cloud and Tencent Cloud on 127.0.0.1. Each checks a request
// the way its vendor documents it, recomputing any signature with its own
// code from the shared secret rather than the channel's, and answers the
// way the vendor does, scripted answers first.

// vendorReply is one scripted answer.
type vendorReply struct {
	Status int
	Body   string
}

// vendorRequest is what a receiver saw of one request.
type vendorRequest struct {
	Request *http.Request
	Body    []byte
	Problem string // why the receiver refused it; "" if it is as documented
}

type vendorReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []vendorReply
	requests []vendorRequest
}

// startVendor serves check on 127.0.0.1:0. check returns a problem with the
// request ("" for none) and the answer the vendor gives to a good request;
// a bad one gets refusal. Scripted replies override the answer to good
// requests, in order.
func startVendor(t *testing.T, refusal vendorReply, check func(r *http.Request, body []byte) (problem string, ok vendorReply), replies ...vendorReply) *vendorReceiver {
	t.Helper()
	v := &vendorReceiver{replies: replies}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		problem, reply := check(r, body)
		v.mu.Lock()
		v.requests = append(v.requests, vendorRequest{Request: r, Body: body, Problem: problem})
		switch {
		case problem != "":
			reply = refusal
		case len(v.replies) > 0:
			reply, v.replies = v.replies[0], v.replies[1:]
		}
		v.mu.Unlock()
		w.WriteHeader(reply.Status)
		io.WriteString(w, reply.Body)
	}))
	t.Cleanup(v.Close)
	return v
}

func (v *vendorReceiver) seen() []vendorRequest {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]vendorRequest(nil), v.requests...)
}

// wantAllGood fails the test for every request the receiver refused, and
// unless it saw n requests.
func (v *vendorReceiver) wantAllGood(t *testing.T, n int) []vendorRequest {
	t.Helper()
	seen := v.seen()
	for i, r := range seen {
		if r.Problem != "" {
			t.Errorf("request %d refused: %s\nbody: %s", i+1, r.Problem, r.Body)
		}
	}
	if len(seen) != n {
		t.Fatalf("receiver saw %d requests, want %d", len(seen), n)
	}
	return seen
}

// decodeJSON decodes a JSON object body, or returns why not.
func decodeJSON(body []byte) (map[string]any, string) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "body is not a JSON object: " + err.Error()
	}
	return m, ""
}

// path follows keys (object member names, or "0", "1" for array
// elements) into a decoded JSON value.
func path(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := int(k[0] - '0')
			if len(k) != 1 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, keys ...string) string {
	s, _ := path(v, keys...).(string)
	return s
}

// quickRetries is a Dispatcher that retries at once.
func quickRetries(attempts int) *Dispatcher {
	return &Dispatcher{MaxAttempts: attempts, Sleep: func(context.Context, time.Duration) error { return nil }}
}

// deliverOnce makes one attempt through a Dispatcher, as the outbox does.
func deliverOnce(ch Channel, a Alert) Result {
	return quickRetries(1).DeliverTo(context.Background(), a, []Channel{ch})[0]
}

// hostileAlert is an alert whose scanned fields try to inject markup,
// links and mentions.
func hostileAlert() Alert {
	a := testAlert()
	a.Service = "evil](https://phish.example) <@all> <b>x</b> *bold* `code`"
	a.Detail = "banner: [click me](https://phish.example)\n# heading <at id=all></at> & more"
	return a
}

// noInjectedLink fails if text holds the phishing link as a markdown link
// (a "](" whose bracket is not escaped), a mention or a tag.
func noInjectedLink(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(strings.ReplaceAll(text, "\\](", ""), "](https://phish.example)") || strings.Contains(text, "<@all>") || strings.Contains(text, "<b>") {
		t.Errorf("%s lets a scanned field inject markup: %q", what, text)
	}
}
