package scanner

import (
	"math/rand/v2"
	"testing"
	testquick "testing/quick"
)

func checkPermutation(t *testing.T, n, key uint64) {
	t.Helper()
	seen := make([]bool, n)
	p := newPermutation(n, key)
	for i := range n {
		v := p.at(i)
		if v >= n {
			t.Fatalf("n=%d key=%d: at(%d)=%d out of range", n, key, i, v)
		}
		if seen[v] {
			t.Fatalf("n=%d key=%d: %d produced twice", n, key, v)
		}
		seen[v] = true
	}
}

func TestPermutationCoversEveryIndexOnce(t *testing.T) {
	t.Parallel()
	for _, n := range []uint64{1, 2, 3, 4, 5, 7, 15, 16, 17, 255, 256, 257, 1000, 1021, 65535, 65536, 3 * 65535, 100003} {
		for _, key := range []uint64{0, 1, 42, 1 << 63} {
			checkPermutation(t, n, key)
		}
	}
}

func TestPermutationProperty(t *testing.T) {
	t.Parallel()
	f := func(n uint32, key uint64) bool {
		size := uint64(n%50000) + 1
		seen := make([]bool, size)
		p := newPermutation(size, key)
		for i := range size {
			v := p.at(i)
			if v >= size || seen[v] {
				return false
			}
			seen[v] = true
		}
		return true
	}
	if err := testquick.Check(f, &testquick.Config{MaxCount: 60}); err != nil {
		t.Error(err)
	}
}

func TestPermutationDependsOnKeyAndShuffles(t *testing.T) {
	t.Parallel()
	a, b := newPermutation(1000, 1), newPermutation(1000, 2)
	same, inPlace := 0, 0
	for i := range uint64(1000) {
		if a.at(i) == b.at(i) {
			same++
		}
		if a.at(i) == i {
			inPlace++
		}
	}
	if same > 50 || inPlace > 50 {
		t.Errorf("not random-looking: %d equal across keys, %d fixed points", same, inPlace)
	}
}

// The largest walk (65,536 hosts x 65,535 ports) needs no memory beyond the struct.
func TestPermutationHugeDomain(t *testing.T) {
	t.Parallel()
	n := uint64(65536) * 65535
	p := newPermutation(n, rand.Uint64())
	for i := range uint64(10000) {
		if v := p.at(i * 400000); v >= n {
			t.Fatalf("out of range %d", v)
		}
	}
}
