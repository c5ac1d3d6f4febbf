package metrics

import (
	"testing"
	"time"
)

// TestDropLateDefaults: a backfill's defaults older than the five-minute cutoff are dropped (a
// default is weighed against the real samples of its own minute, which a five-minute slot no longer
// tells apart; found in review: answers then depended on whether Compact had run), real samples of
// any age are kept, and so are defaults within the cutoff.
func TestDropLateDefaults(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 2, 0, 0, time.UTC)
	cutoff := RollupAt(now).FiveMinutesBefore // now - 15 days, rounded down to 5 minutes
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		at      time.Time
		dflt    bool
		dropped bool
	}{
		{"default just before the cutoff", cutoff.Add(-time.Second), true, true},
		{"default at the cutoff", cutoff, true, false},
		{"default 14 days old", now.Add(-14 * day), true, false},
		{"default 100 days old", now.Add(-100 * day), true, true},
		{"real sample 100 days old", now.Add(-100 * day), false, false},
		{"real sample just before the cutoff", cutoff.Add(-time.Second), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []Sample{{Namespace: "N", MetricName: "M", Timestamp: tc.at, Value: 1, Default: tc.dflt}}
			kept, dropped := DropLateDefaults(in, now)
			if (dropped == 1) != tc.dropped || len(kept)+dropped != 1 {
				t.Fatalf("kept %v, dropped %d; want dropped=%v", kept, dropped, tc.dropped)
			}
		})
	}
}
