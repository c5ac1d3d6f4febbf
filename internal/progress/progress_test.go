package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestFormat(t *testing.T) {
	tests := []struct {
		name    string
		c       Counts
		elapsed time.Duration
		want    string
	}{
		{"start, total known", Counts{FilesTotal: 10, TotalBytes: 4_000_000}, 0,
			"0/10 files, 0 events, 0.0/4.0 MB, 0.0 MB/s, 0 errors"},
		{"a quarter in two seconds", Counts{FilesDone: 3, FilesTotal: 10, Events: 1200, Bytes: 1_000_000, TotalBytes: 4_000_000, Errors: 1}, 2 * time.Second,
			"3/10 files, 1200 events, 1.0/4.0 MB, 0.5 MB/s, 1 errors, ETA 6s"},
		{"ETA in minutes, rounded to the second", Counts{FilesDone: 1, FilesTotal: 400, Events: 7, Bytes: 1_000_000, TotalBytes: 100_000_000}, 1500 * time.Millisecond,
			"1/400 files, 7 events, 1.0/100.0 MB, 0.7 MB/s, 0 errors, ETA 2m29s"},
		{"done", Counts{FilesDone: 10, FilesTotal: 10, Events: 5000, Bytes: 4_000_000, TotalBytes: 4_000_000}, 4 * time.Second,
			"10/10 files, 5000 events, 4.0/4.0 MB, 1.0 MB/s, 0 errors, ETA 0s"},
		{"no files, no total: no ETA", Counts{Events: 250, Bytes: 3_000_000}, 3 * time.Second,
			"250 events, 3.0 MB, 1.0 MB/s, 0 errors"},
		{"files but sizes unknown", Counts{FilesDone: 2, FilesTotal: 5, Events: 9, Bytes: 500_000}, time.Second,
			"2/5 files, 9 events, 0.5 MB, 0.5 MB/s, 0 errors"},
		{"read more than the total (a file grew)", Counts{FilesDone: 1, FilesTotal: 1, Bytes: 2_000_000, TotalBytes: 1_000_000}, time.Second,
			"1/1 files, 0 events, 2.0/1.0 MB, 2.0 MB/s, 0 errors, ETA 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.c, tt.elapsed); got != tt.want {
				t.Fatalf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLineRedrawsInPlace drives a Line with a fake clock: every draw starts with \r, a shorter line is
// padded over the longer one, redraws closer than MinGap are dropped, and Clear blanks the line and
// leaves the cursor at its start.
func TestLineRedrawsInPlace(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	l := New(&out, clk.now)
	step := func(d time.Duration, c Counts, want string) {
		t.Helper()
		clk.advance(d)
		out.Reset()
		l.Update(c)
		if out.String() != want {
			t.Fatalf("after %v: wrote %q, want %q", d, out.String(), want)
		}
	}
	step(0, Counts{FilesTotal: 2, TotalBytes: 2_000_000}, "\r0/2 files, 0 events, 0.0/2.0 MB, 0.0 MB/s, 0 errors")
	step(100*time.Millisecond, Counts{FilesDone: 1, FilesTotal: 2, Bytes: 1_000_000, TotalBytes: 2_000_000}, "") // too soon
	step(100*time.Millisecond, Counts{FilesDone: 1, FilesTotal: 2, Events: 10, Bytes: 1_000_000, TotalBytes: 2_000_000},
		"\r1/2 files, 10 events, 1.0/2.0 MB, 5.0 MB/s, 0 errors, ETA 0s")
	step(150*time.Millisecond, Counts{}, "") // too soon again
	// 1.2 s in, a shorter line: padded with spaces over the end of the previous one.
	const long, short = "1/2 files, 10 events, 1.0/2.0 MB, 5.0 MB/s, 0 errors, ETA 0s", "10 events, 1.2 MB, 1.0 MB/s, 0 errors"
	step(850*time.Millisecond, Counts{Events: 10, Bytes: 1_200_000}, "\r"+short+strings.Repeat(" ", len(long)-len(short)))

	out.Reset()
	l.Clear()
	if want := "\r" + strings.Repeat(" ", len(short)) + "\r"; out.String() != want {
		t.Fatalf("Clear wrote %q, want %q", out.String(), want)
	}
	out.Reset()
	l.Clear()
	if out.Len() != 0 {
		t.Fatalf("a second Clear wrote %q", out.String())
	}
}

// TestClearWithoutDraw: a Line never drawn writes nothing when cleared.
func TestClearWithoutDraw(t *testing.T) {
	var out bytes.Buffer
	New(&out, time.Now).Clear()
	if out.Len() != 0 {
		t.Fatalf("wrote %q", out.String())
	}
}

// TestStartDrawsAtOnceAndClears: Start draws the first line before returning, and its stop function
// erases it; stop may be called twice.
func TestStartDrawsAtOnceAndClears(t *testing.T) {
	var out bytes.Buffer
	clk := &fakeClock{t: time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)}
	stop := Start(New(&out, clk.now), func() Counts { return Counts{Events: 1} })
	stop()
	stop()
	const line = "1 events, 0.0 MB, 0.0 MB/s, 0 errors"
	want := "\r" + line
	// The ticker may have fired before stop under a slow scheduler; the fake clock does not move, so
	// such a tick draws nothing.
	want += "\r" + strings.Repeat(" ", len(line)) + "\r"
	if out.String() != want {
		t.Fatalf("wrote %q, want %q", out.String(), want)
	}
}

// TestIsTerminal: buffers, pipes, regular files and /dev/null (a character device, which the old
// ModeCharDevice check took for a terminal) are not terminals. A real terminal is tested end to end under
// a pseudo-terminal (e2e TestProgressOnlyOnATerminal).
func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	f, err := os.Create(t.TempDir() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "pipe": w, "/dev/null": devNull, "file": f} {
		if IsTerminal(w) {
			t.Errorf("%s: IsTerminal = true", name)
		}
	}
}

// TestWriterClearsTheLineFirst: a message written through Writer starts on a clean line, and the next
// Update redraws the line under it even within MinGap.
func TestWriterClearsTheLineFirst(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	l := New(&out, clk.now)
	l.Update(Counts{Events: 1})
	fmt.Fprintf(l.Writer(), "trailwatch ingest: %s: broken\n", "a.json")
	clk.advance(10 * time.Millisecond)
	l.Update(Counts{Events: 2})
	const line1, line2 = "1 events, 0.0 MB, 0.0 MB/s, 0 errors", "2 events, 0.0 MB, 0.0 MB/s, 0 errors"
	want := "\r" + line1 + "\r" + strings.Repeat(" ", len(line1)) + "\r" + "trailwatch ingest: a.json: broken\n" + "\r" + line2
	if out.String() != want {
		t.Fatalf("wrote %q, want %q", out.String(), want)
	}
}
