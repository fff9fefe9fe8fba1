package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
)

// alertsFile is the alert routing configuration (--alerts FILE):
//
//	channels:
//	  - {name: soc-hook, type: webhook, url: https://soc.example/hook, secret_env: SOC_HOOK_SECRET}
//	  - {name: siem, type: syslog, network: tls, address: siem.example:6514, format: cef}
//	  - {name: soc-mail, type: email, addr: smtp.example:587, from: portcullis@example.com, to: [soc@example.com], starttls: true}
//	  - {name: ops-ding, type: dingtalk, token_env: DING_TOKEN, secret_env: DING_SECRET}
//	  - {name: oncall-sms, type: sms, provider: aliyun, key_id: LTAI…, secret_env: ALIYUN_SECRET, sign_name: …, template: SMS_…, to: ["13800138000"]}
//	routes:
//	  - {channel: siem}
//	  - {channel: soc-hook, min_severity: high}
//	  - {channel: soc-mail, classifications: [internet, dmz]}
//
// Secrets come from environment variables named by *_env, never from the file.
type alertsFile struct {
	Channels []alertChannel `yaml:"channels"`
	Routes   []alertRoute   `yaml:"routes"`
}

// alertChannel is one destination of alerts.
type alertChannel struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"`
	URL         string   `yaml:"url"`
	SecretEnv   string   `yaml:"secret_env"`
	Network     string   `yaml:"network"`
	Address     string   `yaml:"address"`
	Format      string   `yaml:"format"`
	Addr        string   `yaml:"addr"`
	From        string   `yaml:"from"`
	To          []string `yaml:"to"`
	Username    string   `yaml:"username"`
	PasswordEnv string   `yaml:"password_env"`
	StartTLS    bool     `yaml:"starttls"`

	// The chat and SMS channels.
	Provider    string            `yaml:"provider"`  // sms: aliyun, tencent or http
	BaseURL     string            `yaml:"base_url"`  // the vendor's endpoint, when not its public one
	TokenEnv    string            `yaml:"token_env"` // dingtalk access_token, feishu/lark hook token
	KeyID       string            `yaml:"key_id"`    // Alibaba AccessKey ID, Tencent SecretId
	Region      string            `yaml:"region"`
	AppID       string            `yaml:"app_id"` // Tencent SmsSdkAppId
	SignName    string            `yaml:"sign_name"`
	Template    string            `yaml:"template"` // template code (Alibaba) or ID (Tencent)
	Params      []string          `yaml:"params"`   // template variables, "name=field" or "field"
	ParamMax    int               `yaml:"param_max"`
	Method      string            `yaml:"method"`
	Body        string            `yaml:"body"`
	ContentType string            `yaml:"content_type"`
	Headers     map[string]string `yaml:"headers"`
	Expect      string            `yaml:"expect"`
	MaxChars    int               `yaml:"max_chars"`
}

// alertRoute sends alerts of a severity and zone to a channel.
type alertRoute struct {
	Name            string   `yaml:"name"`
	Channel         string   `yaml:"channel"`
	MinSeverity     string   `yaml:"min_severity"`
	Zones           []string `yaml:"zones"`
	Classifications []string `yaml:"classifications"`
}

// loadAlerting reads the alert configuration; errors name the entry.
func loadAlerting(path string, getenv func(string) string, link func(uint) string) (*alerts.Alerting, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseAlerting(raw, getenv, link, path)
}

// parseAlerting reads the alert configuration from raw, the contents of
// the file at path.
func parseAlerting(raw []byte, getenv func(string) string, link func(uint) string, path string) (*alerts.Alerting, error) {
	var f alertsFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return buildAlerting(f, getenv, link, path)
}

func buildAlerting(f alertsFile, getenv func(string) string, link func(uint) string, path string) (*alerts.Alerting, error) {
	named := map[string]channels.Channel{}
	for i, c := range f.Channels {
		where := fmt.Sprintf("%s: channels[%d] (%s)", path, i, c.Name)
		if c.Name == "" {
			return nil, fmt.Errorf("%s: a channel needs a name", where)
		}
		if _, dup := named[c.Name]; dup {
			return nil, fmt.Errorf("%s: the name is used twice", where)
		}
		var ch channels.Channel
		switch c.Type {
		case "webhook":
			secret := getenv(c.SecretEnv)
			if c.URL == "" || secret == "" {
				return nil, fmt.Errorf("%s: a webhook needs url and secret_env naming a set variable", where)
			}
			ch = &channels.Webhook{URL: c.URL, Secret: secret, Label: c.Name}
		case "syslog":
			if c.Address == "" {
				return nil, fmt.Errorf("%s: a syslog channel needs an address", where)
			}
			ch = &channels.Syslog{Network: c.Network, Address: c.Address, Format: c.Format, Label: c.Name, AppName: "portcullis"}
		case "email":
			if c.Addr == "" || c.From == "" || len(c.To) == 0 {
				return nil, fmt.Errorf("%s: an email channel needs addr, from and to", where)
			}
			ch = &channels.Email{Addr: c.Addr, From: c.From, To: c.To, Username: c.Username, Password: getenv(c.PasswordEnv), StartTLS: c.StartTLS, Label: c.Name}
		default:
			var err error
			if ch, err = buildVendorChannel(c, getenv); err != nil {
				return nil, fmt.Errorf("%s: %s", where, strings.ReplaceAll(err.Error(), "\n", "; "))
			}
		}
		named[c.Name] = ch
	}
	var routes []channels.Route
	for i, r := range f.Routes {
		ch, ok := named[r.Channel]
		if !ok {
			return nil, fmt.Errorf("%s: routes[%d]: no channel named %q", path, i, r.Channel)
		}
		name := r.Name
		if name == "" {
			name = r.Channel
		}
		routes = append(routes, channels.Route{Name: name, MinSeverity: r.MinSeverity, Zones: r.Zones, Classifications: r.Classifications, Channel: ch})
	}
	router, err := channels.NewRouter(routes...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	byName := map[string]channels.Channel{}
	for _, ch := range named {
		byName[ch.Name()] = ch
	}
	return &alerts.Alerting{Router: router, Channels: byName, Dispatcher: &channels.Dispatcher{}, Link: link}, nil
}

// checker is a channel that can say what is wrong with its configuration.
type checker interface{ Check() error }

// buildVendorChannel makes a chat or SMS channel. Its errors name the field
// and, for secrets, the variable, never a secret's value.
func buildVendorChannel(c alertChannel, getenv func(string) string) (channels.Channel, error) {
	secret := func(field, variable string) (string, error) {
		if variable == "" {
			return "", fmt.Errorf("%s: name the environment variable that holds the secret", field)
		}
		v := getenv(variable)
		if v == "" {
			return "", fmt.Errorf("%s: %s is not set", field, variable)
		}
		return v, nil
	}
	var ch channels.Channel
	switch c.Type {
	case "dingtalk":
		token, err := secret("token_env", c.TokenEnv)
		if err != nil {
			return nil, err
		}
		key, err := secret("secret_env", c.SecretEnv)
		if err != nil {
			return nil, err
		}
		ch = &channels.DingTalk{BaseURL: c.BaseURL, AccessToken: token, Secret: key, Format: c.Format, Label: c.Name}
	case "feishu", "lark":
		token, err := secret("token_env", c.TokenEnv)
		if err != nil {
			return nil, err
		}
		key, err := secret("secret_env", c.SecretEnv)
		if err != nil {
			return nil, err
		}
		base := c.BaseURL
		if base == "" && c.Type == "lark" {
			base = channels.DefaultLarkURL
		}
		ch = &channels.Feishu{BaseURL: base, Token: token, Secret: key, Format: c.Format, Label: c.Name}
	case "wecom":
		key, err := secret("secret_env", c.SecretEnv)
		if err != nil {
			return nil, err
		}
		ch = &channels.WeCom{BaseURL: c.BaseURL, Key: key, Format: c.Format, Label: c.Name}
	case "slack", "teams":
		if c.URL != "" {
			return nil, errors.New("url: a " + c.Type + " webhook URL is its secret; give it by secret_env")
		}
		hook, err := secret("secret_env", c.SecretEnv)
		if err != nil {
			return nil, err
		}
		if c.Type == "slack" {
			ch = &channels.Slack{URL: hook, Label: c.Name}
		} else {
			ch = &channels.Teams{URL: hook, Format: c.Format, Label: c.Name}
		}
	case "sms":
		return buildSMSChannel(c, secret)
	default:
		return nil, fmt.Errorf("type %q is not webhook, syslog, email, sms, dingtalk, feishu, lark, wecom, slack or teams", c.Type)
	}
	if err := ch.(checker).Check(); err != nil {
		return nil, err
	}
	return ch, nil
}

func buildSMSChannel(c alertChannel, secret func(field, variable string) (string, error)) (channels.Channel, error) {
	params, err := channels.ParseSMSParams(c.Params)
	if err != nil {
		return nil, err
	}
	if c.ParamMax < 0 || c.MaxChars < 0 {
		return nil, errors.New("param_max and max_chars cannot be negative")
	}
	var ch interface {
		channels.Channel
		checker
	}
	switch c.Provider {
	case "aliyun":
		key, err := secret("secret_env", c.SecretEnv)
		if err != nil {
			return nil, err
		}
		ch = &channels.AliyunSMS{
			BaseURL: c.BaseURL, AccessKeyID: c.KeyID, AccessKeySecret: key, RegionID: c.Region,
			SignName: c.SignName, TemplateCode: c.Template, Params: params, ParamMax: c.ParamMax, To: c.To, Label: c.Name,
		}
	case "tencent":
		key, err := secret("secret_env", c.SecretEnv)
		if err != nil {
			return nil, err
		}
		ch = &channels.TencentSMS{
			BaseURL: c.BaseURL, SecretID: c.KeyID, SecretKey: key, Region: c.Region, SdkAppID: c.AppID,
			SignName: c.SignName, TemplateID: c.Template, Params: params, ParamMax: c.ParamMax, To: c.To, Label: c.Name,
		}
	case "http":
		var token string
		if c.SecretEnv != "" {
			if token, err = secret("secret_env", c.SecretEnv); err != nil {
				return nil, err
			}
		}
		return channels.NewSMSGateway(channels.SMSGatewayConfig{
			URL: c.URL, Method: c.Method, Body: c.Body, ContentType: c.ContentType, Headers: c.Headers,
			Expect: c.Expect, Secret: token, To: c.To, MaxChars: c.MaxChars, Label: c.Name,
		})
	default:
		return nil, fmt.Errorf("provider %q is not aliyun, tencent or http", c.Provider)
	}
	if err := ch.Check(); err != nil {
		return nil, err
	}
	return ch, nil
}
