// Package alarm is the pure core of CloudWatch alarms: the metric-alarm model and its
// PutMetricAlarm validation, the evaluator with AWS's exact missing-data semantics, the StateReason
// and StateReasonData texts, the SNS message and email CloudWatch publishes on a transition, the
// DescribeAlarmHistory items, and composite alarms (AlarmRule parsing and evaluation, actions
// suppression).
//
// Nothing here does I/O or reads a clock. The scheduler that builds on it:
//
//  1. asks the alarm for Range(now) and fetches the metric with StatisticName and PeriodSeconds in
//     buckets starting at the range start, as []Datapoint;
//  2. calls Evaluate(alarm, points, currentState, now);
//  3. if result.Changed(currentState), stores State, Reason and ReasonData, appends
//     StateUpdateHistory, and (when ActionsEnabled) publishes Message / EmailBody to the actions of
//     the new state, recording ActionHistory items.
//
// A new datapoint may be acted on before the next minute with EvaluateEarly, which says whether the
// outcome is already final. Composite alarms are re-evaluated with EvaluateComposite whenever a
// child changes state.
//
// References in comments (§n.n, [CWUG], [FINDSTR n], …) point into
// shared/reference/aws-alarms-sns-protocols.md.
//
// # Decisions
//
// Open questions of the reference (§6) and gaps of the AWS documentation, decided here and pinned
// by tests:
//
//   - Evaluation range (§6.1): RangeSize(N) = N + max(N/3, 2) periods, which gives the only
//     documented value (5 for N=3) and LocalStack's approximation. TestEvaluationRange.
//   - Window alignment: an evaluation at now uses periods ending at now truncated to the minute
//     (10 s for periods below 60 s); each datapoint is stamped with its bucket start.
//     TestEvaluationTime.
//   - Partial data with "missing"/"ignore" (§1.6 and awsdocs#129): the real datapoints decide —
//     ALARM if M of them breach, OK as soon as one does not breach; when all breach but fewer than
//     M, "missing" applies the premature-ALARM rule (ALARM if the oldest is at least M periods
//     old) and otherwise, like "ignore", retains the state. This reproduces every cell of both
//     official tables, including "0 - X - -" (M=2) → OK that contradicts the prose.
//     TestMissingDataTables, TestPrematureAlarm.
//   - Which missing slots are filled: the most recent ones ("the two most recent missing data
//     points are both treated as breaching", table B); they appear in evaluatedDatapoints.
//   - StateReason is only meaningful on a transition; Evaluate always computes it, Changed says
//     whether to store it. Retained results carry no reason.
//   - Inline list vs. "The most recent datapoints which crossed the threshold" (§6.2): inline for
//     up to 3 crossing datapoints, the other form from 4, listing at most 5, newest first.
//     TestReasonTexts.
//   - The listed datapoints are those agreeing with the new state (breaching for ALARM,
//     non-breaching for OK) and the count "k out of the last N" counts them, as in
//     "1 out of the last 50 datapoints … was not greater" [FINDSTR 41144352575].
//   - When filled datapoints alone decide (no real datapoint agrees with the new state) the text
//     is "R datapoint(s) was/were received for N periods and F missing datapoints were treated as
//     [Breaching]." — the all-missing form with R instead of "no", as quoted in user reports; no
//     "(minimum …)" suffix, like the all-missing form.
//   - With filled datapoints and the "most recent" form, " and F missing datapoints were treated
//     as [X]" goes before ". The most recent datapoints …".
//   - "Insufficient Data: N datapoints were unknown." counts EvaluationPeriods [FINDSTR 2596091539].
//   - StateReasonData of a percentile alarm names it "extendedStatistic" (unobserved).
//   - EvaluateLowSampleCountPercentile=ignore retains the state when any evaluated datapoint has
//     too few samples ("the alarm state does not change during periods with too few data
//     points", API reference).
//   - Sum counts as monotone for EvaluateEarly only when the caller vouches that no sample is
//     negative. TestEvaluateEarly.
//   - Anomaly-detection operators validate but are never evaluated (Retained), since the band
//     model is out of scope.
package alarm
