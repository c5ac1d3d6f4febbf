package postgres

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/logs/logstest"
)

func TestLogsStoreConformance(t *testing.T) {
	logstest.Run(t, func(t *testing.T) logs.Store { return openTest(t, Options{}) })
}
