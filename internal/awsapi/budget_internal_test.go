package awsapi

import "testing"

// TestByteBudgetDeadlockVictim: the read the budget makes give up when its waiting reads can
// only be freed by one of them. reads are opened in order (later is newer), each holding held,
// then those with need > 0 start to wait for need bytes, in order.
func TestByteBudgetDeadlockVictim(t *testing.T) {
	type read struct {
		client     string
		held, need int64
	}
	for _, tc := range []struct {
		name           string
		max, perClient int64
		reads          []read
		aborted        []int // indexes of the reads made to give up
	}{
		{"share held by waiting reads: the newest of those holding least", 8192, 4096,
			[]read{{"a", 2048, 1024}, {"a", 1024, 2048}, {"a", 1024, 1024}}, []int{2}},
		{"a read holding nothing is never chosen", 8192, 4096,
			[]read{{"a", 0, 512}, {"a", 2048, 1024}, {"a", 2048, 1024}}, []int{2}},
		{"a read still reading may free the share: none", 8192, 4096,
			[]read{{"a", 2048, 0}, {"a", 1024, 2048}, {"a", 1024, 2048}}, nil},
		{"a client's only read, waiting past its share, gives up alone", 8192, 4096,
			[]read{{"a", 2048, 1024}, {"b", 4096, 512}}, []int{1}},
		{"budget held by waiting reads of two clients", 4096, 4096,
			[]read{{"a", 2048, 2048}, {"b", 2048, 2048}}, []int{1}},
		{"budget: several give up until one can go on", 4096, 4096,
			[]read{{"a", 2048, 2048}, {"b", 1024, 2048}, {"c", 1024, 2048}}, []int{1, 2}},
		{"budget: none while one waiting read could go on", 4096, 4096,
			[]read{{"a", 2048, 2048}, {"b", 1024, 1024}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newByteBudget(tc.max, tc.perClient)
			var charges []*charge
			for _, r := range tc.reads {
				c := b.open(r.client)
				b.add(c, r.held)
				charges = append(charges, c)
			}
			for i, r := range tc.reads {
				if r.need > 0 {
					b.startWait(charges[i], r.need)
				}
			}
			var aborted []int
			for i, c := range charges {
				select {
				case <-c.abort:
					aborted = append(aborted, i)
				default:
				}
			}
			if len(aborted) != len(tc.aborted) || (len(aborted) > 0 && !equalInts(aborted, tc.aborted)) {
				t.Errorf("reads made to give up = %v, want %v", aborted, tc.aborted)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
