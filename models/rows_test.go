package models

import "testing"

func TestUintColumn(t *testing.T) {
	var u uint = 7
	for _, tc := range []struct {
		in   any
		want uint
		ok   bool
	}{{int64(12345), 12345, true}, {nil, 0, true}, {int64(-1), 0, false}, {"12", 0, false}} {
		err := Uint(&u).Scan(tc.in)
		if (err == nil) != tc.ok || tc.ok && u != tc.want {
			t.Errorf("Scan(%#v): %d, %v", tc.in, u, err)
		}
	}
}
