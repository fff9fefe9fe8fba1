package channels

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// SMS goes out through a vendor's template API (Alibaba Cloud, Tencent
// Cloud) or a plain HTTP gateway. Template vendors send only text they have
// approved: the operator registers a template such as
// "Portcullis ${severity}: ${asset} ${port}" and Portcullis fills its
// variables from the alert, each within the vendor's length limit.

// SMSParam is one template variable: Name is the variable's name in the
// vendor's template (Alibaba Cloud; Tencent numbers its variables in order),
// Field the alert field that fills it.
type SMSParam struct {
	Name  string
	Field string
}

// SMSFields are the alert fields an SMS template variable can take.
var SMSFields = []string{"severity", "kind", "title", "asset", "zone", "port", "service", "link", "id", "text"}

// DefaultSMSParams fill a template when the configuration names none.
var DefaultSMSParams = []SMSParam{{"severity", "severity"}, {"asset", "asset"}, {"port", "port"}, {"kind", "kind"}}

// ParseSMSParams reads template variables written "name=field" or "field"
// (the variable named after the field).
func ParseSMSParams(specs []string) ([]SMSParam, error) {
	params := make([]SMSParam, 0, len(specs))
	for i, spec := range specs {
		name, field, found := strings.Cut(strings.TrimSpace(spec), "=")
		if !found {
			field = name
		}
		name, field = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(field))
		switch {
		case name == "":
			return nil, fmt.Errorf("params[%d]: %q has no variable name", i, spec)
		case !validSMSField(field):
			return nil, fmt.Errorf("params[%d]: %q is not one of %s", i, field, strings.Join(SMSFields, ", "))
		}
		params = append(params, SMSParam{Name: name, Field: field})
	}
	return params, nil
}

func validSMSField(f string) bool {
	for _, known := range SMSFields {
		if f == known {
			return true
		}
	}
	return false
}

// smsField is the value of one alert field for a template variable, at most
// maxRunes characters.
func smsField(a Alert, field string, maxRunes int) string {
	var v string
	switch field {
	case "severity":
		v = severityWord(a)
	case "kind":
		v = a.Kind
	case "title":
		v = a.Title
	case "asset":
		v = a.Asset
	case "zone":
		v = a.Zone
	case "port":
		if a.Port > 0 {
			v = strings.ToLower(a.Protocol) + "/" + strconv.Itoa(a.Port)
		}
	case "service":
		v = a.Service
	case "link":
		v = safeLink(a.Link)
	case "id":
		v = a.ID
	case "text":
		return smsText(a, maxRunes)
	}
	v = strings.TrimSpace(oneLine(v))
	if v == "" {
		v = "-" // vendors refuse an empty variable
	}
	return truncateRunes(v, maxRunes)
}

// checkPhones reports a recipient list that is empty or has an entry that
// is not a phone number.
func checkPhones(to []string, needPlus bool) error {
	if len(to) == 0 {
		return errors.New("to: no phone numbers")
	}
	for i, n := range to {
		digits := strings.TrimPrefix(n, "+")
		ok := len(digits) >= 5 && len(digits) <= 15
		for _, r := range digits {
			ok = ok && r >= '0' && r <= '9'
		}
		if !ok || (needPlus && !strings.HasPrefix(n, "+")) {
			format := "digits, optionally after +"
			if needPlus {
				format = "+ and the country code, then the number (E.164)"
			}
			return fmt.Errorf("to[%d]: %s is not a phone number (%s)", i, maskPhone(n), format)
		}
	}
	return nil
}

// maskPhone hides the middle of a phone number in errors, which admins
// read on the delivery page.
func maskPhone(n string) string {
	r := []rune(oneLine(n))
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// sentMemory remembers, per alert, the numbers a message already reached,
// so that retrying a partly failed send does not text the others again.
// It lives as long as the process; after a restart a retry goes to all.
type sentMemory struct {
	mu   sync.Mutex
	sent map[string]map[string]bool
}

// sentMemoryMax bounds the alerts remembered; past it the memory starts
// again, at worst repeating a message.
const sentMemoryMax = 10000

// pending is the numbers of to that alert id has not reached.
func (m *sentMemory) pending(id string, to []string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, n := range to {
		if !m.sent[id][n] {
			out = append(out, n)
		}
	}
	return out
}

// reached notes that alert id reached number.
func (m *sentMemory) reached(id, number string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent == nil || len(m.sent) >= sentMemoryMax {
		m.sent = map[string]map[string]bool{}
	}
	if m.sent[id] == nil {
		m.sent[id] = map[string]bool{}
	}
	m.sent[id][number] = true
}

// forget drops alert id once every number has it.
func (m *sentMemory) forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sent, id)
}
