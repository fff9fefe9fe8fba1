package main

import (
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
			return nil, fmt.Errorf("%s: type %q is not webhook, syslog or email", where, c.Type)
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
