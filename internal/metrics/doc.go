// Package metrics is the CloudWatch metrics domain: metric identity, samples and their per-minute
// aggregation, statistics and percentiles, and the semantics and validation of PutMetricData,
// ListMetrics, GetMetricStatistics and GetMetricData.
//
// Everything published (by PutMetricData or by a metric filter) becomes Samples; a Store keeps one
// Aggregate per (account, region, metric, minute, unit), so storage and query cost follow distinct
// metric-minutes rather than sample counts. Service validates requests exactly as CloudWatch does and
// answers queries from those aggregates; Service.Aggregates is the cheap question the alarm engine
// asks ("buckets of P seconds of metric M over [t0, t1)").
//
// # Decisions
//
// Where AWS documents no answer, the behaviour is decided here and pinned by tests:
//
//   - Percentiles are nearest-rank over the exact value distribution (Aggregate.Value). A minute
//     keeps at most MaxDistinctValues distinct values per unit; beyond that, and for statistic sets
//     whose Minimum differs from Maximum, percentiles are omitted rather than approximated.
//     Percentiles are omitted when a value is negative, as the API reference states.
//   - Metric-filter defaults (Sample.Default) are stored apart from real samples. A minute with a
//     real sample in any unit ignores every default; a minute with only defaults yields exactly one
//     datapoint of the first default stored (ResolveDefaults).
//   - Period buckets start at the request's StartTime, rounded down by age as the API reference
//     describes (minute, 5 minutes, hour); a datapoint's Timestamp is its bucket start. Data is kept
//     at one-minute resolution (StorageResolution 1 is accepted), and a minute belongs to the bucket
//     holding its start.
//   - The 1,440-datapoint limit counts a partial last period: ceil((EndTime-StartTime)/Period).
//   - ListMetrics judges recency (two weeks, or PT3H) by the newest datapoint timestamp of a metric.
//   - GetMetricData pages through the concatenation of its queries' datapoints. Metric math
//     expressions (package metricmath) are evaluated after the metric queries, in dependency
//     order; an expression producing an array answers one result per series, all with its Id
//     (labels: expressionLabel). An expression's period is its Period, else the shortest period
//     of the request's metric queries, else 60. Bad expressions, unknown Ids and cycles are a
//     ValidationError listing every problem; dropped non-finite datapoints add AWS's
//     ArithmeticError message. Metrics Insights queries are refused with a ValidationError.
//   - SEARCH finds the scope's metrics with data in the past two weeks, at most 500, each
//     labelled "<MetricName> <dimension values>" (see search).
//   - Error texts are AWS's where a real response was observed (each cited beside its code);
//     elsewhere they follow CloudWatch's wording patterns and are marked unverified.
package metrics
