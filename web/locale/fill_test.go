package locale

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestFilledMessagesMatchTemplates: every message of every language reads
// the same through the filled-in fast path as through go-i18n's
// text/template, for text, markup-like text and numbers as arguments, and
// a message missing an argument still goes to text/template.
func TestFilledMessagesMatchTemplates(t *testing.T) {
	c := mustCatalog(t, "en", "UTC")
	for _, l := range Offered {
		shared := c.langs[l.Tag]
		if len(shared.filled) == 0 {
			t.Fatalf("%s: no message is filled in by the fast path", l.Tag)
		}
		ctx := With(context.Background(), c.Localizer(l.Tag, "", ""))
		for id, f := range shared.filled {
			for _, value := range []any{"a <b> & \"c\" 中文", 1234567, int64(-5), uint(42)} {
				var args []any
				data := map[string]any{}
				for _, name := range f.names {
					args = append(args, name, value)
					data[name] = value
				}
				want, err := shared.msgs.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
				if err != nil {
					t.Fatalf("%s %s: %v", l.Tag, id, err)
				}
				if got := T(ctx, id, args...); got != want {
					t.Errorf("%s %s with %v: %q, text/template gives %q", l.Tag, id, value, got, want)
				}
			}
			if len(f.names) > 0 {
				if _, ok := f.fill(nil); ok {
					t.Errorf("%s %s: filled in without its arguments", l.Tag, id)
				}
			}
		}
	}
}

func TestSplitFillIn(t *testing.T) {
	for _, tc := range []struct {
		text  string
		ok    bool
		names string
	}{
		{"plain", true, ""},
		{"{{.A}} and {{ .B }}!", true, "A,B"},
		{"{{.A}}{{.A}}", true, "A,A"},
		{"{{if .A}}x{{end}}", false, ""},
		{"{{.A | printf \"%d\"}}", false, ""},
		{"{{.}}", false, ""},
		{"{{.A", false, ""},
		{"a }} b", false, ""},
	} {
		f, ok := splitFillIn(tc.text)
		if ok != tc.ok || (ok && strings.Join(f.names, ",") != tc.names) {
			t.Errorf("%q: ok %v names %v, want %v %q", tc.text, ok, f.names, tc.ok, tc.names)
		}
	}
}

// TestNumbersGroupedAsThePrinterDoes: both offered languages take the fast
// path, and it writes what their printers write.
func TestNumbersGroupedAsThePrinterDoes(t *testing.T) {
	c := mustCatalog(t, "en", "UTC")
	for _, l := range Offered {
		shared := c.langs[l.Tag]
		if !shared.groupsByComma {
			t.Errorf("%s: numbers do not take the fast path", l.Tag)
		}
		for _, n := range []int{0, 1, -1, 100, 1000, 9999, -12345, 1000000, 2147483647, -9223372036854775808} {
			if got, want := groupByComma(n), shared.printer.Sprintf("%d", n); got != want {
				t.Errorf("%s: %d written %q, the printer writes %q", l.Tag, n, got, want)
			}
		}
	}
	if got := fmt.Sprint(groupByComma(-1234)); got != "-1,234" {
		t.Errorf("-1234 written %q", got)
	}
}

func BenchmarkTWithArguments(b *testing.B) {
	c := mustCatalog(b, "en", "UTC")
	ctx := With(context.Background(), c.Localizer("zh-CN", "", "Asia/Shanghai"))
	var id string
	for k, f := range c.langs["zh-CN"].filled {
		if len(f.names) == 1 {
			id = k
			break
		}
	}
	name := c.langs["zh-CN"].filled[id].names[0]
	b.ReportAllocs()
	for b.Loop() {
		T(ctx, id, name, "value")
	}
}

func BenchmarkLocalizer(b *testing.B) {
	c := mustCatalog(b, "en", "UTC")
	b.ReportAllocs()
	for b.Loop() {
		c.Localizer("", "zh-CN,zh;q=0.9,en;q=0.8", "Asia/Shanghai")
	}
}
