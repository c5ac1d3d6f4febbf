package metrics

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
)

// Limits of PutMetricData, from the API reference (aws-sdk-go-v2 service/cloudwatch v1.75.7
// api_op_PutMetricData.go and types.MetricDatum): 1,000 metric data items per request, 30 dimensions
// per metric, 150 values per Values array, timestamps up to two weeks old and two hours ahead,
// values within ±2^360.
const (
	MaxMetricDataItems     = 1000
	MaxDimensions          = 30
	MaxValuesPerDatum      = 150
	maxNamespaceLength     = 255
	maxMetricNameLength    = 255
	maxDimensionNameLength = 255
	maxDimensionValueLen   = 1024
	maxPastTimestamp       = 14 * 24 * time.Hour
	maxFutureTimestamp     = 2 * time.Hour
)

var (
	maxMagnitude = math.Ldexp(1, 360)
	minMagnitude = math.Ldexp(1, -360)
)

// PutMetricDataInput is PutMetricData's request, decoded by the transport. Pointers distinguish an
// absent member from a zero one where the API does.
type PutMetricDataInput struct {
	Namespace  string
	MetricData []MetricDatum
}

// MetricDatum is one item of PutMetricData's MetricData.
type MetricDatum struct {
	MetricName        string
	Dimensions        []Dimension
	Timestamp         *time.Time
	Value             *float64
	Values            []float64
	Counts            []float64
	StatisticValues   *StatisticValues
	Unit              string
	StorageResolution *int32
}

// StatisticValues is PutMetricData's StatisticSet as sent: every member is required.
type StatisticValues struct {
	SampleCount *float64
	Sum         *float64
	Minimum     *float64
	Maximum     *float64
}

// PutMetricData validates the request as CloudWatch does and stores its datapoints. Validation is
// all-or-nothing: any invalid item fails the whole request and nothing is stored.
//
// StorageResolution 1 (high resolution) is accepted but stored, like everything else, at one-minute
// resolution: queries with a sub-minute period see one datapoint per minute.
func (s *Service) PutMetricData(ctx context.Context, scope Scope, in PutMetricDataInput) error {
	if err := validateNamespace(in.Namespace, "Namespace", true); err != nil {
		return err
	}
	if len(in.MetricData) == 0 {
		return missing("MetricData")
	}
	if len(in.MetricData) > MaxMetricDataItems {
		return invalidValue("The collection MetricData must not have a size greater than %d.", MaxMetricDataItems)
	}
	now := s.now()
	var samples []Sample
	for i := range in.MetricData {
		d := &in.MetricData[i]
		param := fmt.Sprintf("MetricData.member.%d", i+1)
		if err := validateDatum(d, param, now); err != nil {
			return err
		}
		ts := now
		if d.Timestamp != nil {
			ts = *d.Timestamp
		}
		base := Sample{AccountID: scope.AccountID, Region: scope.Region, Namespace: in.Namespace,
			MetricName: d.MetricName, Dimensions: SortedDimensions(d.Dimensions), Unit: NormalizeUnit(d.Unit),
			Timestamp: ts.UTC()}
		// Value excludes the other two (validateDatum); Values and StatisticValues may come together,
		// and then both are stored: the statistic set and the values are all datapoints of the
		// metric at that time.
		if d.Value != nil {
			smp := base
			smp.Value = *d.Value
			samples = append(samples, smp)
		}
		if sv := d.StatisticValues; sv != nil {
			smp := base
			smp.Stats = &StatisticSet{SampleCount: *sv.SampleCount, Sum: *sv.Sum, Minimum: *sv.Minimum, Maximum: *sv.Maximum}
			samples = append(samples, smp)
		}
		for j, v := range d.Values {
			c := 1.0
			if d.Counts != nil {
				c = d.Counts[j]
			}
			if c == 0 {
				continue
			}
			smp := base
			smp.Value, smp.Count = v, c
			samples = append(samples, smp)
		}
	}
	if len(samples) == 0 {
		return nil
	}
	if err := s.store.AddSamples(ctx, samples); err != nil {
		return fmt.Errorf("store metric data: %w", err)
	}
	return nil
}

// validateNamespace checks a namespace: 1..255 ASCII characters, no control characters, at least one
// non-whitespace character, not starting with ':' (model pattern "[^:].*"), and, when publishing,
// not in the reserved "AWS/" space ("The value AWS/ for parameter Namespace is invalid.", the text
// Eucalyptus' AWS-compatible CloudWatch and its conformance suite use).
func validateNamespace(ns, param string, publishing bool) error {
	if ns == "" {
		return missing(param)
	}
	if len(ns) > maxNamespaceLength {
		return constraint(ns, lowerFirst(param), "Member must have length less than or equal to 255")
	}
	if strings.HasPrefix(ns, ":") {
		return constraint(ns, lowerFirst(param), "Member must satisfy regular expression pattern: [^:].*")
	}
	if !printableASCII(ns) {
		return invalidValue("The value %s for parameter %s is invalid.", ns, param)
	}
	if publishing && strings.HasPrefix(ns, "AWS/") {
		return invalidValue("The value AWS/ for parameter %s is invalid.", param)
	}
	return nil
}

// printableASCII reports whether s is ASCII without control characters and has a non-space
// character (the rule CloudWatch states for namespaces and dimensions).
func printableASCII(s string) bool {
	nonSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
		if !unicode.IsSpace(rune(c)) {
			nonSpace = true
		}
	}
	return nonSpace
}

func validateMetricName(name, param string) error {
	if name == "" {
		return missing(param)
	}
	if len(name) > maxMetricNameLength {
		return constraint(name, lowerFirst(param), "Member must have length less than or equal to 255")
	}
	return nil
}

// validateDimensions checks a metric's dimensions: at most 30, names 1..255 and values 1..1024
// printable ASCII characters, names not starting with ':' and not repeated.
func validateDimensions(dims []Dimension, param string) error {
	if len(dims) > MaxDimensions {
		return invalidValue("The collection %s must not have a size greater than %d.", param, MaxDimensions)
	}
	seen := make(map[string]bool, len(dims))
	for i, d := range dims {
		p := fmt.Sprintf("%s.member.%d", param, i+1)
		switch {
		case d.Name == "":
			return missing(p + ".Name")
		case d.Value == "":
			return missing(p + ".Value")
		case len(d.Name) > maxDimensionNameLength:
			return constraint(d.Name, lowerFirst(p)+".name", "Member must have length less than or equal to 255")
		case len(d.Value) > maxDimensionValueLen:
			return constraint(d.Value, lowerFirst(p)+".value", "Member must have length less than or equal to 1024")
		case strings.HasPrefix(d.Name, ":") || !printableASCII(d.Name):
			return invalidValue("The value %s for parameter %s.Name is invalid.", d.Name, p)
		case !printableASCII(d.Value):
			return invalidValue("The value %s for parameter %s.Value is invalid.", d.Value, p)
		case seen[d.Name]:
			// Unverified text: CloudWatch rejects a repeated dimension name, the wording is ours.
			return invalidValue("The value %s for parameter %s.Name is duplicated.", d.Name, p)
		}
		seen[d.Name] = true
	}
	return nil
}

func validateUnit(unit, param string) error {
	if unit != "" && !validUnit(unit) {
		return invalidValue("The parameter %s must be a value in the set [%s].", param, strings.Join(StandardUnits, ", "))
	}
	return nil
}

// validNumber reports whether CloudWatch accepts v as a metric value: finite, and zero or of
// magnitude within [2^-360, 2^360].
func validNumber(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	a := math.Abs(v)
	return a == 0 || (a >= minMagnitude && a <= maxMagnitude)
}

func validateDatum(d *MetricDatum, p string, now time.Time) error {
	if err := validateMetricName(d.MetricName, p+".MetricName"); err != nil {
		return err
	}
	if err := validateDimensions(d.Dimensions, p+".Dimensions"); err != nil {
		return err
	}
	if err := validateUnit(d.Unit, p+".Unit"); err != nil {
		return err
	}
	if r := d.StorageResolution; r != nil && *r != 1 && *r != 60 {
		if *r < 1 {
			return constraint(fmt.Sprint(*r), lowerFirst(p)+".storageResolution", "Member must have value greater than or equal to 1")
		}
		return invalidValue("The value %d for parameter %s.StorageResolution is invalid.", *r, p)
	}
	if d.Timestamp != nil {
		ts := *d.Timestamp
		if ts.Before(now.Add(-maxPastTimestamp)) || ts.After(now.Add(maxFutureTimestamp)) {
			return invalidValue("The parameter %s.Timestamp must specify a time within the past two weeks.", p)
		}
	}
	hasValues := len(d.Values) > 0
	switch {
	case d.Value != nil && d.StatisticValues != nil:
		return combination("The parameters %[1]s.Value and %[1]s.StatisticValues are mutually exclusive and you have specified both.", p)
	case d.Value != nil && hasValues:
		return combination("The parameters %[1]s.Value and %[1]s.Values are mutually exclusive and you have specified both.", p)
	// Values together with StatisticValues is accepted, as CloudWatch accepts it (issue 18's replay
	// of AWS's recorded answers; localstack's AWS-validated provider stores both as well).
	case d.Value == nil && d.StatisticValues == nil && !hasValues:
		// Observed (AdRoll/goamz#301): "At least one of the parameters MetricData.member.1.Value and
		// MetricData.member.1.StatisticValues must be specified."
		return combination("At least one of the parameters %[1]s.Value and %[1]s.StatisticValues must be specified.", p)
	}
	if d.Value != nil && !validNumber(*d.Value) {
		return invalidValue("The value %s for parameter %s.Value is invalid.", formatNumber(*d.Value), p)
	}
	if hasValues || len(d.Counts) > 0 {
		if len(d.Values) > MaxValuesPerDatum {
			return invalidValue("The collection %s.Values must not have a size greater than %d.", p, MaxValuesPerDatum)
		}
		if d.Counts != nil && len(d.Counts) != len(d.Values) {
			return invalidValue("The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", p)
		}
		for j, v := range d.Values {
			if !validNumber(v) {
				return invalidValue("The value %s for parameter %s.Values.member.%d is invalid.", formatNumber(v), p, j+1)
			}
		}
		for j, c := range d.Counts {
			if !validNumber(c) || c < 0 {
				return invalidValue("The value %s for parameter %s.Counts.member.%d is invalid.", formatNumber(c), p, j+1)
			}
		}
	}
	if sv := d.StatisticValues; sv != nil {
		sp := p + ".StatisticValues"
		var missingParts []string
		for _, f := range []struct {
			name string
			v    *float64
		}{{"Maximum", sv.Maximum}, {"Minimum", sv.Minimum}, {"SampleCount", sv.SampleCount}, {"Sum", sv.Sum}} {
			if f.v == nil {
				missingParts = append(missingParts, fmt.Sprintf("The parameter %s.%s is required.", sp, f.name))
			} else if !validNumber(*f.v) {
				return invalidValue("The value %s for parameter %s.%s is invalid.", formatNumber(*f.v), sp, f.name)
			}
		}
		if len(missingParts) > 0 {
			return &Error{Code: CodeMissingParameter, Message: strings.Join(missingParts, "\n")}
		}
		if *sv.SampleCount <= 0 {
			return invalidValue("The parameter %s.SampleCount must be greater than 0.", sp)
		}
		if *sv.Maximum < *sv.Minimum {
			return invalidValue("The parameter %[1]s.Maximum must be greater than %[1]s.Minimum.", sp)
		}
	}
	return nil
}

// lowerFirst turns an API parameter path such as "MetricData.member.1.MetricName" into the member
// path Coral's validator prints ("metricData.member.1.metricName").
func lowerFirst(param string) string {
	parts := strings.Split(param, ".")
	for i, p := range parts {
		if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
			parts[i] = strings.ToLower(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".")
}
