package metrics

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ListMetricsPageSize is how many metrics one ListMetrics call returns at most ("Up to 500 results
// are returned for any one call", ListMetrics API reference).
const ListMetricsPageSize = 500

const (
	maxDimensionFilters = 10
	// listRetention: "ListMetrics doesn't return information about metrics if those metrics haven't
	// reported data in the past two weeks."
	listRetention = 14 * 24 * time.Hour
	// recentlyActive is the window of RecentlyActive=PT3H.
	recentlyActive = 3 * time.Hour
	tokenPrefix    = "tw1:"
)

// ListMetricsInput is ListMetrics' request.
type ListMetricsInput struct {
	Namespace      string
	MetricName     string
	Dimensions     []DimensionFilter
	NextToken      string
	RecentlyActive string
}

// ListMetricsOutput is ListMetrics' response.
type ListMetricsOutput struct {
	Metrics   []Metric
	NextToken string
}

// ListMetrics lists the metrics of scope that match the filters and had a datapoint in the last two
// weeks (three hours with RecentlyActive=PT3H), 500 per page.
//
// Activity is judged by the newest datapoint timestamp stored for the metric, not by when it was
// published: trailwatch keeps no per-metric receipt time. The two only differ for back-dated data.
// Unlike CloudWatch, a new metric is listed at once rather than after up to 15 minutes.
func (s *Service) ListMetrics(ctx context.Context, scope Scope, in ListMetricsInput) (ListMetricsOutput, error) {
	if in.Namespace != "" {
		if err := validateNamespace(in.Namespace, "Namespace", false); err != nil {
			return ListMetricsOutput{}, err
		}
	}
	if len(in.MetricName) > maxMetricNameLength {
		return ListMetricsOutput{}, constraint(in.MetricName, "metricName", "Member must have length less than or equal to 255")
	}
	if len(in.Dimensions) > maxDimensionFilters {
		return ListMetricsOutput{}, constraint(fmt.Sprint(len(in.Dimensions)), "dimensions", "Member must have length less than or equal to 10")
	}
	for i, f := range in.Dimensions {
		p := fmt.Sprintf("Dimensions.member.%d", i+1)
		if f.Name == "" {
			return ListMetricsOutput{}, missing(p + ".Name")
		}
		if len(f.Name) > maxDimensionNameLength {
			return ListMetricsOutput{}, constraint(f.Name, lowerFirst(p)+".name", "Member must have length less than or equal to 255")
		}
		if f.Value != nil && len(*f.Value) > maxDimensionValueLen {
			return ListMetricsOutput{}, constraint(*f.Value, lowerFirst(p)+".value", "Member must have length less than or equal to 1024")
		}
	}
	window := listRetention
	switch in.RecentlyActive {
	case "":
	case "PT3H":
		window = recentlyActive
	default:
		return ListMetricsOutput{}, constraint(in.RecentlyActive, "recentlyActive", "Member must satisfy enum value set: [PT3H]")
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return ListMetricsOutput{}, err
	}
	ms, next, err := s.store.ListMetrics(ctx, scope, ListQuery{
		Namespace: in.Namespace, MetricName: in.MetricName, Dimensions: in.Dimensions,
		ActiveSince: s.now().Add(-window), After: after, Limit: ListMetricsPageSize,
	})
	if errors.Is(err, ErrInvalidCursor) {
		return ListMetricsOutput{}, badListToken()
	}
	if err != nil {
		return ListMetricsOutput{}, fmt.Errorf("list metrics: %w", err)
	}
	out := ListMetricsOutput{Metrics: ms}
	if next != "" {
		out.NextToken = encodeToken(next)
	}
	return out, nil
}

// badListToken is moto's wording for a NextToken ListMetrics did not issue.
func badListToken() error { return invalidValue("Request parameter NextToken is invalid") }

func encodeToken(cursor string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + cursor))
}

func decodeToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), tokenPrefix) {
		return "", badListToken()
	}
	return strings.TrimPrefix(string(b), tokenPrefix), nil
}
