package modelstest

import (
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm/schema"
)

// CheckColumns fails t unless columns are exactly the columns of model: a
// hand-written row reader (models.ReadRows) that misses a column added to
// its model would leave that field empty on every page that uses it.
func CheckColumns(t testing.TB, model any, columns []string) {
	t.Helper()
	s, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range s.Fields {
		if f.DBName != "" {
			want = append(want, f.DBName)
		}
	}
	if got := slices.Sorted(slices.Values(columns)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("%s: the reader reads %v, the model has %v", s.Name, got, want)
	}
}
