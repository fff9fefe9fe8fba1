package channels

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/template"
)

// DefaultSMSMaxChars is the length of an SMS through a gateway unless told
// otherwise: one message of Chinese (UCS-2) text, 70 characters.
const DefaultSMSMaxChars = 70

// SMSGatewayConfig describes an HTTP SMS gateway that needs no request
// signing: a URL, and optionally a body and headers, written as Go
// templates over SMSGatewayData.
type SMSGatewayConfig struct {
	URL         string // template; the result must be an http(s) URL
	Method      string // GET or POST (default)
	Body        string // template; empty sends no body
	ContentType string // of the body; default application/json
	Headers     map[string]string
	// Expect, when set, must appear in a 2xx answer for the send to count:
	// many gateways answer 200 with an error in the body.
	Expect   string
	Secret   string // the gateway's token, from the environment, as {{.Secret}}
	To       []string
	MaxChars int // length of the text; 0 means DefaultSMSMaxChars
	Label    string
	Client   *http.Client
}

// SMSGatewayData is what the templates see, for one recipient. Text is the
// message, within MaxChars. The template functions are those of
// text/template (urlquery among them) and json, which writes its argument
// as a JSON string literal, quotes included.
type SMSGatewayData struct {
	To, Text, ID, Severity, Kind, Title, Asset, Zone, Port, Service, Link, Secret string
}

// SMSGateway sends each alert as one request per recipient to an HTTP SMS
// gateway. The alert ID is in the X-Portcullis-Delivery header and, for
// templates that use it, {{.ID}}. A recipient reached is not texted again
// when a retry follows a failure for another.
type SMSGateway struct {
	cfg                 SMSGatewayConfig
	url, body           *template.Template
	headers             map[string]*template.Template
	method, contentType string
	maxChars            int
	sent                sentMemory
}

var gatewayFuncs = template.FuncMap{
	"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
}

// NewSMSGateway checks the configuration and parses its templates; errors
// name the field.
func NewSMSGateway(cfg SMSGatewayConfig) (*SMSGateway, error) {
	g := &SMSGateway{
		cfg:         cfg,
		method:      strings.ToUpper(cmp.Or(cfg.Method, http.MethodPost)),
		contentType: cmp.Or(cfg.ContentType, "application/json"),
		maxChars:    cmp.Or(cfg.MaxChars, DefaultSMSMaxChars),
		headers:     map[string]*template.Template{},
	}
	var problems []error
	if g.method != http.MethodGet && g.method != http.MethodPost {
		problems = append(problems, fmt.Errorf("method %q is not GET or POST", cfg.Method))
	}
	if g.maxChars < smsMinText {
		problems = append(problems, fmt.Errorf("max_chars %d is under %d", g.maxChars, smsMinText))
	}
	if err := checkPhones(cfg.To, false); err != nil {
		problems = append(problems, err)
	}
	parse := func(field, text string) *template.Template {
		t, err := template.New(field).Funcs(gatewayFuncs).Option("missingkey=error").Parse(text)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", field, err))
		}
		return t
	}
	if cfg.URL == "" {
		problems = append(problems, errors.New("url: no gateway URL"))
	} else {
		g.url = parse("url", cfg.URL)
	}
	if cfg.Body != "" {
		g.body = parse("body", cfg.Body)
	}
	for name, value := range cfg.Headers {
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			problems = append(problems, fmt.Errorf("headers: %q is not a header name", name))
			continue
		}
		g.headers[name] = parse("headers."+name, value)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	// Render once with a sample, so a template that fails or makes a bad
	// URL is found now rather than at the first alert.
	sample := Alert{ID: "sample", Severity: SeverityHigh, Title: "sample", Link: "https://portcullis.example/drift/1"}
	req, err := g.request(context.Background(), sample, "+10000000000")
	if err != nil {
		return nil, err
	}
	if err := CheckEndpoint(req.URL.String()); err != nil {
		return nil, fmt.Errorf("url: the rendered URL %w", err)
	}
	return g, nil
}

// Name identifies the channel in delivery results.
func (g *SMSGateway) Name() string { return cmp.Or(g.cfg.Label, "sms gateway") }

func (g *SMSGateway) data(a Alert, to string) SMSGatewayData {
	field := func(f string) string { return smsField(a, f, g.maxChars) }
	return SMSGatewayData{
		To: to, Text: smsText(a, g.maxChars), ID: oneLine(a.ID),
		Severity: field("severity"), Kind: field("kind"), Title: field("title"), Asset: field("asset"),
		Zone: field("zone"), Port: field("port"), Service: field("service"), Link: safeLink(a.Link),
		Secret: g.cfg.Secret,
	}
}

// request renders the request for one recipient. Its errors never quote
// the rendered text, which may hold the secret.
func (g *SMSGateway) request(ctx context.Context, a Alert, to string) (*http.Request, error) {
	data := g.data(a, to)
	render := func(t *template.Template) (string, error) {
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return "", fmt.Errorf("%s: %w", t.Name(), err)
		}
		return b.String(), nil
	}
	target, err := render(g.url)
	if err != nil {
		return nil, err
	}
	var body string
	if g.body != nil {
		if body, err = render(g.body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, g.method, strings.TrimSpace(target), strings.NewReader(body))
	if err != nil {
		return nil, errors.New("url: the rendered URL does not parse")
	}
	if g.body != nil {
		req.Header.Set("Content-Type", g.contentType)
	}
	for name, t := range g.headers {
		value, err := render(t)
		if err != nil {
			return nil, err
		}
		req.Header.Set(name, oneLine(value))
	}
	setCommonHeaders(req, a.ID)
	return req, nil
}

// Deliver sends a to every recipient it has not reached yet, one request
// each.
func (g *SMSGateway) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("sms gateway", g.cfg.Label)
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var failures []error
	permanent := true
	for _, to := range g.sent.pending(a.ID, g.cfg.To) {
		req, err := g.request(ctx, a, to)
		if err != nil {
			return Permanent(fmt.Errorf("%s: %w", what, err))
		}
		body, err := vendorCall(ctx, g.cfg.Client, what, req)
		if err == nil && g.cfg.Expect != "" && !strings.Contains(string(body), g.cfg.Expect) {
			err = fmt.Errorf("%s: the answer lacks the expected %q%s", what, g.cfg.Expect, describeBody(body))
		}
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", maskPhone(to), err))
			permanent = permanent && IsPermanent(err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		g.sent.reached(a.ID, to)
	}
	if len(failures) == 0 {
		g.sent.forget(a.ID)
		return nil
	}
	err := errors.Join(failures...)
	if permanent {
		return Permanent(err)
	}
	return err
}
