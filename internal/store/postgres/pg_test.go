package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURL is the server the tests use: $TRAILWATCH_TEST_DATABASE_URL, or the local server CI starts
// (127.0.0.1:5432, trust authentication).
func testURL() string {
	if u := os.Getenv("TRAILWATCH_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// requirePostgres reports whether a missing server must fail the tests instead of skipping them:
// in CI, and wherever TRAILWATCH_E2E_REQUIRE=1.
func requirePostgres() bool {
	return os.Getenv("CI") != "" || os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1"
}

// testSchema creates a schema of its own for t on the test server, dropped when t ends, and returns
// the URL of the database with that schema as its search path. Without a server it skips t, or
// fails it where requirePostgres says so.
func testSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := testURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if requirePostgres() {
			t.Fatalf("PostgreSQL is required (CI or TRAILWATCH_E2E_REQUIRE=1) but unreachable at %s: %v", base, err)
		}
		t.Skipf("PostgreSQL unreachable at %s (set TRAILWATCH_TEST_DATABASE_URL): %v", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "tw_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openTest opens a new, empty database (a schema of its own) for t, closed when t ends.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	u := testSchema(t)
	db, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
