package logblock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/klauspost/compress/zstd"
)

// Partial decoding. A block is one zstd frame of its columns followed by its messages, and zstd
// decodes a frame front to back, so a scan can decode the columns (a few KB), decide from them
// which events the query wants, and decompress the messages only as far as the last one it hands
// out: a first page that ends 650 events into a block of 1024 stops decompressing there. Messages
// before the first wanted one must still be decompressed (zstd's matches reach back into them) but
// are thrown away into a reused buffer instead of a new allocation per block; the wanted ones are
// copied into buffers of about chunkBytes, allocated as the scan reaches them, which their strings
// alias. Scan decides per block whether this pays (partialPays in scan.go).
//
// What a partial decode costs: every message is copied once out of the decoder's window (a whole
// decode writes into the block's buffer directly), and while a scan holds a block open its decoder
// keeps a window of about the block's size plus 256 KiB (a whole decode held the decoded block).
// What it gives up: zstd's checksum covers the whole frame, so a block not read to its end is not
// checked against it. The frame's structure is still checked as far as it is read (zstd rejects
// malformed blocks), and the columns are checked as a whole decode checks them.

// chunkBytes is how many message bytes an ascending scan decompresses ahead of the event it hands
// out: zstd decompresses blocks of up to 128 KiB at a time anyway, and a chunk is one allocation.
const chunkBytes = 64 << 10

// scratchBytes is the initial size of a stream decoder's buffer for the columns and for the
// messages a scan skips: it holds the columns of a full compacted block (about 10 KB) in one read.
const scratchBytes = 64 << 10

// streamDecoder is a pooled streaming zstd decoder with its scratch buffer.
type streamDecoder struct {
	dec     *zstd.Decoder
	scratch []byte
}

// partial is a block being decompressed on demand: its columns are decoded, its messages are read
// in order as fill asks for them. A partial holds a pooled decoder until release.
type partial struct {
	c    *Codec
	sd   *streamDecoder
	src  bytes.Reader
	lens []uint32
	// next is the position of the first message not yet read or skipped.
	next int
	// pending is what has been decompressed past position next and not yet consumed (in
	// sd.scratch).
	pending []byte
}

// getStream returns a stream decoder from the Codec's pool, or a new one.
func (c *Codec) getStream() (*streamDecoder, error) {
	if sd, ok := c.streams.Get().(*streamDecoder); ok {
		return sd, nil
	}
	// Concurrency 1 decodes synchronously in Read, with no goroutine to stop when the pool drops
	// the decoder; the memory bound caps the window, as it caps DecodeAll's output.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		return nil, fmt.Errorf("create block stream decoder: %w", err)
	}
	return &streamDecoder{dec: dec, scratch: make([]byte, scratchBytes)}, nil
}

// open decodes a block's columns and returns its entries, with seqBase added to their sequence
// numbers and stream given to those encoded with stream 0, but without their messages, and the
// partial that reads the messages. An s2 block, or one whose zstd frame does not record its size
// (no block Encode writes), is decoded whole: its entries come with their messages and the partial
// is nil.
func (c *Codec) open(data []byte, seqBase, stream int64) ([]Entry, *partial, error) {
	if len(data) < 2 || data[0] != formatV1 || data[1] != 0 {
		// An s2 block (a recent append's) decompresses at several GB/s: it is decoded whole.
		entries, err := c.Decode(data, seqBase, stream)
		return entries, nil, err
	}
	// A streaming decoder keeps a window of history, which for the frames Encode writes is at most
	// the block's size (a frame of one segment has none beyond its content). A frame that does not
	// record its size, asks for a window larger than its content, or claims more content than its
	// bytes can hold (a zstd block of 4 bytes decodes to at most 128 KiB), is decoded whole instead,
	// so that a corrupt header cannot make a small block claim a large buffer.
	var h zstd.Header
	if err := h.Decode(data[2:]); err != nil || !h.HasFCS || h.FrameContentSize > maxDecoded ||
		h.FrameContentSize > uint64(len(data))*(128<<10)/4 || !h.SingleSegment && h.WindowSize > h.FrameContentSize {
		entries, err := c.Decode(data, seqBase, stream)
		return entries, nil, err
	}
	sd, err := c.getStream()
	if err != nil {
		return nil, nil, err
	}
	p := &partial{c: c, sd: sd}
	p.src.Reset(data[2:])
	if err := sd.dec.Reset(&p.src); err != nil {
		p.release()
		return nil, nil, fmt.Errorf("decode log block: %w", err)
	}
	entries, err := p.columns(h.FrameContentSize)
	if err != nil {
		p.release()
		return nil, nil, err
	}
	for i := range entries {
		entries[i].Seq += seqBase
		if entries[i].StreamID == 0 {
			entries[i].StreamID = stream
		}
	}
	return entries, p, nil
}

// columns decompresses and parses the column section of a frame of size bytes, leaving what was
// decompressed past it in p.pending.
func (p *partial) columns(size uint64) ([]Entry, error) {
	buf := p.sd.scratch[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
			p.sd.scratch = buf[:cap(buf)]
		}
		n, rerr := p.sd.dec.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		entries, lens, rest, err := parseColumns(buf, size)
		switch {
		case err == nil:
			p.lens, p.pending = lens, rest
			return entries, nil
		case !errors.Is(err, errShort):
			return nil, err
		case rerr != nil:
			return nil, readErr(rerr)
		}
	}
}

// readErr maps a decoder's error: a frame that ends before its columns say it should is corrupt.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errCorrupt
	}
	return fmt.Errorf("decode log block: %w", err)
}

// read fills dst with the next decompressed bytes.
func (p *partial) read(dst []byte) error {
	n := copy(dst, p.pending)
	p.pending = p.pending[n:]
	if n == len(dst) {
		return nil
	}
	if _, err := io.ReadFull(p.sd.dec, dst[n:]); err != nil {
		return readErr(err)
	}
	return nil
}

// skip decompresses the next n bytes and throws them away.
func (p *partial) skip(n int) error {
	k := min(n, len(p.pending))
	p.pending, n = p.pending[k:], n-k
	for n > 0 {
		k := min(n, len(p.sd.scratch))
		if _, err := io.ReadFull(p.sd.dec, p.sd.scratch[:k]); err != nil {
			return readErr(err)
		}
		n -= k
	}
	return nil
}

// skipTo decompresses and throws away the messages before position i that were not read or
// skipped yet.
func (p *partial) skipTo(i int) error {
	gap := 0
	for ; p.next < i; p.next++ {
		gap += int(p.lens[p.next])
	}
	return p.skip(gap)
}

// fill reads the messages of the block's events at positions pos (ascending, none before a
// position fill was given already) into entries[i].Message, skipping the messages between them,
// in one new buffer that the messages alias.
func (p *partial) fill(entries []Entry, pos []int32) error {
	total := 0
	for _, i := range pos {
		total += int(p.lens[i])
	}
	buf := make([]byte, total)
	off := 0
	for k, i := range pos {
		if err := p.skipTo(int(i)); err != nil {
			return err
		}
		l := int(p.lens[i])
		if err := p.read(buf[off : off+l]); err != nil {
			return err
		}
		p.next = int(i) + 1
		// buf is this call's alone and nothing writes to its bytes once read, so the strings
		// are immutable as Go requires.
		if l > 0 {
			entries[k].Message = unsafe.String(&buf[off], l)
		} else {
			entries[k].Message = ""
		}
		off += l
	}
	return nil
}

// release returns the partial's decoder to the pool; the partial reads nothing after.
func (p *partial) release() {
	if p.sd == nil {
		return
	}
	// A nil reader drops the reference to the block's bytes; the decoder keeps its buffers.
	_ = p.sd.dec.Reset(nil)
	p.c.streams.Put(p.sd)
	p.sd, p.pending = nil, nil
}
