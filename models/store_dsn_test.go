package models

import (
	"net/url"
	"strings"
	"testing"
)

// Both kinds of SQLite connection keep their prepared statements, and a
// DSN's own setting wins over the default.
func TestSQLiteConnectionsCacheStatements(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"writer", sqliteDSN("file:/tmp/p.db"), "64"},
		{"reader", sqliteReaderDSN("file:/tmp/p.db"), "64"},
		{"writer, set by the operator", sqliteDSN("file:/tmp/p.db?_stmt_cache_size=8"), "8"},
		{"reader, turned off by the operator", sqliteReaderDSN("file:/tmp/p.db?_stmt_cache_size=0"), "0"},
	} {
		_, query, _ := strings.Cut(tc.dsn, "?")
		values, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := values.Get("_stmt_cache_size"); got != tc.want {
			t.Errorf("%s: _stmt_cache_size %q in %s, want %q", tc.name, got, tc.dsn, tc.want)
		}
	}
}
