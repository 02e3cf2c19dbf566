package broker

import (
	"math/bits"
	"sync"
)

// Buffers for request frames, fetched data and encoded responses are
// recycled by size class (powers of two from 4 KiB to 64 MiB), so the hot
// paths do not allocate a fresh buffer per request. Larger buffers are
// left to the garbage collector.
const (
	minPoolShift = 12
	maxPoolShift = 26
)

var bufPools [maxPoolShift - minPoolShift + 1]sync.Pool

func poolClass(n int) int {
	if n <= 1<<minPoolShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minPoolShift
}

// getBuf returns a buffer of length n.
func getBuf(n int) []byte {
	c := poolClass(n)
	if c >= len(bufPools) {
		return make([]byte, n)
	}
	if p, ok := bufPools[c].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<(c+minPoolShift))
}

// putBuf recycles a buffer obtained from getBuf (or any buffer whose
// capacity is a size class).
func putBuf(b []byte) {
	c := cap(b)
	if c < 1<<minPoolShift || c&(c-1) != 0 {
		return
	}
	i := bits.Len(uint(c)) - 1 - minPoolShift
	if i >= len(bufPools) {
		return
	}
	b = b[:0]
	bufPools[i].Put(&b)
}
