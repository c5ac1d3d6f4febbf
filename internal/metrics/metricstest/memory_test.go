package metricstest

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

func TestMemory(t *testing.T) {
	Run(t, func(t *testing.T) metrics.Store { return NewMemory() })
}
