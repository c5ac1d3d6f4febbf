package awsapi

import "testing"

func TestBodyClass(t *testing.T) {
	tests := []struct {
		n     int
		class int
		ok    bool
	}{
		{0, 0, true},
		{1, 0, true},
		{minChunk, 0, true},
		{minChunk + 1, 1, true},
		{1024, 1, true},
		{64 << 10, 7, true},
		{64<<10 + 1, 8, true},
		{1 << 20, 11, true},
		{maxPooledBody, bodyClasses - 1, true},
		{maxPooledBody + 1, 0, false},
	}
	for _, tt := range tests {
		c, ok := bodyClass(tt.n)
		if c != tt.class || ok != tt.ok {
			t.Errorf("bodyClass(%d) = %d, %v; want %d, %v", tt.n, c, ok, tt.class, tt.ok)
		}
		if ok && (minChunk<<c < tt.n || (c > 0 && minChunk<<(c-1) >= tt.n)) {
			t.Errorf("bodyClass(%d) = %d: class capacity %d is not the smallest that holds it", tt.n, c, minChunk<<c)
		}
	}
}

// TestBodyPoolCapacities checks what the unverified-body budget relies on: a chunk taken for n
// bytes holds exactly n (getExact), a body less than 2n, and buffers that are not a class's are
// neither returned nor kept.
func TestBodyPoolCapacities(t *testing.T) {
	var p bodyPool
	for _, n := range []int{1, 300, 512, 513, 4096, 5000, 64 << 10, 1 << 20, 1<<20 + 7, maxPooledBody, maxPooledBody + 1} {
		for round := 0; round < 2; round++ { // the second round may reuse what the first put back
			b := p.get(n)
			if len(b) != n || cap(b) < n || (n > minChunk && n <= maxPooledBody && cap(b) >= 2*n) {
				t.Errorf("get(%d): len %d cap %d", n, len(b), cap(b))
			}
			p.put(b)
			e := p.getExact(n)
			if len(e) != n || cap(e) != n {
				t.Errorf("getExact(%d): len %d cap %d, want cap %d", n, len(e), cap(e), n)
			}
			p.put(e)
		}
	}
	p.put(make([]byte, 0, 3000)) // not a class: dropped
	for range 100 {
		if b := p.get(2048); cap(b) != 2048 {
			t.Fatalf("get(2048) returned a buffer of capacity %d", cap(b))
		}
	}
	var nilPool *bodyPool
	if b := nilPool.get(100); len(b) != 100 {
		t.Errorf("nil pool get(100): len %d", len(b))
	}
	nilPool.put(make([]byte, 512)) // must not panic
}
