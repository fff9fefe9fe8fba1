package channels

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
)

// DefaultWeComURL is the send endpoint of WeCom's group robots.
const DefaultWeComURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

// WeCom's limits on a robot message's content, in bytes of UTF-8.
const (
	weComMarkdownMax = 4096
	weComTextMax     = 2048
)

// WeCom posts each alert to a WeCom (企业微信) group through a group robot.
// The robot's key, in the webhook URL's query, is its only credential:
// WeCom robots have no signing.
//
// The robot answers {"errcode":0} when the message is posted; any other
// errcode (45009 is its rate limit) is a failed delivery and retried.
type WeCom struct {
	BaseURL string // empty means DefaultWeComURL
	Key     string // the key of the robot's webhook URL
	Format  string // "markdown" (default) or "text"
	Client  *http.Client
	Label   string
}

// Name identifies the channel in delivery results.
func (w *WeCom) Name() string { return cmp.Or(w.Label, "wecom") }

// Check reports what is wrong with the configuration, naming the field.
func (w *WeCom) Check() error {
	var problems []error
	if w.Key == "" {
		problems = append(problems, errors.New("secret_env: no robot key"))
	}
	if w.BaseURL != "" {
		if err := CheckEndpoint(w.BaseURL); err != nil {
			problems = append(problems, fmt.Errorf("base_url %w", err))
		}
	}
	if w.Format != "" && w.Format != "markdown" && w.Format != "text" {
		problems = append(problems, fmt.Errorf("format %q is not markdown or text", w.Format))
	}
	return errors.Join(problems...)
}

// Deliver makes one post of a.
func (w *WeCom) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("wecom", w.Label)
	if err := w.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	u, err := endpointURL(what, cmp.Or(w.BaseURL, DefaultWeComURL))
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("key", w.Key)
	u.RawQuery = q.Encode()

	var payload any
	if w.Format == "text" {
		payload = map[string]any{"msgtype": "text", "text": map[string]string{"content": plainMessage(a, weComTextMax)}}
	} else {
		payload = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": markdownMessage(a, weComMarkdownMax)}}
	}
	body, err := postJSON(ctx, w.Client, what, u.String(), payload, a.ID)
	if err != nil {
		return err
	}
	return checkErrcode(what, body)
}
