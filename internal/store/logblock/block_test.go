package logblock

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/logs"
)

func newCodec(t testing.TB) *Codec {
	t.Helper()
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBucket(t *testing.T) {
	tests := []struct{ ts, want int64 }{
		{0, 0}, {BucketMillis - 1, 0}, {BucketMillis, 1}, {-1, -1}, {-BucketMillis, -1}, {-BucketMillis - 1, -2},
	}
	for _, tt := range tests {
		if got := Bucket(tt.ts); got != tt.want {
			t.Errorf("Bucket(%d) = %d, want %d", tt.ts, got, tt.want)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	c := newCodec(t)
	tests := []struct {
		name    string
		entries []Entry
		base    int64
	}{
		{"one", []Entry{{Timestamp: 5, Seq: 0, IngestionTime: 9, StreamID: 3, Message: "x"}}, 100},
		{"same timestamp", []Entry{{1, 3, 2, 1, "a"}, {1, 7, 2, 9, "bb"}, {4, 1, 3, 1, `{"json":"é"}`}}, 0},
		{"negative deltas", []Entry{{1 << 40, 1 << 50, 1 << 41, 1 << 40, "a"}, {1<<40 + 1, 2, 0, 1, "b"}}, 0},
	}
	for _, tt := range tests {
		for _, level := range []Level{Fast, Small} {
			t.Run(fmt.Sprint(tt.name, level), func(t *testing.T) {
				got, err := c.Decode(c.Encode(tt.entries, level), tt.base, 77)
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(tt.entries)
				for i := range want {
					want[i].Seq += tt.base
				}
				if !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
			})
		}
	}
}

// TestEncodeFormats checks which compression Encode picks: s2 for an ingest block that compaction
// will recompress, zstd for one it keeps as written and for compaction's own blocks.
func TestEncodeFormats(t *testing.T) {
	c := newCodec(t)
	small := bigEntries(10, 100)
	full := bigEntries(TargetEvents, 100)
	fullBytes := bigEntries(FullRawBytes/(200<<10)+1, 200<<10)
	tests := []struct {
		name    string
		entries []Entry
		level   Level
		want    byte
	}{
		{"small ingest block", small, Fast, formatS2},
		{"full ingest block by count", full, Fast, formatV1},
		{"full ingest block by bytes", fullBytes, Fast, formatV1},
		{"compacted small block", small, Small, formatV1},
		{"compacted full block", full, Small, formatV1},
	}
	for _, tt := range tests {
		data := c.Encode(tt.entries, tt.level)
		if data[0] != tt.want {
			t.Errorf("%s: format %d, want %d", tt.name, data[0], tt.want)
		}
		got, err := c.Decode(data, 0, 1)
		if err != nil || !slices.Equal(got, tt.entries) {
			t.Errorf("%s: decoded %d entries, %v", tt.name, len(got), err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	c := newCodec(t)
	for _, level := range []Level{Fast, Small} {
		good := c.Encode([]Entry{{1, 1, 1, 0, "a"}, {2, 2, 1, 0, "b"}}, level)
		unsorted := c.Encode([]Entry{{2, 1, 1, 0, "a"}, {1, 2, 1, 0, "b"}}, level)
		for name, data := range map[string][]byte{
			"empty": nil, "version": append([]byte{3}, good[1:]...), "dictionary": append([]byte{good[0], 7}, good[2:]...),
			"truncated": good[:len(good)-3], "unsorted": unsorted,
			// An s2 block whose length claims more than any block holds is refused before it
			// is allocated.
			"huge": {formatS2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0},
		} {
			if _, err := c.Decode(data, 0, 1); err == nil {
				t.Errorf("level %d, %s: decoded", level, name)
			}
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder, which must refuse or decode them without
// panicking, and whatever it decodes must encode and decode to the same entries.
func FuzzDecode(f *testing.F) {
	c := newCodec(f)
	f.Add(c.Encode([]Entry{{1, 1, 1, 0, "a"}, {1, 2, 1, 5, "bc"}}, Fast))
	f.Add(c.Encode([]Entry{{1, 1, 1, 0, "a"}, {1, 2, 1, 5, "bc"}}, Small))
	f.Add([]byte{1, 0})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := c.Decode(data, 0, 1)
		if err != nil {
			return
		}
		again, err := c.Decode(c.Encode(got, Small), 0, 2)
		if err != nil || !slices.Equal(got, again) {
			t.Fatalf("re-encoded %v: %v, %v", got, again, err)
		}
	})
}

// FuzzParse feeds arbitrary decompressed columns to parse, past zstd's checksums.
func FuzzParse(f *testing.F) {
	f.Add([]byte{2, 2, 2, 2, 4, 2, 2, 0, 0, 1, 1, 'a', 'b'})
	f.Fuzz(func(t *testing.T, raw []byte) {
		entries, err := parse(raw)
		if err == nil && !slices.IsSortedFunc(entries, less) {
			t.Fatal("unsorted entries accepted")
		}
	})
}

func TestSplitAndMerge(t *testing.T) {
	h := int64(BucketMillis)
	es := []Entry{{1, 0, 0, 0, "a"}, {h - 1, 1, 0, 0, "b"}, {h, 2, 0, 0, "c"}, {3 * h, 3, 0, 0, "d"}}
	runs := Split(es)
	if len(runs) != 3 || len(runs[0]) != 2 || len(runs[1]) != 1 || len(runs[2]) != 1 {
		t.Fatalf("runs %v", runs)
	}
	var blocks [][]Entry
	var all []Entry
	for i := range 3000 {
		e := Entry{Timestamp: int64(i % 7), Seq: int64(3000 - i), Message: "m"}
		all = append(all, e)
		if i%100 == 0 {
			blocks = append(blocks, nil)
		}
		blocks[len(blocks)-1] = append(blocks[len(blocks)-1], e)
	}
	merged := Merge(blocks)
	if len(merged) != 3 || len(merged[0]) != TargetEvents || len(merged[2]) != 3000-2*TargetEvents {
		t.Fatalf("merged into %d blocks", len(merged))
	}
	slices.SortFunc(all, less)
	if got := slices.Concat(merged...); !slices.Equal(got, all) {
		t.Fatal("merge lost or reordered entries")
	}
}

// memSource is a Source over blocks in memory, in the order Scan asks for; streams are named
// "s<id>", and skip leaves one out.
type memSource struct {
	metas []Meta
	data  map[int64][]byte
	loads int
	skip  int64
}

func (s *memSource) Stream(id int64) (string, bool, error) {
	return fmt.Sprint("s", id), id != s.skip, nil
}

func (s *memSource) Next() (Meta, bool, error) {
	if len(s.metas) == 0 {
		return Meta{}, false, nil
	}
	m := s.metas[0]
	s.metas = s.metas[1:]
	return m, true, nil
}

func (s *memSource) Load(m Meta) ([]byte, error) {
	s.loads++
	return s.data[m.ID], nil
}

type stored struct {
	Entry
}

// TestScanMatchesSort checks Scan against sorting every event: random streams, batches out of
// time order, many events per timestamp, blocks compacted across streams or not, queries with time
// ranges, cursors, a stream left out and both directions. Half the rounds have messages of up to
// 6 KB, so that blocks hold more than chunkBytes of them and ascending scans decode them in
// several steps (partial.go).
func TestScanMatchesSort(t *testing.T) {
	c := newCodec(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 400 {
		big := round%4 >= 2
		var (
			blocks [][]Entry
			all    []stored
			metas  []Meta
			data   = map[int64][]byte{}
			seq    int64
			nextID int64
		)
		for range 1 + rng.IntN(12) { // batches
			stream := 1 + rng.Int64N(3)
			start := rng.Int64N(5 * BucketMillis)
			var batch []Entry
			ts := start
			for range 1 + rng.IntN(40) {
				ts += rng.Int64N(3) * rng.Int64N(BucketMillis/4)
				seq++
				msg := fmt.Sprint("m", seq)
				if big {
					msg += strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(6000))
				}
				batch = append(batch, Entry{Timestamp: ts, Seq: seq, IngestionTime: seq, StreamID: stream, Message: msg})
			}
			for _, run := range Split(batch) {
				for _, e := range run {
					all = append(all, stored{e})
				}
				blocks = append(blocks, run)
			}
		}
		// Some rounds compact: blocks of one bucket merged across streams.
		if round%2 == 1 {
			byBucket := map[int64][][]Entry{}
			for _, b := range blocks {
				byBucket[Bucket(b[0].Timestamp)] = append(byBucket[Bucket(b[0].Timestamp)], b)
			}
			blocks = nil
			for _, bs := range byBucket {
				blocks = append(blocks, Merge(bs)...)
			}
		}
		for _, run := range blocks {
			nextID++
			m := MetaOf(run)
			m.ID = nextID
			// Some blocks hold positions relative to a base and stream 0, as appends write them.
			if m.StreamID != 0 && rng.IntN(2) == 0 {
				m.SeqBase = run[0].Seq
				rel := slices.Clone(run)
				for i := range rel {
					rel[i].Seq -= m.SeqBase
					rel[i].StreamID = 0
				}
				data[m.ID] = c.Encode(rel, Fast)
			} else {
				data[m.ID] = c.Encode(run, Small)
			}
			metas = append(metas, m)
		}
		cmp := func(a, b stored) int { return less(a.Entry, b.Entry) }
		slices.SortFunc(all, cmp)
		q := logs.EventQuery{Descending: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			q.StartTime = rng.Int64N(3 * BucketMillis)
		}
		if rng.IntN(2) == 0 {
			q.EndTime = q.StartTime + 1 + rng.Int64N(3*BucketMillis)
		}
		if len(all) > 0 && rng.IntN(2) == 0 {
			e := all[rng.IntN(len(all))]
			cur := &logs.EventCursor{Timestamp: e.Timestamp, Seq: e.Seq}
			if q.Descending {
				q.Before = cur
			} else {
				q.After = cur
			}
		}
		skip := rng.Int64N(5) // sometimes a stream the query leaves out
		var want []string
		for _, e := range all {
			if wants(&q, &e.Entry) && e.StreamID != skip {
				want = append(want, fmt.Sprint("s", e.StreamID, "/", e.Message))
			}
		}
		if q.Descending {
			slices.Reverse(want)
		}
		r := RangeOf(q)
		var sel []Meta
		for _, m := range metas {
			if m.Bucket >= r.FirstBucket && m.Bucket <= r.LastBucket {
				sel = append(sel, m)
			}
		}
		slices.SortFunc(sel, func(a, b Meta) int {
			if a.Bucket != b.Bucket {
				return int(a.Bucket - b.Bucket)
			}
			return int(a.MinTS - b.MinTS)
		})
		if q.Descending {
			slices.SortFunc(sel, func(a, b Meta) int {
				if a.Bucket != b.Bucket {
					return int(b.Bucket - a.Bucket)
				}
				return int(b.MaxTS - a.MaxTS)
			})
		}
		var got []string
		limit := len(want)
		if rng.IntN(3) == 0 {
			limit = rng.IntN(len(want) + 1)
		}
		err := c.Scan(&memSource{metas: sel, data: data, skip: skip}, q, func(e logs.Event) bool {
			got = append(got, fmt.Sprint(e.LogStreamName, "/", e.Message))
			return len(got) < limit
		})
		if err != nil {
			t.Fatal(err)
		}
		if limit == 0 {
			limit = min(1, len(want)) // fn sees one event before it can say stop
		}
		if !slices.Equal(got, want[:limit]) {
			t.Fatalf("round %d, query %+v:\n got %v\nwant %v", round, q, got, want[:limit])
		}
	}
}

// TestScanLoadsLazily checks that a scan stopped after one event decodes only the blocks it
// needed: a first page of recent events does not read the whole group.
func TestScanLoadsLazily(t *testing.T) {
	c := newCodec(t)
	src := &memSource{data: map[int64][]byte{}}
	for i := range int64(50) {
		run := []Entry{{Timestamp: i * BucketMillis, Seq: i, StreamID: 1, Message: "m"}}
		m := MetaOf(run)
		m.ID = i
		src.data[i] = c.Encode(run, Fast)
		src.metas = append([]Meta{m}, src.metas...) // descending
	}
	n := 0
	if err := c.Scan(src, logs.EventQuery{Descending: true}, func(logs.Event) bool { n++; return false }); err != nil {
		t.Fatal(err)
	}
	if n != 1 || src.loads != 1 {
		t.Fatalf("%d events, %d blocks loaded; want 1, 1", n, src.loads)
	}
}

func TestStats(t *testing.T) {
	es := []Entry{{StreamID: 5, Message: "ab"}, {StreamID: 0, Message: "c"}, {StreamID: 2, Message: "def"}, {StreamID: 5, Message: ""}}
	st := Stats(es, 2)
	want := []StreamStat{{2, 2, 4}, {5, 2, 2}}
	if !slices.Equal(st, want) {
		t.Fatalf("stats %v, want %v", st, want)
	}
	got, err := DecodeStats(EncodeStats(st))
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("decoded %v, %v", got, err)
	}
	if _, err := DecodeStats([]byte{0x80}); err == nil {
		t.Fatal("truncated stats decoded")
	}
}

// TestScanLoadsBatch checks which blocks an ascending scan loads before its first event when it
// decodes them as a batch: every block that starts before the query (the blocks a page starts in,
// one per stream when streams overlap) and none that starts after the first event.
func TestScanLoadsBatch(t *testing.T) {
	c := newCodec(t)
	src := &memSource{data: map[int64][]byte{}}
	add := func(id int64, ts ...int64) {
		var run []Entry
		for i, t := range ts {
			run = append(run, Entry{Timestamp: t, Seq: id*10 + int64(i), StreamID: id, Message: fmt.Sprint("m", id, "-", i)})
		}
		m := MetaOf(run)
		m.ID = id
		src.data[id] = c.Encode(run, Small)
		src.metas = append(src.metas, m)
	}
	for i := range int64(10) {
		add(i+1, i, 1000+i) // overlapping: all start before the query and end after it
	}
	for i := range int64(10) {
		add(i+11, 2000+i)
	}
	var first string
	if err := c.Scan(src, logs.EventQuery{StartTime: 500}, func(e logs.Event) bool { first = e.Message; return false }); err != nil {
		t.Fatal(err)
	}
	if first != "m1-1" || src.loads != 10 {
		t.Fatalf("first event %q after %d blocks loaded; want m1-1 after 10", first, src.loads)
	}
}
