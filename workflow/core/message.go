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
	// Args are the values by name, in the order given. A message holds a
	// handful: a slice, as a map per message made evaluating a large batch
	// of rules (a finding each) nearly twice as slow.
	Args []Arg
	// Texts are the message in other languages (tag → text) where the
	// data itself gives them, as an admin's catalog entry does: a message
	// without an id, said as given, else as English.
	Texts map[string]string
}

// Arg is one named value of a Message.
type Arg struct {
	Name  string
	Value any
}

// M is the message id with its English template and name/value pairs for
// its placeholders.
func M(id, english string, kv ...any) Message {
	m := Message{ID: id, English: english}
	if len(kv) > 1 {
		m.Args = make([]Arg, 0, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m.Args = append(m.Args, Arg{k, kv[i+1]})
			}
		}
	}
	return m
}

// Value is the value named name (the last given, as a map would keep);
// nil when there is none.
func (m Message) Value(name string) any {
	for i := len(m.Args) - 1; i >= 0; i-- {
		if m.Args[i].Name == name {
			return m.Args[i].Value
		}
	}
	return nil
}

// Plain is text that has no translation (a library's own error, a value
// quoted back): it reads the same in every language.
func Plain(text string) Message {
	return Message{English: text}
}

// Given is text the data gives in English and, in texts (tag → text), in
// other languages: it reads as given in each, and as English in the rest.
func Given(english string, texts map[string]string) Message {
	return Message{English: english, Texts: texts}
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

// Values is m's values by name with each nested Message said by say.
func (m Message) Values(say func(Message) string) map[string]any {
	out := make(map[string]any, len(m.Args))
	for _, a := range m.Args {
		switch v := a.Value.(type) {
		case Message:
			out[a.Name] = say(v)
		case fmt.Stringer:
			out[a.Name] = v.String()
		default:
			out[a.Name] = v
		}
	}
	return out
}
