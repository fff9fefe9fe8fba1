package channels

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// DefaultDingTalkURL is the send endpoint of DingTalk's custom robots.
const DefaultDingTalkURL = "https://oapi.dingtalk.com/robot/send"

// chatMax bounds a chat message, in bytes: a glance, not a report.
const chatMax = 4000

// DingTalk posts each alert to a DingTalk (钉钉) group through a custom
// robot with the signing ("加签") security setting: the request carries the
// robot's access_token, the time in milliseconds and sign, the base64
// HMAC-SHA256 keyed with the secret of timestamp+"\n"+secret. DingTalk
// refuses a timestamp more than an hour off.
//
// The robot answers HTTP 200 with {"errcode":0} when the message is posted;
// any other errcode (a rate limit, a signature refused) is a failed delivery
// and retried.
type DingTalk struct {
	BaseURL     string // empty means DefaultDingTalkURL
	AccessToken string // the access_token of the robot's webhook URL
	Secret      string // the robot's signing secret, "SEC…"
	Format      string // "markdown" (default) or "text"
	Client      *http.Client
	Label       string
	// Now stamps the signature; nil means time.Now.
	Now func() time.Time
}

// Name identifies the channel in delivery results.
func (d *DingTalk) Name() string { return cmp.Or(d.Label, "dingtalk") }

// Check reports what is wrong with the configuration, naming the field.
func (d *DingTalk) Check() error {
	var problems []error
	if d.AccessToken == "" {
		problems = append(problems, errors.New("token_env: no access token"))
	}
	if d.Secret == "" {
		problems = append(problems, errors.New("secret_env: no signing secret"))
	}
	if d.BaseURL != "" {
		if err := CheckEndpoint(d.BaseURL); err != nil {
			problems = append(problems, fmt.Errorf("base_url %w", err))
		}
	}
	if d.Format != "" && d.Format != "markdown" && d.Format != "text" {
		problems = append(problems, fmt.Errorf("format %q is not markdown or text", d.Format))
	}
	return errors.Join(problems...)
}

// DingTalkSign is the sign parameter before URL encoding: base64 of the
// HMAC-SHA256, keyed with secret, of timestamp (Unix milliseconds, decimal)
// + "\n" + secret.
func DingTalkSign(secret string, timestampMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Deliver makes one signed post of a.
func (d *DingTalk) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("dingtalk", d.Label)
	if err := d.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	u, err := endpointURL(what, cmp.Or(d.BaseURL, DefaultDingTalkURL))
	if err != nil {
		return err
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	ts := now().UnixMilli()
	q := u.Query()
	q.Set("access_token", d.AccessToken)
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", DingTalkSign(d.Secret, ts)) // Encode percent-encodes the base64
	u.RawQuery = q.Encode()

	var payload any
	if d.Format == "text" {
		payload = map[string]any{"msgtype": "text", "text": map[string]string{"content": plainMessage(a, chatMax)}}
	} else {
		payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{
			"title": truncate(headline(a), 100),
			"text":  markdownMessage(a, chatMax),
		}}
	}
	body, err := postJSON(ctx, d.Client, what, u.String(), payload, a.ID)
	if err != nil {
		return err
	}
	return checkErrcode(what, body)
}
