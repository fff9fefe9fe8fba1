package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
)

// TestInTxReportsConcurrentChangeAsConflict: when PostgreSQL ends a
// transaction because another touched the same rows, the user is told of a
// conflict (409, try again), not an internal failure.
func TestInTxReportsConcurrentChangeAsConflict(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := core.NewStore(db, nil)
		cases := []struct {
			name string
			err  error
			want core.ErrorCode
		}{
			{"deadlock", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, core.CodeConflict},
			{"serialization", fmt.Errorf("update: %w", &pgconn.PgError{Code: "40001"}), core.CodeConflict},
			{"unique violation stays internal", &pgconn.PgError{Code: "23505"}, ""},
			{"plain error stays internal", errors.New("disk full"), ""},
		}
		for _, c := range cases {
			err := st.InTx(context.Background(), func(*gorm.DB) error { return c.err })
			if err == nil || core.ErrorCodeOf(err) != c.want {
				t.Errorf("%s: got %v (code %q), want code %q", c.name, err, core.ErrorCodeOf(err), c.want)
			}
		}
	})
}
