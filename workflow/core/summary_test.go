package core_test

import (
	"context"
	"strconv"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
)

func TestSummaryIsCountedAgainOnlyAfterACommit(t *testing.T) {
	st := core.NewStore(modelstest.SQLite(t), modelstest.Logger())
	var m core.Summary[int]
	builds := 0
	get := func() int {
		v, err := m.Get(st, func() (int, error) { builds++; return builds, nil })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get() != 1 || get() != 1 {
		t.Fatalf("an unchanged summary was counted again (%d builds)", builds)
	}
	if err := st.InTx(context.Background(), func(*gorm.DB) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != 2 {
		t.Fatalf("after a commit the summary is %d, want it counted again", got)
	}
	// A rolled-back transaction changed nothing.
	_ = st.InTx(context.Background(), func(*gorm.DB) error { return context.Canceled })
	if got := get(); got != 2 {
		t.Fatalf("after a rollback the summary is %d, want the kept 2", got)
	}
}

func TestSummariesKeepOneCountPerKey(t *testing.T) {
	st := core.NewStore(modelstest.SQLite(t), modelstest.Logger())
	var m core.Summaries[string, string]
	builds := map[string]int{}
	get := func(key string) string {
		v, err := m.Get(st, key, func() (string, error) { builds[key]++; return key + strconv.Itoa(builds[key]), nil })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if a, b, a2 := get("alice"), get("bob"), get("alice"); a != "alice1" || b != "bob1" || a2 != "alice1" {
		t.Fatalf("got %q %q %q, want each key counted once and kept", a, b, a2)
	}
	if err := st.InTx(context.Background(), func(*gorm.DB) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if a, b := get("alice"), get("bob"); a != "alice2" || b != "bob2" {
		t.Fatalf("after a commit got %q %q, want both counted again", a, b)
	}
}
