// Package metricrow holds the row encodings of metric data that both SQL backends store the same way
// (a metric's dimension set as canonical text, an exact value distribution as packed float64 pairs), so
// the two stores cannot drift apart and data keeps its meaning from one backend to the other.
package metricrow

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// EncodeDimensions gives the canonical text of a dimension set: a JSON array
// of [name, value] pairs sorted by name (then value), "[]" for none.
func EncodeDimensions(dims []metrics.Dimension) (string, error) {
	sorted := dims
	if !slices.IsSortedFunc(dims, func(a, b metrics.Dimension) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
	}) {
		sorted = metrics.SortedDimensions(dims)
	}
	pairs := make([][2]string, len(sorted))
	for i, d := range sorted {
		pairs[i] = [2]string{d.Name, d.Value}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return "", fmt.Errorf("encode dimensions: %w", err)
	}
	return string(b), nil
}

// DecodeDimensions reads EncodeDimensions' text back; nil for none.
func DecodeDimensions(s string) ([]metrics.Dimension, error) {
	var pairs [][2]string
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, fmt.Errorf("decode dimensions: %w", err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make([]metrics.Dimension, len(pairs))
	for i, p := range pairs {
		out[i] = metrics.Dimension{Name: p[0], Value: p[1]}
	}
	return out, nil
}

// EncodeDist packs an exact distribution as little-endian float64 (value, count) pairs; nil (NULL) when there is none.
func EncodeDist(a *metrics.Aggregate) []byte {
	if a.Inexact || len(a.Dist) == 0 {
		return nil
	}
	b := make([]byte, 0, 16*len(a.Dist))
	for _, vc := range a.Dist {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(vc.Value))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(vc.Count))
	}
	return b
}

// DecodeDist reads EncodeDist's bytes back; nil for none.
func DecodeDist(b []byte) ([]metrics.ValueCount, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b)%16 != 0 {
		return nil, fmt.Errorf("decode value distribution: %d bytes is not a whole number of pairs", len(b))
	}
	out := make([]metrics.ValueCount, len(b)/16)
	for i := range out {
		out[i].Value = math.Float64frombits(binary.LittleEndian.Uint64(b[16*i:]))
		out[i].Count = math.Float64frombits(binary.LittleEndian.Uint64(b[16*i+8:]))
	}
	return out, nil
}
