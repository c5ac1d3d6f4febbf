package postgres

import (
	"context"
	"fmt"
	"time"
)

// PendingOutbox is the pending part of the SNS outbox for one protocol, as sqlite.PendingOutbox:
// the server's outbox gauges.
type PendingOutbox struct {
	Protocol string
	Count    int
	Oldest   time.Time
}

// PendingDeliveries counts the SNS deliveries still pending, by protocol, with the creation time
// of the oldest (the partial index sns_deliveries_due holds only pending rows).
func (db *DB) PendingDeliveries(ctx context.Context) ([]PendingOutbox, error) {
	rows, err := db.pool.Query(ctx, `SELECT protocol, count(*), min(created) FROM sns_deliveries
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
// (zero when none is pending).
func (db *DB) PendingActionCount(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest *int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*), min(created) FROM alarm_actions WHERE status = 'pending'`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending alarm actions: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, time.UnixMilli(*oldest).UTC(), nil
}
