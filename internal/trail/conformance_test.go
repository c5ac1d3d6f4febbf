package trail_test

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/trail"
	"github.com/trailwatch/trailwatch/internal/trail/trailtest"
)

// TestMemStoreConformance runs the Store suite on the test store of this package, which keeps
// the suite honest with a second implementation.
func TestMemStoreConformance(t *testing.T) {
	trailtest.Run(t, func(*testing.T) trail.Store { return trail.NewMemStore() })
}
