package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/trail"
)

var _ trail.Store = (*DB)(nil)

// CreateTrail implements trail.Store.
func (db *DB) CreateTrail(ctx context.Context, sc trail.Scope, t trail.Trail) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode trail: %w", err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO trails (account_id, region, name, config) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		sc.AccountID, sc.Region, t.Name, string(doc))
	if err != nil {
		return fmt.Errorf("insert trail: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return trail.ErrExists
	}
	return nil
}

// GetTrail implements trail.Store.
func (db *DB) GetTrail(ctx context.Context, sc trail.Scope, name string) (trail.Trail, error) {
	var doc string
	err := db.pool.QueryRow(ctx, `SELECT config FROM trails WHERE account_id = $1 AND region = $2 AND name = $3`, sc.AccountID, sc.Region, name).Scan(&doc)
	if errNoRows(err) {
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
	scoped, err := db.trails(ctx, `SELECT account_id, region, config FROM trails WHERE account_id = $1 AND region = $2 ORDER BY name`, sc.AccountID, sc.Region)
	if err != nil {
		return nil, err
	}
	out := make([]trail.Trail, len(scoped))
	for i, s := range scoped {
		out[i] = s.Trail
	}
	return out, nil
}

// ScopedTrail is a trail with its scope, as AllTrails lists them.
type ScopedTrail struct {
	Scope trail.Scope
	Trail trail.Trail
}

// AllTrails lists every trail of every scope, for starting their sources.
func (db *DB) AllTrails(ctx context.Context) ([]ScopedTrail, error) {
	return db.trails(ctx, `SELECT account_id, region, config FROM trails ORDER BY account_id, region, name`)
}

func (db *DB) trails(ctx context.Context, query string, args ...any) ([]ScopedTrail, error) {
	rows, err := db.pool.Query(ctx, query, args...)
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

// UpdateTrail implements trail.Store: the trail's row is read FOR UPDATE, changed by fn and written
// back in one transaction, so an update by another replica waits for this one to commit and then
// reads its result.
func (db *DB) UpdateTrail(ctx context.Context, sc trail.Scope, name string, fn func(*trail.Trail) error) (trail.Trail, error) {
	var out trail.Trail
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		var doc string
		err := tx.QueryRow(ctx, `SELECT config FROM trails WHERE account_id = $1 AND region = $2 AND name = $3 FOR UPDATE`,
			sc.AccountID, sc.Region, name).Scan(&doc)
		if errNoRows(err) {
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
		if _, err := tx.Exec(ctx, `UPDATE trails SET config = $1 WHERE account_id = $2 AND region = $3 AND name = $4`,
			string(b), sc.AccountID, sc.Region, name); err != nil {
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
	tag, err := db.pool.Exec(ctx, `DELETE FROM trails WHERE account_id = $1 AND region = $2 AND name = $3`, sc.AccountID, sc.Region, name)
	if err != nil {
		return fmt.Errorf("delete trail: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return trail.ErrNotFound
	}
	return nil
}

// Processed implements ingest.ObjectLog; every replica sees the objects any of them recorded.
func (db *DB) Processed(ctx context.Context, source, key string) (bool, error) {
	var found bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ingest_objects WHERE source = $1 AND key = $2)`, source, key).Scan(&found); err != nil {
		return false, fmt.Errorf("check processed object: %w", err)
	}
	return found, nil
}

// MarkProcessed implements ingest.ObjectLog: the objects are recorded in one statement.
func (db *DB) MarkProcessed(ctx context.Context, source string, keys []string, records []int, at time.Time) error {
	if len(keys) != len(records) {
		return fmt.Errorf("record processed objects: %d keys, %d record counts", len(keys), len(records))
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO ingest_objects (source, key, processed_at, records)
		SELECT $1, k, $2, r FROM unnest($3::text[], $4::int[]) AS u(k, r) ON CONFLICT DO NOTHING`,
		source, at.UnixMilli(), keys, records); err != nil {
		return fmt.Errorf("record processed objects: %w", err)
	}
	return nil
}

// Cursors implements ingest.ObjectLog.
func (db *DB) Cursors(ctx context.Context, source string) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT partition, key FROM ingest_cursors WHERE source = $1`, source)
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

// SaveCursors implements ingest.ObjectLog: the cursors are written in one statement.
func (db *DB) SaveCursors(ctx context.Context, source string, cursors map[string]string) error {
	if len(cursors) == 0 {
		return nil
	}
	parts := make([]string, 0, len(cursors))
	keys := make([]string, 0, len(cursors))
	for p, k := range cursors {
		parts, keys = append(parts, p), append(keys, k)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO ingest_cursors (source, partition, key)
		SELECT $1, p, k FROM unnest($2::text[], $3::text[]) AS u(p, k)
		ON CONFLICT (source, partition) DO UPDATE SET key = excluded.key`, source, parts, keys); err != nil {
		return fmt.Errorf("write listing cursors: %w", err)
	}
	return nil
}
