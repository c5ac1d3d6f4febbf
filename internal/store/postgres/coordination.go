package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbNowMS is the database's clock in unix milliseconds. Leases, claims and rounds are timed by it,
// not by the replicas' clocks, so replicas whose clocks disagree still agree on when a lease or a
// claim has expired.
const dbNowMS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`

// Grant is one grant of a lease: the fencing token it came with.
type Grant struct {
	// Token grows by one each time the lease passes to another holder (and never shrinks), so a
	// write checked against it fails once a later holder has been granted the lease.
	Token int64
}

// TryLease grants the lease name to holder for ttl when it is free, expired or already holder's
// (a renewal, which keeps the token), and reports ok false when another holder's grant is still
// running. The row is updated in one statement, so two replicas asking at once get one grant.
func (db *DB) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (g Grant, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `INSERT INTO leases (name, holder, token, expires) VALUES ($1, $2, 1, `+dbNowMS+` + $3)
		ON CONFLICT (name) DO UPDATE SET
			token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END,
			holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= `+dbNowMS+`
		RETURNING token`, name, holder, ttl.Milliseconds()).Scan(&g.Token)
	if errNoRows(err) {
		return Grant{}, false, nil
	}
	if err != nil {
		return Grant{}, false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return g, true, nil
}

// ReleaseLease ends holder's grant of the lease name at once (a clean shutdown), so another
// replica need not wait for it to expire. Releasing a lease held by another is a no-op.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE leases SET expires = 0 WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// LeaseHolder returns the holder and token of the lease name, and ok false when it was never
// granted; for operators and tests.
func (db *DB) LeaseHolder(ctx context.Context, name string) (holder string, g Grant, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT holder, token FROM leases WHERE name = $1 AND expires > `+dbNowMS, name).Scan(&holder, &g.Token)
	if errNoRows(err) {
		return "", Grant{}, false, nil
	}
	if err != nil {
		return "", Grant{}, false, fmt.Errorf("read lease %s: %w", name, err)
	}
	return holder, g, true, nil
}

// errStaleToken says a fenced write's token is not the lease's current one.
var errStaleToken = fmt.Errorf("stale fencing token")

// checkFence fails unless token is the current token of lease name. It reads the row FOR SHARE:
// a new grant (an UPDATE of the row) waits until tx ends, so no grant can come between this check
// and tx's commit. The lease's expiry is not checked: an expired grant not yet replaced still
// fences correctly, since nobody else has written under a newer token.
func checkFence(ctx context.Context, tx pgx.Tx, name string, token int64) error {
	var current int64
	err := tx.QueryRow(ctx, `SELECT token FROM leases WHERE name = $1 FOR SHARE`, name).Scan(&current)
	if errNoRows(err) {
		return fmt.Errorf("lease %s was never granted: %w", name, errStaleToken)
	}
	if err != nil {
		return fmt.Errorf("check fencing token: %w", err)
	}
	if current != token {
		return fmt.Errorf("lease %s is at token %d, write has %d: %w", name, current, token, errStaleToken)
	}
	return nil
}

// ClaimRound reports whether this caller is the first, among all replicas, to claim the round of
// the periodic job name that starts at slot (e.g. the minute of a retention sweep, the hour of a
// metric compaction): the first claim of a slot records it and returns true, every later claim of
// the same or an earlier slot returns false. So a job every replica schedules runs once per round.
func (db *DB) ClaimRound(ctx context.Context, name string, slot time.Time) (bool, error) {
	var one int
	err := db.pool.QueryRow(ctx, `INSERT INTO rounds (name, last_at) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET last_at = excluded.last_at WHERE rounds.last_at < excluded.last_at
		RETURNING 1`, name, slot.UnixMilli()).Scan(&one)
	if errNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim round of %s: %w", name, err)
	}
	return true, nil
}

// SharedValue returns the deployment-wide value called name, creating it with create when no
// replica has yet: the first replica to store one wins, and every other replica (also one that
// raced it and generated a value of its own) gets the stored value. created reports whether this
// call's value was stored. It holds what all replicas must share: generated API credentials, the
// SNS signing key and certificate.
func (db *DB) SharedValue(ctx context.Context, name string, create func() ([]byte, error)) (value []byte, created bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT value FROM shared_values WHERE name = $1`, name).Scan(&value)
	if err == nil {
		return value, false, nil
	}
	if !errNoRows(err) {
		return nil, false, fmt.Errorf("read shared %s: %w", name, err)
	}
	v, err := create()
	if err != nil {
		return nil, false, err
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO shared_values (name, value, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		name, v, db.now().UnixMilli())
	if err != nil {
		return nil, false, fmt.Errorf("store shared %s: %w", name, err)
	}
	if tag.RowsAffected() == 1 {
		return v, true, nil
	}
	if err := db.pool.QueryRow(ctx, `SELECT value FROM shared_values WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, false, fmt.Errorf("read shared %s: %w", name, err)
	}
	return value, false, nil
}
