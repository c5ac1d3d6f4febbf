package sqlite

import (
	"context"
	"fmt"
	"math"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// Scope is an (account, region) pair that holds at least one resource.
type Scope struct {
	AccountID string
	Region    string
}

// Scopes lists every (account, region) that holds a log group, an alarm, a topic or a trail,
// sorted. The console reads each scope's resources through the domain services, which are all
// scoped; this is how it learns which scopes to ask. It reads only the resource tables, never
// the log events.
func (db *DB) Scopes(ctx context.Context) ([]Scope, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT account_id, region FROM log_groups
		UNION SELECT account_id, region FROM alarms
		UNION SELECT account_id, region FROM sns_topics
		UNION SELECT account_id, region FROM trails
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list scopes: %w", err)
	}
	defer rows.Close()
	var out []Scope
	for rows.Next() {
		var s Scope
		if err := rows.Scan(&s.AccountID, &s.Region); err != nil {
			return nil, fmt.Errorf("list scopes: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// RecentDeliveries returns up to limit SNS deliveries with id < before (0: from the newest),
// newest first: the console's delivery log pages backwards through the outbox.
func (db *DB) RecentDeliveries(ctx context.Context, before int64, limit int) ([]sns.Delivery, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, attempts, next_attempt, status, last_error, doc FROM sns_deliveries
		WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// LastReceiverDelivery returns the newest receiver message (protocol receiver.Protocol) whose
// endpoint is endpoint (<public-url>/receivers/<name>); ok is false when the outbox holds none
// (never sent, or pruned). The console shows it as the receiver's last delivery; the partial
// index of schema 230 makes it one index lookup.
func (db *DB) LastReceiverDelivery(ctx context.Context, endpoint string) (d sns.Delivery, ok bool, err error) {
	// The protocol is a literal so that the planner can use the partial index.
	rows, err := db.read.QueryContext(ctx, `SELECT id, attempts, next_attempt, status, last_error, doc FROM sns_deliveries
		WHERE protocol = '`+receiver.Protocol+`' AND json_extract(doc, '$.Endpoint') = ? ORDER BY id DESC LIMIT 1`, endpoint)
	if err != nil {
		return d, false, fmt.Errorf("find receiver delivery: %w", err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil || len(ds) == 0 {
		return d, false, err
	}
	return ds[0], true, nil
}
