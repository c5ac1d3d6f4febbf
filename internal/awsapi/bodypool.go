package awsapi

import (
	"math/bits"
	"sync"
)

// bodyPool keeps the buffers of request bodies for reuse: the chunks readCharged reads into and
// the contiguous bodies it assembles from them. A PutLogEvents batch is about 1 MiB, read in
// sixteen 64 KiB chunks and copied into one body; allocated afresh, those 2 MiB a request cost the
// runtime zeroing them, the kernel faulting their pages in and the collector running twice as
// often, about 8% of the server's CPU under TestIngestLoad. Pooled, they cost the copy only.
//
// Buffers are kept by capacity in power-of-two classes, from minChunk to maxPooledBody, so a
// buffer taken for n bytes holds less than 2n (and exactly n for the chunks, whose sizes are
// powers of two but for the one cut short by the limit, which is allocated as before): the
// unverified-body budget therefore still counts what the chunks hold. A body is given back only
// once nothing refers to it (see handler.serveHTTP): every decoder copies what it keeps out of
// it (strings are converted, blobs decoded into new slices, fxamacker/cbor copies byte strings).
// The zero bodyPool is ready; a nil *bodyPool allocates and keeps nothing.
type bodyPool struct {
	classes [bodyClasses]sync.Pool // *[]byte of capacity minChunk<<i
}

const (
	// maxPooledBody is the largest buffer kept: larger than any body under the default limit
	// (defaultMaxBody), smaller than anything a process would want to hold on to idle.
	maxPooledBody = 16 << 20
	minClassShift = 9 // minChunk
	bodyClasses   = 24 - minClassShift + 1
)

// bodyClass returns the index of the smallest class holding n bytes, and false when n is larger
// than maxPooledBody.
func bodyClass(n int) (int, bool) {
	if n <= minChunk {
		return 0, true
	}
	if n > maxPooledBody {
		return 0, false
	}
	return bits.Len(uint(n-1)) - minClassShift, true
}

// get returns a buffer of length n. Its bytes are not zeroed: the caller overwrites them.
func (p *bodyPool) get(n int) []byte {
	if p == nil {
		return make([]byte, n)
	}
	c, ok := bodyClass(n)
	if !ok {
		return make([]byte, n)
	}
	if b, _ := p.classes[c].Get().(*[]byte); b != nil {
		return (*b)[:n]
	}
	return make([]byte, n, minChunk<<c)
}

// getExact is get for a buffer whose capacity must be n: a chunk, whose capacity the budget counts.
// A size that is not a class is allocated.
func (p *bodyPool) getExact(n int) []byte {
	if c, ok := bodyClass(n); !ok || minChunk<<c != n {
		return make([]byte, n)
	}
	return p.get(n)
}

// put gives b back for reuse; b must not be used afterwards. A buffer whose capacity is not a
// class (a body grown elsewhere, a chunk cut short) is left to the collector.
func (p *bodyPool) put(b []byte) {
	if p == nil || cap(b) == 0 {
		return
	}
	c, ok := bodyClass(cap(b))
	if !ok || minChunk<<c != cap(b) {
		return
	}
	b = b[:0]
	p.classes[c].Put(&b)
}
