package sqlite

import (
	"context"
	"testing"

	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/ingest/ingesttest"
)

func TestObjectLogConformance(t *testing.T) {
	ingesttest.Run(t, func(t *testing.T) ingest.ObjectLog {
		db, err := Open(context.Background(), t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
