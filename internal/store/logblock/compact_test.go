package logblock

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// memHour is a CompactStore over blocks held in memory: the blocks of one group and bucket as a
// backend's rows would hold them.
type memHour struct {
	codec  *Codec
	blocks map[int64]memBlock
	nextID int64
	// loadErr and replaceErr, when set, are what Load and Replace return instead of doing their
	// work; loads and replaced record the calls.
	loadErr    error
	loads      int
	replaced   [][]int64
	replaceErr error
}

type memBlock struct {
	meta Meta
	data []byte
}

// add stores a block of its meta only (no data), for tests of Plan.
func (h *memHour) add(minTS, maxTS int64, count int) int64 {
	h.nextID++
	if h.blocks == nil {
		h.blocks = map[int64]memBlock{}
	}
	h.blocks[h.nextID] = memBlock{meta: Meta{ID: h.nextID, MinTS: minTS, MaxTS: maxTS, Count: count}}
	return h.nextID
}

// put stores entries (sorted) as a block with data.
func (h *memHour) put(entries []Entry) {
	m := MetaOf(entries)
	h.nextID++
	m.ID = h.nextID
	if h.blocks == nil {
		h.blocks = map[int64]memBlock{}
	}
	h.blocks[m.ID] = memBlock{meta: m, data: h.codec.Encode(entries, Fast)}
}

func (h *memHour) sorted() []Meta {
	var out []Meta
	for _, b := range h.blocks {
		out = append(out, b.meta)
	}
	slices.SortFunc(out, func(a, b Meta) int { return cmp.Or(cmp.Compare(a.MinTS, b.MinTS), cmp.Compare(a.ID, b.ID)) })
	return out
}

func (h *memHour) SmallBlocks(fn func(Meta) bool) error {
	for _, m := range h.sorted() {
		if !m.Full() && !fn(m) {
			break
		}
	}
	return nil
}

func (h *memHour) Load(m Meta) ([]byte, error) {
	h.loads++
	if h.loadErr != nil {
		return nil, h.loadErr
	}
	b, ok := h.blocks[m.ID]
	if !ok {
		return nil, fmt.Errorf("block %d: %w", m.ID, ErrGone)
	}
	return b.data, nil
}

func (h *memHour) Replace(old []Meta, blocks []Compacted) error {
	ids := make([]int64, len(old))
	for i, m := range old {
		ids[i] = m.ID
	}
	h.replaced = append(h.replaced, ids)
	if h.replaceErr != nil {
		return h.replaceErr
	}
	for _, m := range old {
		if b, ok := h.blocks[m.ID]; !ok || b.meta.Count != m.Count || b.meta.MinSeq != m.MinSeq || b.meta.MaxSeq != m.MaxSeq {
			return ErrGone
		}
	}
	for _, id := range ids {
		delete(h.blocks, id)
	}
	for _, b := range blocks {
		h.nextID++
		b.Meta.ID = h.nextID
		h.blocks[b.Meta.ID] = memBlock{meta: b.Meta, data: b.Data}
	}
	return nil
}

// block is a block of a Plan test: its time range and event count.
type block struct {
	min, max int64
	count    int
}

const full = TargetEvents

func TestPlan(t *testing.T) {
	tests := []struct {
		name   string
		blocks []block
		want   []int // indexes into blocks, in the order Plan returns them
	}{
		{"nothing", nil, nil},
		{"one small block", []block{{0, 10, 5}, {0, 100, full}}, nil},
		{"small blocks only", []block{{20, 30, 5}, {0, 10, 5}, {5, 25, 7}}, []int{1, 2, 0}},
		{"full blocks alone are left", []block{{0, 100, full}, {50, 200, full}}, nil},
		{"small blocks up to the bound, the crossing one included",
			[]block{{0, 1, 1000}, {1, 2, 1000}, {2, 3, 1000}, {3, 4, 1000}, {4, 5, 1000}, {5, 6, 1000}, {6, 7, 1000}, {7, 8, 1000}, {8, 9, 1000}, {9, 10, 1000}},
			[]int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"full blocks the small ones overlap are left",
			[]block{{0, 10, 5}, {20, 30, 5}, {25, 40, full}, {5, 60, full}},
			[]int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &memHour{}
			ids := map[int64]int{}
			for i, b := range tt.blocks {
				ids[h.add(b.min, b.max, b.count)] = i
			}
			got, err := Plan(h)
			if err != nil {
				t.Fatal(err)
			}
			var idx []int
			for _, m := range got {
				idx = append(idx, ids[m.ID])
			}
			if !slices.Equal(idx, tt.want) {
				t.Fatalf("Plan took blocks %v, want %v", idx, tt.want)
			}
		})
	}
}

func TestPlanPassesErrors(t *testing.T) {
	boom := errors.New("boom")
	h := &failingHour{memHour: memHour{}, small: boom}
	h.add(0, 10, 5)
	h.add(5, 15, 5)
	if _, err := Plan(h); !errors.Is(err, boom) {
		t.Fatalf("Plan: %v, want the SmallBlocks error", err)
	}
}

// failingHour is a memHour whose reads of small blocks fail.
type failingHour struct {
	memHour
	small error
}

func (h *failingHour) SmallBlocks(fn func(Meta) bool) error {
	if h.small != nil {
		return h.small
	}
	return h.memHour.SmallBlocks(fn)
}

// batchEntries returns n entries of stream sid from ts every step ms, with sequence numbers from seq.
func batchEntries(sid, ts, step, seq int64, n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{Timestamp: ts + int64(i)*step, Seq: seq + int64(i), IngestionTime: 1, StreamID: sid, Message: fmt.Sprintf("s%d-%d", sid, seq+int64(i))}
	}
	return out
}

// allEntries decodes every block of h, sorted.
func allEntries(t *testing.T, h *memHour) []Entry {
	t.Helper()
	var out []Entry
	for _, b := range h.blocks {
		entries, err := h.codec.Decode(b.data, b.meta.SeqBase, b.meta.StreamID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entries...)
	}
	slices.SortFunc(out, less)
	return out
}

// TestCompactLeavesFullBlocks runs rounds of overlapping batches of three streams, some full (an
// append's settled block) and some small, compacting after each, as
// logblocktest.LeavesFullBlocks does against a database: the events stay, the full blocks are
// never rewritten however the small ones overlap them, and the small ones are merged.
func TestCompactLeavesFullBlocks(t *testing.T) {
	h := &memHour{codec: newCodec(t)}
	var (
		seq     int64
		settled []Meta
	)
	for r := range 8 {
		for s := range 3 {
			n := 400
			if s == 0 {
				n = TargetEvents
			}
			h.put(batchEntries(int64(s+1), int64(r)*60_000+int64(s)*7, 300, seq, n))
			seq += int64(n)
			if s == 0 {
				settled = append(settled, h.blocks[h.nextID].meta)
			}
		}
		if _, err := h.codec.Compact(h); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(allEntries(t, h)); got != int(seq) {
		t.Fatalf("%d events after compaction, want %d", got, seq)
	}
	for _, m := range settled {
		if b, ok := h.blocks[m.ID]; !ok || b.meta != m {
			t.Errorf("full block %d was rewritten", m.ID)
		}
	}
	small := 0
	for _, m := range h.sorted() {
		if !m.Full() {
			small++
		}
	}
	if small > 1 {
		t.Errorf("%d small blocks left, want at most the last merge's tail", small)
	}
}

func TestCompact(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		loadErr    error
		replaceErr error
		want       int
		wantErr    error
		replaced   bool // whether the blocks end up replaced
	}{
		{name: "merges", want: 3, replaced: true},
		{name: "a block gone before its load ends the round", loadErr: fmt.Errorf("read: %w", ErrGone)},
		{name: "a block gone before the replace ends the round", replaceErr: ErrGone},
		{name: "a failed load fails", loadErr: boom, wantErr: boom},
		{name: "a failed replace fails", replaceErr: boom, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &memHour{codec: newCodec(t), loadErr: tt.loadErr, replaceErr: tt.replaceErr}
			h.put(batchEntries(1, 0, 10, 0, 100))
			h.put(batchEntries(2, 5, 10, 100, 100))
			h.put(batchEntries(1, 2000, 10, 200, 50))
			before := allEntries(t, h)
			n, err := h.codec.Compact(h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Compact: %v, want %v", err, tt.wantErr)
			}
			if n != tt.want {
				t.Fatalf("Compact replaced %d blocks, want %d", n, tt.want)
			}
			if tt.loadErr != nil && (len(h.replaced) > 0 || h.loads != 1) {
				t.Fatalf("Compact went on after a failed load: %d loads, %d replaces", h.loads, len(h.replaced))
			}
			if got := len(h.blocks) == 1; got != tt.replaced {
				t.Fatalf("%d blocks after compaction", len(h.blocks))
			}
			if tt.loadErr == nil && tt.replaceErr == nil {
				if got := allEntries(t, h); !slices.Equal(got, before) {
					t.Fatalf("compaction changed the events: %d, had %d", len(got), len(before))
				}
				m := h.sorted()[0]
				if m.StreamID != 0 || m.Count != 250 {
					t.Fatalf("merged block %+v, want 250 events of several streams", m)
				}
			}
		})
	}
}

// TestCompactConverges checks that compaction stops once it has nothing to gain: blocks of large
// events, which Merge cuts at MaxRawBytes with fewer than TargetEvents events, are as full as a
// block gets, and a round that merged them must leave them to the next round rather than merge
// them again into the same blocks, round after round.
func TestCompactConverges(t *testing.T) {
	h := &memHour{codec: newCodec(t)}
	msg := strings.Repeat("x", 5000)
	var seq int64
	// Twelve small blocks of 90 events of 5,000 bytes (450,000 bytes, under FullRawBytes): merged,
	// they make a block cut at MaxRawBytes (838 events) and one of the other 242 (1.2 MB).
	for b := range 12 {
		entries := batchEntries(int64(b+1), int64(b), 3, seq, 90)
		for i := range entries {
			entries[i].Message = msg
		}
		h.put(entries)
		seq += 90
	}
	n, err := h.codec.Compact(h)
	if err != nil || n != 12 {
		t.Fatalf("first round: %d blocks replaced, %v; want 12", n, err)
	}
	for round := range 3 {
		n, err := h.codec.Compact(h)
		if err != nil || n != 0 {
			t.Fatalf("round %d after the first: %d blocks replaced again, %v; blocks %v", round+2, n, err, h.sorted())
		}
	}
	if got := len(allEntries(t, h)); got != int(seq) {
		t.Fatalf("%d events, want %d", got, seq)
	}
}

// TestPlanBoundsBytes checks that a round's blocks are bounded in message bytes as well as in
// events: blocks of large events (here 2 events of 200 KB, as a PutLogEvents batch of them is) hold
// few events each, and a bound in events alone took 8,192 of them, 1.6 GB to decode at once.
func TestPlanBoundsBytes(t *testing.T) {
	const eventBytes = 200 << 10
	h := &memHour{}
	for i := range 3000 {
		id := h.add(int64(i), int64(i)+1, 2)
		b := h.blocks[id]
		b.meta.RawBytes = 2 * eventBytes
		h.blocks[id] = b
	}
	got, err := Plan(h)
	if err != nil {
		t.Fatal(err)
	}
	var bytes int64
	for _, m := range got {
		if m.Full() {
			t.Fatalf("Plan took full block %+v", m)
		}
		bytes += m.RawBytes
	}
	if len(got) < 2 || bytes > maxCompactBytes+2*eventBytes {
		t.Fatalf("Plan took %d blocks, %d MB; want at least 2 and at most %d MB", len(got), bytes>>20, (maxCompactBytes+2*eventBytes)>>20)
	}
}

// TestCompactHour checks when CompactHour stops: at a round that fails or merges nothing, when the
// backlog is gone or cannot be read, and after its number of rounds.
func TestCompactHour(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name        string
		merged      []int // what each round replaces; past its end, rounds replace 2
		roundErrAt  int   // the round (1-based) that fails, 0: none
		backlogLeft int   // backlog says more this many times
		backlogErr  bool
		wantRounds  int
		wantRemoved int
		wantErr     bool
	}{
		{name: "backlog gone", backlogLeft: 2, wantRounds: 3, wantRemoved: 6},
		{name: "round merges nothing", merged: []int{3, 0}, backlogLeft: 9, wantRounds: 2, wantRemoved: 3},
		{name: "round fails", roundErrAt: 2, backlogLeft: 9, wantRounds: 2, wantRemoved: 2, wantErr: true},
		{name: "backlog fails", backlogErr: true, wantRounds: 1, wantRemoved: 2, wantErr: true},
		{name: "rounds bound", backlogLeft: 99, wantRounds: 4, wantRemoved: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rounds, backlogs := 0, 0
			removed, err := CompactHour(4, func() (int, error) {
				rounds++
				if rounds == tt.roundErrAt {
					return 0, boom
				}
				if rounds <= len(tt.merged) {
					return tt.merged[rounds-1], nil
				}
				return 2, nil
			}, func() (bool, error) {
				backlogs++
				if tt.backlogErr {
					return false, boom
				}
				return backlogs <= tt.backlogLeft, nil
			})
			if rounds != tt.wantRounds || removed != tt.wantRemoved || (err != nil) != tt.wantErr {
				t.Fatalf("%d rounds, %d removed, %v; want %d, %d, error %v", rounds, removed, err, tt.wantRounds, tt.wantRemoved, tt.wantErr)
			}
		})
	}
}
