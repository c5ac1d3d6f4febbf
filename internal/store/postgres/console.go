package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// Scope is an (account, region) pair that holds at least one resource, as sqlite.Scope.
type Scope struct {
	AccountID string
	Region    string
}

// Scopes lists every (account, region) that holds an alarm, a topic, a trail or a log group,
// sorted, as SQLite's Scopes does: the web console learns from it which scopes to ask the (scoped)
// domain services about.
func (db *DB) Scopes(ctx context.Context) ([]Scope, error) {
	rows, err := db.pool.Query(ctx, `SELECT account_id, region FROM alarms
		UNION SELECT account_id, region FROM sns_topics
		UNION SELECT account_id, region FROM trails
		UNION SELECT account_id, region FROM log_groups
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list scopes: %w", err)
	}
	return out, nil
}

// RecentDeliveries returns up to limit SNS deliveries with id < before (0: from the newest),
// newest first: the console's delivery log pages backwards through the outbox. Ids are a
// sequence shared by every replica, so the pages are the same whichever replica answers.
func (db *DB) RecentDeliveries(ctx context.Context, before int64, limit int) ([]sns.Delivery, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM sns_deliveries
		WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// LastReceiverDelivery returns the newest receiver message (protocol receiver.Protocol) whose
// endpoint is endpoint (<public-url>/receivers/<name>); ok is false when the outbox holds none
// (never sent, or pruned). The console shows it as the receiver's last delivery; the partial
// expression index of schema 080 makes it one index lookup.
func (db *DB) LastReceiverDelivery(ctx context.Context, endpoint string) (d sns.Delivery, ok bool, err error) {
	// The protocol is a literal so that the planner can match the partial index.
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM sns_deliveries
		WHERE protocol = '`+receiver.Protocol+`' AND (doc::jsonb) ->> 'Endpoint' = $1 ORDER BY id DESC LIMIT 1`, endpoint)
	if err != nil {
		return d, false, fmt.Errorf("find receiver delivery: %w", err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil || len(ds) == 0 {
		return d, false, err
	}
	return ds[0], true, nil
}
