package web

import "testing"

func TestNoBidi(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"a\u202eb\u202cc":          "abc",
		"\u2066\u2067\u2068\u2069": "",
		"עברית and English":        "עברית and English", // right-to-left text itself stays
		"\u202a\u202b\u202dx":      "x",
	} {
		if got := NoBidi(in); got != want {
			t.Errorf("NoBidi(%q) = %q, want %q", in, got, want)
		}
	}
}
