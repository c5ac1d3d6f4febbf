package metrics

import (
	"slices"
	"strings"
)

// Scope is the (account, region) pair every metric belongs to; metrics of different scopes never
// see each other.
type Scope struct {
	AccountID string
	Region    string
}

// Metric is a metric's identity: CloudWatch treats each distinct combination of namespace, name and
// dimension set as a separate metric, regardless of the order the dimensions were sent in.
type Metric struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
}

// Normalized returns a copy of m whose dimensions are sorted by name (then value), the canonical
// order used for identity and for listing.
func (m Metric) Normalized() Metric {
	m.Dimensions = SortedDimensions(m.Dimensions)
	return m
}

// SortedDimensions returns a sorted copy of dims (by name, then value); nil stays nil.
func SortedDimensions(dims []Dimension) []Dimension {
	if len(dims) == 0 {
		return nil
	}
	out := slices.Clone(dims)
	slices.SortFunc(out, func(a, b Dimension) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// Key returns a string that is equal for two metrics exactly when they are the same metric. It is
// meant for in-memory maps; the NUL separator cannot occur in validated names.
func (m Metric) Key() string {
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.MetricName)
	for _, d := range SortedDimensions(m.Dimensions) {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte(0)
		b.WriteString(d.Value)
	}
	return b.String()
}

// Metric returns the identity of the metric s is published to.
func (s *Sample) Metric() Metric {
	return Metric{Namespace: s.Namespace, MetricName: s.MetricName, Dimensions: s.Dimensions}
}

// Scope returns the account and region s belongs to.
func (s *Sample) Scope() Scope { return Scope{AccountID: s.AccountID, Region: s.Region} }

// DimensionFilter selects metrics in ListMetrics: a metric matches when it has a dimension with
// Name and, if Value is non-nil, that value.
type DimensionFilter struct {
	Name  string
	Value *string
}

// MatchesFilters reports whether m has every dimension the filters ask for. Extra dimensions of m
// do not prevent a match (ListMetrics: "If you specify one dimension name and a metric has that
// dimension and also other dimensions, it will be returned").
func (m Metric) MatchesFilters(filters []DimensionFilter) bool {
	for _, f := range filters {
		found := false
		for _, d := range m.Dimensions {
			if d.Name == f.Name && (f.Value == nil || *f.Value == d.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
