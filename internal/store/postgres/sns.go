package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/sns"
)

var _ sns.Store = (*DB)(nil)

// GetTopic implements sns.Store.
func (db *DB) GetTopic(ctx context.Context, arn string) (*sns.Topic, error) {
	var doc string
	var deleted int
	err := db.pool.QueryRow(ctx, `SELECT doc, subs_deleted FROM sns_topics WHERE arn = $1`, arn).Scan(&doc, &deleted)
	if errNoRows(err) {
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
	if _, err := db.pool.Exec(ctx, `INSERT INTO sns_topics (arn, account_id, region, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc`, t.ARN, t.Scope.AccountID, t.Scope.Region, string(b)); err != nil {
		return fmt.Errorf("store topic: %w", err)
	}
	return nil
}

// DeleteTopic implements sns.Store.
func (db *DB) DeleteTopic(ctx context.Context, arn string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sns_subscriptions WHERE topic_arn = $1`, arn); err != nil {
			return fmt.Errorf("delete subscriptions: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sns_topics WHERE arn = $1`, arn); err != nil {
			return fmt.Errorf("delete topic: %w", err)
		}
		return nil
	})
}

// ListTopics implements sns.Store.
func (db *DB) ListTopics(ctx context.Context, sc sns.Scope, after string, limit int) ([]*sns.Topic, error) {
	rows, err := db.pool.Query(ctx, `SELECT doc, subs_deleted FROM sns_topics WHERE account_id = $1 AND region = $2 AND arn > $3
		ORDER BY arn LIMIT $4`, sc.AccountID, sc.Region, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	defer rows.Close()
	var out []*sns.Topic
	for rows.Next() {
		var doc string
		var deleted int
		if err := rows.Scan(&doc, &deleted); err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		t := new(sns.Topic)
		if err := json.Unmarshal([]byte(doc), t); err != nil {
			return nil, fmt.Errorf("decode stored topic: %w", err)
		}
		t.SubscriptionsDeleted = deleted
		out = append(out, t)
	}
	return out, rows.Err()
}

func (db *DB) subscriptions(ctx context.Context, query string, args ...any) ([]*sns.Subscription, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	out := make([]*sns.Subscription, 0, len(docs))
	for _, doc := range docs {
		s := new(sns.Subscription)
		if err := json.Unmarshal([]byte(doc), s); err != nil {
			return nil, fmt.Errorf("decode stored subscription: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

func (db *DB) oneSubscription(ctx context.Context, query, arg string) (*sns.Subscription, error) {
	subs, err := db.subscriptions(ctx, query, arg)
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
	return db.oneSubscription(ctx, `SELECT doc FROM sns_subscriptions WHERE arn = $1`, arn)
}

// SubscriptionByToken implements sns.Store.
func (db *DB) SubscriptionByToken(ctx context.Context, token string) (*sns.Subscription, error) {
	return db.oneSubscription(ctx, `SELECT doc FROM sns_subscriptions WHERE token = $1 LIMIT 1`, token)
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
	return db.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sns_subscriptions (arn, topic_arn, account_id, region, token, doc)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (arn) DO UPDATE SET token = excluded.token, doc = excluded.doc`,
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
	return db.withTx(ctx, func(tx pgx.Tx) error {
		var topic string
		err := tx.QueryRow(ctx, `DELETE FROM sns_subscriptions WHERE arn = $1 RETURNING topic_arn`, arn).Scan(&topic)
		if errNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete subscription: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE sns_topics SET subs_deleted = subs_deleted + 1 WHERE arn = $1`, topic); err != nil {
			return fmt.Errorf("count deleted subscription: %w", err)
		}
		return insertDeliveries(ctx, tx, ds, docs)
	})
}

// ListSubscriptions implements sns.Store.
func (db *DB) ListSubscriptions(ctx context.Context, sc sns.Scope, topicARN, after string, limit int) ([]*sns.Subscription, error) {
	return db.subscriptions(ctx, `SELECT doc FROM sns_subscriptions WHERE ($1 = '' OR topic_arn = $1)
		AND account_id = $2 AND region = $3 AND arn > $4 ORDER BY arn LIMIT $5`, topicARN, sc.AccountID, sc.Region, after, limit)
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

func insertDeliveries(ctx context.Context, tx pgx.Tx, ds []sns.Delivery, docs []string) error {
	for i, d := range ds {
		if _, err := tx.Exec(ctx, `INSERT INTO sns_deliveries (message_id, subscription_arn, protocol, status, attempts, next_attempt, created, doc)
			VALUES ($1, $2, $3, $4, 0, $5, $6, $7)`, d.MessageID, d.SubscriptionARN, d.Protocol, sns.DeliveryPending,
			d.NextAttempt.UnixMilli(), d.Created.UnixMilli(), docs[i]); err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}
	}
	return nil
}

// Enqueue implements sns.Store. The dedup key is inserted first (ON CONFLICT DO NOTHING), so of
// two replicas publishing one alarm action at once exactly one enqueues its deliveries and the
// other gets the first one's message id.
func (db *DB) Enqueue(ctx context.Context, dedupKey, messageID string, ds []sns.Delivery) (string, error) {
	docs, err := encodeDeliveries(ds)
	if err != nil {
		return "", err
	}
	got := messageID
	err = db.withTx(ctx, func(tx pgx.Tx) error {
		got = messageID
		if dedupKey != "" {
			tag, err := tx.Exec(ctx, `INSERT INTO sns_published (dedup_key, message_id, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				dedupKey, messageID, db.now().UnixMilli())
			if err != nil {
				return fmt.Errorf("record dedup key: %w", err)
			}
			if tag.RowsAffected() == 0 {
				if err := tx.QueryRow(ctx, `SELECT message_id FROM sns_published WHERE dedup_key = $1`, dedupKey).Scan(&got); err != nil {
					return fmt.Errorf("check dedup key: %w", err)
				}
				return nil
			}
		}
		return insertDeliveries(ctx, tx, ds, docs)
	})
	return got, err
}

const deliveryColumns = `id, attempts, next_attempt, status, last_error, doc`

// DueDeliveries returns up to limit pending deliveries whose next attempt is due at now, oldest
// due first, without claiming them (a single process's outbox; see ClaimingOutbox for replicas).
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]sns.Delivery, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM sns_deliveries
		WHERE status = 'pending' AND next_attempt <= $1 ORDER BY next_attempt, id LIMIT $2`, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

func scanDeliveries(rows pgx.Rows) ([]sns.Delivery, error) {
	defer rows.Close()
	var out []sns.Delivery
	for rows.Next() {
		var d sns.Delivery
		var doc string
		var id, next int64
		var attempts int
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
	var next *int64
	if err := db.pool.QueryRow(ctx, `SELECT min(next_attempt) FROM sns_deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("find next delivery: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(*next).UTC(), true, nil
}

// RecordAttempt stores attempt a and the delivery's new state in one transaction, and ends the
// delivery's claim. A delivery no longer pending is left as it is, its attempts included: with
// replicas, a replica whose claim expired mid-send (paused, or a slow endpoint) may finish after
// the replica that took the delivery over recorded it delivered or failed, and its late outcome
// (a retry) must not make the delivery pending again, which would send it a second time.
func (db *DB) RecordAttempt(ctx context.Context, a sns.Attempt, status string, next time.Time) error {
	return db.recordAttempt(ctx, a, status, next, "")
}

// RecordAttempt is DB.RecordAttempt for a delivery Holder claimed: the attempt is recorded only
// while the claim is still Holder's or no other replica's claim runs. A replica whose claim expired
// mid-send must not end the claim of the replica that took the delivery over and is sending it now:
// a third replica would claim it at once and send it once more.
func (o ClaimingOutbox) RecordAttempt(ctx context.Context, a sns.Attempt, status string, next time.Time) error {
	return o.recordAttempt(ctx, a, status, next, o.Holder)
}

// recordAttempt is RecordAttempt, limited to holder's claim (see ClaimingOutbox.RecordAttempt)
// unless holder is empty.
func (db *DB) recordAttempt(ctx context.Context, a sns.Attempt, status string, next time.Time, holder string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		lastErr := ""
		if a.Outcome != "delivered" {
			lastErr = a.Detail
		}
		tag, err := tx.Exec(ctx, `UPDATE sns_deliveries SET status = $1, attempts = $2, next_attempt = $3, last_error = $4,
			claimed_by = '', claimed_until = 0 WHERE id = $5 AND status = 'pending'
			AND ($6 = '' OR claimed_by = $6 OR claimed_until <= `+dbNowMS+`)`,
			status, a.N, next.UnixMilli(), lastErr, a.DeliveryID, holder)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sns_attempts (delivery_id, n, at, duration_us, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (delivery_id, n) DO UPDATE SET at = excluded.at, duration_us = excluded.duration_us,
			outcome = excluded.outcome, detail = excluded.detail`,
			a.DeliveryID, a.N, a.At.UnixMilli(), a.Duration.Microseconds(), a.Outcome, a.Detail); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		return nil
	})
}

// Deliveries returns up to limit deliveries with id > after, in id order, for inspection.
func (db *DB) Deliveries(ctx context.Context, after int64, limit int) ([]sns.Delivery, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM sns_deliveries WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// Attempts returns the recorded attempts of a delivery in order.
func (db *DB) Attempts(ctx context.Context, deliveryID int64) ([]sns.Attempt, error) {
	rows, err := db.pool.Query(ctx, `SELECT n, at, duration_us, outcome, detail FROM sns_attempts WHERE delivery_id = $1 ORDER BY n`, deliveryID)
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

// PruneDeliveries deletes finished deliveries created before before, with their attempts, and the
// publish dedup keys recorded before it; pending deliveries are never deleted.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		ms := before.UnixMilli()
		if _, err := tx.Exec(ctx, `DELETE FROM sns_attempts WHERE delivery_id IN
			(SELECT id FROM sns_deliveries WHERE status != 'pending' AND created < $1)`, ms); err != nil {
			return fmt.Errorf("prune attempts: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sns_deliveries WHERE status != 'pending' AND created < $1`, ms)
		if err != nil {
			return fmt.Errorf("prune deliveries: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM sns_published WHERE created < $1`, ms); err != nil {
			return fmt.Errorf("prune dedup keys: %w", err)
		}
		return nil
	})
	return n, err
}

// ClaimingOutbox is the SNS outbox as a replica among several drains it: DueDeliveries claims the
// deliveries it returns for Holder until ClaimFor has passed (on the database's clock), skipping
// rows another replica is claiming right now (FOR UPDATE SKIP LOCKED) or holds an unexpired claim
// on. RecordAttempt ends the claim. A replica that dies holding claims delays those deliveries
// by at most ClaimFor, after which any replica takes them over. A delivery whose sender finished
// but whose replica died before RecordAttempt is sent again: delivery is at least once, as SNS's.
type ClaimingOutbox struct {
	*DB
	Holder   string
	ClaimFor time.Duration
}

// DueDeliveries claims and returns up to limit due deliveries, oldest due first.
func (o ClaimingOutbox) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]sns.Delivery, error) {
	rows, err := o.pool.Query(ctx, `UPDATE sns_deliveries SET claimed_by = $1, claimed_until = `+dbNowMS+` + $2
		WHERE id IN (SELECT id FROM sns_deliveries
			WHERE status = 'pending' AND next_attempt <= $3 AND claimed_until <= `+dbNowMS+`
			ORDER BY next_attempt, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, o.Holder, o.ClaimFor.Milliseconds(), now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	sortDeliveries(ds)
	return ds, nil
}

// NextDeliveryDue returns when the earliest pending delivery may next be claimed: its next
// attempt, or the end of its claim when a replica (this one included) holds it. Without this,
// a worker whose due deliveries are all claimed would find the earliest one due already and
// query again at once, in a loop, for as long as the claims last. Claims end on the database's
// clock and attempts are due on the replicas'; they differ by the clocks' skew at most, which only
// moves the next query by as much (the worker also polls and is woken on every enqueue).
func (o ClaimingOutbox) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var next *int64
	if err := o.pool.QueryRow(ctx, `SELECT min(greatest(next_attempt, claimed_until)) FROM sns_deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("find next delivery: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(*next).UTC(), true, nil
}

// sortDeliveries puts claimed deliveries back in due order (UPDATE ... RETURNING has none).
func sortDeliveries(ds []sns.Delivery) {
	slices.SortFunc(ds, func(a, b sns.Delivery) int {
		return cmp.Or(a.NextAttempt.Compare(b.NextAttempt), cmp.Compare(a.ID, b.ID))
	})
}
