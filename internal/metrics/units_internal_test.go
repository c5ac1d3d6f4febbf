package metrics

import (
	"slices"
	"testing"
)

// TestUnitPreferenceCoversStandardUnits: pickUnit can choose among any units only if its order
// names every StandardUnit exactly once.
func TestUnitPreferenceCoversStandardUnits(t *testing.T) {
	a, b := slices.Clone(unitPreference), slices.Clone(StandardUnits)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("unitPreference %v is not a permutation of StandardUnits %v", unitPreference, StandardUnits)
	}
}
