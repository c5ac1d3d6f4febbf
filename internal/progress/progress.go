// Package progress draws the live status line of trailwatch's long commands (ingest, backfill) on a
// terminal: one line, redrawn in place with a carriage return a few times a second and erased at the end,
// so that the command's own summary, printed afterwards, is the only thing left on the screen. Whether
// to draw at all is the caller's decision (IsTerminal): a line redrawn with \r is noise in a log file or a
// pipe.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Interval is how often Start redraws the line: a few times a second is live enough to read and costs
// nothing next to the work being reported.
const Interval = 250 * time.Millisecond

// MinGap is the least time between two redraws by Update, whoever calls it and however often: at most
// five a second, so that a terminal (or a slow remote session) is never flooded. It is a little shorter
// than Interval so that a late tick of Start is not skipped.
const MinGap = 200 * time.Millisecond

// Counts is a snapshot of a command's progress. Zero totals mean "unknown", and leave out what they would
// allow: the files' total, the bytes' total and the ETA.
type Counts struct {
	// FilesDone and FilesTotal count input files; both zero when the command reads no files.
	FilesDone, FilesTotal int64
	// Events counts the events (CloudTrail records, log events) handled so far.
	Events int64
	// Bytes counts the input bytes read so far; TotalBytes is what will have been read at the end.
	Bytes, TotalBytes int64
	// Errors counts the failures that did not stop the command (a file that could not be read).
	Errors int64
}

// Line is one progress line on a terminal. It is safe for concurrent use: Start redraws it from a
// goroutine of its own while the command writes its messages through Writer.
type Line struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	start time.Time
	// last is the time of the last draw (zero before the first); width the length of the line drawn, so
	// that a shorter line, or the final erase, overwrites all of it.
	last  time.Time
	width int
}

// New returns a Line that writes to w and reads the time from now (time.Now outside tests); the rates and
// the ETA count from this moment.
func New(w io.Writer, now func() time.Time) *Line {
	return &Line{w: w, now: now, start: now()}
}

// Update redraws the line with c, unless it was drawn less than MinGap ago.
func (l *Line) Update(c Counts) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	if !l.last.IsZero() && t.Sub(l.last) < MinGap {
		return
	}
	l.last = t
	s := Format(c, t.Sub(l.start))
	pad := max(l.width-len(s), 0)
	fmt.Fprintf(l.w, "\r%s%s", s, strings.Repeat(" ", pad))
	l.width = len(s)
}

// Clear erases the line and returns the cursor to its start, leaving the terminal as it was before the
// first Update.
func (l *Line) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}

func (l *Line) clear() {
	if l.width == 0 {
		return
	}
	fmt.Fprintf(l.w, "\r%s\r", strings.Repeat(" ", l.width))
	l.width = 0
}

// Writer returns a writer for the command's own messages (warnings, a file that failed) to the line's
// terminal: each Write first erases the line, so that a message starts at the beginning of a clean line,
// and the next Update draws the line again below it at once. Messages should end with a newline.
func (l *Line) Writer() io.Writer { return lineWriter{l} }

// lineWriter is Line.Writer's writer.
type lineWriter struct{ l *Line }

func (w lineWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	w.l.clear()
	w.l.last = time.Time{}
	return w.l.w.Write(p)
}

// Format is the text of the line for c after elapsed, for example
//
//	3/10 files, 1200 events, 0.3/1.0 MB, 0.6 MB/s, 0 errors, ETA 1s
//
// The rate is the bytes read per second since the start; the ETA assumes it stays what it was.
func Format(c Counts, elapsed time.Duration) string {
	var b strings.Builder
	if c.FilesTotal > 0 {
		fmt.Fprintf(&b, "%d/%d files, ", c.FilesDone, c.FilesTotal)
	}
	fmt.Fprintf(&b, "%d events, ", c.Events)
	if c.TotalBytes > 0 {
		fmt.Fprintf(&b, "%.1f/%.1f MB, ", float64(c.Bytes)/1e6, float64(c.TotalBytes)/1e6)
	} else {
		fmt.Fprintf(&b, "%.1f MB, ", float64(c.Bytes)/1e6)
	}
	rate := 0.0 // bytes per second
	if elapsed > 0 {
		rate = float64(c.Bytes) / elapsed.Seconds()
	}
	fmt.Fprintf(&b, "%.1f MB/s, %d errors", rate/1e6, c.Errors)
	if c.TotalBytes > 0 && rate > 0 {
		left := max(c.TotalBytes-c.Bytes, 0)
		eta := time.Duration(float64(left) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// Start draws l with snapshot's counts now and then every Interval, from a goroutine, until the returned
// function is called; that function erases the line and returns once nothing more will be written, so
// that the caller's summary follows on a clean line.
func Start(l *Line, snapshot func() Counts) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	l.Update(snapshot())
	wg.Go(func() {
		t := time.NewTicker(Interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				l.Clear()
				return
			case <-t.C:
				l.Update(snapshot())
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// IsTerminal reports whether w is a terminal: an *os.File whose descriptor is a tty (term.IsTerminal,
// which asks the terminal driver; a character device such as /dev/null is not a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
