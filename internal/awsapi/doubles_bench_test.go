package awsapi

import (
	"testing"
	"time"
)

// BenchmarkJSONDoublesAndTimes encodes a GetMetricData-sized result (1,440 timestamps and values,
// a day of minutes) on awsJson, where every double and timestamp goes through Java's number form.
func BenchmarkJSONDoublesAndTimes(b *testing.B) {
	type result struct {
		Timestamps []Time    `json:"Timestamps"`
		Values     []float64 `json:"Values"`
	}
	var r result
	t0 := time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)
	for i := range 1440 {
		r.Timestamps = append(r.Timestamps, Time{t0.Add(time.Duration(i) * time.Minute)})
		r.Values = append(r.Values, float64(i)*1.25)
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 64<<10)
	for b.Loop() {
		out, err := appendJSON(buf[:0], &r)
		if err != nil {
			b.Fatal(err)
		}
		buf = out
	}
}
