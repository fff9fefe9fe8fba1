package handlers

import "testing"

func TestSafeReturn(t *testing.T) {
	for p, want := range map[string]bool{
		"/requests?state=draft": true,
		"/requests/4":           true,
		"//evil.example":        false,
		"/\\evil.example":       false,
		"/\t/evil.example":      false,
		"/\n/evil.example":      false,
		"https://evil.example":  false,
		"evil.example":          false,
		"":                      false,
	} {
		if got := safeReturn(p); got != want {
			t.Errorf("safeReturn(%q) = %v, want %v", p, got, want)
		}
	}
}
