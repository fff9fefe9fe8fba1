package requests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInForceClauseIsThePartialIndexes: the register's condition is written
// as the partial index's, on both databases; were a state added to
// InForceStates and not to the index, the planner would stop using it.
func TestInForceClauseIsThePartialIndexes(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		path := filepath.Join("..", "..", "models", "migrations", db, "00020_in_force_register_index.sql")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := "CREATE INDEX idx_requests_in_force_expiry ON requests (expires_at, id) WHERE " + inForceClause + ";"
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not create the index with the register's condition; want the line\n%s", path, want)
		}
	}
}
