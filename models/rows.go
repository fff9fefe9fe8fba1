package models

import (
	"database/sql"

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
