package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/internal/receiver"
)

var _ receiver.Store = (*DB)(nil)

// PutReceiver implements receiver.Store.
func (db *DB) PutReceiver(ctx context.Context, r *receiver.Receiver) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode receiver: %w", err)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO receivers (account_id, name, doc) VALUES (?, ?, ?)
			ON CONFLICT (account_id, name) DO UPDATE SET doc = excluded.doc`, r.AccountID, r.Name, string(b)); err != nil {
			return fmt.Errorf("store receiver: %w", err)
		}
		return nil
	})
}

// GetReceiver implements receiver.Store.
func (db *DB) GetReceiver(ctx context.Context, accountID, name string) (*receiver.Receiver, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM receivers WHERE account_id = ? AND name = ?`, accountID, name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("receiver %s: %w", name, receiver.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get receiver: %w", err)
	}
	r := new(receiver.Receiver)
	if err := json.Unmarshal([]byte(doc), r); err != nil {
		return nil, fmt.Errorf("decode stored receiver: %w", err)
	}
	return r, nil
}

// ListReceivers implements receiver.Store.
func (db *DB) ListReceivers(ctx context.Context, accountID string) ([]*receiver.Receiver, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT doc FROM receivers WHERE account_id = ? ORDER BY name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list receivers: %w", err)
	}
	defer rows.Close()
	var out []*receiver.Receiver
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list receivers: %w", err)
		}
		r := new(receiver.Receiver)
		if err := json.Unmarshal([]byte(doc), r); err != nil {
			return nil, fmt.Errorf("decode stored receiver: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteReceiver implements receiver.Store.
func (db *DB) DeleteReceiver(ctx context.Context, accountID, name string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM receivers WHERE account_id = ? AND name = ?`, accountID, name)
		if err != nil {
			return fmt.Errorf("delete receiver: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("receiver %s: %w", name, receiver.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM receiver_threads WHERE account_id = ? AND receiver = ?`, accountID, name); err != nil {
			return fmt.Errorf("delete receiver threads: %w", err)
		}
		return nil
	})
}

// GetThread implements receiver.Store.
func (db *DB) GetThread(ctx context.Context, accountID, name, key string) (receiver.Thread, bool, error) {
	var doc string
	var t receiver.Thread
	err := db.read.QueryRowContext(ctx, `SELECT doc FROM receiver_threads WHERE account_id = ? AND receiver = ? AND key = ?`, accountID, name, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("get receiver thread: %w", err)
	}
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		return t, false, fmt.Errorf("decode receiver thread: %w", err)
	}
	return t, true, nil
}

// PutThread implements receiver.Store.
func (db *DB) PutThread(ctx context.Context, accountID, name, key string, t receiver.Thread) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode receiver thread: %w", err)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO receiver_threads (account_id, receiver, key, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, receiver, key) DO UPDATE SET doc = excluded.doc`, accountID, name, key, string(b)); err != nil {
			return fmt.Errorf("store receiver thread: %w", err)
		}
		return nil
	})
}
