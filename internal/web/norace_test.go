//go:build !race

package web

// raceEnabled: timings under the race detector say nothing about the product.
const raceEnabled = false
