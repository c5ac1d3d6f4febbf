package postgres

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/ingest/ingesttest"
	"github.com/trailwatch/trailwatch/internal/trail"
	"github.com/trailwatch/trailwatch/internal/trail/trailtest"
)

func TestTrailConformance(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store { return openTest(t, Options{}) })
}

func TestObjectLogConformance(t *testing.T) {
	ingesttest.Run(t, func(t *testing.T) ingest.ObjectLog { return openTest(t, Options{}) })
}
