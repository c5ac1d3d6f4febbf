package metrics

import (
	"slices"
	"strings"
)

// StandardUnits lists CloudWatch's StandardUnit enum in the API model's order; the order matters
// because validation messages print the set.
var StandardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// NormalizeUnit returns the stored form of a unit: "" (unset) becomes "None", the unit CloudWatch
// reports for data published without one.
func NormalizeUnit(u string) string {
	if u == "" {
		return "None"
	}
	return u
}

func validUnit(u string) bool {
	for _, s := range StandardUnits {
		if s == u {
			return true
		}
	}
	return false
}

// unitPreference is the order in which CloudWatch picks the one unit a GetMetricData result without
// a Unit reports when the data has several: the first of this list that the data carries. It is
// the order of the set CloudWatch prints when a query names a unit the data lacks, recorded against
// AWS in localstack's test_get_metric_data_different_units_no_unit_in_query (PR 9877), whose AWS
// answers agree: Milliseconds wins over Seconds, Count over both.
var unitPreference = []string{
	"Megabits", "Terabits", "Gigabits", "Count", "Bytes", "Gigabytes", "Gigabytes/Second", "Kilobytes",
	"Kilobits/Second", "Terabytes", "Terabits/Second", "Bytes/Second", "Percent", "Megabytes",
	"Megabits/Second", "Milliseconds", "Microseconds", "Kilobytes/Second", "Gigabits/Second",
	"Megabytes/Second", "Bits", "Bits/Second", "Count/Second", "Seconds", "Kilobits", "Terabytes/Second",
	"None",
}

// MessageMultipleUnits is the code of the result message that says a result's data had several
// units and only one of them was used.
const MessageMultipleUnits = "MultipleUnits"

// pickUnit chooses the unit of a result whose query names none, from the buckets of every unit
// (buckets split by unit), as CloudWatch does: the data is not summed across units; the first unit
// of unitPreference present is used, and a MultipleUnits message lists the units found, as in
// AWS's recorded {"Code": "MultipleUnits", "Value": "Multiple units returned: '[Milliseconds,
// Seconds]'"}. The units are listed in alphabetical order (the recorded lists are in that order;
// AWS does not document it). The choice is made once over the whole queried range.
func pickUnit(buckets []Aggregate) ([]Aggregate, []Message) {
	var units []string
	for i := range buckets {
		if u := NormalizeUnit(buckets[i].Unit); !slices.Contains(units, u) {
			units = append(units, u)
		}
	}
	if len(units) < 2 {
		return buckets, nil
	}
	chosen := ""
	for _, u := range unitPreference {
		if slices.Contains(units, u) {
			chosen = u
			break
		}
	}
	out := buckets[:0:0]
	for i := range buckets {
		if NormalizeUnit(buckets[i].Unit) == chosen {
			out = append(out, buckets[i])
		}
	}
	slices.Sort(units)
	return out, []Message{{Code: MessageMultipleUnits, Value: "Multiple units returned: '[" + strings.Join(units, ", ") + "]'"}}
}
