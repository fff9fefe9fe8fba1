package web

import (
	"context"
	"testing"

	"github.com/portcullis/portcullis/web/locale"
)

func TestFieldLabel(t *testing.T) {
	cat, err := locale.New("en", "")
	if err != nil {
		t.Fatal(err)
	}
	in := func(lang string) context.Context {
		return locale.With(context.Background(), cat.Localizer(lang, "", ""))
	}
	cases := []struct{ lang, field, want string }{
		{"en", "rules[0].source", "Rule 1, source"},
		{"en", "rules[11].destination[2]", "Rule 12, destination"},
		{"en", "rules[0].service", "Rule 1, expected service"},
		{"en", "rules[3]", "Rule 4"},
		{"en", "rules", "Rules"},
		{"en", "expires_at", "Expires on"},
		{"en", "checklist[2]", "Checklist item 3"},
		{"en", "compensating_controls[0:zone-path]", "Rule 1, compensating control"},
		{"en", "something_new", "something new"},
		{"en", "a path{odd}", "a path{odd}"},
		{"zh-CN", "rules[0].source", "规则 1，源"},
		{"zh-CN", "rules[1].ports", "规则 2，端口"},
		{"zh-CN", "title", "标题"},
	}
	for _, c := range cases {
		if got := FieldLabel(in(c.lang), c.field); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.field, got, c.want)
		}
	}
}
