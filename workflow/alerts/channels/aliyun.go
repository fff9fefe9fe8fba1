package channels

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// DefaultAliyunSMSURL is Alibaba Cloud SMS's (Dysmsapi) endpoint.
const DefaultAliyunSMSURL = "https://dysmsapi.aliyuncs.com/"

// AliyunParamMax is the length, in characters, Alibaba Cloud allows a
// template variable of the general kind.
const AliyunParamMax = 35

// AliyunSMS sends each alert as a templated SMS through Alibaba Cloud's
// SendSms (API version 2017-05-25), signed the RPC way: the parameters
// sorted and percent-encoded into a canonical query, and Signature the
// base64 HMAC-SHA1 of "POST&%2F&" + that query encoded once more, keyed
// with the AccessKey secret and "&".
//
// The alert ID goes in OutId, which Alibaba Cloud hands back in its
// delivery receipts. The answer's Code is "OK" on success; any other code
// (isv.BUSINESS_LIMIT_CONTROL is its rate limit) is a failed delivery and
// retried, as are Throttling answers whatever their HTTP status.
type AliyunSMS struct {
	BaseURL         string // empty means DefaultAliyunSMSURL
	AccessKeyID     string
	AccessKeySecret string
	RegionID        string // empty means cn-hangzhou
	SignName        string // the approved signature (签名) the SMS starts with
	TemplateCode    string // the approved template, "SMS_…"
	Params          []SMSParam
	ParamMax        int      // characters per variable; 0 means AliyunParamMax
	To              []string // phone numbers; mainland numbers bare, others with the country code
	Client          *http.Client
	Label           string

	// Now and Nonce stamp each request; nil means the clock and 16 random
	// bytes in hex.
	Now   func() time.Time
	Nonce func() string
}

// Name identifies the channel in delivery results.
func (s *AliyunSMS) Name() string { return cmp.Or(s.Label, "sms aliyun") }

// Check reports what is wrong with the configuration, naming the field.
func (s *AliyunSMS) Check() error {
	var problems []error
	if s.AccessKeyID == "" {
		problems = append(problems, errors.New("key_id: no AccessKey ID"))
	}
	if s.AccessKeySecret == "" {
		problems = append(problems, errors.New("secret_env: no AccessKey secret"))
	}
	if s.SignName == "" {
		problems = append(problems, errors.New("sign_name: no SMS signature"))
	}
	if s.TemplateCode == "" {
		problems = append(problems, errors.New("template: no template code"))
	}
	if s.BaseURL != "" {
		if err := CheckEndpoint(s.BaseURL); err != nil {
			problems = append(problems, fmt.Errorf("base_url %w", err))
		}
	}
	if err := checkPhones(s.To, false); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

// aliyunEscape is the percent-encoding of Alibaba Cloud's signing: RFC 3986
// unreserved characters kept, everything else as %XX of its UTF-8 bytes,
// space as %20.
func aliyunEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// AliyunStringToSign is the text an RPC request signs: method, the encoded
// "/", and the encoded canonical query of params (Signature left out).
func AliyunStringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, aliyunEscape(k)+"="+aliyunEscape(params.Get(k)))
	}
	return method + "&" + aliyunEscape("/") + "&" + aliyunEscape(strings.Join(pairs, "&"))
}

// AliyunSignature is the Signature parameter of an RPC request.
func AliyunSignature(method, accessKeySecret string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(accessKeySecret+"&"))
	mac.Write([]byte(AliyunStringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Deliver makes one signed SendSms request for a.
func (s *AliyunSMS) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("sms aliyun", s.Label)
	if err := s.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	u, err := endpointURL(what, cmp.Or(s.BaseURL, DefaultAliyunSMSURL))
	if err != nil {
		return err
	}
	limit := cmp.Or(s.ParamMax, AliyunParamMax)
	params := s.Params
	if len(params) == 0 {
		params = DefaultSMSParams
	}
	vars := map[string]string{}
	for _, p := range params {
		vars[p.Name] = smsField(a, p.Field, limit)
	}
	templateParam, err := json.Marshal(vars)
	if err != nil {
		return Permanent(fmt.Errorf("%s: encoding the template variables: %w", what, err))
	}
	now, nonce := time.Now, randomNonce
	if s.Now != nil {
		now = s.Now
	}
	if s.Nonce != nil {
		nonce = s.Nonce
	}
	form := url.Values{
		"AccessKeyId":      {s.AccessKeyID},
		"Action":           {"SendSms"},
		"Format":           {"JSON"},
		"OutId":            {truncate(oneLine(a.ID), 256)},
		"PhoneNumbers":     {strings.Join(s.To, ",")},
		"RegionId":         {cmp.Or(s.RegionID, "cn-hangzhou")},
		"SignName":         {s.SignName},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {nonce()},
		"SignatureVersion": {"1.0"},
		"TemplateCode":     {s.TemplateCode},
		"TemplateParam":    {string(templateParam)},
		"Timestamp":        {now().UTC().Format("2006-01-02T15:04:05Z")},
		"Version":          {"2017-05-25"},
	}
	form.Set("Signature", AliyunSignature(http.MethodPost, s.AccessKeySecret, form))

	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return Permanent(fmt.Errorf("%s: building the request failed", what))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setCommonHeaders(req, a.ID)
	body, callErr := vendorCall(ctx, s.Client, what, req)

	// An answer that is not JSON leaves Code empty, which the cases below
	// treat as the failure it is.
	var ans struct{ Code, Message string }
	json.Unmarshal(body, &ans)
	switch {
	case callErr != nil && strings.HasPrefix(ans.Code, "Throttling"):
		return fmt.Errorf("%s: %s: %s", what, oneLine(ans.Code), truncate(oneLine(ans.Message), 200))
	case callErr != nil:
		return callErr
	case ans.Code == "":
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	case ans.Code != "OK":
		return fmt.Errorf("%s: %s: %s", what, oneLine(ans.Code), truncate(oneLine(ans.Message), 200))
	}
	return nil
}

// randomNonce is a fresh SignatureNonce.
func randomNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
