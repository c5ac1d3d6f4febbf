package logblock

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// bigEntries returns n entries of one stream with random messages of size bytes each, which zstd
// can squeeze only to about 60%, so that their block spans many zstd blocks.
func bigEntries(n, size int) []Entry {
	rng := rand.New(rand.NewPCG(3, 4))
	es := make([]Entry, n)
	for i := range es {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		es[i] = Entry{Timestamp: int64(1000 + i/3), Seq: int64(i + 1), IngestionTime: 5, StreamID: 1, Message: string(b)}
	}
	return es
}

// reversed returns es in reverse order.
func reversed(es []Entry) []Entry {
	out := slices.Clone(es)
	slices.Reverse(out)
	return out
}

// scanAll runs Scan over one block and returns the messages it handed out, stopping after limit.
func scanAll(c *Codec, data []byte, m Meta, q logs.EventQuery, limit int) ([]string, error) {
	m.ID = 1
	var got []string
	err := c.Scan(&memSource{metas: []Meta{m}, data: map[int64][]byte{1: data}}, q, func(e logs.Event) bool {
		got = append(got, e.Message)
		return len(got) < limit
	})
	return got, err
}

// TestScanStopsDecompressing checks that a scan decompresses a block only as far as the events it
// hands out: a block whose frame is cut after its first quarter still gives its first events (a
// whole decode of it fails), ascending or, before a cursor, descending, while a scan that reads on,
// and a descending scan from the block's newest events, report it corrupt.
func TestScanStopsDecompressing(t *testing.T) {
	c := newCodec(t)
	es := bigEntries(1000, 2000)
	data := c.Encode(es, Small)
	m := MetaOf(es)
	cut := data[:len(data)/4]
	if _, err := c.Decode(cut, 0, 1); err == nil {
		t.Fatal("the cut block decodes whole")
	}
	tests := []struct {
		name  string
		q     logs.EventQuery
		limit int
		want  []Entry // nil: an error
	}{
		{"first events", logs.EventQuery{}, 10, es[:10]},
		{"first events of a later range", logs.EventQuery{StartTime: es[30].Timestamp}, 40, es[30:70]},
		{"after a cursor", logs.EventQuery{After: &logs.EventCursor{Timestamp: es[99].Timestamp, Seq: es[99].Seq}}, 5, es[100:105]},
		{"every event", logs.EventQuery{}, len(es), nil},
		{"a range past the cut", logs.EventQuery{StartTime: es[900].Timestamp}, 10, nil},
		{"descending", logs.EventQuery{Descending: true}, 1, nil},
		{"descending before a cursor", logs.EventQuery{Descending: true, Before: &logs.EventCursor{Timestamp: es[50].Timestamp, Seq: es[50].Seq}},
			10, reversed(es[40:50])},
		{"descending before an end", logs.EventQuery{Descending: true, EndTime: es[60].Timestamp}, 3, reversed(es[57:60])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanAll(c, cut, m, tt.q, tt.limit)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("got %d events and no error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, e := range tt.want {
				want = append(want, e.Message)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			// The whole block gives the same events.
			whole, err := scanAll(c, data, m, tt.q, tt.limit)
			if err != nil || !slices.Equal(whole, want) {
				t.Fatalf("whole block: %d events, %v", len(whole), err)
			}
		})
	}
}

// TestScanBlockWithoutSize checks that a block whose zstd frame does not record its decoded size,
// which partial decoding relies on and Encode always writes, is still read, whole.
func TestScanBlockWithoutSize(t *testing.T) {
	c := newCodec(t)
	es := bigEntries(300, 1000) // past a zstd block: the writer sends its header before it knows the size
	raw, err := c.dec.DecodeAll(c.Encode(es, Small)[2:], nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.Write([]byte{formatV1, 0})
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var h zstd.Header
	if err := h.Decode(buf.Bytes()[2:]); err != nil || h.HasFCS {
		t.Fatalf("header %+v, %v: want a frame without its size", h, err)
	}
	for _, desc := range []bool{false, true} {
		got, err := scanAll(c, buf.Bytes(), MetaOf(es), logs.EventQuery{Descending: desc}, len(es))
		if err != nil {
			t.Fatal(err)
		}
		if desc {
			slices.Reverse(got)
		}
		for i := range es {
			if got[i] != es[i].Message {
				t.Fatalf("descending %v: event %d differs", desc, i)
			}
		}
	}
}

// TestParseColumnsPrefixes checks that parseColumns tells a prefix of a block that ends within its
// columns (read on) from a corrupt block, whatever the prefix's length.
func TestParseColumnsPrefixes(t *testing.T) {
	c := newCodec(t)
	es := []Entry{{1, 1, 1, 1, "ab"}, {1 << 40, 300, 1 << 41, 1 << 30, "cde"}, {1<<40 + 1, 2 << 20, 0, 1, ""}}
	raw, err := c.dec.DecodeAll(c.Encode(es, Small)[2:], nil)
	if err != nil {
		t.Fatal(err)
	}
	size := uint64(len(raw))
	colEnd := len(raw) - len("abcde")
	for n := range len(raw) + 1 {
		entries, lens, rest, err := parseColumns(raw[:n], size)
		switch {
		case n < colEnd && !errors.Is(err, errShort):
			t.Fatalf("prefix %d of %d: %v, want errShort", n, colEnd, err)
		case n >= colEnd && (err != nil || len(entries) != 3 || !slices.Equal(lens, []uint32{2, 3, 0}) || string(rest) != "abcde"[:n-colEnd]):
			t.Fatalf("prefix %d of %d: %v, %v, %q, %v", n, colEnd, entries, lens, rest, err)
		}
	}
	for name, tt := range map[string]struct {
		raw  []byte
		size uint64
	}{
		"longer than its size":        {raw, size - 1},
		"messages past its size":      {raw[:colEnd], uint64(colEnd) + 4},
		"messages short of its size":  {raw[:colEnd], uint64(colEnd) + 6},
		"size past the decoder limit": {raw[:4], maxDecoded + 1},
		"no events":                   {[]byte{0}, 10},
	} {
		if _, _, _, err := parseColumns(tt.raw, tt.size); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want errCorrupt", name, err)
		}
	}
}

// FuzzPartial feeds arbitrary blocks to the partial decoder: it must refuse them or decode them
// without panicking, and whatever a whole decode accepts it must decode to the same entries.
func FuzzPartial(f *testing.F) {
	c := newCodec(f)
	f.Add(c.Encode([]Entry{{1, 1, 1, 0, "a"}, {1, 2, 1, 5, "bc"}}, Fast))
	f.Add(c.Encode(bigEntries(20, 5000), Small))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := c.Decode(data, 7, 1)
		got, part, err := c.open(data, 7, 1)
		if err == nil && part != nil {
			pos := make([]int32, len(got))
			for i := range pos {
				pos[i] = int32(i)
			}
			err = part.fill(got, pos)
			part.release()
		}
		if werr == nil && (err != nil || !slices.Equal(got, want)) {
			t.Fatalf("partial decode %v, %v; whole %v", got, err, want)
		}
		if err == nil && !slices.IsSortedFunc(got, less) {
			t.Fatalf("unsorted entries %v", got)
		}
	})
}

// BenchmarkFirstPage measures the decoding of a first page of CloudTrail-sized events (750 of
// 1.3 KB) that starts at a block's middle and ends in the next block, as a page of the last
// minutes does over compacted blocks.
func BenchmarkFirstPage(b *testing.B) {
	c := newCodec(b)
	es := bigEntries(2048, 1300)
	var (
		metas []Meta
		data  = map[int64][]byte{}
	)
	for i, run := range [][]Entry{es[:1024], es[1024:]} {
		m := MetaOf(run)
		m.ID = int64(i + 1)
		data[m.ID] = c.Encode(run, Small)
		metas = append(metas, m)
	}
	q := logs.EventQuery{StartTime: es[512].Timestamp}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := c.Scan(&memSource{metas: metas, data: data}, q, func(logs.Event) bool { n++; return n < 750 }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(750*1300)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
}

func TestPartialPays(t *testing.T) {
	m := Meta{MinTS: 100, MaxTS: 200}
	tests := []struct {
		name   string
		q      logs.EventQuery
		handed int
		want   bool
	}{
		{"ascending, first page", logs.EventQuery{StartTime: 150}, 0, true},
		{"ascending, within a response", logs.EventQuery{}, lazyBytes - 1, true},
		{"ascending, past a response", logs.EventQuery{}, lazyBytes, false},
		{"descending, block to its end", logs.EventQuery{Descending: true, EndTime: 201}, 0, false},
		{"descending, no end", logs.EventQuery{Descending: true}, 0, false},
		{"descending, end within", logs.EventQuery{Descending: true, EndTime: 200}, 0, true},
		{"descending, cursor within", logs.EventQuery{Descending: true, Before: &logs.EventCursor{Timestamp: 200, Seq: 9}}, 5 << 20, true},
		{"descending, cursor past", logs.EventQuery{Descending: true, Before: &logs.EventCursor{Timestamp: 201}}, 0, false},
	}
	for _, tt := range tests {
		if got := partialPays(&tt.q, m, tt.handed); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestScanConcurrent runs scans that decode in part side by side on one Codec, which its pool of
// stream decoders must allow (run with -race).
func TestScanConcurrent(t *testing.T) {
	c := newCodec(t)
	es := bigEntries(300, 1500)
	data := c.Encode(es, Small)
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := range 20 {
				limit := 1 + (w*20+i)%len(es)
				got, err := scanAll(c, data, MetaOf(es), logs.EventQuery{}, limit)
				if err == nil && (len(got) != limit || got[limit-1] != es[limit-1].Message) {
					err = fmt.Errorf("scan of %d events got %d, or a wrong last one", limit, len(got))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestScanPrefetchToBlockEnd checks a scan whose first load, started by a prefetch, reads the
// cursor's last event: the load returns the decoder itself, and must not wait for the prefetch it
// is (it once did, and the scan hung). The one wanted event is over chunkBytes, so the cursor is
// loaded as the merge reaches it.
func TestScanPrefetchToBlockEnd(t *testing.T) {
	c := newCodec(t)
	es := bigEntries(19, 1000)
	es[18].Message = strings.Repeat("x", 100<<10)
	got, err := scanAll(c, c.Encode(es, Small), MetaOf(es), logs.EventQuery{StartTime: es[18].Timestamp}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("%d events, %v; want 1", len(got), err)
	}
}
