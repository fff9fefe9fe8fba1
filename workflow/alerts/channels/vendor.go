package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// The chat and SMS channels talk to vendors' HTTP APIs. What they share is
// here: checking an endpoint, making one request, and classifying the
// answer the way the webhook does, so that every channel retries the same
// kinds of failure.

// CheckEndpoint reports what is wrong with a vendor base URL: it must be an
// absolute http(s) URL, and https unless it points at this machine. The
// URLs of these channels carry secrets (a robot's token, a signed request),
// which must not cross a network in clear.
func CheckEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("is not an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return errors.New("must be https (plain http only to this machine)")
	}
	return nil
}

// isLoopbackHost reports whether host names this machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxVendorAnswer bounds how much of a vendor's answer is read.
const maxVendorAnswer = 64 << 10

// vendorCall makes one request and returns the body of a 2xx answer for the
// caller's own check of the vendor's status field. 408, 429, 5xx and network
// errors come back retryable; any other answer, a redirect included, is
// permanent. what names the channel in errors; the URL never appears in
// them, since it often holds a secret.
func vendorCall(ctx context.Context, client *http.Client, what string, req *http.Request) ([]byte, error) {
	if client == nil {
		client = noRedirectClient
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, ctxErr(ctx, fmt.Errorf("%s: %w", what, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxVendorAnswer))
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxVendorAnswer))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return body, nil
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return body, fmt.Errorf("%s: answered %s%s", what, resp.Status, describeBody(body))
	default:
		return body, Permanent(fmt.Errorf("%s: answered %s%s", what, resp.Status, describeBody(body)))
	}
}

// postJSON sends payload as a JSON POST to target with the delivery header,
// through vendorCall.
func postJSON(ctx context.Context, client *http.Client, what, target string, payload any, deliveryID string) ([]byte, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: encoding the message: %w", what, err))
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: building the request failed", what))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	setCommonHeaders(req, deliveryID)
	return vendorCall(ctx, client, what, req)
}

// setCommonHeaders marks a vendor request as Portcullis's and carries the
// alert ID, for proxies and gateways that can drop a repeat by it.
func setCommonHeaders(req *http.Request, deliveryID string) {
	req.Header.Set("User-Agent", "Portcullis-Alerts")
	req.Header.Set(HeaderDelivery, oneLine(deliveryID))
}

// endpointURL checks base and returns it parsed, or a permanent error
// naming the channel.
func endpointURL(what, base string) (*url.URL, error) {
	if err := CheckEndpoint(base); err != nil {
		return nil, Permanent(fmt.Errorf("%s: base URL %w", what, err))
	}
	u, _ := url.Parse(base)
	return u, nil
}

// errcodeAnswer is the answer of DingTalk's and WeCom's robots: errcode 0
// means the message was posted. Anything else is a failure worth retrying
// (a rate limit, a clock too far off, a robot being reconfigured); the
// attempts run out for a failure that lasts.
type errcodeAnswer struct {
	Errcode *int   `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

func checkErrcode(what string, body []byte) error {
	var ans errcodeAnswer
	if err := json.Unmarshal(body, &ans); err != nil || ans.Errcode == nil {
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	}
	if *ans.Errcode != 0 {
		return fmt.Errorf("%s: errcode %d: %s", what, *ans.Errcode, truncate(oneLine(ans.Errmsg), 200))
	}
	return nil
}

// channelWhat names a channel in its errors: its kind, and its label if
// it has one.
func channelWhat(kind, label string) string {
	if label == "" {
		return kind
	}
	return kind + " " + oneLine(label)
}
