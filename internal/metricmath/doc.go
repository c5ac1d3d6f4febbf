// Package metricmath is CloudWatch's metric math language: the parser of the expressions of
// GetMetricData and metric-math alarms, and their evaluation over series already fetched. It does
// no I/O: the metrics package resolves the metric queries, orders the expressions by their
// dependencies (Expr.Refs) and hands each one an Env.
//
// The language and every function follow the CloudWatch User Guide, "Metric math syntax and
// functions" (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html, cited
// as [CWUG]): arithmetic (+ - * / ^, unary -), comparison (== != <= >= < >) and logical (AND &&,
// OR ||) operators on scalars, time series and arrays of time series; METRICS() with its Id
// filter; ABS, AVG, CEIL, DATAPOINT_COUNT, DIFF, DIFF_TIME, FILL (a value, a series, REPEAT,
// LINEAR), FIRST, LAST, FLOOR, IF, LOG, LOG10, MAX, METRIC_COUNT, MIN, MINUTE, HOUR, DAY, DATE,
// MONTH, YEAR, EPOCH, PERIOD, RATE, REMOVE_EMPTY, RUNNING_SUM, SEARCH (through Env.Search),
// SLICE, SORT, STDDEV, SUM and TIME_SERIES. The functions that read another AWS service
// (ANOMALY_DETECTION_BAND, INSIGHT_RULE_METRIC, LAMBDA, SERVICE_QUOTA, DB_PERF_INSIGHTS) are
// refused with an error naming the service.
//
// # Decisions
//
// Where the guide is silent, the behaviour is decided here and pinned by tests:
//
//   - Precedence, loosest first: OR, AND, comparisons, + -, * /, unary minus, ^ (right
//     associative), so -m1^2 is -(m1^2). TestParsePrecedence.
//   - Series are aligned by timestamp only: two series combine over the union of their
//     timestamps, the missing side counting as 0, for arithmetic ("Missing values in a time
//     series are treated as 0") as for comparisons and logical operators (the guide's table).
//     A datapoint whose value is not finite (x/0, LOG(0), overflow) is dropped ("the data point
//     is dropped") and the result says so (Result.Dropped), which GetMetricData reports as AWS's
//     ArithmeticError message. Two arrays combine element by element when they have the same
//     length and are refused otherwise.
//   - ABS, CEIL, FLOOR, LOG and LOG10 also accept a scalar.
//   - The aggregates of an array, per timestamp where any series has a value: AVG and SUM count
//     a missing value as 0 (the guide says so of AVG); MIN, MAX, STDDEV and DATAPOINT_COUNT use
//     the values present. STDDEV is the population standard deviation. Of a single series, an
//     aggregate with no datapoint is NaN (SUM and DATAPOINT_COUNT: 0), so what it feeds is
//     dropped.
//   - DIFF, DIFF_TIME and RATE leave out the first datapoint, which has no predecessor.
//   - FILL fills the missing timestamps of the series' grid (request start + k*period up to the
//     end); REPEAT leaves a gap with no earlier value missing, LINEAR also one with no later value.
//   - DAY is 1 (Monday) to 7 (Sunday); the time functions read timestamps in UTC.
//   - SORT is stable, and a series without datapoints sorts last in either order.
//   - The final value of an expression must be a series or an array; a scalar is an error.
//   - The dense functions (TIME_SERIES, FILL, the time functions) build at most 1,000,000
//     datapoints per series, and at most MaxDensePoints across the expressions of one request
//     (Env.Budget): beyond, the expression is refused rather than exhausting memory. TestBudget.
package metricmath
