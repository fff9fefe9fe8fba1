package handlers

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckJSONText: whatever passes the check decodes to strings a
// database can store.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"title":"a\u0000"}`, "{\"t\":\"\xff\"}", `{"a":[{"b":"c"}]}`, `"x"`, `{"\u0000":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if checkJSONText(raw) != nil {
			return
		}
		var doc any
		if !utf8.Valid(raw) || json.Unmarshal(raw, &doc) != nil {
			return
		}
		var walk func(v any)
		walk = func(v any) {
			switch t := v.(type) {
			case string:
				if strings.IndexByte(t, 0) >= 0 {
					t2 := t
					panic("NUL passed: " + t2)
				}
			case []any:
				for _, x := range t {
					walk(x)
				}
			case map[string]any:
				for k, x := range t {
					walk(k)
					walk(x)
				}
			}
		}
		walk(doc)
	})
}
