package core

import (
	"fmt"
	"strings"
	"text/template"
)

// Message is a text for people, kept apart from any one language: the id
// it is translated under in the message catalogs, its English template
// (the catalogs' syntax: {{.Name}}), and the values the template names.
// The domain says what happened with a Message; whoever shows it picks the
// language (the pages and the API the reader's, logs and the command line
// English). A value that is itself a Message — a field's label such as
// "Rule 1, source", a role, a noun — is said in the same language first.
type Message struct {
	ID      string
	English string
	Data    map[string]any
}

// M is the message id with its English template and name/value pairs for
// its placeholders.
func M(id, english string, kv ...any) Message {
	m := Message{ID: id, English: english}
	if len(kv) > 0 {
		m.Data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m.Data[k] = kv[i+1]
			}
		}
	}
	return m
}

// Plain is text that has no translation (a library's own error, a value
// quoted back): it reads the same in every language.
func Plain(text string) Message {
	return Message{English: text}
}

// String is the message in English.
func (m Message) String() string {
	return m.Render(func(n Message) string { return n.String() }, m.English)
}

// Render fills template (m's text in some language) with m's values, each
// nested Message said by say first. A template that does not parse or
// fill is returned as it stands rather than lost.
func (m Message) Render(say func(Message) string, text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	t, err := template.New(m.ID).Option("missingkey=zero").Parse(text)
	if err != nil {
		return text
	}
	var b strings.Builder
	if err := t.Execute(&b, m.Values(say)); err != nil {
		return text
	}
	return b.String()
}

// Values is m's data with each nested Message said by say.
func (m Message) Values(say func(Message) string) map[string]any {
	out := make(map[string]any, len(m.Data))
	for k, v := range m.Data {
		switch v := v.(type) {
		case Message:
			out[k] = say(v)
		case fmt.Stringer:
			out[k] = v.String()
		default:
			out[k] = v
		}
	}
	return out
}
