package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

var _ alarm.Store = (*DB)(nil)

// LoadAlarms implements alarm.Store.
func (db *DB) LoadAlarms(ctx context.Context) ([]*alarm.Record, error) {
	rows, err := db.pool.Query(ctx, `SELECT doc FROM alarms ORDER BY account_id, region, name`)
	if err != nil {
		return nil, fmt.Errorf("load alarms: %w", err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("load alarms: %w", err)
	}
	out := make([]*alarm.Record, 0, len(docs))
	for _, doc := range docs {
		r := new(alarm.Record)
		if err := json.Unmarshal([]byte(doc), r); err != nil {
			return nil, fmt.Errorf("decode stored alarm: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Apply implements alarm.Store: one transaction for the whole change. A change with a Fence first
// reads the lease's row under a share lock, which a rival's grant (an UPDATE of that row) waits
// for: the change commits only if the token is still the one it names, and no grant can slip in
// between the check and the commit.
func (db *DB) Apply(ctx context.Context, c alarm.Change) error {
	docs := make([]string, len(c.Put))
	for i, r := range c.Put {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode alarm: %w", err)
		}
		docs[i] = string(b)
	}
	return db.withTx(ctx, func(tx pgx.Tx) error {
		if c.Fence != nil {
			if err := checkFence(ctx, tx, c.Fence.Lease, c.Fence.Token); errors.Is(err, errStaleToken) {
				return fmt.Errorf("store alarm change: %w", alarm.ErrFenced)
			} else if err != nil {
				return fmt.Errorf("store alarm change: %w", err)
			}
		}
		if err := checkExpect(ctx, tx, c.Expect); err != nil {
			return err
		}
		// The writes go in one round trip (pipelined, run in order).
		var writes pgx.Batch
		for i, r := range c.Put {
			writes.Queue(`INSERT INTO alarms (account_id, region, name, doc) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, region, name) DO UPDATE SET doc = excluded.doc`,
				r.Scope.AccountID, r.Scope.Region, r.Name, docs[i])
		}
		for _, k := range c.Delete {
			writes.Queue(`DELETE FROM alarms WHERE account_id = $1 AND region = $2 AND name = $3`,
				k.Scope.AccountID, k.Scope.Region, k.Name)
		}
		for _, h := range c.History {
			queueHistory(&writes, h.Scope, h.Item)
		}
		for _, a := range c.Actions {
			writes.Queue(`INSERT INTO alarm_actions (account_id, region, alarm_name, alarm_type,
				alarm_arn, action_arn, old_state, new_state, reason, subject, message, state_updated, created, status)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending')`,
				a.Scope.AccountID, a.Scope.Region, a.AlarmName, a.AlarmType, a.AlarmARN, a.ActionARN,
				a.OldState.String(), a.NewState.String(), a.Reason, a.Subject, a.Message,
				a.StateUpdated.UnixMilli(), a.Created.UnixMilli())
		}
		if err := db.queueNotify(&writes, c); err != nil {
			return err
		}
		if writes.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, &writes).Close(); err != nil {
			return fmt.Errorf("store alarm change: %w", err)
		}
		return nil
	})
}

// alarmNote names one changed alarm in a notification on alarmsChannel.
type alarmNote struct {
	Account, Region, Name string
}

// queueNotify queues the announcement, on alarmsChannel, of the alarms c puts or deletes;
// PostgreSQL delivers the notifications when the transaction commits, and drops them when it rolls back, so every replica's
// ListenAlarms hears of exactly the committed changes, after they are readable.
func (db *DB) queueNotify(q *pgx.Batch, c alarm.Change) error {
	if len(c.Put) == 0 && len(c.Delete) == 0 {
		return nil
	}
	ch := db.channel(alarmsChannel)
	var batch []alarmNote
	size := 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		p, err := json.Marshal(batch)
		if err != nil {
			return fmt.Errorf("encode notification: %w", err)
		}
		batch, size = nil, 0
		q.Queue(`SELECT pg_notify($1, $2)`, ch, string(p))
		return nil
	}
	add := func(sc alarm.Scope, name string) error {
		n := alarmNote{Account: sc.AccountID, Region: sc.Region, Name: name}
		l := len(n.Account) + len(n.Region) + len(n.Name) + 40
		if size+l > maxNotePayload {
			if err := send(); err != nil {
				return err
			}
		}
		batch, size = append(batch, n), size+l
		return nil
	}
	for _, r := range c.Put {
		if err := add(r.Scope, r.Name); err != nil {
			return err
		}
	}
	for _, k := range c.Delete {
		if err := add(k.Scope, k.Name); err != nil {
			return err
		}
	}
	return send()
}

// ListenAlarms listens on a connection of its own until ctx ends and hands fn the key of every
// alarm any replica (this one included) changed, for alarm.Service.Refresh.
func (db *DB) ListenAlarms(ctx context.Context, fn func(alarm.AlarmKey)) error {
	return db.listen(ctx, alarmsChannel, ChannelAlarms, func(payload string) {
		var notes []alarmNote
		if err := json.Unmarshal([]byte(payload), &notes); err != nil {
			return
		}
		for _, n := range notes {
			fn(alarm.AlarmKey{Scope: alarm.Scope{AccountID: n.Account, Region: n.Region}, Name: n.Name})
		}
	})
}

// LoadAlarm implements alarm.AlarmLoader: the stored alarm k, or nil when there is none.
func (db *DB) LoadAlarm(ctx context.Context, k alarm.AlarmKey) (*alarm.Record, error) {
	var doc string
	err := db.pool.QueryRow(ctx, `SELECT doc FROM alarms WHERE account_id = $1 AND region = $2 AND name = $3`,
		k.Scope.AccountID, k.Scope.Region, k.Name).Scan(&doc)
	if errNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load alarm: %w", err)
	}
	r := new(alarm.Record)
	if err := json.Unmarshal([]byte(doc), r); err != nil {
		return nil, fmt.Errorf("decode stored alarm: %w", err)
	}
	return r, nil
}

// checkExpect locks the alarms c.Expect names (in key order, so two changes never deadlock) and
// fails with alarm.ErrConflict unless each is stored as expected. Records are compared as their
// JSON after a round trip, the form in which they are stored.
func checkExpect(ctx context.Context, tx pgx.Tx, expect []alarm.Expectation) error {
	sorted := slices.Clone(expect)
	slices.SortFunc(sorted, func(a, b alarm.Expectation) int {
		return cmp.Or(cmp.Compare(a.Key.Scope.AccountID, b.Key.Scope.AccountID), cmp.Compare(a.Key.Scope.Region, b.Key.Scope.Region),
			cmp.Compare(a.Key.Name, b.Key.Name))
	})
	for _, x := range sorted {
		var doc string
		err := tx.QueryRow(ctx, `SELECT doc FROM alarms WHERE account_id = $1 AND region = $2 AND name = $3 FOR UPDATE`,
			x.Key.Scope.AccountID, x.Key.Scope.Region, x.Key.Name).Scan(&doc)
		switch {
		case errNoRows(err):
			if x.Record != nil {
				return fmt.Errorf("alarm %q was deleted: %w", x.Key.Name, alarm.ErrConflict)
			}
			continue
		case err != nil:
			return fmt.Errorf("check alarm: %w", err)
		case x.Record == nil:
			return fmt.Errorf("alarm %q was created: %w", x.Key.Name, alarm.ErrConflict)
		}
		stored := new(alarm.Record)
		if err := json.Unmarshal([]byte(doc), stored); err != nil {
			return fmt.Errorf("decode stored alarm: %w", err)
		}
		a, err1 := json.Marshal(stored)
		b, err2 := json.Marshal(x.Record)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("encode alarm: %w", err)
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("alarm %q: %w", x.Key.Name, alarm.ErrConflict)
		}
	}
	return nil
}

// queueHistory queues the insert of one history item.
func queueHistory(b *pgx.Batch, sc alarm.Scope, it alarm.HistoryItem) {
	b.Queue(`INSERT INTO alarm_history (account_id, region, alarm_name, alarm_type, ts,
		item_type, summary, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		sc.AccountID, sc.Region, it.AlarmName, it.AlarmType, it.Timestamp.UnixMilli(),
		it.HistoryItemType, it.HistorySummary, it.HistoryData)
}

func insertHistory(ctx context.Context, tx pgx.Tx, sc alarm.Scope, it alarm.HistoryItem) error {
	if _, err := tx.Exec(ctx, `INSERT INTO alarm_history (account_id, region, alarm_name, alarm_type, ts,
		item_type, summary, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		sc.AccountID, sc.Region, it.AlarmName, it.AlarmType, it.Timestamp.UnixMilli(),
		it.HistoryItemType, it.HistorySummary, it.HistoryData); err != nil {
		return fmt.Errorf("store alarm history: %w", err)
	}
	return nil
}

// expireChunk bounds the rows one expiring transaction deletes.
const expireChunk = 10000

// ExpireHistory implements alarm.Store, expireChunk items per transaction, oldest first.
func (db *DB) ExpireHistory(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM alarm_history WHERE id IN
			(SELECT id FROM alarm_history WHERE ts < $1 ORDER BY ts LIMIT $2)`, before.UnixMilli(), expireChunk)
		if err != nil {
			return total, fmt.Errorf("expire alarm history: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < expireChunk {
			return total, nil
		}
	}
}

// History implements alarm.Store with a keyset cursor "<ts>:<id>", as the SQLite store does.
func (db *DB) History(ctx context.Context, sc alarm.Scope, q alarm.HistoryQuery) ([]alarm.HistoryItem, string, error) {
	var where strings.Builder
	args := []any{sc.AccountID, sc.Region}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where.WriteString(`account_id = $1 AND region = $2`)
	if q.AlarmName != "" {
		where.WriteString(` AND alarm_name = ` + arg(q.AlarmName))
	}
	if len(q.AlarmTypes) > 0 {
		where.WriteString(` AND alarm_type = ANY(` + arg(q.AlarmTypes) + `)`)
	}
	if q.ItemType != "" {
		where.WriteString(` AND item_type = ` + arg(q.ItemType))
	}
	if !q.Start.IsZero() {
		where.WriteString(` AND ts >= ` + arg(q.Start.UnixMilli()))
	}
	if !q.End.IsZero() {
		where.WriteString(` AND ts < ` + arg(q.End.UnixMilli()))
	}
	cmp, order := "<", "DESC"
	if q.Ascending {
		cmp, order = ">", "ASC"
	}
	if q.After != "" {
		tsStr, idStr, ok := strings.Cut(q.After, ":")
		ts, err1 := strconv.ParseInt(tsStr, 10, 64)
		id, err2 := strconv.ParseInt(idStr, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, "", alarm.ErrInvalidCursor
		}
		where.WriteString(` AND (ts, id) ` + cmp + ` (` + arg(ts) + `, ` + arg(id) + `)`)
	}
	limit := max(q.Limit, 1)
	rows, err := db.pool.Query(ctx, `SELECT id, alarm_name, alarm_type, ts, item_type, summary, data
		FROM alarm_history WHERE `+where.String()+` ORDER BY ts `+order+`, id `+order+` LIMIT `+arg(limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("read alarm history: %w", err)
	}
	defer rows.Close()
	var out []alarm.HistoryItem
	var lastTS, lastID int64
	next := ""
	for rows.Next() {
		var it alarm.HistoryItem
		var id, ts int64
		if err := rows.Scan(&id, &it.AlarmName, &it.AlarmType, &ts, &it.HistoryItemType, &it.HistorySummary, &it.HistoryData); err != nil {
			return nil, "", fmt.Errorf("read alarm history: %w", err)
		}
		if len(out) == limit {
			next = strconv.FormatInt(lastTS, 10) + ":" + strconv.FormatInt(lastID, 10)
			break
		}
		it.Timestamp = time.UnixMilli(ts).UTC()
		out = append(out, it)
		lastTS, lastID = ts, id
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("read alarm history: %w", err)
	}
	return out, next, nil
}

const actionColumns = `id, account_id, region, alarm_name, alarm_type, alarm_arn, action_arn, old_state, new_state,
	reason, subject, message, state_updated, created, status, error, attempts, next_attempt`

// PendingActions implements alarm.ActionQueue with the SQLite store's query: due pending actions
// that head their (alarm, action ARN) queue.
func (db *DB) PendingActions(ctx context.Context, now time.Time, limit int) ([]alarm.Action, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+actionColumns+`
		FROM alarm_actions a WHERE status = 'pending' AND next_attempt <= $1
		AND NOT EXISTS (SELECT 1 FROM alarm_actions b WHERE b.status = 'pending' AND b.account_id = a.account_id
			AND b.region = a.region AND b.alarm_name = a.alarm_name AND b.action_arn = a.action_arn AND b.id < a.id)
		ORDER BY id LIMIT $2`, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read pending actions: %w", err)
	}
	return collectActions(rows)
}

// AllActions returns every recorded action in creation order, pending or done (for tests and
// operators).
func (db *DB) AllActions(ctx context.Context) ([]alarm.Action, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+actionColumns+` FROM alarm_actions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	return collectActions(rows)
}

func collectActions(rows pgx.Rows) ([]alarm.Action, error) {
	defer rows.Close()
	var out []alarm.Action
	for rows.Next() {
		var a alarm.Action
		var oldS, newS string
		var stateUpdated, created, next int64
		if err := rows.Scan(&a.ID, &a.Scope.AccountID, &a.Scope.Region, &a.AlarmName, &a.AlarmType, &a.AlarmARN,
			&a.ActionARN, &oldS, &newS, &a.Reason, &a.Subject, &a.Message, &stateUpdated, &created, &a.Status, &a.Error,
			&a.Attempts, &next); err != nil {
			return nil, fmt.Errorf("read action: %w", err)
		}
		if next != 0 {
			a.NextAttempt = time.UnixMilli(next).UTC()
		}
		var err error
		if a.OldState, err = alarm.ParseState(oldS); err != nil {
			return nil, fmt.Errorf("read action %d: %w", a.ID, err)
		}
		if a.NewState, err = alarm.ParseState(newS); err != nil {
			return nil, fmt.Errorf("read action %d: %w", a.ID, err)
		}
		a.StateUpdated, a.Created = time.UnixMilli(stateUpdated).UTC(), time.UnixMilli(created).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	return out, nil
}

// RetryAction implements alarm.ActionQueue.
func (db *DB) RetryAction(ctx context.Context, id int64, r alarm.ActionRetry) error {
	return db.retryAction(ctx, id, r, "")
}

// RetryAction is DB.RetryAction for an action Holder claimed: the action is rescheduled only while
// the claim is still Holder's or no other replica's claim runs. A replica whose claim expired
// mid-publish must not end the claim of the replica that took the action over and is publishing
// it now: a third replica would claim it at once and publish it once more.
func (q ClaimingActionQueue) RetryAction(ctx context.Context, id int64, r alarm.ActionRetry) error {
	return q.retryAction(ctx, id, r, q.Holder)
}

// retryAction is RetryAction, limited to holder's claim unless holder is empty.
func (db *DB) retryAction(ctx context.Context, id int64, r alarm.ActionRetry, holder string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE alarm_actions SET attempts = $1, next_attempt = $2, error = $3,
		claimed_by = '', claimed_until = 0 WHERE id = $4 AND status = 'pending'
		AND ($5 = '' OR claimed_by = $5 OR claimed_until <= `+dbNowMS+`)`, r.Attempts, r.NextAttempt.UnixMilli(), r.Err, id, holder); err != nil {
		return fmt.Errorf("reschedule alarm action: %w", err)
	}
	return nil
}

// MarkActionDone implements alarm.ActionQueue: the status change and the Action history item
// commit together, and only a pending action is marked, so when two replicas finish the same
// action one records it and the other does nothing.
func (db *DB) MarkActionDone(ctx context.Context, id int64, o alarm.ActionOutcome) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		status := alarm.ActionSucceeded
		if o.Err != "" {
			status = alarm.ActionFailed
		}
		var a alarm.Action
		var stateUpdated int64
		err := tx.QueryRow(ctx, `UPDATE alarm_actions SET status = $1, error = $2, done_at = $3,
			claimed_by = '', claimed_until = 0 WHERE id = $4 AND status = 'pending'
			RETURNING account_id, region, alarm_name, alarm_type, action_arn, message, state_updated`,
			status, o.Err, o.At.UnixMilli(), id).Scan(&a.Scope.AccountID, &a.Scope.Region, &a.AlarmName, &a.AlarmType,
			&a.ActionARN, &a.Message, &stateUpdated)
		if errNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark action done: %w", err)
		}
		a.StateUpdated = time.UnixMilli(stateUpdated).UTC()
		return insertHistory(ctx, tx, a.Scope, alarm.ActionHistoryItem(a, o))
	})
}

// ClaimingActionQueue is the alarm action outbox as a replica among several drains it:
// PendingActions claims the actions it returns for Holder until ClaimFor has passed (on the
// database's clock), skipping actions another replica is claiming right now (FOR UPDATE SKIP
// LOCKED) or holds an unexpired claim on. MarkActionDone and RetryAction end the claim; a dead
// replica's claims are taken over once they expire. The queue stays first in, first out per alarm
// and action ARN: only the head of each queue is claimed, and while it is claimed the actions behind
// it wait.
type ClaimingActionQueue struct {
	*DB
	Holder   string
	ClaimFor time.Duration
}

// PendingActions claims and returns up to limit due actions that head their queue, oldest first.
func (q ClaimingActionQueue) PendingActions(ctx context.Context, now time.Time, limit int) ([]alarm.Action, error) {
	rows, err := q.pool.Query(ctx, `UPDATE alarm_actions SET claimed_by = $1, claimed_until = `+dbNowMS+` + $2
		WHERE id IN (SELECT id FROM alarm_actions a
			WHERE status = 'pending' AND next_attempt <= $3 AND claimed_until <= `+dbNowMS+`
			AND NOT EXISTS (SELECT 1 FROM alarm_actions b WHERE b.status = 'pending' AND b.account_id = a.account_id
				AND b.region = a.region AND b.alarm_name = a.alarm_name AND b.action_arn = a.action_arn AND b.id < a.id)
			ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+actionColumns, q.Holder, q.ClaimFor.Milliseconds(), now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("claim pending actions: %w", err)
	}
	acts, err := collectActions(rows)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(acts, func(a, b alarm.Action) int { return cmp.Compare(a.ID, b.ID) })
	return acts, nil
}
