package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

var _ sns.Store = (*DB)(nil)

// GetTopic implements sns.Store.
func (db *DB) GetTopic(ctx context.Context, arn string) (*sns.Topic, error) {
	var doc string
	var deleted int
	err := db.read.QueryRowContext(ctx, `SELECT doc, subs_deleted FROM sns_topics WHERE arn = ?`, arn).Scan(&doc, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("topic %s: %w", arn, sns.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get topic: %w", err)
	}
	t := new(sns.Topic)
	if err := json.Unmarshal([]byte(doc), t); err != nil {
		return nil, fmt.Errorf("decode stored topic: %w", err)
	}
	t.SubscriptionsDeleted = deleted
	return t, nil
}

// PutTopic implements sns.Store.
func (db *DB) PutTopic(ctx context.Context, t *sns.Topic) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode topic: %w", err)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sns_topics (arn, account_id, region, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc`, t.ARN, t.Scope.AccountID, t.Scope.Region, string(b))
		if err != nil {
			return fmt.Errorf("store topic: %w", err)
		}
		return nil
	})
}

// DeleteTopic implements sns.Store.
func (db *DB) DeleteTopic(ctx context.Context, arn string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_subscriptions WHERE topic_arn = ?`, arn); err != nil {
			return fmt.Errorf("delete subscriptions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_topics WHERE arn = ?`, arn); err != nil {
			return fmt.Errorf("delete topic: %w", err)
		}
		return nil
	})
}

// ListTopics implements sns.Store.
func (db *DB) ListTopics(ctx context.Context, sc sns.Scope, after string, limit int) ([]*sns.Topic, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc, subs_deleted FROM sns_topics WHERE account_id = ? AND region = ? AND arn > ?
		ORDER BY arn LIMIT ?`, sc.AccountID, sc.Region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	defer rows.Close()
	var out []*sns.Topic
	for rows.Next() {
		var doc string
		t := new(sns.Topic)
		if err := rows.Scan(&doc, &t.SubscriptionsDeleted); err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		deleted := t.SubscriptionsDeleted
		if err := json.Unmarshal([]byte(doc), t); err != nil {
			return nil, fmt.Errorf("decode stored topic: %w", err)
		}
		t.SubscriptionsDeleted = deleted
		out = append(out, t)
	}
	return out, rows.Err()
}

func scanSubscriptions(rows *sql.Rows) ([]*sns.Subscription, error) {
	defer rows.Close()
	var out []*sns.Subscription
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("read subscriptions: %w", err)
		}
		s := new(sns.Subscription)
		if err := json.Unmarshal([]byte(doc), s); err != nil {
			return nil, fmt.Errorf("decode stored subscription: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (db *DB) oneSubscription(ctx context.Context, query, arg string) (*sns.Subscription, error) {
	rows, err := db.read.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, fmt.Errorf("get subscription: %w", err)
	}
	subs, err := scanSubscriptions(rows)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("subscription: %w", sns.ErrNotFound)
	}
	return subs[0], nil
}

// GetSubscription implements sns.Store.
func (db *DB) GetSubscription(ctx context.Context, arn string) (*sns.Subscription, error) {
	return db.oneSubscription(ctx, `SELECT doc FROM sns_subscriptions WHERE arn = ?`, arn)
}

// SubscriptionByToken implements sns.Store.
func (db *DB) SubscriptionByToken(ctx context.Context, token string) (*sns.Subscription, error) {
	return db.oneSubscription(ctx, `SELECT doc FROM sns_subscriptions WHERE token = ? LIMIT 1`, token)
}

// PutSubscription implements sns.Store.
func (db *DB) PutSubscription(ctx context.Context, s *sns.Subscription, ds []sns.Delivery) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode subscription: %w", err)
	}
	docs, err := encodeDeliveries(ds)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sns_subscriptions (arn, topic_arn, account_id, region, token, doc)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET token = excluded.token, doc = excluded.doc`,
			s.ARN, s.TopicARN, s.Scope.AccountID, s.Scope.Region, s.Token, string(b)); err != nil {
			return fmt.Errorf("store subscription: %w", err)
		}
		return insertDeliveries(ctx, tx, ds, docs)
	})
}

// DeleteSubscription implements sns.Store.
func (db *DB) DeleteSubscription(ctx context.Context, arn string, ds []sns.Delivery) error {
	docs, err := encodeDeliveries(ds)
	if err != nil {
		return err
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var topic string
		err := tx.QueryRowContext(ctx, `DELETE FROM sns_subscriptions WHERE arn = ? RETURNING topic_arn`, arn).Scan(&topic)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete subscription: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sns_topics SET subs_deleted = subs_deleted + 1 WHERE arn = ?`, topic); err != nil {
			return fmt.Errorf("count deleted subscription: %w", err)
		}
		return insertDeliveries(ctx, tx, ds, docs)
	})
}

// ListSubscriptions implements sns.Store.
func (db *DB) ListSubscriptions(ctx context.Context, sc sns.Scope, topicARN, after string, limit int) ([]*sns.Subscription, error) {
	var rows *sql.Rows
	var err error
	if topicARN != "" {
		rows, err = db.read.QueryContext(ctx, `SELECT doc FROM sns_subscriptions WHERE topic_arn = ? AND account_id = ? AND region = ? AND arn > ?
			ORDER BY arn LIMIT ?`, topicARN, sc.AccountID, sc.Region, after, limit)
	} else {
		rows, err = db.read.QueryContext(ctx, `SELECT doc FROM sns_subscriptions WHERE account_id = ? AND region = ? AND arn > ?
			ORDER BY arn LIMIT ?`, sc.AccountID, sc.Region, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return scanSubscriptions(rows)
}

func encodeDeliveries(ds []sns.Delivery) ([]string, error) {
	docs := make([]string, len(ds))
	for i := range ds {
		b, err := json.Marshal(&ds[i])
		if err != nil {
			return nil, fmt.Errorf("encode delivery: %w", err)
		}
		docs[i] = string(b)
	}
	return docs, nil
}

func insertDeliveries(ctx context.Context, tx *sql.Tx, ds []sns.Delivery, docs []string) error {
	for i, d := range ds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sns_deliveries (message_id, subscription_arn, protocol, status, attempts, next_attempt, created, doc)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?)`, d.MessageID, d.SubscriptionARN, d.Protocol, sns.DeliveryPending,
			d.NextAttempt.UnixMilli(), d.Created.UnixMilli(), docs[i]); err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}
	}
	return nil
}

// Enqueue implements sns.Store.
func (db *DB) Enqueue(ctx context.Context, dedupKey, messageID string, ds []sns.Delivery) (string, error) {
	docs, err := encodeDeliveries(ds)
	if err != nil {
		return "", err
	}
	got := messageID
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		got = messageID
		if dedupKey != "" {
			var prev string
			err := tx.QueryRowContext(ctx, `SELECT message_id FROM sns_published WHERE dedup_key = ?`, dedupKey).Scan(&prev)
			if err == nil {
				got = prev
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("check dedup key: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO sns_published (dedup_key, message_id, created) VALUES (?, ?, ?)`,
				dedupKey, messageID, db.now().UnixMilli()); err != nil {
				return fmt.Errorf("record dedup key: %w", err)
			}
		}
		return insertDeliveries(ctx, tx, ds, docs)
	})
	return got, err
}

// DueDeliveries returns up to limit pending deliveries whose next attempt is due at now,
// oldest due first. It is the outbox side the notify worker uses.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]sns.Delivery, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, attempts, next_attempt, status, last_error, doc FROM sns_deliveries
		WHERE status = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

func scanDeliveries(rows *sql.Rows) ([]sns.Delivery, error) {
	defer rows.Close()
	var out []sns.Delivery
	for rows.Next() {
		var d sns.Delivery
		var doc string
		var id int64
		var attempts int
		var next int64
		var status, lastErr string
		if err := rows.Scan(&id, &attempts, &next, &status, &lastErr, &doc); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("decode stored delivery: %w", err)
		}
		d.ID, d.Attempts, d.NextAttempt, d.Status, d.LastError = id, attempts, time.UnixMilli(next).UTC(), status, lastErr
		out = append(out, d)
	}
	return out, rows.Err()
}

// NextDeliveryDue returns when the earliest pending delivery is due; ok is false when none is
// pending.
func (db *DB) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT min(next_attempt) FROM sns_deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("find next delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(next.Int64).UTC(), true, nil
}

// RecordAttempt stores attempt a of delivery a.DeliveryID and the delivery's new state in one
// transaction: status, and next (the next attempt time, for a pending delivery).
func (db *DB) RecordAttempt(ctx context.Context, a sns.Attempt, status string, next time.Time) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sns_attempts (delivery_id, n, at, duration_us, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)`,
			a.DeliveryID, a.N, a.At.UnixMilli(), a.Duration.Microseconds(), a.Outcome, a.Detail); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		lastErr := ""
		if a.Outcome != "delivered" {
			lastErr = a.Detail
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sns_deliveries SET status = ?, attempts = ?, next_attempt = ?, last_error = ? WHERE id = ?`,
			status, a.N, next.UnixMilli(), lastErr, a.DeliveryID); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		return nil
	})
}

// Deliveries returns up to limit deliveries with id > after, in id order, for inspection.
func (db *DB) Deliveries(ctx context.Context, after int64, limit int) ([]sns.Delivery, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, attempts, next_attempt, status, last_error, doc FROM sns_deliveries
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// Attempts returns the recorded attempts of a delivery in order.
func (db *DB) Attempts(ctx context.Context, deliveryID int64) ([]sns.Attempt, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT n, at, duration_us, outcome, detail FROM sns_attempts WHERE delivery_id = ? ORDER BY n`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []sns.Attempt
	for rows.Next() {
		a := sns.Attempt{DeliveryID: deliveryID}
		var at, us int64
		if err := rows.Scan(&a.N, &at, &us, &a.Outcome, &a.Detail); err != nil {
			return nil, fmt.Errorf("read attempts: %w", err)
		}
		a.At, a.Duration = time.UnixMilli(at).UTC(), time.Duration(us)*time.Microsecond
		out = append(out, a)
	}
	return out, rows.Err()
}

// PruneDeliveries deletes finished deliveries (delivered or failed) created before before,
// with their attempts, and the publish dedup keys recorded before it; pending deliveries are never
// deleted. It returns the number of deliveries removed.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		ms := before.UnixMilli()
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_attempts WHERE delivery_id IN
			(SELECT id FROM sns_deliveries WHERE status != 'pending' AND created < ?)`, ms); err != nil {
			return fmt.Errorf("prune attempts: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sns_deliveries WHERE status != 'pending' AND created < ?`, ms)
		if err != nil {
			return fmt.Errorf("prune deliveries: %w", err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM sns_published WHERE created < ?`, ms); err != nil {
			return fmt.Errorf("prune dedup keys: %w", err)
		}
		return nil
	})
	return n, err
}
