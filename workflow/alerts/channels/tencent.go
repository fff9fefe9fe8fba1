package channels

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTencentSMSURL is Tencent Cloud SMS's API 3.0 endpoint.
const DefaultTencentSMSURL = "https://sms.tencentcloudapi.com/"

// TencentParamMax is the length, in characters, Portcullis gives a Tencent
// template variable unless told otherwise. Tencent's limits depend on the
// variable's type and the account, so this is a cautious default; set
// ParamMax to what the approved template allows.
const TencentParamMax = 12

// tencentContentType is the content type the request is sent and signed
// with.
const tencentContentType = "application/json; charset=utf-8"

// TencentSMS sends each alert as a templated SMS through Tencent Cloud's
// SendSms (API 3.0, version 2021-01-11), signed with TC3-HMAC-SHA256: a
// canonical request over the method, path, content-type and host headers
// and the SHA-256 of the body; a string to sign naming the date and
// service; and a signing key derived by HMAC-SHA256 from "TC3"+SecretKey,
// the UTC date, the service "sms" and "tc3_request".
//
// The alert ID goes in SessionContext, which Tencent echoes in the answer
// and in delivery receipts. A Response.Error (AuthFailure, a rate limit) is
// a failed delivery and retried; so is any number whose status Code is not
// "Ok", and the retry goes only to those numbers.
type TencentSMS struct {
	BaseURL    string // empty means DefaultTencentSMSURL
	SecretID   string
	SecretKey  string
	Region     string // empty means ap-guangzhou
	SdkAppID   string // SmsSdkAppId, "1400…"
	SignName   string
	TemplateID string
	Params     []SMSParam // in the template's order; the names are not sent
	ParamMax   int        // characters per variable; 0 means TencentParamMax
	To         []string   // E.164: "+8613…"
	Client     *http.Client
	Label      string
	// Now stamps each request; nil means time.Now.
	Now func() time.Time

	sent sentMemory
}

// Name identifies the channel in delivery results.
func (s *TencentSMS) Name() string { return cmp.Or(s.Label, "sms tencent") }

// Check reports what is wrong with the configuration, naming the field.
func (s *TencentSMS) Check() error {
	var problems []error
	if s.SecretID == "" {
		problems = append(problems, errors.New("key_id: no SecretId"))
	}
	if s.SecretKey == "" {
		problems = append(problems, errors.New("secret_env: no SecretKey"))
	}
	if s.SdkAppID == "" {
		problems = append(problems, errors.New("app_id: no SmsSdkAppId"))
	}
	if s.SignName == "" {
		problems = append(problems, errors.New("sign_name: no SMS signature"))
	}
	if s.TemplateID == "" {
		problems = append(problems, errors.New("template: no template ID"))
	}
	if s.BaseURL != "" {
		if err := CheckEndpoint(s.BaseURL); err != nil {
			problems = append(problems, fmt.Errorf("base_url %w", err))
		}
	}
	if err := checkPhones(s.To, true); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// TC3CanonicalRequest is the canonical form of a POST to "/" with the
// content-type and host headers signed.
func TC3CanonicalRequest(host, contentType string, payload []byte) string {
	return strings.Join([]string{
		http.MethodPost,
		"/",
		"", // no query string
		"content-type:" + strings.ToLower(contentType) + "\nhost:" + strings.ToLower(host) + "\n",
		"content-type;host",
		sha256Hex(payload),
	}, "\n")
}

// TC3StringToSign is what the signing key signs for a request at
// timestamp (Unix seconds) to service.
func TC3StringToSign(service string, timestamp int64, canonicalRequest string) string {
	date := time.Unix(timestamp, 0).UTC().Format("2006-01-02")
	return "TC3-HMAC-SHA256\n" + strconv.FormatInt(timestamp, 10) + "\n" +
		date + "/" + service + "/tc3_request\n" + sha256Hex([]byte(canonicalRequest))
}

// TC3Authorization is the Authorization header of a POST of payload to
// host for service, at timestamp.
func TC3Authorization(secretID, secretKey, service, host, contentType string, payload []byte, timestamp int64) string {
	date := time.Unix(timestamp, 0).UTC().Format("2006-01-02")
	toSign := TC3StringToSign(service, timestamp, TC3CanonicalRequest(host, contentType, payload))
	key := hmacSHA256([]byte("TC3"+secretKey), date)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "tc3_request")
	signature := hex.EncodeToString(hmacSHA256(key, toSign))
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + date + "/" + service + "/tc3_request" +
		", SignedHeaders=content-type;host, Signature=" + signature
}

// tencentAnswer is SendSms's answer.
type tencentAnswer struct {
	Response struct {
		Error *struct {
			Code    string
			Message string
		}
		SendStatusSet []struct {
			PhoneNumber string
			Code        string
			Message     string
		}
		RequestID string `json:"RequestId"`
	}
}

// Deliver makes one signed SendSms request for a, to the numbers it has
// not reached yet.
func (s *TencentSMS) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("sms tencent", s.Label)
	if err := s.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	u, err := endpointURL(what, cmp.Or(s.BaseURL, DefaultTencentSMSURL))
	if err != nil {
		return err
	}
	to := s.sent.pending(a.ID, s.To)
	if len(to) == 0 {
		s.sent.forget(a.ID)
		return nil
	}
	limit := cmp.Or(s.ParamMax, TencentParamMax)
	params := s.Params
	if len(params) == 0 {
		params = DefaultSMSParams
	}
	values := make([]string, len(params))
	for i, p := range params {
		values[i] = smsField(a, p.Field, limit)
	}
	payload, err := json.Marshal(map[string]any{
		"PhoneNumberSet":   to,
		"SmsSdkAppId":      s.SdkAppID,
		"SignName":         s.SignName,
		"TemplateId":       s.TemplateID,
		"TemplateParamSet": values,
		"SessionContext":   truncate(oneLine(a.ID), 512),
	})
	if err != nil {
		return Permanent(fmt.Errorf("%s: encoding the request: %w", what, err))
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now().Unix()

	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return Permanent(fmt.Errorf("%s: building the request failed", what))
	}
	req.Header.Set("Content-Type", tencentContentType)
	req.Header.Set("X-TC-Action", "SendSms")
	req.Header.Set("X-TC-Version", "2021-01-11")
	req.Header.Set("X-TC-Region", cmp.Or(s.Region, "ap-guangzhou"))
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("Authorization", TC3Authorization(s.SecretID, s.SecretKey, "sms", u.Host, tencentContentType, payload, ts))
	setCommonHeaders(req, a.ID)
	body, err := vendorCall(ctx, s.Client, what, req)
	if err != nil {
		return err
	}
	var ans tencentAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	}
	if e := ans.Response.Error; e != nil {
		return fmt.Errorf("%s: %s: %s", what, oneLine(e.Code), truncate(oneLine(e.Message), 200))
	}
	var failed []string
	for _, st := range ans.Response.SendStatusSet {
		if strings.EqualFold(st.Code, "Ok") {
			s.sent.reached(a.ID, st.PhoneNumber)
		} else {
			failed = append(failed, maskPhone(st.PhoneNumber)+" "+oneLine(st.Code))
		}
	}
	if rest := s.sent.pending(a.ID, to); len(rest) > 0 {
		if len(failed) == 0 {
			return fmt.Errorf("%s: no status for %d of the numbers", what, len(rest))
		}
		return fmt.Errorf("%s: not sent to %s", what, truncate(strings.Join(failed, ", "), 300))
	}
	s.sent.forget(a.ID)
	return nil
}
