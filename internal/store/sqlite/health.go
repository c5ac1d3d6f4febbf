package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Ready reports whether the database answers a read: it reads the format row the first migration
// wrote, so a nil error also says the migrations ran. It is the server's readiness probe; ctx
// should carry a short deadline.
func (db *DB) Ready(ctx context.Context) error {
	var format string
	if err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'format'`).Scan(&format); err != nil {
		return fmt.Errorf("query database: %w", err)
	}
	return nil
}

// WALSize returns the size in bytes of the database's write-ahead log file, 0 when there is
// none (after a truncating checkpoint or Close).
func (db *DB) WALSize() (int64, error) {
	fi, err := os.Stat(db.path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stat WAL: %w", err)
	}
	return fi.Size(), nil
}

// PendingOutbox is the pending part of one outbox for one protocol.
type PendingOutbox struct {
	// Protocol is the SNS subscription protocol of the deliveries.
	Protocol string
	// Count is the number of pending messages.
	Count int
	// Oldest is the creation time of the oldest of them.
	Oldest time.Time
}

// PendingDeliveries counts the SNS deliveries still pending, by protocol, with the creation time
// of the oldest. The partial index sns_deliveries_due holds only pending rows, so the query reads
// no finished delivery.
func (db *DB) PendingDeliveries(ctx context.Context) ([]PendingOutbox, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT protocol, count(*), min(created) FROM sns_deliveries
		WHERE status = 'pending' GROUP BY protocol ORDER BY protocol`)
	if err != nil {
		return nil, fmt.Errorf("count pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []PendingOutbox
	for rows.Next() {
		var p PendingOutbox
		var oldest int64
		if err := rows.Scan(&p.Protocol, &p.Count, &oldest); err != nil {
			return nil, fmt.Errorf("count pending deliveries: %w", err)
		}
		p.Oldest = time.UnixMilli(oldest).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count pending deliveries: %w", err)
	}
	return out, nil
}

// PendingActionCount counts the alarm actions still pending, with the creation time of the oldest
// (zero when none is pending). The partial index alarm_actions_pending holds only pending rows.
func (db *DB) PendingActionCount(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest *int64
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(created) FROM alarm_actions WHERE status = 'pending'`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending alarm actions: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, time.UnixMilli(*oldest).UTC(), nil
}
