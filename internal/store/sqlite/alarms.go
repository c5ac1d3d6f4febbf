package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

var _ alarm.Store = (*DB)(nil)

// LoadAlarms implements alarm.Store.
func (db *DB) LoadAlarms(ctx context.Context) ([]*alarm.Record, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM alarms ORDER BY account_id, region, name`)
	if err != nil {
		return nil, fmt.Errorf("load alarms: %w", err)
	}
	defer rows.Close()
	var out []*alarm.Record
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("load alarms: %w", err)
		}
		r := new(alarm.Record)
		if err := json.Unmarshal([]byte(doc), r); err != nil {
			return nil, fmt.Errorf("decode stored alarm: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load alarms: %w", err)
	}
	return out, nil
}

// Apply implements alarm.Store: one transaction for the whole change.
func (db *DB) Apply(ctx context.Context, c alarm.Change) error {
	docs := make([]string, len(c.Put))
	for i, r := range c.Put {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode alarm: %w", err)
		}
		docs[i] = string(b)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		for i, r := range c.Put {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarms (account_id, region, name, doc) VALUES (?, ?, ?, ?)
				ON CONFLICT (account_id, region, name) DO UPDATE SET doc = excluded.doc`,
				r.Scope.AccountID, r.Scope.Region, r.Name, docs[i]); err != nil {
				return fmt.Errorf("store alarm: %w", err)
			}
		}
		for _, k := range c.Delete {
			if _, err := tx.ExecContext(ctx, `DELETE FROM alarms WHERE account_id = ? AND region = ? AND name = ?`,
				k.Scope.AccountID, k.Scope.Region, k.Name); err != nil {
				return fmt.Errorf("delete alarm: %w", err)
			}
		}
		for _, h := range c.History {
			if err := insertHistory(ctx, tx, h.Scope, h.Item); err != nil {
				return err
			}
		}
		for _, a := range c.Actions {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_actions (account_id, region, alarm_name, alarm_type,
				alarm_arn, action_arn, old_state, new_state, reason, subject, message, state_updated, created, status)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
				a.Scope.AccountID, a.Scope.Region, a.AlarmName, a.AlarmType, a.AlarmARN, a.ActionARN,
				a.OldState.String(), a.NewState.String(), a.Reason, a.Subject, a.Message,
				a.StateUpdated.UnixMilli(), a.Created.UnixMilli()); err != nil {
				return fmt.Errorf("store alarm action: %w", err)
			}
		}
		return nil
	})
}

func insertHistory(ctx context.Context, tx *sql.Tx, sc alarm.Scope, it alarm.HistoryItem) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_history (account_id, region, alarm_name, alarm_type, ts,
		item_type, summary, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sc.AccountID, sc.Region, it.AlarmName, it.AlarmType, it.Timestamp.UnixMilli(),
		it.HistoryItemType, it.HistorySummary, it.HistoryData); err != nil {
		return fmt.Errorf("store alarm history: %w", err)
	}
	return nil
}

// ExpireHistory implements alarm.Store. It deletes expireChunk items per transaction, oldest first,
// so that a first sweep over a long-running server's history does not hold up other writers.
func (db *DB) ExpireHistory(ctx context.Context, before time.Time) (int64, error) {
	return db.deleteInChunks(ctx, func(tx *sql.Tx) (int64, error) {
		r, err := tx.ExecContext(ctx, `DELETE FROM alarm_history WHERE id IN
			(SELECT id FROM alarm_history WHERE ts < ? ORDER BY ts LIMIT ?)`, before.UnixMilli(), expireChunk)
		if err != nil {
			return 0, fmt.Errorf("expire alarm history: %w", err)
		}
		return r.RowsAffected()
	})
}

// History implements alarm.Store with a keyset cursor "<ts>:<id>".
func (db *DB) History(ctx context.Context, sc alarm.Scope, q alarm.HistoryQuery) ([]alarm.HistoryItem, string, error) {
	var where strings.Builder
	args := []any{sc.AccountID, sc.Region}
	where.WriteString(`account_id = ? AND region = ?`)
	if q.AlarmName != "" {
		where.WriteString(` AND alarm_name = ?`)
		args = append(args, q.AlarmName)
	}
	if len(q.AlarmTypes) > 0 {
		where.WriteString(` AND alarm_type IN (?` + strings.Repeat(`, ?`, len(q.AlarmTypes)-1) + `)`)
		for _, t := range q.AlarmTypes {
			args = append(args, t)
		}
	}
	if q.ItemType != "" {
		where.WriteString(` AND item_type = ?`)
		args = append(args, q.ItemType)
	}
	if !q.Start.IsZero() {
		where.WriteString(` AND ts >= ?`)
		args = append(args, q.Start.UnixMilli())
	}
	if !q.End.IsZero() {
		where.WriteString(` AND ts < ?`)
		args = append(args, q.End.UnixMilli())
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
		where.WriteString(` AND (ts ` + cmp + ` ? OR (ts = ? AND id ` + cmp + ` ?))`)
		args = append(args, ts, ts, id)
	}
	limit := max(q.Limit, 1)
	args = append(args, limit+1)
	rows, err := db.read.QueryContext(ctx, `SELECT id, alarm_name, alarm_type, ts, item_type, summary, data
		FROM alarm_history WHERE `+where.String()+` ORDER BY ts `+order+`, id `+order+` LIMIT ?`, args...)
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

// actionColumns are the alarm_actions columns scanAction reads, in its order.
const actionColumns = `id, account_id, region, alarm_name, alarm_type, alarm_arn, action_arn, old_state, new_state,
	reason, subject, message, state_updated, created, status, error, attempts, next_attempt`

// pendingActionsQuery selects the due pending actions that head their queue: no older action of
// the same alarm (account, region, name) to the same action ARN is pending. The pending rows are
// few (the partial index alarm_actions_pending holds only them), so filtering them on
// next_attempt costs little, and the NOT EXISTS is one seek in the partial index
// alarm_actions_pending_fifo (schema_140).
const pendingActionsQuery = `SELECT ` + actionColumns + `
	FROM alarm_actions a WHERE status = 'pending' AND next_attempt <= ?
	AND NOT EXISTS (SELECT 1 FROM alarm_actions b WHERE b.status = 'pending' AND b.account_id = a.account_id
		AND b.region = a.region AND b.alarm_name = a.alarm_name AND b.action_arn = a.action_arn AND b.id < a.id)
	ORDER BY id LIMIT ?`

// PendingActions implements alarm.ActionQueue.
func (db *DB) PendingActions(ctx context.Context, now time.Time, limit int) ([]alarm.Action, error) {
	rows, err := db.read.QueryContext(ctx, pendingActionsQuery, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read pending actions: %w", err)
	}
	defer rows.Close()
	var out []alarm.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pending actions: %w", err)
	}
	return out, nil
}

// AllActions returns every recorded action in creation order, pending or done (for tests and
// operators; the SNS component uses PendingActions).
func (db *DB) AllActions(ctx context.Context) ([]alarm.Action, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+actionColumns+` FROM alarm_actions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	defer rows.Close()
	var out []alarm.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanAction(rows *sql.Rows) (alarm.Action, error) {
	var a alarm.Action
	var oldS, newS string
	var stateUpdated, created, next int64
	if err := rows.Scan(&a.ID, &a.Scope.AccountID, &a.Scope.Region, &a.AlarmName, &a.AlarmType, &a.AlarmARN,
		&a.ActionARN, &oldS, &newS, &a.Reason, &a.Subject, &a.Message, &stateUpdated, &created, &a.Status, &a.Error,
		&a.Attempts, &next); err != nil {
		return a, fmt.Errorf("read action: %w", err)
	}
	if next != 0 {
		a.NextAttempt = time.UnixMilli(next).UTC()
	}
	var err error
	if a.OldState, err = alarm.ParseState(oldS); err != nil {
		return a, fmt.Errorf("read action %d: %w", a.ID, err)
	}
	if a.NewState, err = alarm.ParseState(newS); err != nil {
		return a, fmt.Errorf("read action %d: %w", a.ID, err)
	}
	a.StateUpdated, a.Created = time.UnixMilli(stateUpdated).UTC(), time.UnixMilli(created).UTC()
	return a, nil
}

// RetryAction implements alarm.ActionQueue.
func (db *DB) RetryAction(ctx context.Context, id int64, r alarm.ActionRetry) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE alarm_actions SET attempts = ?, next_attempt = ?, error = ?
			WHERE id = ? AND status = 'pending'`, r.Attempts, r.NextAttempt.UnixMilli(), r.Err, id); err != nil {
			return fmt.Errorf("reschedule alarm action: %w", err)
		}
		return nil
	})
}

// MarkActionDone implements alarm.ActionQueue: the status change and the Action history item
// commit together, and only a pending action is marked.
func (db *DB) MarkActionDone(ctx context.Context, id int64, o alarm.ActionOutcome) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		status := alarm.ActionSucceeded
		if o.Err != "" {
			status = alarm.ActionFailed
		}
		res, err := tx.ExecContext(ctx, `UPDATE alarm_actions SET status = ?, error = ?, done_at = ?
			WHERE id = ? AND status = 'pending'`, status, o.Err, o.At.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("mark action done: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		row := tx.QueryRowContext(ctx, `SELECT account_id, region, alarm_name, alarm_type, action_arn, message, state_updated
			FROM alarm_actions WHERE id = ?`, id)
		var a alarm.Action
		var stateUpdated int64
		if err := row.Scan(&a.Scope.AccountID, &a.Scope.Region, &a.AlarmName, &a.AlarmType, &a.ActionARN, &a.Message, &stateUpdated); err != nil {
			return fmt.Errorf("mark action done: %w", err)
		}
		a.StateUpdated = time.UnixMilli(stateUpdated).UTC()
		return insertHistory(ctx, tx, a.Scope, alarm.ActionHistoryItem(a, o))
	})
}
