package alarmtest

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

func TestMemory(t *testing.T) {
	Run(t, func(t *testing.T) alarm.Store { return NewMemory() })
}
