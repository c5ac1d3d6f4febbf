package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Free pages. A compaction round deletes the blocks it merges, and retention the blocks it expires;
// SQLite keeps their pages in the file as free pages for later writes. Under a burst of appends
// that outruns the compactor, the unmerged ingest blocks (s2, about 30% of the JSON, where merged
// blocks keep about 13%) pile up, and once merged their pages stayed free in the file for good:
// 1,000,000 events ingested at 150,000 a second left 4,076 free pages of 16 KiB, a quarter of the
// file (TestBuildScaleDB: 19.7% of the JSON on disk for 14.5% in use).
//
// A database created since is in auto_vacuum=INCREMENTAL mode (set in Open, before its first
// table), and after a compaction round reclaimFreePages hands the free pages past a reserve back
// to the file system with PRAGMA incremental_vacuum, which moves pages from the end of the file
// into the free ones and truncates it at the next checkpoint. The reserve (minFreePages, or
// freeFraction of the file if more) is left for the next appends, so that steady ingest, whose
// compactor keeps up, does not shrink and regrow the file round after round. A database created
// before stays in auto_vacuum=NONE (changing it needs a full VACUUM, which rewrites the file
// while holding the write lock): its free pages are reused by later writes, as before.
const (
	// minFreePages is the least reserve of free pages: 8 MiB of 16 KiB pages.
	minFreePages = 512
	// freeFraction is the reserve as a fraction of the file's pages (1/freeFraction).
	freeFraction = 16
	// minReclaim is the least number of pages worth a vacuum: fewer are left for later writes.
	minReclaim = 256
	// maxReclaim bounds the pages one call vacuums (16 MiB): the vacuum moves pages from the end
	// of the file into the free ones inside a committer transaction, writing each to the WAL, and
	// the appends queued behind it wait (3,208 pages took 74 ms and 46 MiB of WAL, measured in
	// review). The deletion of a large group is given back over several compaction rounds.
	maxReclaim = 1024
)

// reclaimFreePages gives the free pages past the reserve, at most maxReclaim of them, back to the
// file system in a transaction of the committer. It returns how many pages it asked the vacuum for
// (writes between its count and its transaction may have taken some); a database in
// auto_vacuum=NONE vacuums none.
func (db *DB) reclaimFreePages(ctx context.Context) (int64, error) {
	var mode, pages, free int64
	if err := db.read.QueryRowContext(ctx, `SELECT (SELECT auto_vacuum FROM pragma_auto_vacuum), (SELECT page_count FROM pragma_page_count),
		(SELECT freelist_count FROM pragma_freelist_count)`).Scan(&mode, &pages, &free); err != nil {
		return 0, fmt.Errorf("count free pages: %w", err)
	}
	const incremental = 2
	excess := min(free-max(minFreePages, pages/freeFraction), maxReclaim)
	if mode != incremental || excess < minReclaim {
		return 0, nil
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// PRAGMA arguments cannot be bound; excess is an integer computed here.
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", excess))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("vacuum free pages: %w", err)
	}
	return excess, nil
}
