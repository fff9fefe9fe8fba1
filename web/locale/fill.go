package locale

import (
	"strconv"
	"strings"

	"golang.org/x/text/message"
)

// fillIn is a message whose text only puts arguments in place: literal
// pieces with the name of an argument between each two.
type fillIn struct {
	literals []string // one more than names
	names    []string
}

// fillIns splits the messages of one language whose every action is
// {{.Name}}; the others (none today) stay with text/template.
func fillIns(texts map[string]string) map[string]fillIn {
	out := map[string]fillIn{}
	for id, text := range texts {
		if f, ok := splitFillIn(text); ok {
			out[id] = f
		}
	}
	return out
}

func splitFillIn(text string) (fillIn, bool) {
	var f fillIn
	rest := text
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if strings.Contains(rest, "}}") {
				return fillIn{}, false
			}
			f.literals = append(f.literals, rest)
			return f, true
		}
		end := strings.Index(rest[open:], "}}")
		if end < 0 {
			return fillIn{}, false
		}
		action := strings.TrimSpace(rest[open+2 : open+end])
		name, isField := strings.CutPrefix(action, ".")
		if !isField || name == "" || !isIdentifier(name) || strings.Contains(rest[:open], "}}") {
			return fillIn{}, false
		}
		f.literals = append(f.literals, rest[:open])
		f.names = append(f.names, name)
		rest = rest[open+end+2:]
	}
}

func isIdentifier(s string) bool {
	for i, r := range s {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// fill puts args (name/value pairs) in place, as text/template prints
// them; ok is false when an argument is missing or of a kind it leaves to
// text/template.
func (f fillIn) fill(args []any) (string, bool) {
	if len(f.names) == 0 {
		return f.literals[0], true
	}
	var b strings.Builder
	for i, name := range f.names {
		b.WriteString(f.literals[i])
		v, ok := argument(args, name)
		if !ok {
			return "", false
		}
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case uint:
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		default:
			return "", false
		}
	}
	b.WriteString(f.literals[len(f.names)])
	return b.String(), true
}

func argument(args []any, name string) (any, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == name {
			return args[i+1], true
		}
	}
	return nil, false
}

// groupByComma writes n with a comma between groups of three digits.
func groupByComma(n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= 3 {
		return sign + digits
	}
	var b strings.Builder
	b.Grow(len(sign) + len(digits) + len(digits)/3)
	b.WriteString(sign)
	first := len(digits) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(digits[:first])
	for i := first; i < len(digits); i += 3 {
		b.WriteByte(',')
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// printsGroupsByComma reports whether p writes whole numbers as
// groupByComma does.
func printsGroupsByComma(p *message.Printer) bool {
	for _, n := range []int{0, 7, -7, 999, 1000, -1000, 12345, 123456, 1234567, -987654321, 1 << 40} {
		if p.Sprintf("%d", n) != groupByComma(n) {
			return false
		}
	}
	return true
}
