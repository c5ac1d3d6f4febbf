package metrics

import (
	"strconv"
	"strings"
)

type statKind uint8

const (
	statInvalid statKind = iota
	statSampleCount
	statAverage
	statSum
	statMinimum
	statMaximum
	statPercentile
)

// Stat is a parsed CloudWatch statistic: one of the five standard statistics or a percentile
// pNN.NN. The zero Stat is invalid.
type Stat struct {
	name string
	kind statKind
	p    float64
}

// StandardStatistics lists the Statistic enum of the API model, in the model's order.
var StandardStatistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// ParseStat parses a statistic name as GetMetricData's MetricStat.Stat and alarms accept it: a
// standard statistic (case-sensitive) or a percentile "p" followed by a number from 0 to 100 with at
// most two decimal places ("p99", "p99.9", "p0.01"). Trimmed means and the other extended
// statistics (tm, wm, pr, tc, ts, iqm) are not supported yet and do not parse.
func ParseStat(s string) (Stat, bool) {
	switch s {
	case "SampleCount":
		return Stat{name: s, kind: statSampleCount}, true
	case "Average":
		return Stat{name: s, kind: statAverage}, true
	case "Sum":
		return Stat{name: s, kind: statSum}, true
	case "Minimum":
		return Stat{name: s, kind: statMinimum}, true
	case "Maximum":
		return Stat{name: s, kind: statMaximum}, true
	}
	p, ok := parsePercentile(s)
	if !ok {
		return Stat{}, false
	}
	return Stat{name: s, kind: statPercentile, p: p}, true
}

func parsePercentile(s string) (float64, bool) {
	num, found := strings.CutPrefix(s, "p")
	if !found || num == "" {
		return 0, false
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	if intPart == "" || len(intPart) > 3 || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, false
	}
	for _, part := range []string{intPart, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, false
			}
		}
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || p < 0 || p > 100 {
		return 0, false
	}
	return p, true
}

// String returns the statistic as it was written.
func (s Stat) String() string { return s.name }

// IsPercentile reports whether s is a pNN.NN statistic (an ExtendedStatistic in the API).
func (s Stat) IsPercentile() bool { return s.kind == statPercentile }

// Valid reports whether s was parsed successfully.
func (s Stat) Valid() bool { return s.kind != statInvalid }
