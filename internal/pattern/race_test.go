//go:build race

package pattern

// raceEnabled skips allocation counts, which sync.Pool makes unreliable under the race detector.
const raceEnabled = true
