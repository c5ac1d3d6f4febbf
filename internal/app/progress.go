package app

import (
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/progress"
)

// fileSizes returns each file's size on disk and their sum, the total a progress line's ETA is measured
// against. A file that cannot be read counts 0: reading it will fail and say why.
func fileSizes(files []string) (map[string]int64, int64) {
	sizes := make(map[string]int64, len(files))
	var total int64
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil {
			sizes[p] = fi.Size()
			total += fi.Size()
		}
	}
	return sizes, total
}

// backfillProgress counts what a backfill has read, for its progress line: files and their bytes when
// it reads files, events and their message bytes when it reads a log group (whose size is unknown).
type backfillProgress struct {
	files, events, bytes atomic.Int64
}

// start shows the progress line on stderr until the returned function is called. files and total are
// the number and size of the files to read, zero when the events come from a log group.
func (p *backfillProgress) start(stderr io.Writer, files int, total int64) (stop func()) {
	return progress.Start(progress.New(stderr, time.Now), func() progress.Counts {
		return progress.Counts{FilesDone: p.files.Load(), FilesTotal: int64(files), Events: p.events.Load(), Bytes: p.bytes.Load(), TotalBytes: total}
	})
}
