package core_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestRunExclusiveRunsOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		runs := 0
		for i, holder := range []string{"a", "b", "a"} {
			ran, err := w.App.RunExclusive(w.Ctx, "expire", holder, time.Hour, func(ctx context.Context) error { runs++; return nil })
			workflowtest.Must(t, err)
			if ran != (i == 0) {
				t.Fatalf("call %d by %s ran=%v", i, holder, ran)
			}
		}
		if runs != 1 {
			t.Fatalf("%d runs", runs)
		}
	})
}
