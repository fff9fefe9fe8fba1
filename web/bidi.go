package web

import "strings"

// bidiControls are the Unicode embedding, override and isolate controls:
// in a title they can make text read in an order other than the one stored
// ("Trojan Source"), so a reviewer would approve something other than what
// they see.
var bidiControls = strings.NewReplacer(
	"\u202a", "", "\u202b", "", "\u202c", "", "\u202d", "", "\u202e", "",
	"\u2066", "", "\u2067", "", "\u2068", "", "\u2069", "",
)

// NoBidi is user text as displayed: with every embedding, override and
// isolate control removed, so it reads in the order it is stored.
func NoBidi(s string) string {
	if !strings.ContainsAny(s, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
		return s
	}
	return bidiControls.Replace(s)
}
