package postgres

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

func TestSNSConformance(t *testing.T) {
	snstest.Run(t, func(t *testing.T) snstest.Store { return openTest(t, Options{}) })
}
