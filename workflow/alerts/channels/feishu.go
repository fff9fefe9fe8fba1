package channels

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The hook endpoints of Feishu's and Lark's custom bots; the bot's token
// follows.
const (
	DefaultFeishuURL = "https://open.feishu.cn/open-apis/bot/v2/hook/"
	DefaultLarkURL   = "https://open.larksuite.com/open-apis/bot/v2/hook/"
)

// Feishu posts each alert to a Feishu (飞书) or Lark group through a custom
// bot with signature verification ("签名校验"): the JSON body carries the
// time in seconds and sign, the base64 HMAC-SHA256 keyed with
// timestamp+"\n"+secret over an empty message. Feishu refuses a timestamp
// more than an hour off.
//
// The bot answers {"code":0} (older deployments {"StatusCode":0}) when the
// message is posted; any other code is a failed delivery and retried.
type Feishu struct {
	BaseURL string // empty means DefaultFeishuURL; the token is appended
	Token   string // the last part of the bot's webhook URL
	Secret  string
	Format  string // "post" (rich text, default) or "text"
	Client  *http.Client
	Label   string
	// Now stamps the signature; nil means time.Now.
	Now func() time.Time
}

// Name identifies the channel in delivery results.
func (f *Feishu) Name() string { return cmp.Or(f.Label, "feishu") }

// Check reports what is wrong with the configuration, naming the field.
func (f *Feishu) Check() error {
	var problems []error
	if f.Token == "" {
		problems = append(problems, errors.New("token_env: no bot token"))
	}
	if f.Secret == "" {
		problems = append(problems, errors.New("secret_env: no signing secret"))
	}
	if f.BaseURL != "" {
		if err := CheckEndpoint(f.BaseURL); err != nil {
			problems = append(problems, fmt.Errorf("base_url %w", err))
		}
	}
	if f.Format != "" && f.Format != "post" && f.Format != "text" {
		problems = append(problems, fmt.Errorf("format %q is not post or text", f.Format))
	}
	return errors.Join(problems...)
}

// FeishuSign is the sign field: base64 of the HMAC-SHA256, keyed with
// timestamp (Unix seconds, decimal) + "\n" + secret, of the empty message.
func FeishuSign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// feishuAnswer covers both answer shapes Feishu has used.
type feishuAnswer struct {
	Code          *int   `json:"code"`
	Msg           string `json:"msg"`
	StatusCode    *int   `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
}

// Deliver makes one signed post of a.
func (f *Feishu) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("feishu", f.Label)
	if err := f.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	base := cmp.Or(f.BaseURL, DefaultFeishuURL)
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	target := base + url.PathEscape(f.Token)
	if _, err := endpointURL(what, target); err != nil {
		return err
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	ts := now().Unix()
	payload := map[string]any{
		"timestamp": strconv.FormatInt(ts, 10),
		"sign":      FeishuSign(f.Secret, ts),
	}
	if f.Format == "text" {
		payload["msg_type"] = "text"
		payload["content"] = map[string]string{"text": plainMessage(a, chatMax)}
	} else {
		payload["msg_type"] = "post"
		payload["content"] = map[string]any{"post": map[string]any{"zh_cn": feishuPost(a)}}
	}
	body, err := postJSON(ctx, f.Client, what, target, payload, a.ID)
	if err != nil {
		return err
	}
	var ans feishuAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	}
	switch {
	case ans.Code != nil && *ans.Code != 0:
		return fmt.Errorf("%s: code %d: %s", what, *ans.Code, truncate(oneLine(ans.Msg), 200))
	case ans.Code == nil && ans.StatusCode != nil && *ans.StatusCode != 0:
		return fmt.Errorf("%s: code %d: %s", what, *ans.StatusCode, truncate(oneLine(ans.StatusMessage), 200))
	case ans.Code == nil && ans.StatusCode == nil:
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	}
	return nil
}

// feishuPost is the alert as a Feishu rich-text post: a title, then one
// paragraph per line. Rich text has no markup to inject; its text
// elements are shown as they are.
func feishuPost(a Alert) map[string]any {
	text := func(s string) map[string]string { return map[string]string{"tag": "text", "text": s} }
	var paragraphs [][]map[string]string
	if w := whereLine(a); w != "" {
		paragraphs = append(paragraphs, []map[string]string{text(w)})
	}
	if d := strings.TrimSpace(oneLine(a.Detail)); d != "" {
		paragraphs = append(paragraphs, []map[string]string{text(truncate(d, detailMax))})
	}
	if l := safeLink(a.Link); l != "" {
		paragraphs = append(paragraphs, []map[string]string{{"tag": "a", "text": linkText(a), "href": l}})
	}
	paragraphs = append(paragraphs, []map[string]string{text(alertIDLine(a, oneLine(a.ID)))})
	return map[string]any{"title": truncate(headline(a), 200), "content": paragraphs}
}
