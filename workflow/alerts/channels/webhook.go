package channels

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook delivery.
const (
	HeaderSignature = "X-Portcullis-Signature" // "sha256=" + hex HMAC-SHA256 of "<timestamp>.<body>"
	HeaderTimestamp = "X-Portcullis-Timestamp" // Unix seconds when the delivery was signed
	HeaderDelivery  = "X-Portcullis-Delivery"  // the alert ID; the same on every retry
)

// DefaultMaxSkew is the age (or distance into the future) beyond which
// VerifySignature refuses a timestamp when the caller passes no limit.
const DefaultMaxSkew = 5 * time.Minute

// Webhook posts each alert as JSON to URL, signed with Secret.
//
// The signature covers the timestamp as well as the body, so a receiver that
// checks both with VerifySignature refuses a captured delivery replayed
// later. The HMAC gives integrity and authenticity, not confidentiality: use
// an https URL.
//
// A 2xx answer is a delivery. 408, 429, 5xx and network errors are worth
// retrying; any other answer, including a redirect, is a permanent failure.
type Webhook struct {
	URL    string
	Secret string
	// Client sends the request. Nil means a client that does not follow
	// redirects, so a signed alert never goes anywhere but URL.
	Client *http.Client
	// Label names the channel in delivery results; empty means "webhook "
	// followed by the URL without its query or credentials.
	Label string
}

var noRedirectClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Name identifies the channel in delivery results.
func (w *Webhook) Name() string {
	if w.Label != "" {
		return w.Label
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return "webhook"
	}
	return "webhook " + (&url.URL{Scheme: u.Scheme, Host: u.Host}).String() // the path of a hook is often its secret
}

// Deliver makes one signed POST of a.
func (w *Webhook) Deliver(ctx context.Context, a Alert) error {
	if w.Secret == "" {
		return Permanent(errors.New("webhook: no secret configured"))
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Permanent(fmt.Errorf("webhook: URL %q is not an http(s) URL", w.URL))
	}
	body, err := json.Marshal(a)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: encoding alert: %w", err))
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()

	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Portcullis-Alerts")
	req.Header.Set(HeaderTimestamp, timestamp)
	req.Header.Set(HeaderSignature, Signature(w.Secret, timestamp, body))
	req.Header.Set(HeaderDelivery, oneLine(a.ID))

	client := w.Client
	if client == nil {
		client = noRedirectClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL often carries a secret (a Slack or Teams hook): keep it out
		// of errors, which admins read on the delivery page.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook %s: %w", w.Name(), err)
	}
	defer resp.Body.Close()
	// Read a little of the answer: it goes into the error for admins, and
	// draining it lets the connection be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return fmt.Errorf("webhook: receiver answered %s%s", resp.Status, describeBody(snippet))
	default:
		return Permanent(fmt.Errorf("webhook: receiver answered %s%s", resp.Status, describeBody(snippet)))
	}
}

// describeBody quotes the start of a response body for an error message.
func describeBody(b []byte) string {
	s := strings.TrimSpace(oneLine(strings.ToValidUTF8(string(b), "\uFFFD")))
	if s == "" {
		return ""
	}
	return ": " + strconv.Quote(truncate(s, 200))
}

// Signature is the value of the X-Portcullis-Signature header for body sent
// at timestamp (decimal Unix seconds): "sha256=" followed by the hex
// HMAC-SHA256, keyed with secret, of timestamp + "." + body.
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// The reasons VerifySignature refuses a delivery; test with errors.Is.
var (
	ErrSignatureMalformed = errors.New("webhook signature: malformed signature header")
	ErrSignatureMismatch  = errors.New("webhook signature: does not match the body")
	ErrTimestampMalformed = errors.New("webhook signature: malformed timestamp")
	ErrTimestampSkew      = errors.New("webhook signature: timestamp too old or in the future")
)

// VerifySignature checks a webhook delivery as its receiver should: timestamp
// and header are the values of X-Portcullis-Timestamp and
// X-Portcullis-Signature, body is the raw request body. It refuses a
// timestamp further than maxSkew from now in either direction (maxSkew <= 0
// means DefaultMaxSkew), which, since the timestamp is inside the MAC, makes
// an old delivery useless to replay. The comparison is constant-time.
func VerifySignature(secret string, timestamp string, body []byte, header string, now time.Time, maxSkew time.Duration) error {
	if secret == "" {
		return errors.New("webhook signature: empty secret")
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	sent, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTimestampMalformed
	}
	// In floating point, so that an absurd timestamp cannot overflow.
	skew := math.Abs(float64(now.Unix()) - float64(sent))
	if skew > maxSkew.Seconds() {
		return ErrTimestampSkew
	}
	hexMAC, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return ErrSignatureMalformed
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil || len(got) != sha256.Size {
		return ErrSignatureMalformed
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrSignatureMismatch
	}
	return nil
}
