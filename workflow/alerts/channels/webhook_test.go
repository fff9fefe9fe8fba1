package channels

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testSecret = "s3cret-for-tests"

// webhookReceiver is an HTTP server on 127.0.0.1:0 that checks every
// delivery the way a SOC's receiver should and answers with the next status
// in line (200 once the list is used up).
type webhookReceiver struct {
	*httptest.Server
	mu         sync.Mutex
	statuses   []int
	deliveries []receivedWebhook
}

type receivedWebhook struct {
	Alert      Alert
	DeliveryID string
	VerifyErr  error
}

func startWebhookReceiver(t *testing.T, statuses ...int) *webhookReceiver {
	t.Helper()
	r := &webhookReceiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		got := receivedWebhook{DeliveryID: req.Header.Get(HeaderDelivery)}
		got.VerifyErr = VerifySignature(testSecret, req.Header.Get(HeaderTimestamp), body,
			req.Header.Get(HeaderSignature), time.Now(), time.Minute)
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			got.VerifyErr = errors.New("not a JSON POST")
		}
		if err := json.Unmarshal(body, &got.Alert); err != nil {
			got.VerifyErr = err
		}
		r.mu.Lock()
		r.deliveries = append(r.deliveries, got)
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if got.VerifyErr != nil {
			status = http.StatusUnauthorized
		}
		w.WriteHeader(status)
		io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) received() []receivedWebhook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedWebhook(nil), r.deliveries...)
}

func TestWebhookDeliversSignedJSON(t *testing.T) {
	receiver := startWebhookReceiver(t)
	a := testAlert()
	a.Asset = "wéb01 \"quoted\""
	ch := &Webhook{URL: receiver.URL + "/hooks/portcullis?token=x", Secret: testSecret}
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got := receiver.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d deliveries, want 1", len(got))
	}
	if got[0].VerifyErr != nil {
		t.Errorf("signature check: %v", got[0].VerifyErr)
	}
	if got[0].DeliveryID != a.ID {
		t.Errorf("%s = %q, want %q", HeaderDelivery, got[0].DeliveryID, a.ID)
	}
	if diff := cmp.Diff(a, got[0].Alert); diff != "" {
		t.Errorf("alert (-sent +received):\n%s", diff)
	}
	if want := "webhook " + receiver.URL; ch.Name() != want {
		t.Errorf("Name() = %q, want %q (no path or query: either may hold a token)", ch.Name(), want)
	}
}

func TestVerifySignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"drift-42"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Signature(testSecret, ts, body)
	old := strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)

	tests := []struct {
		name      string
		secret    string
		timestamp string
		body      []byte
		header    string
		want      error
	}{
		{"valid", testSecret, ts, body, good, nil},
		{"tampered body", testSecret, ts, []byte(`{"id":"drift-43"}`), good, ErrSignatureMismatch},
		{"wrong secret", "other", ts, body, good, ErrSignatureMismatch},
		{"timestamp swapped", testSecret, strconv.FormatInt(now.Unix()-1, 10), body, good, ErrSignatureMismatch},
		{"old timestamp, valid MAC", testSecret, old, body, Signature(testSecret, old, body), ErrTimestampSkew},
		{"future timestamp, valid MAC", testSecret, future, body, Signature(testSecret, future, body), ErrTimestampSkew},
		{"absurd timestamp", testSecret, "-9223372036854775808", body, good, ErrTimestampSkew},
		{"timestamp not a number", testSecret, "yesterday", body, good, ErrTimestampMalformed},
		{"no prefix", testSecret, ts, body, good[len("sha256="):], ErrSignatureMalformed},
		{"not hex", testSecret, ts, body, "sha256=zz", ErrSignatureMalformed},
		{"truncated", testSecret, ts, body, good[:len(good)-2], ErrSignatureMalformed},
		{"empty header", testSecret, ts, body, "", ErrSignatureMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.timestamp, tt.body, tt.header, now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
	if err := VerifySignature("", ts, body, good, now, 0); err == nil {
		t.Error("VerifySignature accepted an empty secret")
	}
	// maxSkew 0 means the default of five minutes.
	fourMinutes := strconv.FormatInt(now.Add(-4*time.Minute).Unix(), 10)
	if err := VerifySignature(testSecret, fourMinutes, body, Signature(testSecret, fourMinutes, body), now, 0); err != nil {
		t.Errorf("four minutes old with the default skew: %v", err)
	}
}

func TestWebhookStatusClassification(t *testing.T) {
	tests := []struct {
		status        int
		wantErr       bool
		wantPermanent bool
	}{
		{200, false, false},
		{202, false, false},
		{204, false, false},
		{301, true, true},
		{400, true, true},
		{401, true, true},
		{404, true, true},
		{408, true, false},
		{429, true, false},
		{500, true, false},
		{503, true, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status/100 == 3 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
			}))
			defer server.Close()
			err := (&Webhook{URL: server.URL, Secret: testSecret}).Deliver(context.Background(), testAlert())
			if (err != nil) != tt.wantErr || IsPermanent(err) != tt.wantPermanent {
				t.Errorf("Deliver = %v (permanent %v), want error %v, permanent %v", err, IsPermanent(err), tt.wantErr, tt.wantPermanent)
			}
		})
	}
}

func TestWebhookRetriesThenSucceeds(t *testing.T) {
	receiver := startWebhookReceiver(t, http.StatusInternalServerError, http.StatusTooManyRequests)
	d := &Dispatcher{BaseDelay: time.Millisecond}
	results := d.DeliverTo(context.Background(), testAlert(), []Channel{&Webhook{URL: receiver.URL, Secret: testSecret}})
	if len(results) != 1 || !results[0].Delivered || results[0].Attempts != 3 || results[0].Err != nil {
		t.Fatalf("results = %+v, want delivered on the third attempt", results)
	}
	for i, got := range receiver.received() {
		if got.VerifyErr != nil || got.DeliveryID != "drift-42" {
			t.Errorf("delivery %d: verify %v, delivery ID %q", i, got.VerifyErr, got.DeliveryID)
		}
	}
}

func TestWebhookDoesNotRetry400(t *testing.T) {
	receiver := startWebhookReceiver(t, http.StatusBadRequest)
	d := &Dispatcher{BaseDelay: time.Millisecond}
	results := d.DeliverTo(context.Background(), testAlert(), []Channel{&Webhook{URL: receiver.URL, Secret: testSecret}})
	if len(results) != 1 || results[0].Delivered || results[0].Attempts != 1 || !IsPermanent(results[0].Err) {
		t.Fatalf("results = %+v, want one permanent failure", results)
	}
	if n := len(receiver.received()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

func TestWebhookRefusesBadConfiguration(t *testing.T) {
	for name, ch := range map[string]*Webhook{
		"no secret": {URL: "https://soc.example.com/hook"},
		"no scheme": {URL: "soc.example.com/hook", Secret: testSecret},
		"ftp":       {URL: "ftp://soc.example.com/hook", Secret: testSecret},
	} {
		if err := ch.Deliver(context.Background(), testAlert()); !IsPermanent(err) {
			t.Errorf("%s: Deliver = %v, want a permanent error", name, err)
		}
	}
}

func TestWebhookNetworkErrorIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	err = (&Webhook{URL: url, Secret: testSecret}).Deliver(context.Background(), testAlert())
	if err == nil || IsPermanent(err) {
		t.Errorf("Deliver to a closed port = %v, want a retryable error", err)
	}
}

func TestWebhookCancelled(t *testing.T) {
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer server.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := (&Webhook{URL: server.URL, Secret: testSecret}).Deliver(ctx, testAlert())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver = %v, want context.Canceled", err)
	}
}
