package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// TestServiceRegexFilterQuota checks AWS's quota of five metric filters containing a regular expression
// per log group (filter-patterns.md §6, DOC-REGEX "Quotas"): the sixth is refused with
// LimitExceededException, replacing an existing regex filter is allowed, and filters without a regex are
// not counted.
func TestServiceRegexFilterQuota(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := newLogsService(t, &now)
	sc := logs.Scope{AccountID: "111122223333", Region: "us-east-1"}
	mustOK(t, s.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "g"}))
	put := func(name, pattern string) error {
		return s.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: name, FilterPattern: pattern,
			MetricTransformations: []logs.MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
	}
	for i := range 5 {
		mustOK(t, put(fmt.Sprint("re", i), fmt.Sprintf("%%err%d%%", i)))
	}
	mustOK(t, put("plain", "ERROR"))
	mustOK(t, put("re0", "%replaced%"))
	err := put("re5", "%one too many%")
	var le *logs.Error
	if !errors.As(err, &le) || le.ErrorCode() != "LimitExceededException" {
		t.Fatalf("sixth regex filter: err = %v, want LimitExceededException", err)
	}
	mustOK(t, put("plain2", `{ $.a = "b" }`))
}
