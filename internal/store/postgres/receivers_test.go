package postgres

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
)

func TestReceiverConformance(t *testing.T) {
	receivertest.Run(t, func(t *testing.T) receivertest.Store { return openTest(t, Options{}) })
}
