package channels

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Alibaba Cloud's documentation signs two examples: SendSms in its SMS
// signing guide, and DescribeRegions in its RPC signing guide.
func TestAliyunSignatureKnownAnswers(t *testing.T) {
	sms := url.Values{
		"AccessKeyId": {"testId"}, "Action": {"SendSms"}, "Format": {"XML"}, "OutId": {"123"},
		"PhoneNumbers": {"15300000001"}, "RegionId": {"cn-hangzhou"}, "SignName": {"阿里云短信测试专用"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"45e25e9b-0a6f-4070-8c85-2956eda1b466"},
		"SignatureVersion": {"1.0"}, "TemplateCode": {"SMS_71390007"}, "TemplateParam": {`{"customer":"test"}`},
		"Timestamp": {"2017-07-12T02:42:19Z"}, "Version": {"2017-05-25"},
	}
	wantToSign := "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
	if got := AliyunStringToSign("GET", sms); got != wantToSign {
		t.Errorf("string to sign:\n got %s\nwant %s", got, wantToSign)
	}
	if got := AliyunSignature("GET", "testSecret", sms); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Errorf("SendSms example signature %s", got)
	}
	regions := url.Values{
		"Format": {"XML"}, "AccessKeyId": {"testid"}, "Action": {"DescribeRegions"}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}, "SignatureVersion": {"1.0"},
		"Version": {"2014-05-26"}, "Timestamp": {"2016-02-23T12:46:24Z"},
	}
	if got := AliyunSignature("GET", "testsecret", regions); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("DescribeRegions example signature %s", got)
	}
	if got := aliyunEscape("a b*c~d/é+"); got != "a%20b%2Ac~d%2F%C3%A9%2B" {
		t.Errorf("percent-encoding %s", got)
	}
}

// Tencent Cloud's signing guide works one DescribeInstances request through
// every step (its keys are printed with asterisks, and signed as printed).
func TestTC3KnownAnswer(t *testing.T) {
	payload := []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`)
	canonical := TC3CanonicalRequest("cvm.tencentcloudapi.com", "application/json; charset=utf-8", payload)
	wantCanonical := "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
	if canonical != wantCanonical {
		t.Errorf("canonical request:\n%q\nwant\n%q", canonical, wantCanonical)
	}
	wantToSign := "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
	if got := TC3StringToSign("cvm", 1551113065, canonical); got != wantToSign {
		t.Errorf("string to sign:\n%q\nwant\n%q", got, wantToSign)
	}
	want := "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
	if got := TC3Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", "cvm", "cvm.tencentcloudapi.com", "application/json; charset=utf-8", payload, 1551113065); got != want {
		t.Errorf("Authorization:\n%s\nwant\n%s", got, want)
	}
}

const (
	aliyunKeyID  = "LTAI-test-key"
	aliyunSecret = "aliyun-secret"
)

// pctEncode is the receiver's own RFC 3986 encoding, byte by byte.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// aliyunReceiver checks SendSms requests as Alibaba Cloud documents them
// (POST form, the common parameters, the RPC signature recomputed from
// the secret, a nonce never seen before) and answers as Dysmsapi does.
type aliyunReceiver struct {
	*vendorReceiver
	mu     sync.Mutex
	nonces map[string]bool
}

func startAliyun(t *testing.T, replies ...vendorReply) *aliyunReceiver {
	ar := &aliyunReceiver{nonces: map[string]bool{}}
	refused := vendorReply{400, `{"RequestId":"r-1","HostId":"dysmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation."}`}
	ar.vendorReceiver = startVendor(t, refused, func(r *http.Request, body []byte) (string, vendorReply) {
		ok := vendorReply{200, `{"Message":"OK","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990","Code":"OK","BizId":"900619746936498440^0"}`}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			return "not a form POST", ok
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "form does not parse", ok
		}
		for name, want := range map[string]string{
			"AccessKeyId": aliyunKeyID, "Action": "SendSms", "Format": "JSON", "RegionId": "cn-hangzhou",
			"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Version": "2017-05-25",
		} {
			if form.Get(name) != want {
				return fmt.Sprintf("%s is %q, want %q", name, form.Get(name), want), ok
			}
		}
		for _, name := range []string{"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "SignatureNonce", "Signature"} {
			if form.Get(name) == "" {
				return "no " + name, ok
			}
		}
		ts, err := time.Parse("2006-01-02T15:04:05Z", form.Get("Timestamp"))
		if err != nil || time.Since(ts).Abs() > 15*time.Minute {
			return "Timestamp is not ISO 8601 UTC within 15 minutes", ok
		}
		ar.mu.Lock()
		replay := ar.nonces[form.Get("SignatureNonce")]
		ar.nonces[form.Get("SignatureNonce")] = true
		ar.mu.Unlock()
		if replay {
			return "SignatureNonce used twice", vendorReply{}
		}
		var keys, pairs []string
		for k := range form {
			if k != "Signature" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			pairs = append(pairs, pctEncode(k)+"="+pctEncode(form.Get(k)))
		}
		mac := hmac.New(sha1.New, []byte(aliyunSecret+"&"))
		mac.Write([]byte("POST&%2F&" + pctEncode(strings.Join(pairs, "&"))))
		if form.Get("Signature") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			return "Signature does not match", ok
		}
		var vars map[string]string
		if err := json.Unmarshal([]byte(form.Get("TemplateParam")), &vars); err != nil {
			return "TemplateParam is not a JSON object of strings", ok
		}
		for name, v := range vars {
			if n := utf8.RuneCountInString(v); n == 0 || n > 35 {
				return fmt.Sprintf("variable %s has %d characters", name, n), ok
			}
		}
		return "", ok
	}, replies...)
	return ar
}

func aliyunChannel(base string) *AliyunSMS {
	return &AliyunSMS{
		BaseURL: base, AccessKeyID: aliyunKeyID, AccessKeySecret: aliyunSecret,
		SignName: "Portcullis", TemplateCode: "SMS_000001",
		Params: []SMSParam{{"level", "severity"}, {"host", "asset"}, {"port", "port"}, {"what", "title"}, {"ref", "id"}},
		To:     []string{"13800138000", "13900139000"},
	}
}

func TestAliyunSMSSendsSignedRequest(t *testing.T) {
	v := startAliyun(t)
	a := testAlert()
	a.Title = strings.Repeat("一个非常长的标题", 10)
	if err := aliyunChannel(v.URL+"/").Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := aliyunChannel(v.URL+"/").Deliver(context.Background(), a); err != nil {
		t.Fatal(err) // a second request gets a fresh nonce
	}
	form, _ := url.ParseQuery(string(v.wantAllGood(t, 2)[0].Body))
	if form.Get("OutId") != a.ID || form.Get("PhoneNumbers") != "13800138000,13900139000" {
		t.Errorf("OutId %q, PhoneNumbers %q", form.Get("OutId"), form.Get("PhoneNumbers"))
	}
	var vars map[string]string
	json.Unmarshal([]byte(form.Get("TemplateParam")), &vars)
	if vars["level"] != "HIGH" || vars["host"] != "web01" || vars["port"] != "tcp/8443" || vars["ref"] != "drift-42" || utf8.RuneCountInString(vars["what"]) != 35 {
		t.Errorf("template variables %v", vars)
	}
}

func TestAliyunSMSAnswers(t *testing.T) {
	for _, tc := range []struct {
		reply     vendorReply
		permanent bool
		want      string
	}{
		{vendorReply{200, `{"Message":"触发分钟级流控Permits:1","RequestId":"r","Code":"isv.BUSINESS_LIMIT_CONTROL"}`}, false, "isv.BUSINESS_LIMIT_CONTROL"},
		{vendorReply{400, `{"Message":"Request was denied due to user flow control.","RequestId":"r","Code":"Throttling.User"}`}, false, "Throttling.User"},
		{vendorReply{404, `{"Message":"Specified access key is not found.","Code":"InvalidAccessKeyId.NotFound"}`}, true, "InvalidAccessKeyId"},
		{vendorReply{503, `{"Code":"ServiceUnavailable"}`}, false, "503"},
	} {
		v := startAliyun(t, tc.reply)
		res := deliverOnce(aliyunChannel(v.URL+"/"), testAlert())
		if res.Delivered || IsPermanent(res.Err) != tc.permanent || !strings.Contains(res.Err.Error(), tc.want) {
			t.Errorf("%s: %+v, want permanent=%v", tc.reply.Body, res, tc.permanent)
		}
	}
	// A retryable answer, then success: delivered on the second attempt.
	v := startAliyun(t, vendorReply{200, `{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"flow control"}`})
	if res := quickRetries(2).DeliverTo(context.Background(), testAlert(), []Channel{aliyunChannel(v.URL + "/")})[0]; !res.Delivered || res.Attempts != 2 {
		t.Errorf("retry: %+v", res)
	}
	// A wrong secret: the receiver's check refuses it, for good.
	wrong := aliyunChannel(v.URL + "/")
	wrong.AccessKeySecret = "other"
	if res := deliverOnce(wrong, testAlert()); !IsPermanent(res.Err) || !strings.Contains(res.Err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %+v", res)
	}
}

const (
	tencentID  = "AKIDtest0000"
	tencentKey = "tencent-secret-key"
)

// tencentReceiver checks SendSms requests as Tencent Cloud documents API
// 3.0 (the X-TC headers, TC3-HMAC-SHA256 recomputed from the key, the JSON
// body) and answers per number, failing the numbers in failOnce once.
func startTencent(t *testing.T, failOnce map[string]string, replies ...vendorReply) *vendorReceiver {
	var mu sync.Mutex
	failed := map[string]bool{}
	refused := vendorReply{200, `{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"r"}}`}
	return startVendor(t, refused, func(r *http.Request, body []byte) (string, vendorReply) {
		no := vendorReply{}
		for name, want := range map[string]string{"X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou", "Content-Type": "application/json; charset=utf-8"} {
			if r.Header.Get(name) != want {
				return fmt.Sprintf("%s is %q", name, r.Header.Get(name)), no
			}
		}
		ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
			return "X-TC-Timestamp missing or more than 5 minutes off", no
		}
		date := time.Unix(ts, 0).UTC().Format("2006-01-02")
		bodySum := sha256.Sum256(body)
		canonical := fmt.Sprintf("POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%x", r.Header.Get("Content-Type"), r.Host, bodySum)
		canonicalSum := sha256.Sum256([]byte(canonical))
		toSign := fmt.Sprintf("TC3-HMAC-SHA256\n%d\n%s/sms/tc3_request\n%x", ts, date, canonicalSum)
		key := []byte("TC3" + tencentKey)
		for _, part := range []string{date, "sms", "tc3_request", toSign} {
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(part))
			key = mac.Sum(nil)
		}
		want := fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s/sms/tc3_request, SignedHeaders=content-type;host, Signature=%s", tencentID, date, hex.EncodeToString(key))
		if r.Header.Get("Authorization") != want {
			return "Authorization does not match", no
		}
		var req struct {
			PhoneNumberSet, TemplateParamSet                  []string
			SmsSdkAppId, SignName, TemplateId, SessionContext string
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return "body: " + err.Error(), no
		}
		if len(req.PhoneNumberSet) == 0 || req.SmsSdkAppId == "" || req.SignName == "" || req.TemplateId == "" || req.SessionContext == "" {
			return "a required field is missing", no
		}
		type status struct{ SerialNo, PhoneNumber, SessionContext, Code, Message, IsoCode string }
		var set []status
		mu.Lock()
		for _, n := range req.PhoneNumberSet {
			st := status{"5000:1045", n, req.SessionContext, "Ok", "send success", "CN"}
			if code := failOnce[n]; code != "" && !failed[n] {
				failed[n] = true
				st.Code, st.Message = code, "the number's daily limit is reached"
			}
			set = append(set, st)
		}
		mu.Unlock()
		answer, _ := json.Marshal(map[string]any{"Response": map[string]any{"SendStatusSet": set, "RequestId": "a0aabda6"}})
		return "", vendorReply{200, string(answer)}
	}, replies...)
}

func tencentChannel(base string, to ...string) *TencentSMS {
	return &TencentSMS{
		BaseURL: base, SecretID: tencentID, SecretKey: tencentKey, SdkAppID: "1400000000",
		SignName: "Portcullis", TemplateID: "1234567", To: to,
		Params: []SMSParam{{"1", "severity"}, {"2", "asset"}, {"3", "port"}},
	}
}

func TestTencentSMSSendsSignedRequest(t *testing.T) {
	v := startTencent(t, nil)
	if err := tencentChannel(v.URL+"/", "+8613800138000").Deliver(context.Background(), testAlert()); err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	json.Unmarshal(v.wantAllGood(t, 1)[0].Body, &req)
	if req["SessionContext"] != "drift-42" || fmt.Sprint(req["TemplateParamSet"]) != "[HIGH web01 tcp/8443]" {
		t.Errorf("request %v", req)
	}
}

func TestTencentSMSRetriesOnlyTheFailedNumbers(t *testing.T) {
	v := startTencent(t, map[string]string{"+8613900139000": "LimitExceeded.PhoneNumberDailyLimit"})
	ch := tencentChannel(v.URL+"/", "+8613800138000", "+8613900139000")
	first := deliverOnce(ch, testAlert())
	if first.Delivered || IsPermanent(first.Err) || !strings.Contains(first.Err.Error(), "+861******9000 LimitExceeded") {
		t.Fatalf("first attempt: %+v", first)
	}
	if second := deliverOnce(ch, testAlert()); !second.Delivered {
		t.Fatalf("second attempt: %+v", second)
	}
	seen := v.wantAllGood(t, 2)
	var retry map[string]any
	json.Unmarshal(seen[1].Body, &retry)
	if fmt.Sprint(retry["PhoneNumberSet"]) != "[+8613900139000]" {
		t.Errorf("the retry went to %v, want only the number that failed", retry["PhoneNumberSet"])
	}
}

func TestTencentSMSErrorIsRetried(t *testing.T) {
	v := startTencent(t, nil, vendorReply{200, `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"too many requests"},"RequestId":"r"}}`})
	res := quickRetries(2).DeliverTo(context.Background(), testAlert(), []Channel{tencentChannel(v.URL+"/", "+8613800138000")})[0]
	if !res.Delivered || res.Attempts != 2 {
		t.Fatalf("%+v", res)
	}
	wrong := tencentChannel(v.URL+"/", "+8613800138000")
	wrong.SecretKey = "other"
	if res := deliverOnce(wrong, testAlert()); res.Delivered || !strings.Contains(res.Err.Error(), "AuthFailure.SignatureFailure") {
		t.Fatalf("wrong key: %+v", res)
	}
}

func TestSMSGatewayTemplatedGET(t *testing.T) {
	check := func(r *http.Request, body []byte) (string, vendorReply) {
		ok := vendorReply{200, `{"status":"queued"}`}
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/send" || r.Header.Get("X-Token") != "gw-secret" {
			return "not a GET to /send with the token", ok
		}
		if n := utf8.RuneCountInString(q.Get("text")); n == 0 || n > 70 {
			return fmt.Sprintf("text of %d characters", n), ok
		}
		if q.Get("ref") != r.Header.Get(HeaderDelivery) || q.Get("to") == "" {
			return "no recipient or delivery ID", ok
		}
		if q.Get("to") == "+8613900139000" && strings.Contains(q.Get("ref"), "fail") {
			return "", vendorReply{200, `{"status":"rejected"}`}
		}
		return "", ok
	}
	v := startVendor(t, vendorReply{400, "bad request"}, check)
	g, err := NewSMSGateway(SMSGatewayConfig{
		URL:     v.URL + "/send?to={{urlquery .To}}&text={{urlquery .Text}}&ref={{urlquery .ID}}",
		Method:  "GET",
		Headers: map[string]string{"X-Token": "{{.Secret}}"},
		Secret:  "gw-secret",
		Expect:  "queued",
		To:      []string{"+8613800138000", "+8613900139000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := testAlert()
	if err := g.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	seen := v.wantAllGood(t, 2)
	if text := seen[0].Request.URL.Query().Get("text"); !strings.HasPrefix(text, "Portcullis HIGH: ") || !strings.HasSuffix(text, a.Link) {
		t.Errorf("text %q", text)
	}

	// The second number is rejected: the retry goes to it alone.
	a.ID = "drift-fail"
	if err := g.Deliver(context.Background(), a); err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "+861******9000") {
		t.Fatalf("rejected send: %v", err)
	}
	g.Deliver(context.Background(), a)
	seen = v.wantAllGood(t, 5)
	if seen[4].Request.URL.Query().Get("to") != "+8613900139000" {
		t.Errorf("the retry went to %s", seen[4].Request.URL.Query().Get("to"))
	}
}

func TestSMSGatewayJSONBody(t *testing.T) {
	check := func(r *http.Request, body []byte) (string, vendorReply) {
		var m struct{ Mobile, Content string }
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil || m.Mobile == "" || m.Content == "" {
			return "not a JSON POST with mobile and content: " + string(body), vendorReply{}
		}
		return "", vendorReply{200, "OK"}
	}
	v := startVendor(t, vendorReply{400, "bad"}, check)
	g, err := NewSMSGateway(SMSGatewayConfig{
		URL: v.URL + "/api", Body: `{"mobile": {{json .To}}, "content": {{json .Text}}}`, To: []string{"13800138000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAlert()
	a.Title = `"quotes" and \ backslashes`
	if err := g.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	v.wantAllGood(t, 1)
}

func TestSMSChecks(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{(&AliyunSMS{}).Check(), "key_id"},
		{(&AliyunSMS{AccessKeyID: "x"}).Check(), "secret_env"},
		{(&AliyunSMS{AccessKeyID: "x", AccessKeySecret: "y", SignName: "s", TemplateCode: "t"}).Check(), "to: no phone numbers"},
		{(&AliyunSMS{AccessKeyID: "x", AccessKeySecret: "y", SignName: "s", TemplateCode: "t", To: []string{"12ab"}}).Check(), "to[0]"},
		{(&TencentSMS{SecretID: "x", SecretKey: "y", SignName: "s", TemplateID: "t", To: []string{"+8613800138000"}}).Check(), "app_id"},
		{(&TencentSMS{SecretID: "x", SecretKey: "y", SdkAppID: "1", SignName: "s", TemplateID: "t", To: []string{"13800138000"}}).Check(), "E.164"},
		{(&TencentSMS{SecretID: "x", SecretKey: "y", SdkAppID: "1", SignName: "s", TemplateID: "t", To: []string{"+8613800138000"}, BaseURL: "http://sms.example/"}).Check(), "base_url must be https"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%v, want an error mentioning %q", tc.err, tc.want)
		}
	}
	for _, tc := range []struct {
		cfg  SMSGatewayConfig
		want string
	}{
		{SMSGatewayConfig{To: []string{"13800138000"}}, "url: no gateway URL"},
		{SMSGatewayConfig{URL: "https://gw.example/{{.Nope}}", To: []string{"13800138000"}}, "Nope"},
		{SMSGatewayConfig{URL: "https://gw.example/{{", To: []string{"13800138000"}}, "url:"},
		{SMSGatewayConfig{URL: "http://gw.example/send?k={{.Secret}}", To: []string{"13800138000"}}, "must be https"},
		{SMSGatewayConfig{URL: "https://gw.example/", Method: "DELETE", To: []string{"13800138000"}}, "method"},
		{SMSGatewayConfig{URL: "https://gw.example/", Headers: map[string]string{"Bad Name": "x"}, To: []string{"13800138000"}}, "header name"},
	} {
		if _, err := NewSMSGateway(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error mentioning %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := ParseSMSParams([]string{"level=severity", "port", "x=password"}); err == nil || !strings.Contains(err.Error(), `params[2]: "password"`) {
		t.Errorf("ParseSMSParams: %v", err)
	}
	got, err := ParseSMSParams([]string{"level=Severity", " port "})
	if err != nil || fmt.Sprint(got) != "[{level severity} {port port}]" {
		t.Errorf("ParseSMSParams = %v, %v", got, err)
	}
}

func TestSMSText(t *testing.T) {
	a := testAlert()
	for _, n := range []int{20, 40, 70, 140} {
		got := smsText(a, n)
		if utf8.RuneCountInString(got) > n || !utf8.ValidString(got) {
			t.Errorf("smsText(%d) = %q (%d characters)", n, got, utf8.RuneCountInString(got))
		}
		if n >= 70 && !strings.HasSuffix(got, a.Link) {
			t.Errorf("smsText(%d) = %q lacks the link", n, got)
		}
	}
	if got := smsText(a, 70); got != "Portcullis HIGH: New open por… https://portcullis.example.com/drift/42" {
		t.Errorf("smsText(70) = %q", got)
	}
}
