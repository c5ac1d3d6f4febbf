package logs

import "testing"

// TestReplacing checks what a PutMetricFilter stores in place of the filter it replaces: the same
// definition keeps LiveSince (and enables a disabled filter again with a paused period), any change
// to what the filter emits starts it afresh.
func TestReplacing(t *testing.T) {
	zero, one := 0.0, 1.0
	base := MetricFilter{LogGroupName: "g", FilterName: "f", FilterPattern: "{ $.a = * }", CreationTime: 10, LiveSince: 10,
		Transformation: MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1", DefaultValue: &zero,
			Dimensions: map[string]string{"A": "$.a"}, Unit: "Count"}}
	paused := base
	paused.PausedFrom, paused.PausedUntil = 5, 8
	disabled := base
	disabled.Status = &FilterStatus{State: FilterStateDisabled, Reason: "r", Time: 50}
	tests := []struct {
		name   string
		old    *MetricFilter
		change func(*MetricFilter)
		want   [3]int64 // LiveSince, PausedFrom, PausedUntil
	}{
		{"new", nil, nil, [3]int64{100, 0, 0}},
		{"same", &base, nil, [3]int64{10, 0, 0}},
		{"same, equal default in another variable", &base, func(f *MetricFilter) { z := 0.0; f.Transformation.DefaultValue = &z }, [3]int64{10, 0, 0}},
		{"same keeps the paused period", &paused, nil, [3]int64{10, 5, 8}},
		{"same re-enables", &disabled, nil, [3]int64{10, 50, 100}},
		{"pattern", &base, func(f *MetricFilter) { f.FilterPattern = "{ $.a = 1 }" }, [3]int64{100, 0, 0}},
		{"metric name", &base, func(f *MetricFilter) { f.Transformation.MetricName = "x" }, [3]int64{100, 0, 0}},
		{"namespace", &base, func(f *MetricFilter) { f.Transformation.MetricNamespace = "x" }, [3]int64{100, 0, 0}},
		{"value", &base, func(f *MetricFilter) { f.Transformation.MetricValue = "$.a" }, [3]int64{100, 0, 0}},
		{"default value", &base, func(f *MetricFilter) { f.Transformation.DefaultValue = &one }, [3]int64{100, 0, 0}},
		{"default dropped", &base, func(f *MetricFilter) { f.Transformation.DefaultValue = nil }, [3]int64{100, 0, 0}},
		{"dimension value", &base, func(f *MetricFilter) { f.Transformation.Dimensions = map[string]string{"A": "$.b"} }, [3]int64{100, 0, 0}},
		{"dimension name", &base, func(f *MetricFilter) { f.Transformation.Dimensions = map[string]string{"B": "$.a"} }, [3]int64{100, 0, 0}},
		{"dimension added", &base, func(f *MetricFilter) { f.Transformation.Dimensions = map[string]string{"A": "$.a", "B": "$.b"} }, [3]int64{100, 0, 0}},
		{"unit", &base, func(f *MetricFilter) { f.Transformation.Unit = "" }, [3]int64{100, 0, 0}},
		{"changed while disabled", &disabled, func(f *MetricFilter) { f.FilterPattern = "x" }, [3]int64{100, 0, 0}},
		{"changed after a pause", &paused, func(f *MetricFilter) { f.FilterPattern = "x" }, [3]int64{100, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			f.Transformation.Dimensions = map[string]string{"A": "$.a"}
			f.CreationTime, f.LiveSince = 100, 100
			if tc.change != nil {
				tc.change(&f)
			}
			got := f.Replacing(tc.old)
			if r := [3]int64{got.LiveSince, got.PausedFrom, got.PausedUntil}; r != tc.want || got.CreationTime != 100 {
				t.Errorf("live since, paused from, until = %v, created %d; want %v, created 100", r, got.CreationTime, tc.want)
			}
		})
	}
}

// TestCountedLive checks which ingestion times a filter counted as the events arrived.
func TestCountedLive(t *testing.T) {
	f := MetricFilter{CreationTime: 500, LiveSince: 100, PausedFrom: 200, PausedUntil: 300}
	aws := MetricFilter{CreationTime: 500} // described by AWS: no LiveSince
	for _, tc := range []struct {
		f    MetricFilter
		at   int64
		want bool
	}{
		{f, 99, false}, {f, 100, false}, {f, 101, true}, {f, 200, true}, {f, 201, false}, {f, 300, false}, {f, 301, true},
		{aws, 500, false}, {aws, 501, true},
	} {
		if got := tc.f.CountedLive(tc.at); got != tc.want {
			t.Errorf("%+v CountedLive(%d) = %v, want %v", tc.f, tc.at, got, tc.want)
		}
	}
	if DefaultEnd(f) != 300 || DefaultEnd(aws) != 500 || DefaultEnd(MetricFilter{CreationTime: 500, LiveSince: 100}) != 100 {
		t.Errorf("DefaultEnd: %d, %d", DefaultEnd(f), DefaultEnd(aws))
	}
}
