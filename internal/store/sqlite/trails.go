package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/trail"
)

// CreateTrail implements trail.Store.
func (db *DB) CreateTrail(ctx context.Context, sc trail.Scope, t trail.Trail) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode trail: %w", err)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO trails (account_id, region, name, config) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sc.AccountID, sc.Region, t.Name, string(doc))
		if err != nil {
			return fmt.Errorf("insert trail: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return trail.ErrExists
		}
		return nil
	})
}

// GetTrail implements trail.Store.
func (db *DB) GetTrail(ctx context.Context, sc trail.Scope, name string) (trail.Trail, error) {
	var doc string
	err := db.read.QueryRowContext(ctx, `SELECT config FROM trails WHERE account_id = ? AND region = ? AND name = ?`, sc.AccountID, sc.Region, name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return trail.Trail{}, trail.ErrNotFound
	}
	if err != nil {
		return trail.Trail{}, fmt.Errorf("get trail: %w", err)
	}
	var t trail.Trail
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		return trail.Trail{}, fmt.Errorf("decode trail: %w", err)
	}
	return t, nil
}

// ListTrails implements trail.Store.
func (db *DB) ListTrails(ctx context.Context, sc trail.Scope) ([]trail.Trail, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT config FROM trails WHERE account_id = ? AND region = ? ORDER BY name`, sc.AccountID, sc.Region)
	if err != nil {
		return nil, fmt.Errorf("list trails: %w", err)
	}
	defer rows.Close()
	var out []trail.Trail
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list trails: %w", err)
		}
		var t trail.Trail
		if err := json.Unmarshal([]byte(doc), &t); err != nil {
			return nil, fmt.Errorf("decode trail: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ScopedTrail is a trail with its scope, as AllTrails lists them.
type ScopedTrail struct {
	Scope trail.Scope
	Trail trail.Trail
}

// AllTrails lists every trail of every scope, for starting their sources.
func (db *DB) AllTrails(ctx context.Context) ([]ScopedTrail, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT account_id, region, config FROM trails ORDER BY account_id, region, name`)
	if err != nil {
		return nil, fmt.Errorf("list trails: %w", err)
	}
	defer rows.Close()
	var out []ScopedTrail
	for rows.Next() {
		var st ScopedTrail
		var doc string
		if err := rows.Scan(&st.Scope.AccountID, &st.Scope.Region, &doc); err != nil {
			return nil, fmt.Errorf("list trails: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &st.Trail); err != nil {
			return nil, fmt.Errorf("decode trail: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// UpdateTrail implements trail.Store: the trail is read, changed by fn and written back inside
// one write transaction, which the single writer connection runs alone, so no other update can
// come between the read and the write.
func (db *DB) UpdateTrail(ctx context.Context, sc trail.Scope, name string, fn func(*trail.Trail) error) (trail.Trail, error) {
	var out trail.Trail
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var doc string
		err := tx.QueryRowContext(ctx, `SELECT config FROM trails WHERE account_id = ? AND region = ? AND name = ?`, sc.AccountID, sc.Region, name).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return trail.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read trail: %w", err)
		}
		var t trail.Trail
		if err := json.Unmarshal([]byte(doc), &t); err != nil {
			return fmt.Errorf("decode trail: %w", err)
		}
		if err := fn(&t); err != nil {
			return err
		}
		t.Name = name
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode trail: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE trails SET config = ? WHERE account_id = ? AND region = ? AND name = ?`, string(b), sc.AccountID, sc.Region, name); err != nil {
			return fmt.Errorf("write trail: %w", err)
		}
		out = t
		return nil
	})
	if err != nil {
		return trail.Trail{}, err
	}
	return out, nil
}

// DeleteTrail implements trail.Store.
func (db *DB) DeleteTrail(ctx context.Context, sc trail.Scope, name string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM trails WHERE account_id = ? AND region = ? AND name = ?`, sc.AccountID, sc.Region, name)
		if err != nil {
			return fmt.Errorf("delete trail: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return trail.ErrNotFound
		}
		return nil
	})
}

// Processed implements ingest.ObjectLog.
func (db *DB) Processed(ctx context.Context, source, key string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM ingest_objects WHERE source = ? AND key = ?`, source, key).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check processed object: %w", err)
	}
	return n > 0, nil
}

// MarkProcessed implements ingest.ObjectLog: the objects are recorded in one transaction.
func (db *DB) MarkProcessed(ctx context.Context, source string, keys []string, records []int, at time.Time) error {
	if len(keys) != len(records) {
		return fmt.Errorf("record processed objects: %d keys, %d record counts", len(keys), len(records))
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO ingest_objects (source, key, processed_at, records) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("record processed objects: %w", err)
		}
		defer stmt.Close()
		for i, k := range keys {
			if _, err := stmt.ExecContext(ctx, source, k, at.UnixMilli(), records[i]); err != nil {
				return fmt.Errorf("record processed object: %w", err)
			}
		}
		return nil
	})
}

// Cursors implements ingest.ObjectLog.
func (db *DB) Cursors(ctx context.Context, source string) (map[string]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT partition, key FROM ingest_cursors WHERE source = ?`, source)
	if err != nil {
		return nil, fmt.Errorf("read listing cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var part, key string
		if err := rows.Scan(&part, &key); err != nil {
			return nil, fmt.Errorf("read listing cursors: %w", err)
		}
		out[part] = key
	}
	return out, rows.Err()
}

// SaveCursors implements ingest.ObjectLog: the cursors are written in one transaction.
func (db *DB) SaveCursors(ctx context.Context, source string, cursors map[string]string) error {
	if len(cursors) == 0 {
		return nil
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		for part, key := range cursors {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ingest_cursors (source, partition, key) VALUES (?, ?, ?)
				ON CONFLICT (source, partition) DO UPDATE SET key = excluded.key`, source, part, key); err != nil {
				return fmt.Errorf("write listing cursor: %w", err)
			}
		}
		return nil
	})
}
