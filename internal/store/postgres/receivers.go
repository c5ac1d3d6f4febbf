package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/receiver"
)

var _ receiver.Store = (*DB)(nil)

// PutReceiver implements receiver.Store: one upsert, so two replicas putting the same name at
// once leave one of the two documents, never a mix.
func (db *DB) PutReceiver(ctx context.Context, r *receiver.Receiver) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode receiver: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO receivers (account_id, name, doc) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, name) DO UPDATE SET doc = excluded.doc`, r.AccountID, r.Name, string(b)); err != nil {
		return fmt.Errorf("store receiver: %w", err)
	}
	return nil
}

// GetReceiver implements receiver.Store.
func (db *DB) GetReceiver(ctx context.Context, accountID, name string) (*receiver.Receiver, error) {
	var doc string
	err := db.pool.QueryRow(ctx, `SELECT doc FROM receivers WHERE account_id = $1 AND name = $2`, accountID, name).Scan(&doc)
	if errNoRows(err) {
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

// ListReceivers implements receiver.Store. Names are ordered bytewise (COLLATE "C"), as SQLite's
// BINARY collation orders them, whatever the database's default collation.
func (db *DB) ListReceivers(ctx context.Context, accountID string) ([]*receiver.Receiver, error) {
	rows, err := db.pool.Query(ctx, `SELECT doc FROM receivers WHERE account_id = $1 ORDER BY name COLLATE "C"`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list receivers: %w", err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list receivers: %w", err)
	}
	out := make([]*receiver.Receiver, 0, len(docs))
	for _, doc := range docs {
		r := new(receiver.Receiver)
		if err := json.Unmarshal([]byte(doc), r); err != nil {
			return nil, fmt.Errorf("decode stored receiver: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteReceiver implements receiver.Store: the receiver and its threads go in one transaction.
func (db *DB) DeleteReceiver(ctx context.Context, accountID, name string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM receivers WHERE account_id = $1 AND name = $2`, accountID, name)
		if err != nil {
			return fmt.Errorf("delete receiver: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("receiver %s: %w", name, receiver.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM receiver_threads WHERE account_id = $1 AND receiver = $2`, accountID, name); err != nil {
			return fmt.Errorf("delete receiver threads: %w", err)
		}
		return nil
	})
}

// GetThread implements receiver.Store.
func (db *DB) GetThread(ctx context.Context, accountID, name, key string) (receiver.Thread, bool, error) {
	var doc string
	var t receiver.Thread
	err := db.pool.QueryRow(ctx, `SELECT doc FROM receiver_threads WHERE account_id = $1 AND receiver = $2 AND key = $3`,
		accountID, name, key).Scan(&doc)
	if errNoRows(err) {
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
	if _, err := db.pool.Exec(ctx, `INSERT INTO receiver_threads (account_id, receiver, key, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, receiver, key) DO UPDATE SET doc = excluded.doc`, accountID, name, key, string(b)); err != nil {
		return fmt.Errorf("store receiver thread: %w", err)
	}
	return nil
}
