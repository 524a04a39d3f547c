package shm

import (
	"sync/atomic"
	"unsafe"
)

// Atomic views of the mapped memory. The offsets used are naturally aligned
// (the mapping is page-aligned; see the layout) and in range: callers index
// the slice first so that an out-of-range offset panics in the bounds check
// rather than touching memory outside the mapping.

func u32at(mem []byte, off int) *atomic.Uint32 {
	_ = mem[off+3]
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

func u64at(mem []byte, off int) *atomic.Uint64 {
	_ = mem[off+7]
	return (*atomic.Uint64)(unsafe.Pointer(&mem[off]))
}
