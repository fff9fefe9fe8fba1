package scanner

import "math/bits"

// permutation is a keyed bijection of [0, n) computed on demand: a balanced Feistel
// network over the smallest even power of two that holds n, with cycle walking (a
// value that lands outside [0, n) is encrypted again until it lands inside). It
// costs a few words whatever n is, so walking 65,536 hosts x 65,535 ports in a
// random order needs no list of either.
type permutation struct {
	n    uint64
	half uint      // bits in each half of the Feistel domain
	mask uint64    // (1 << half) - 1
	keys [4]uint64 // one per round
}

func newPermutation(n uint64, key uint64) permutation {
	p := permutation{n: n}
	b := uint(bits.Len64(max(n-1, 1)))
	p.half = (b + 1) / 2
	p.mask = 1<<p.half - 1
	for i := range p.keys {
		key = splitmix(key)
		p.keys[i] = key
	}
	return p
}

// at returns the i-th element of the permutation, i < n.
func (p *permutation) at(i uint64) uint64 {
	if p.n <= 1 {
		return 0
	}
	x := i
	for {
		x = p.encrypt(x)
		if x < p.n {
			return x
		}
	}
}

func (p *permutation) encrypt(x uint64) uint64 {
	l, r := x>>p.half, x&p.mask
	for _, k := range p.keys {
		l, r = r, l^(splitmix(r^k)&p.mask)
	}
	return l<<p.half | r
}

// splitmix is the SplitMix64 finaliser: a cheap, well-mixed round function.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
