package postgres

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
)

func TestAlarmStoreConformance(t *testing.T) {
	alarmtest.Run(t, func(t *testing.T) alarm.Store { return openTest(t, Options{}) })
}
