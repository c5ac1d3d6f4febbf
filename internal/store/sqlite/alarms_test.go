package sqlite

import (
	"context"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
)

func TestAlarmStoreConformance(t *testing.T) {
	alarmtest.Run(t, func(t *testing.T) alarm.Store {
		db, err := Open(context.Background(), t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
