package alarm

import (
	"testing"
	"time"
)

// series returns datapoints with the given values, the first stamped newest and each following
// one a period older.
func series(newest time.Time, period time.Duration, values ...float64) []Datapoint {
	pts := make([]Datapoint, len(values))
	for i, v := range values {
		pts[i] = Datapoint{Timestamp: newest.Add(-time.Duration(i) * period), Value: v, SampleCount: 1}
	}
	return pts
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.000", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestReasonTexts reproduces every StateReason example of reference §1.5, §1.7 and §1.8 that can be
// reproduced from its inputs; the test name cites the section and source.
func TestReasonTexts(t *testing.T) {
	type tc struct {
		name   string
		alarm  func(a *MetricAlarm)
		n, m   int
		treat  string
		now    string
		points []Datapoint
		prev   State
		want   State
		reason string
	}
	gt := func(th float64) func(a *MetricAlarm) {
		return func(a *MetricAlarm) { a.ComparisonOperator, a.Threshold = GreaterThanThreshold, ptr(th) }
	}
	ge := func(th float64) func(a *MetricAlarm) {
		return func(a *MetricAlarm) { a.ComparisonOperator, a.Threshold = GreaterThanOrEqualToThreshold, ptr(th) }
	}
	lt := func(th float64) func(a *MetricAlarm) {
		return func(a *MetricAlarm) { a.ComparisonOperator, a.Threshold = LessThanThreshold, ptr(th) }
	}
	min := time.Minute
	ones := func(k int, v float64) []float64 {
		s := make([]float64, k)
		for i := range s {
			s[i] = v
		}
		return s
	}
	cases := []tc{
		{name: "§1.8 unset 1 datapoint [LS-CW-SNAP]", alarm: gt(21), n: 1,
			now: "2026-02-10T10:01:05.000", points: series(at("2026-02-10T10:00:00.000"), min, 21.5), want: StateAlarm,
			reason: "Threshold Crossed: 1 datapoint [21.5 (10/02/26 10:00:00)] was greater than the threshold (21.0)."},
		{name: "§1.8 unset recovery [FINDSTR 46314339023]", alarm: ge(1), n: 1, prev: StateAlarm,
			now: "2024-03-19T17:15:20.000", points: series(at("2024-03-19T17:14:00.000"), min, 0), want: StateOK,
			reason: "Threshold Crossed: 1 datapoint [0.0 (19/03/24 17:14:00)] was not greater than or equal to the threshold (1.0)."},
		{name: "§1.8 unset several points, 45-min buckets [FINDSTR 7804013229]", alarm: func(a *MetricAlarm) {
			ge(1)(a)
			a.Period = ptr(int32(2700))
		}, n: 3, now: "2022-05-13T13:59:30.000",
			points: series(at("2022-05-13T13:14:00.000"), 45*min, 4, 5, 1), want: StateAlarm,
			reason: "Threshold Crossed: 3 datapoints [4.0 (13/05/22 13:14:00), 5.0 (13/05/22 12:29:00), 1.0 (13/05/22 11:44:00)] were greater than or equal to the threshold (1.0)."},
		{name: "§1.8 unset many points [FINDSTR 8888401526]", alarm: gt(0), n: 24,
			now: "2024-12-19T08:35:01.260", points: series(at("2024-12-19T08:34:00.000"), min, ones(24, 1)...), want: StateAlarm,
			reason: "Threshold Crossed: 24 datapoints were greater than the threshold (0.0). The most recent datapoints which crossed the threshold: [1.0 (19/12/24 08:34:00), 1.0 (19/12/24 08:33:00), 1.0 (19/12/24 08:32:00), 1.0 (19/12/24 08:31:00), 1.0 (19/12/24 08:30:00)]."},
		{name: "§1.8 unset many points 2017 [FINDSTR 45613667561]", alarm: gt(10), n: 5,
			now: "2017-08-08T20:10:10.000", points: series(at("2017-08-08T20:09:00.000"), min, 27.5, 30, 11, 12, 13), want: StateAlarm,
			reason: "Threshold Crossed: 5 datapoints were greater than the threshold (10.0). The most recent datapoints which crossed the threshold: [27.5 (08/08/17 20:09:00), 30.0 (08/08/17 20:08:00), 11.0 (08/08/17 20:07:00), 12.0 (08/08/17 20:06:00), 13.0 (08/08/17 20:05:00)]."},
		{name: "§1.8 set 1 of 1 [SREBOT]", alarm: gt(5), n: 1, m: 1, prev: StateInsufficientData,
			now: "2022-09-25T18:50:37.811", points: series(at("2022-09-25T18:49:00.000"), min, 6), want: StateAlarm,
			reason: "Threshold Crossed: 1 out of the last 1 datapoints [6.0 (25/09/22 18:49:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition)."},
		{name: "§1.8 set 3 of 3 [FINDSTR 13138626691]", alarm: ge(1), n: 3, m: 3,
			now: "2025-10-03T16:13:02.000", points: series(at("2025-10-03T16:12:00.000"), min, 1, 1, 1), want: StateAlarm,
			reason: "Threshold Crossed: 3 out of the last 3 datapoints [1.0 (03/10/25 16:12:00), 1.0 (03/10/25 16:11:00), 1.0 (03/10/25 16:10:00)] were greater than or equal to the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition)."},
		{name: "§1.8 set 5 of 5 [FINDSTR 24216666772]", alarm: lt(65), n: 5, m: 5,
			now: "2020-04-29T23:33:40.000", points: series(at("2020-04-29T23:32:00.000"), min, 0, 0, 0, 0, 0), want: StateAlarm,
			reason: "Threshold Crossed: 5 out of the last 5 datapoints were less than the threshold (65.0). The most recent datapoints which crossed the threshold: [0.0 (29/04/20 23:32:00), 0.0 (29/04/20 23:31:00), 0.0 (29/04/20 23:30:00), 0.0 (29/04/20 23:29:00), 0.0 (29/04/20 23:28:00)] (minimum 5 datapoints for OK -> ALARM transition)."},
		{name: "§1.8 set 30 of 30 [FINDSTR 41144352575]", alarm: gt(20), n: 30, m: 30,
			now: "2024-01-01T00:30:05.000", points: series(at("2024-01-01T00:29:00.000"), min, ones(30, 21)...), want: StateAlarm,
			reason: "Threshold Crossed: 30 out of the last 30 datapoints were greater than the threshold (20.0). The most recent datapoints which crossed the threshold: [21.0 (01/01/24 00:29:00), 21.0 (01/01/24 00:28:00), 21.0 (01/01/24 00:27:00), 21.0 (01/01/24 00:26:00), 21.0 (01/01/24 00:25:00)] (minimum 30 datapoints for OK -> ALARM transition)."},
		{name: "§6.2 4 crossing datapoints use the most recent form [FINDSTR 53168328837]", alarm: gt(0), n: 4, m: 4,
			now: "2024-01-01T00:04:05.000", points: series(at("2024-01-01T00:03:00.000"), min, 1, 2, 3, 4), want: StateAlarm,
			reason: "Threshold Crossed: 4 out of the last 4 datapoints were greater than the threshold (0.0). The most recent datapoints which crossed the threshold: [1.0 (01/01/24 00:03:00), 2.0 (01/01/24 00:02:00), 3.0 (01/01/24 00:01:00), 4.0 (01/01/24 00:00:00)] (minimum 4 datapoints for OK -> ALARM transition)."},
		{name: "§1.5 1 out of the last 50, N=M=50 recovery [FINDSTR 41144352575]", alarm: gt(50), n: 50, m: 50, prev: StateAlarm,
			now: "2024-01-01T00:50:05.000", points: series(at("2024-01-01T00:49:00.000"), min, append([]float64{48}, ones(49, 51)...)...), want: StateOK,
			reason: "Threshold Crossed: 1 out of the last 50 datapoints [48.0 (01/01/24 00:49:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."},
		{name: "§1.5 3 out of the last 5 recovery M=3 [FINDSTR 10648717788]", alarm: gt(0), n: 5, m: 3, prev: StateAlarm,
			now: "2021-01-01T00:05:05.000", points: series(at("2021-01-01T00:04:00.000"), min, 0, 0, 0, 1, 1), want: StateOK,
			reason: "Threshold Crossed: 3 out of the last 5 datapoints [0.0 (01/01/21 00:04:00), 0.0 (01/01/21 00:03:00), 0.0 (01/01/21 00:02:00)] were not greater than the threshold (0.0) (minimum 3 datapoints for ALARM -> OK transition)."},
		{name: "§1.8 set recovery [FINDSTR 43398051834]", alarm: ge(1), n: 1, m: 1, prev: StateAlarm,
			now: "2020-04-23T13:18:30.000", points: series(at("2020-04-23T13:17:00.000"), min, 0), want: StateOK,
			reason: "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (23/04/20 13:17:00)] was not greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition)."},
		{name: "§1.6/§1.8 set, with filled missing [FINDSTR 46314339023]", alarm: ge(1), n: 20, m: 1, treat: TreatNotBreaching,
			now: "2024-03-16T12:16:10.000", points: series(at("2024-03-16T12:15:00.000"), min, 613), want: StateAlarm,
			reason: "Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was greater than or equal to the threshold (1.0) and 19 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."},
		{name: "§1.8 all missing breaching 2 periods [LS-CW-SNAP]", alarm: gt(0), n: 2, treat: TreatBreaching,
			now: "2026-02-10T10:01:05.000", want: StateAlarm,
			reason: "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."},
		{name: "§1.8 all missing 1 period [FINDSTR 2849077744]", alarm: gt(0), n: 1, treat: TreatBreaching,
			now: "2018-01-01T00:00:05.000", want: StateAlarm,
			reason: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]."},
		{name: "§1.7 all missing notBreaching [FINDSTR 7804013229]", alarm: ge(1), n: 3, treat: TreatNotBreaching, prev: StateAlarm,
			now: "2022-05-13T15:00:05.000", want: StateOK,
			reason: "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching]."},
		{name: "§1.8 all missing 1 period notBreaching, 2020 SNS [EU (London) example]", alarm: gt(0), n: 1, m: 1, treat: TreatNotBreaching, prev: StateAlarm,
			now: "2020-01-22T11:09:02.049", want: StateOK,
			reason: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."},
		{name: "§1.8 INSUFFICIENT_DATA 1 datapoint [FINDSTR 2596091539]", alarm: gt(0), n: 1, prev: StateOK,
			now: "2021-01-01T00:00:05.000", want: StateInsufficientData,
			reason: "Insufficient Data: 1 datapoint was unknown."},
		{name: "§1.8 INSUFFICIENT_DATA 10 datapoints [FINDSTR 495091258]", alarm: gt(0), n: 10, prev: StateOK,
			now: "2019-01-01T00:00:05.000", want: StateInsufficientData,
			reason: "Insufficient Data: 10 datapoints were unknown."},
		{name: "decision: partial fill decided by filled points alone (user report 2026-09-05)", alarm: gt(0), n: 3, m: 2, treat: TreatBreaching,
			now: "2026-09-05T10:00:30.000", points: series(at("2026-09-05T09:59:00.000"), min, 0), want: StateAlarm,
			reason: "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching]."},
		{name: "EventBridge 2-of-2 ALARM [FINDSTR 7143822889]", alarm: lt(40), n: 2, m: 2,
			now: "2021-04-13T15:45:16.506", points: series(at("2021-04-13T15:44:00.000"), min, 0.017910949885845184, 0.017077552154660225), want: StateAlarm,
			reason: "Threshold Crossed: 2 out of the last 2 datapoints [0.017910949885845184 (13/04/21 15:44:00), 0.017077552154660225 (13/04/21 15:43:00)] were less than the threshold (40.0) (minimum 2 datapoints for OK -> ALARM transition)."},
		{name: "§1.8 Java double formatting [FINDSTR 57945354789]", alarm: gt(1.6e10), n: 1, m: 1, prev: StateAlarm,
			now: "2026-01-01T00:01:05.000", points: series(at("2026-01-01T00:00:00.000"), min, 3.088453632e9), want: StateOK,
			reason: "Threshold Crossed: 1 out of the last 1 datapoints [3.088453632E9 (01/01/26 00:00:00)] was not greater than the threshold (1.6E10) (minimum 1 datapoint for ALARM -> OK transition)."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := testAlarm(c.n, c.m, c.treat)
			c.alarm(a)
			prev := c.prev
			if prev == 0 {
				prev = StateOK
			}
			got := Evaluate(a, c.points, prev, at(c.now))
			if got.Retained || got.State != c.want {
				t.Fatalf("state %v (retained %v), want %v; reason %q", got.State, got.Retained, c.want, got.Reason)
			}
			if got.Reason != c.reason {
				t.Fatalf("reason\n got %q\nwant %q", got.Reason, c.reason)
			}
		})
	}
}

// TestReasonDataObserved compares whole StateReason/StateReasonData pairs captured from AWS.
func TestReasonDataObserved(t *testing.T) {
	for _, c := range []struct {
		name   string
		alarm  *MetricAlarm
		now    string
		points []Datapoint
		prev   State
		reason string
		data   string
	}{
		{
			name: "§1.9 Minimum with unit, recovery (2023, StatusCheckFailed)",
			alarm: &MetricAlarm{AlarmName: "x", MetricName: "StatusCheckFailed_System", Namespace: "AWS/EC2", Statistic: StatMinimum,
				Unit: "Count", Period: ptr(int32(60)), EvaluationPeriods: ptr(int32(1)), Threshold: ptr(1.0),
				ComparisonOperator: GreaterThanOrEqualToThreshold},
			now: "2023-04-07T09:09:15.917", points: series(at("2023-04-07T09:08:00.000"), time.Minute, 0), prev: StateAlarm,
			reason: "Threshold Crossed: 1 datapoint [0.0 (07/04/23 09:08:00)] was not greater than or equal to the threshold (1.0).",
			data:   `{"version":"1.0","queryDate":"2023-04-07T09:09:15.917+0000","startDate":"2023-04-07T09:08:00.000+0000","unit":"Count","statistic":"Minimum","period":60,"recentDatapoints":[0.0],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2023-04-07T09:08:00.000+0000","sampleCount":1.0,"value":0.0}]}`,
		},
		{
			name: "§1.9 newest bucket missing, look-back to a real one [FINDSTR 8888401526]",
			alarm: &MetricAlarm{AlarmName: "x", MetricName: "ApproximateNumberOfMessagesVisible", Namespace: "AWS/SQS", Statistic: StatSum,
				Period: ptr(int32(60)), EvaluationPeriods: ptr(int32(1)), Threshold: ptr(0.0),
				ComparisonOperator: GreaterThanThreshold, TreatMissingData: TreatNotBreaching},
			now: "2025-05-15T15:31:44.984", points: series(at("2025-05-15T15:29:00.000"), time.Minute, 1), prev: StateOK,
			reason: "Threshold Crossed: 1 datapoint [1.0 (15/05/25 15:29:00)] was greater than the threshold (0.0).",
			data:   `{"version":"1.0","queryDate":"2025-05-15T15:31:44.984+0000","startDate":"2025-05-15T15:29:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[1.0],"threshold":0.0,"evaluatedDatapoints":[{"timestamp":"2025-05-15T15:29:00.000+0000","sampleCount":1.0,"value":1.0}]}`,
		},
		{
			name: "§1.9 INSUFFICIENT_DATA, missing datapoints without value (2023 EventBridge)",
			alarm: &MetricAlarm{AlarmName: "x", MetricName: "Errors", Namespace: "AWS/Lambda", Statistic: StatAverage,
				Period: ptr(int32(60)), EvaluationPeriods: ptr(int32(5)), Threshold: ptr(5.0),
				ComparisonOperator: GreaterThanThreshold},
			now: "2023-08-04T12:31:29.591", prev: StateOK,
			reason: "Insufficient Data: 5 datapoints were unknown.",
			data:   `{"version":"1.0","queryDate":"2023-08-04T12:31:29.591+0000","statistic":"Average","period":60,"recentDatapoints":[],"threshold":5.0,"evaluatedDatapoints":[{"timestamp":"2023-08-04T12:30:00.000+0000"},{"timestamp":"2023-08-04T12:29:00.000+0000"},{"timestamp":"2023-08-04T12:28:00.000+0000"},{"timestamp":"2023-08-04T12:27:00.000+0000"},{"timestamp":"2023-08-04T12:26:00.000+0000"}]}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Evaluate(c.alarm, c.points, c.prev, at(c.now))
			if got.Reason != c.reason {
				t.Errorf("reason\n got %q\nwant %q", got.Reason, c.reason)
			}
			if got.ReasonData != c.data {
				t.Errorf("reasonData\n got %s\nwant %s", got.ReasonData, c.data)
			}
		})
	}
}

func TestJavaDouble(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2.5: "-2.5", 6.046241709654764: "6.046241709654764", 1.6e10: "1.6E10",
		3.088453632e9: "3.088453632E9", 1e7: "1.0E7", 9999999: "9999999.0", 0.001: "0.001",
		0.0001: "1.0E-4", 45628: "45628.0", 0.0666851903306472: "0.0666851903306472", -1.5e-7: "-1.5E-7",
	} {
		if got := javaDouble(v); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", v, got, want)
		}
	}
}
