package models

import (
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// ReadRows runs q and reads each row with scan: for the list pages' hot
// queries, where gorm's Find spends a reflected allocation and a field
// lookup on every column of every row. q selects the columns scan reads,
// in its order; capacity is how many rows to expect.
func ReadRows[T any](q *gorm.DB, capacity int, scan func(*sql.Rows, *T) error) ([]T, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]T, 0, capacity)
	for rows.Next() {
		out = append(out, *new(T))
		if err := scan(rows, &out[len(out)-1]); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// UintColumn scans an integer column into a uint: database/sql converts an
// int64 into a uint by formatting and parsing it again (an allocation per
// value past 99, and reflection), which the row readers did on every id.
type UintColumn struct{ p *uint }

// Uint is a scan destination for *p.
func Uint(p *uint) UintColumn { return UintColumn{p} }

// Scan stores an integer value; NULL stores 0.
func (c UintColumn) Scan(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return fmt.Errorf("scan %d into a uint", x)
		}
		*c.p = uint(x)
	case nil:
		*c.p = 0
	default:
		return fmt.Errorf("scan %T into a uint", v)
	}
	return nil
}
