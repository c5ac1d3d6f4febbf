package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
)

// TestGroupCommitIsolatesFailures runs many concurrent write transactions, some of which fail after
// writing, and checks that each caller's outcome is exactly its own: the successful ones are all stored,
// the failed ones left nothing behind, even when they shared a commit with others.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE gc_test (k INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	errOdd := errors.New("odd keys fail")
	const n = 200
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i] = db.withTx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO gc_test (k) VALUES (?)`, i); err != nil {
					return err
				}
				if i%2 == 1 {
					return errOdd // after the insert: it must be rolled back
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range results {
		if want := i%2 == 1; want != errors.Is(err, errOdd) || (!want && err != nil) {
			t.Fatalf("transaction %d: err = %v", i, err)
		}
	}
	rows, err := db.read.Query(`SELECT k FROM gc_test ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var k int
		rows.Scan(&k)
		got = append(got, k)
	}
	if len(got) != n/2 {
		t.Fatalf("stored %d rows, want %d", len(got), n/2)
	}
	for j, k := range got {
		if k != 2*j {
			t.Fatalf("row %d is %d, want %d (a failed transaction left data behind)", j, k, 2*j)
		}
	}
}

// TestWithTxAfterClose checks that a write after Close fails cleanly instead of hanging.
func TestWithTxAfterClose(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error { return nil })
	if !errors.Is(err, errClosed) {
		t.Fatalf("withTx after Close = %v, want %v", err, errClosed)
	}
}

// TestMigrationsAreRecorded checks that reopening a database applies nothing twice.
func TestMigrationsAreRecorded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i := range 2 {
		db, err := Open(ctx, dir, Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var n int
		if err := db.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("open %d recorded no migrations", i)
		}
		db.Close()
	}
}
