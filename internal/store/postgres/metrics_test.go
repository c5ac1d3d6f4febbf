package postgres

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
)

func TestMetricsConformance(t *testing.T) {
	metricstest.Run(t, func(t *testing.T) metrics.Store { return openTest(t, Options{}) })
}
