package cloudtrail

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// forgedTrailer gzips a short record file and rewrites the trailer's ISIZE to claim size bytes:
// 26 bytes of input that once made gunzip allocate a buffer of size bytes up front.
func forgedTrailer(t testing.TB, size uint32) []byte {
	t.Helper()
	data := gz(t, []byte("[]"))
	if len(data) != 26 {
		t.Fatalf("fixture is %d bytes, want 26", len(data))
	}
	binary.LittleEndian.PutUint32(data[len(data)-4:], size)
	return data
}

// allocated returns how many bytes fn allocates, averaged over runs.
func allocated(runs int, fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// TestForgedSizeHintAllocatesLittle is the regression test for gzip's trailing size field being
// used as an allocation size: 26 bytes claiming 1 GiB allocated 1 GiB and took seconds. Every
// decoder that gunzips must stay within what the inflater itself needs (its 32 KiB window and
// tables), whatever the trailer says.
func TestForgedSizeHintAllocatesLittle(t *testing.T) {
	const budget = 128 << 10
	for _, size := range []uint32{1 << 30, 1<<30 - 1, 256 << 20, 1<<32 - 1} {
		bomb := forgedTrailer(t, size)
		firehose := []byte(`{"requestId":"r","records":[{"data":"` + base64.StdEncoding.EncodeToString(bomb) + `"}]}`)
		decoders := map[string]func(){
			"DecodeObject":       func() { DecodeObject("x.json.gz", bomb) },
			"DecodeSubscription": func() { DecodeSubscription(bomb) },
			"DecodeFirehose":     func() { DecodeFirehose(firehose) },
		}
		for name, fn := range decoders {
			fn() // warm up: first-use allocations are not the decoder's
			start := time.Now()
			if n := allocated(5, fn); n > budget {
				t.Errorf("%s of 26 bytes claiming %d: allocated %d bytes, want at most %d", name, size, n, budget)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s of 26 bytes claiming %d: took %v", name, size, d)
			}
		}
	}
}

// zeroBomb is 1 GiB of zeros gzipped in one stream: about 1 MB.
func zeroBomb(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for range 1 << 10 {
		if _, err := w.Write(zero); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecompressionBombRefused is the regression test for decompressed sizes bounded only per
// record: a 1 MB object that inflates to 1 GiB is refused once it passes 256 MiB, with an error that
// says so, having allocated little more than that.
func TestDecompressionBombRefused(t *testing.T) {
	bomb := zeroBomb(t)
	var res Result
	var err error
	n := allocated(1, func() {
		res, err = DecodeObject("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/bomb.json.gz", bomb)
	})
	if err == nil || !strings.Contains(err.Error(), "decompressed size exceeds 256 MiB") {
		t.Fatalf("1 GiB bomb: %d records, err %v; want the 256 MiB limit", len(res.Records), err)
	}
	// Growing the buffer by doubling allocates about twice its final size in all.
	if n > 2*(256<<20)+(64<<20) {
		t.Errorf("1 GiB bomb allocated %d MiB in all, want about twice the 256 MiB limit", n>>20)
	}

}

// TestFirehoseRequestBudget checks that a Firehose request's limit bounds the sum of its records,
// not each record: 40 records of 1 MiB each (blank lines, which decode to no records) pass a 64 MiB
// limit and fail a 32 MiB one, naming the request's limit.
func TestFirehoseRequestBudget(t *testing.T) {
	small := base64.StdEncoding.EncodeToString(gz(t, bytes.Repeat([]byte("\n"), 1<<20)))
	var recs []string
	for range 40 {
		recs = append(recs, `{"data":"`+small+`"}`)
	}
	body := []byte(`{"requestId":"r","records":[` + strings.Join(recs, ",") + `]}`)
	if _, _, err := (Decoder{MaxDecompressed: 64 << 20}).DecodeFirehose(body); err != nil {
		t.Fatalf("40 MiB under a 64 MiB limit: %v", err)
	}
	_, _, err := Decoder{MaxDecompressed: 32 << 20}.DecodeFirehose(body)
	if !errors.Is(err, ErrTooLarge) || err.Error() != "decode Firehose record 32: gunzip: decompressed size exceeds 32 MiB in total for the request" {
		t.Fatalf("40 MiB over a 32 MiB limit: %v", err)
	}
}

// TestDecoderLimit checks the limit's edges: exactly the limit decodes, one byte more does not,
// whatever the trailer claims; input that is not gzipped is not counted.
func TestDecoderLimit(t *testing.T) {
	const limit = 100 << 10
	file := func(n int) []byte { // {"Records":[]} padded with blank space to n bytes
		return append([]byte(`{"Records":[]}`), bytes.Repeat([]byte(" "), n-len(`{"Records":[]}`))...)
	}
	tests := []struct {
		name  string
		data  []byte
		isize uint32 // 0 keeps the real trailer
		err   string
	}{
		{"at the limit", gz(t, file(limit)), 0, ""},
		{"one byte over", gz(t, file(limit+1)), 0, "gunzip: decompressed size exceeds 100 KiB"},
		{"over, trailer claims small", gz(t, file(2*limit)), 10, "gunzip: decompressed size exceeds 100 KiB"},
		{"at the limit, trailer claims 4 GiB", gz(t, file(limit)), 1<<32 - 1, "gunzip: gzip: invalid checksum"},
		{"plain input is not counted", file(2 * limit), 0, ""},
		{"two members over the limit", append(gz(t, file(limit/2+1)), gz(t, file(limit/2))...), 0, "gunzip: decompressed size exceeds 100 KiB"},
	}
	for _, tt := range tests {
		data := tt.data
		if tt.isize != 0 {
			data = bytes.Clone(data)
			binary.LittleEndian.PutUint32(data[len(data)-4:], tt.isize)
		}
		_, err := Decoder{MaxDecompressed: limit}.DecodeObject("f.json.gz", data)
		if got := fmt.Sprint(err); (tt.err == "" && err != nil) || (tt.err != "" && got != tt.err) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
		}
		if strings.Contains(tt.err, "exceeds") && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v is not ErrTooLarge", tt.name, err)
		}
	}
	if got := (&tooLargeError{limit: 512 << 20}).Error(); got != "decompressed size exceeds 512 MiB" {
		t.Errorf("message %q", got)
	}
	// Out-of-range limits fall back to the default or are clamped, never overflow.
	for _, lim := range []int64{-1, 1<<63 - 1} {
		if _, err := (Decoder{MaxDecompressed: lim}).DecodeObject("f.json.gz", gz(t, file(limit))); err != nil {
			t.Errorf("limit %d: %v", lim, err)
		}
	}
}

// FuzzGunzip checks that gunzip never returns more than its limit, and otherwise returns what
// compress/gzip reads, for any input and trailer.
func FuzzGunzip(f *testing.F) {
	f.Add(gz(f, []byte(`{"Records":[]}`)), int64(100))
	f.Add(gz(f, bytes.Repeat([]byte("a"), 5000)), int64(4096))
	f.Add(forgedTrailer(f, 1<<30), int64(1<<20))
	f.Fuzz(func(t *testing.T, data []byte, limit int64) {
		limit = max(limit, 0) % (1 << 20)
		tooLarge := &tooLargeError{limit: limit}
		out, err := gunzip(data, limit, tooLarge)
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("plain input changed: %v", err)
			}
			return
		}
		if err == nil && int64(len(out)) > limit {
			t.Fatalf("%d bytes out, limit %d", len(out), limit)
		}
		zr, zerr := stdgzip.NewReader(bytes.NewReader(data))
		if zerr != nil {
			return
		}
		want, zerr := io.ReadAll(io.LimitReader(zr, limit+1))
		if zerr == nil && int64(len(want)) <= limit && err == nil && !bytes.Equal(out, want) {
			t.Fatalf("gunzip and compress/gzip disagree")
		}
		if errors.Is(err, ErrTooLarge) && int64(len(want)) <= limit && zerr == nil {
			t.Fatalf("refused %d bytes under a limit of %d", len(want), limit)
		}
	})
}
