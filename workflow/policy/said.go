package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/workflow/core"
)

// A finding's message is a core.Message so that each reader gets it in
// their language with the same ports, zones and services the English names.
// Values that are data (addresses, ports, service names) are plain strings;
// words that belong to a language (a zone classification, "source", the
// "and" of a list) are nested messages. English grammar words (plurals,
// "is"/"are") are strings the other languages' templates leave out.

// classSaid is a zone classification as the findings name it.
func classSaid(c Classification) core.Message {
	switch c {
	case Internet:
		return core.M("finding_text.class.internet", "internet")
	case DMZ:
		return core.M("finding_text.class.dmz", "dmz")
	case Transit:
		return core.M("finding_text.class.transit", "transit")
	case Low:
		return core.M("finding_text.class.low", "low")
	case Medium:
		return core.M("finding_text.class.medium", "medium")
	case High:
		return core.M("finding_text.class.high", "high")
	}
	return core.Plain(string(c))
}

// listSaid writes "a, b and c", or the first few and how many more, in
// the reader's language; each item is a string (data) or a core.Message.
func listSaid(items []any) core.Message {
	const shown = 6
	switch {
	case len(items) == 0:
		return core.Plain("")
	case len(items) == 1:
		if m, ok := items[0].(core.Message); ok {
			return m
		}
		return core.M("finding_text.list.single", "{{.Item}}", "Item", items[0])
	case len(items) > shown:
		return core.M("finding_text.list.more", "{{.Head}} and {{.More}} more", "Head", commaSaid(items[:shown]), "More", len(items)-shown)
	}
	return core.M("finding_text.list.and", "{{.Head}} and {{.Last}}", "Head", commaSaid(items[:len(items)-1]), "Last", items[len(items)-1])
}

// commaSaid joins items with the language's comma.
func commaSaid(items []any) any {
	head := items[0]
	for _, it := range items[1:] {
		head = core.M("finding_text.list.comma", "{{.Head}}, {{.Item}}", "Head", head, "Item", it)
	}
	return head
}

// semicolonSaid joins clauses with the language's semicolon.
func semicolonSaid(items []core.Message) core.Message {
	head := items[0]
	for _, it := range items[1:] {
		head = core.M("finding_text.list.semicolon", "{{.Head}}; {{.Item}}", "Head", head, "Item", it)
	}
	return head
}

func stringsSaid(names []string) core.Message {
	items := make([]any, len(names))
	for i, n := range names {
		items[i] = n
	}
	return listSaid(items)
}

func servicesSaid(ss []*Service) core.Message {
	items := make([]any, len(ss))
	for i, s := range ss {
		items[i] = s.Name
	}
	return listSaid(items)
}

func classesSaid(cs []Classification) core.Message {
	items := make([]any, len(cs))
	for i, c := range cs {
		items[i] = classSaid(c)
	}
	return listSaid(items)
}

func quoted(s string) string { return strconv.Quote(s) }

// english is m in English. The findings' templates only name values
// ({{.Name}}), so they are filled here directly: parsing each as a
// text/template (core.Message.String) made evaluating a large batch
// several times slower. TestFindingsSpeakChineseWithTheirValues checks
// that both say the same.
func english(m core.Message) string {
	var b strings.Builder
	writeEnglish(&b, m)
	return b.String()
}

func writeEnglish(b *strings.Builder, m core.Message) {
	text := m.English
	for {
		open := strings.Index(text, "{{.")
		if open < 0 {
			b.WriteString(text)
			return
		}
		end := strings.Index(text[open:], "}}")
		if end < 0 {
			b.WriteString(text)
			return
		}
		b.WriteString(text[:open])
		switch v := m.Value(text[open+3 : open+end]).(type) {
		case core.Message:
			writeEnglish(b, v)
		case string:
			b.WriteString(v)
		case nil:
		default:
			fmt.Fprint(b, v)
		}
		text = text[open+end+2:]
	}
}
