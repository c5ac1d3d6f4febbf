package alarm_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
)

var sc = alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}

const topic = "arn:aws:sns:us-east-1:111122223333:alerts"

func p32(v int32) *int32    { return &v }
func pf(v float64) *float64 { return &v }

// rig is an alarm service over in-memory stores, inside a synctest bubble.
type rig struct {
	t       *testing.T
	store   *alarmtest.Memory
	metrics *metrics.Service
	mstore  *metricstest.Memory
	svc     *alarm.Service
	errs    []error
	mu      sync.Mutex
	cancel  context.CancelFunc
}

func newRig(t *testing.T, store *alarmtest.Memory, mstore *metricstest.Memory) *rig {
	t.Helper()
	if store == nil {
		store = alarmtest.NewMemory()
	}
	if mstore == nil {
		mstore = metricstest.NewMemory()
	}
	r := &rig{t: t, store: store, mstore: mstore, metrics: metrics.NewService(mstore, nil)}
	svc, err := alarm.NewService(context.Background(), store, r.metrics, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.OnError = func(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() }
	r.svc = svc
	return r
}

// run starts the scheduler; stop ends it and checks no background error happened.
func (r *rig) run() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	done := make(chan struct{})
	go func() { r.svc.Run(ctx); close(done) }()
	r.t.Cleanup(func() {
		cancel()
		<-done
		if len(r.errs) > 0 {
			r.t.Errorf("background errors: %v", r.errs)
		}
	})
	synctest.Wait()
}

// sample publishes one value as a metric filter would (log event time = now) and fires the hook.
func (r *rig) sample(metric string, v float64) {
	r.t.Helper()
	s := metrics.Sample{AccountID: sc.AccountID, Region: sc.Region, Namespace: "CloudTrailMetrics", MetricName: metric,
		Timestamp: time.Now(), Value: v}
	if err := r.mstore.AddSamples(context.Background(), []metrics.Sample{s}); err != nil {
		r.t.Fatal(err)
	}
	r.svc.OnSamples([]metrics.Sample{s})
	synctest.Wait()
}

func (r *rig) state(name string) alarm.State {
	r.t.Helper()
	rec := r.svc.Get(sc, name)
	if rec == nil {
		r.t.Fatalf("alarm %s missing", name)
	}
	return rec.State
}

func (r *rig) history(name, kind string) []string {
	r.t.Helper()
	items, _, err := r.svc.DescribeAlarmHistory(context.Background(), sc, alarm.HistoryInput{AlarmName: name, HistoryItemType: kind,
		AlarmTypes: []string{alarm.TypeMetric, alarm.TypeComposite}, ScanBy: "TimestampAscending"})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.HistorySummary)
	}
	return out
}

func seedAlarm(name, metric, treat string) alarm.MetricAlarm {
	return alarm.MetricAlarm{AlarmName: name, ActionsEnabled: true, AlarmActions: []string{topic}, OKActions: []string{topic},
		MetricName: metric, Namespace: "CloudTrailMetrics", Statistic: alarm.StatSum, Period: p32(300),
		EvaluationPeriods: p32(1), Threshold: pf(1), ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: treat}
}

// advanceTo sleeps (fake time) until t and lets the scheduler settle.
func advanceTo(t time.Time) {
	time.Sleep(time.Until(t))
	synctest.Wait()
}

// The seed alarm goes to ALARM the moment a root login's datapoint arrives (Sum with >= is final),
// the regular evaluation at the minute confirms it without a second transition, and the window
// sliding past the datapoint brings it back to OK at the minute AWS would.
func TestEarlyAlarmThenRegularRounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		base := time.Now().Truncate(time.Hour).Add(time.Hour) // 01:00:00
		advanceTo(base.Add(4*time.Minute + 10*time.Second))
		if err := r.svc.PutMetricAlarm(context.Background(), sc, seedAlarm("root", "RootAccountUsage", alarm.TreatNotBreaching), nil); err != nil {
			t.Fatal(err)
		}
		r.run()
		advanceTo(base.Add(4*time.Minute + 37*time.Second))
		r.sample("RootAccountUsage", 1)
		if got := r.state("root"); got != alarm.StateAlarm {
			t.Fatalf("state right after the datapoint: %v", got)
		}
		rec := r.svc.Get(sc, "root")
		if !rec.StateTransitioned.Equal(base.Add(4*time.Minute + 37*time.Second)) {
			t.Errorf("transition time %v", rec.StateTransitioned)
		}
		want := "Threshold Crossed: 1 datapoint [1.0 (" + base.Format("02/01/06") + " 01:00:00)] was greater than or equal to the threshold (1.0)."
		if rec.Reason != want {
			t.Errorf("reason %q, want %q", rec.Reason, want)
		}
		// The regular rounds keep ALARM while the sample (01:04:37) is inside the evaluation range (3
		// periods for N=1, re-bucketed every minute: real datapoints are preferred over missing ones,
		// §1.6); the range ending 01:20 starts at 01:05, and notBreaching then gives OK.
		advanceTo(base.Add(19*time.Minute + 30*time.Second))
		if got := r.state("root"); got != alarm.StateAlarm {
			t.Fatalf("state at 01:19:30: %v", got)
		}
		advanceTo(base.Add(20*time.Minute + time.Second))
		if got := r.state("root"); got != alarm.StateOK {
			t.Fatalf("state at 01:20:01: %v", got)
		}
		got := r.history("root", alarm.HistoryStateUpdate)
		wantHist := []string{"Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"}
		if strings.Join(got, "|") != strings.Join(wantHist, "|") {
			t.Errorf("history %q", got)
		}
		acts := r.store.Actions()
		if len(acts) != 2 || acts[0].NewState != alarm.StateAlarm || acts[1].NewState != alarm.StateOK ||
			acts[0].Subject != `ALARM: "root" in US East (N. Virginia)` || !strings.Contains(acts[0].Message, `\"NewStateValue\":\"ALARM\"`) {
			t.Errorf("actions %+v", acts)
		}
		if acts[1].OldState != alarm.StateAlarm || acts[1].AlarmARN != "arn:aws:cloudwatch:us-east-1:111122223333:alarm:root" {
			t.Errorf("OK action %+v", acts[1])
		}
	})
}

// An Average alarm is not monotone: a datapoint is acted on only at the next regular evaluation.
func TestNonMonotoneWaitsForTheMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		a := seedAlarm("avg", "Latency", alarm.TreatMissing)
		a.Statistic, a.Period = alarm.StatAverage, p32(60)
		if err := r.svc.PutMetricAlarm(context.Background(), sc, a, nil); err != nil {
			t.Fatal(err)
		}
		r.run()
		advanceTo(base.Add(20 * time.Second))
		r.sample("Latency", 5)
		if got := r.state("avg"); got != alarm.StateInsufficientData {
			t.Fatalf("Average alarm moved early: %v", got)
		}
		advanceTo(base.Add(time.Minute + time.Millisecond))
		if got := r.state("avg"); got != alarm.StateAlarm {
			t.Fatalf("after the minute: %v", got)
		}
	})
}

// SetAlarmState is temporary: it transitions (history, actions), and the next regular evaluation
// moves a metric alarm back; with ignore and no data the forced state sticks [§1.10].
func TestSetAlarmStateIsTemporary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		ctx := context.Background()
		for _, a := range []alarm.MetricAlarm{seedAlarm("nb", "M1", alarm.TreatNotBreaching), seedAlarm("ig", "M2", alarm.TreatIgnore)} {
			if err := r.svc.PutMetricAlarm(ctx, sc, a, nil); err != nil {
				t.Fatal(err)
			}
		}
		r.run()
		advanceTo(base.Add(time.Minute + time.Second))
		if r.state("nb") != alarm.StateOK || r.state("ig") != alarm.StateInsufficientData {
			t.Fatalf("first round: %v %v", r.state("nb"), r.state("ig"))
		}
		for _, n := range []string{"nb", "ig"} {
			if err := r.svc.SetAlarmState(ctx, sc, n, alarm.SetStateRequest{StateValue: "ALARM", StateReason: "testing"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.svc.SetAlarmState(ctx, sc, "nb", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "again"}); err != nil {
			t.Fatal(err)
		}
		if rec := r.svc.Get(sc, "nb"); rec.State != alarm.StateAlarm || rec.Reason != "testing" || rec.ReasonData != "" {
			t.Fatalf("forced: %+v", rec)
		}
		advanceTo(base.Add(2*time.Minute + time.Second))
		if got := r.state("nb"); got != alarm.StateOK {
			t.Errorf("nb after the next round: %v", got)
		}
		if got := r.state("ig"); got != alarm.StateAlarm {
			t.Errorf("ig (ignore, no data) after the next round: %v", got)
		}
		got := r.history("nb", alarm.HistoryStateUpdate)
		want := "Alarm updated from INSUFFICIENT_DATA to OK|Alarm updated from OK to ALARM|Alarm updated from ALARM to OK"
		if strings.Join(got, "|") != want {
			t.Errorf("history %q", got)
		}
		if rec := r.svc.Get(sc, "nb"); rec.Reason != "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]." {
			t.Errorf("reason %q", rec.Reason)
		}
		var nf *alarm.NotFoundError
		if err := r.svc.SetAlarmState(ctx, sc, "nope", alarm.SetStateRequest{StateValue: "OK", StateReason: "x"}); !errors.As(err, &nf) || nf.ErrorCode() != "ResourceNotFound" || nf.HTTPStatusCode() != 404 {
			t.Errorf("unknown alarm: %v", err)
		}
	})
}

// A restart (a new service over the same stores) neither repeats a transition that committed nor
// misses one whose datapoint committed before the crash.
func TestRestartNeitherRepeatsNorMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, mstore := alarmtest.NewMemory(), metricstest.NewMemory()
		r := newRig(t, store, mstore)
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		ctx := context.Background()
		for _, n := range []string{"fired", "lost"} {
			if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm(n, "M-"+n, alarm.TreatNotBreaching), nil); err != nil {
				t.Fatal(err)
			}
		}
		r.run()
		advanceTo(base.Add(20 * time.Second))
		r.sample("M-fired", 1)
		// The "crash": the datapoint of "lost" is stored, but the process dies before its hook runs.
		if err := mstore.AddSamples(ctx, []metrics.Sample{{AccountID: sc.AccountID, Region: sc.Region, Namespace: "CloudTrailMetrics",
			MetricName: "M-lost", Timestamp: time.Now(), Value: 1}}); err != nil {
			t.Fatal(err)
		}
		r.cancel()
		synctest.Wait()
		if r.state("fired") != alarm.StateAlarm || r.state("lost") != alarm.StateInsufficientData {
			t.Fatalf("before the restart: %v %v", r.state("fired"), r.state("lost"))
		}
		advanceTo(base.Add(30 * time.Second))
		r2 := newRig(t, store, mstore)
		r2.run() // the start-up pass finds what the crash interrupted
		if r2.state("fired") != alarm.StateAlarm || r2.state("lost") != alarm.StateAlarm {
			t.Fatalf("after the restart: %v %v", r2.state("fired"), r2.state("lost"))
		}
		advanceTo(base.Add(time.Minute + time.Second))
		for _, n := range []string{"fired", "lost"} {
			if got := r2.history(n, alarm.HistoryStateUpdate); len(got) != 1 {
				t.Errorf("%s: history %q", n, got)
			}
		}
		if n := len(store.Actions()); n != 2 {
			t.Errorf("%d actions, want 2", n)
		}
	})
}

// A composite alarm follows its child, with AWS's reason texts; its actions go to the outbox too.
func TestCompositeFollowsChild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("child", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		err := r.svc.PutCompositeAlarm(ctx, sc, alarm.CompositeAlarm{AlarmName: "parent", AlarmRule: `ALARM("child") AND NOT OK(child)`,
			ActionsEnabled: true, AlarmActions: []string{topic}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := r.svc.Get(sc, "parent")
		if rec.State != alarm.StateOK || rec.Reason != "arn:aws:cloudwatch:us-east-1:111122223333:alarm:parent was created and its alarm rule evaluates to OK" {
			t.Fatalf("created composite: %v %q", rec.State, rec.Reason)
		}
		if err := r.svc.SetAlarmState(ctx, sc, "child", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "x"}); err != nil {
			t.Fatal(err)
		}
		rec = r.svc.Get(sc, "parent")
		if rec.State != alarm.StateAlarm || !strings.HasPrefix(rec.Reason, "arn:aws:cloudwatch:us-east-1:111122223333:alarm:child transitioned to ALARM at ") {
			t.Fatalf("after child: %v %q", rec.State, rec.Reason)
		}
		acts := r.store.Actions()
		last := acts[len(acts)-1]
		if last.AlarmName != "parent" || last.AlarmType != alarm.TypeComposite || !strings.Contains(last.Message, `AlarmRule`) {
			t.Errorf("composite action %+v", last)
		}
		out, err := r.svc.DescribeAlarms(ctx, sc, alarm.DescribeInput{ParentsOfAlarmName: "child"})
		if err != nil || len(out.CompositeAlarms) != 1 || len(out.MetricAlarms) != 0 {
			t.Errorf("ParentsOfAlarmName: %+v %v", out, err)
		}
		out, err = r.svc.DescribeAlarms(ctx, sc, alarm.DescribeInput{ChildrenOfAlarmName: "parent"})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Errorf("ChildrenOfAlarmName: %+v %v", out, err)
		}
	})
}

// A composite whose suppressor is in ALARM records its transition without actions, showing
// ActionsSuppressedBy=Alarm; the actions run once the suppressor leaves ALARM and its extension
// period ends.
func TestCompositeSuppression(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		for _, n := range []string{"child", "maint"} {
			if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm(n, "M-"+n, alarm.TreatIgnore), nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.svc.PutCompositeAlarm(ctx, sc, alarm.CompositeAlarm{AlarmName: "p", AlarmRule: `ALARM(child)`, ActionsEnabled: true,
			AlarmActions: []string{topic}, ActionsSuppressor: "maint", ActionsSuppressorWaitPeriod: p32(0), ActionsSuppressorExtensionPeriod: p32(120)}, nil); err != nil {
			t.Fatal(err)
		}
		r.run()
		set := func(n, st string) {
			if err := r.svc.SetAlarmState(ctx, sc, n, alarm.SetStateRequest{StateValue: st, StateReason: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		countP := func() int {
			n := 0
			for _, a := range r.store.Actions() {
				if a.AlarmName == "p" {
					n++
				}
			}
			return n
		}
		set("maint", "ALARM")
		set("child", "ALARM")
		if rec := r.svc.Get(sc, "p"); rec.State != alarm.StateAlarm || rec.SuppressedBy != alarm.SuppressedByAlarm || countP() != 0 {
			t.Fatalf("suppressed: %+v, %d actions", rec, countP())
		}
		set("maint", "OK")
		if rec := r.svc.Get(sc, "p"); rec.SuppressedBy != alarm.SuppressedByExtensionPeriod || countP() != 0 {
			t.Fatalf("extension: %q, %d actions", rec.SuppressedBy, countP())
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if rec := r.svc.Get(sc, "p"); rec.SuppressedBy != "" || countP() != 1 {
			t.Fatalf("released: %q, %d actions", rec.SuppressedBy, countP())
		}
	})
}

// Updating an alarm keeps its state; creation starts in INSUFFICIENT_DATA with AWS's reason; history
// records both; a metric alarm cannot replace a composite of the same name.
func TestPutCreateUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		a := seedAlarm("x", "M", alarm.TreatIgnore)
		if err := r.svc.PutMetricAlarm(ctx, sc, a, []alarm.Tag{{Key: "k", Value: "v"}}); err != nil {
			t.Fatal(err)
		}
		if rec := r.svc.Get(sc, "x"); rec.State != alarm.StateInsufficientData || rec.Reason != alarm.InitialReason {
			t.Fatalf("new: %+v", rec)
		}
		if err := r.svc.SetAlarmState(ctx, sc, "x", alarm.SetStateRequest{StateValue: "OK", StateReason: "t"}); err != nil {
			t.Fatal(err)
		}
		a.Threshold = pf(5)
		if err := r.svc.PutMetricAlarm(ctx, sc, a, nil); err != nil {
			t.Fatal(err)
		}
		rec := r.svc.Get(sc, "x")
		if rec.State != alarm.StateOK || *rec.Metric.Threshold != 5 || len(rec.Tags) != 1 {
			t.Errorf("updated: %+v", rec)
		}
		got := r.history("x", alarm.HistoryConfigurationUpdate)
		if strings.Join(got, "|") != `Alarm "x" created|Alarm "x" updated` {
			t.Errorf("history %q", got)
		}
		bad := a
		bad.DatapointsToAlarm = p32(2)
		var ae *alarm.Error
		if err := r.svc.PutMetricAlarm(ctx, sc, bad, nil); !errors.As(err, &ae) || ae.Message != "DatapointsToAlarm must be less than or equal to EvaluationPeriods" {
			t.Errorf("M > N: %v", err)
		}
		if err := r.svc.PutCompositeAlarm(ctx, sc, alarm.CompositeAlarm{AlarmName: "x", AlarmRule: "TRUE"}, nil); !errors.As(err, &ae) {
			t.Errorf("composite over metric alarm: %v", err)
		}
		if err := r.svc.DeleteAlarms(ctx, sc, []string{"x", "never"}); err != nil {
			t.Fatal(err)
		}
		if r.svc.Get(sc, "x") != nil {
			t.Error("deleted alarm still there")
		}
		if got := r.history("x", alarm.HistoryConfigurationUpdate); len(got) != 3 || got[2] != `Alarm "x" deleted` {
			t.Errorf("history after delete %q", got)
		}
	})
}

// DescribeAlarms filters and pages like AWS: only metric alarms without AlarmTypes, prefix, state,
// action prefix, MaxRecords bounds, opaque NextToken.
func TestDescribeAlarms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		for _, n := range []string{"b", "a", "c", "d"} {
			a := seedAlarm(n, "M"+n, alarm.TreatIgnore)
			if n == "d" {
				a.AlarmActions, a.OKActions = nil, nil
			}
			if err := r.svc.PutMetricAlarm(ctx, sc, a, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.svc.PutCompositeAlarm(ctx, sc, alarm.CompositeAlarm{AlarmName: "a-comp", AlarmRule: "ALARM(a)"}, nil); err != nil {
			t.Fatal(err)
		}
		names := func(in alarm.DescribeInput) string {
			var all []string
			for {
				out, err := r.svc.DescribeAlarms(ctx, sc, in)
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range out.MetricAlarms {
					all = append(all, x.Name)
				}
				for _, x := range out.CompositeAlarms {
					all = append(all, "C:"+x.Name)
				}
				if out.NextToken == "" {
					return strings.Join(all, ",")
				}
				in.NextToken = out.NextToken
			}
		}
		for _, tc := range []struct {
			in   alarm.DescribeInput
			want string
		}{
			{alarm.DescribeInput{}, "a,b,c,d"},
			{alarm.DescribeInput{MaxRecords: p32(1), AlarmTypes: []string{"MetricAlarm", "CompositeAlarm"}}, "a,b,c,d,C:a-comp"},
			{alarm.DescribeInput{AlarmNamePrefix: "a", AlarmTypes: []string{"CompositeAlarm", "MetricAlarm"}}, "a,C:a-comp"},
			{alarm.DescribeInput{AlarmNames: []string{"c", "zz"}}, "c"},
			{alarm.DescribeInput{ActionPrefix: "arn:aws:sns:"}, "a,b,c"},
			{alarm.DescribeInput{StateValue: "OK"}, ""},
		} {
			if got := names(tc.in); got != tc.want {
				t.Errorf("%+v: %q, want %q", tc.in, got, tc.want)
			}
		}
		for _, tc := range []struct {
			in   alarm.DescribeInput
			want string
		}{
			{alarm.DescribeInput{MaxRecords: p32(0)}, "1 validation error detected: Value '0' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1"},
			{alarm.DescribeInput{StateValue: "BAD"}, "1 validation error detected: Value 'BAD' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [OK, ALARM, INSUFFICIENT_DATA]"},
			{alarm.DescribeInput{NextToken: "!!"}, "The service cannot decode the provided NextToken."},
		} {
			_, err := r.svc.DescribeAlarms(ctx, sc, tc.in)
			var ae *alarm.Error
			if !errors.As(err, &ae) || ae.Message != tc.want {
				t.Errorf("%+v: %v", tc.in, err)
			}
		}
		got, err := r.svc.DescribeAlarmsForMetric(ctx, sc, alarm.ForMetricInput{Namespace: "CloudTrailMetrics", MetricName: "Mb"})
		if err != nil || len(got) != 1 || got[0].Name != "b" {
			t.Errorf("for metric: %v %v", got, err)
		}
	})
}

// The outbox dispatcher publishes every action once and records its Action history item.
func TestDispatcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("x", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		pub := &recorder{fail: map[string]bool{"arn:bad": true}}
		d := alarm.NewDispatcher(r.store, pub, nil)
		r.svc.OnActions = d.Notify
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.Run(dctx); close(done) }()
		defer func() { cancel(); <-done }()
		if err := r.svc.SetAlarmState(ctx, sc, "x", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "t"}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if len(pub.got) != 1 || pub.got[0].ActionARN != topic {
			t.Fatalf("published %+v", pub.got)
		}
		if got := r.history("x", alarm.HistoryAction); len(got) != 1 || got[0] != "Successfully executed action "+topic {
			t.Errorf("action history %q", got)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if len(pub.got) != 1 {
			t.Errorf("re-published: %d", len(pub.got))
		}
	})
}

type recorder struct {
	got  []alarm.Action
	fail map[string]bool
}

func (p *recorder) PublishAction(_ context.Context, a alarm.Action) error {
	p.got = append(p.got, a)
	if p.fail[a.ActionARN] {
		return &alarm.PermanentError{Reason: "Topic does not exist"}
	}
	return nil
}

// Tags given at creation are kept by updates, and the tagging operations edit them by ARN.
func TestTags(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("x", "M", alarm.TreatIgnore), []alarm.Tag{{Key: "a", Value: "1"}}); err != nil {
			t.Fatal(err)
		}
		arn := "arn:aws:cloudwatch:us-east-1:111122223333:alarm:x"
		if err := r.svc.TagResource(ctx, sc, arn, []alarm.Tag{{Key: "a", Value: "2"}, {Key: "b", Value: "3"}}); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.UntagResource(ctx, sc, arn, []string{"b", "zz"}); err != nil {
			t.Fatal(err)
		}
		tags, err := r.svc.ListTagsForResource(ctx, sc, arn)
		if err != nil || len(tags) != 1 || tags[0] != (alarm.Tag{Key: "a", Value: "2"}) {
			t.Errorf("tags %v %v", tags, err)
		}
		var nf *alarm.ResourceNotFoundException
		if err := r.svc.TagResource(ctx, sc, arn+"-nope", []alarm.Tag{{Key: "a", Value: "1"}}); !errors.As(err, &nf) {
			t.Errorf("TagResource of an unknown alarm: %v", err)
		}
	})
}

// TestListTagsOfMissingAlarm follows CloudWatch's recorded answer: ListTagsForResource of a deleted
// alarm is an empty list, not an error; an ARN that is not an alarm ARN of the caller's account and
// region is still refused.
func TestListTagsOfMissingAlarm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("x", "M", alarm.TreatIgnore), []alarm.Tag{{Key: "a", Value: "1"}}); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.DeleteAlarms(ctx, sc, []string{"x"}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			arn     string
			wantErr bool
		}{
			{"arn:aws:cloudwatch:us-east-1:111122223333:alarm:x", false},
			{"arn:aws:cloudwatch:us-east-1:111122223333:alarm:never", false},
			{"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:x", true},
			{"arn:aws:cloudwatch:us-east-1:999999999999:alarm:x", true},
			{"arn:aws:cloudwatch:us-east-1:111122223333:alarm:", true},
			{"arn:aws:sns:us-east-1:111122223333:x", true},
		}
		for _, tt := range tests {
			tags, err := r.svc.ListTagsForResource(ctx, sc, tt.arn)
			var nf *alarm.ResourceNotFoundException
			switch {
			case tt.wantErr && !errors.As(err, &nf):
				t.Errorf("ListTagsForResource(%s) = %v, %v; want ResourceNotFoundException", tt.arn, tags, err)
			case !tt.wantErr && (err != nil || tags == nil || len(tags) != 0):
				t.Errorf("ListTagsForResource(%s) = %#v, %v; want an empty list", tt.arn, tags, err)
			}
		}
	})
}

// Concurrent SetAlarmState calls and evaluation rounds on one alarm never interleave: every
// StateUpdate item starts from the state the previous one ended in.
func TestTransitionsAreSerialised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("x", "M", alarm.TreatNotBreaching), nil); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 50 {
					st := []string{"OK", "ALARM", "INSUFFICIENT_DATA"}[(g+i)%3]
					if err := r.svc.SetAlarmState(ctx, sc, "x", alarm.SetStateRequest{StateValue: st, StateReason: "t"}); err != nil {
						t.Error(err)
					}
					if i%10 == 0 {
						r.svc.Round(ctx, time.Now(), false)
					}
				}
			})
		}
		wg.Wait()
		items, _, err := r.svc.DescribeAlarmHistory(ctx, sc, alarm.HistoryInput{AlarmName: "x", HistoryItemType: alarm.HistoryStateUpdate,
			ScanBy: "TimestampAscending", MaxRecords: p32(100)})
		if err != nil {
			t.Fatal(err)
		}
		prev := "INSUFFICIENT_DATA"
		for _, it := range items {
			from, to, ok := strings.Cut(strings.TrimPrefix(it.HistorySummary, "Alarm updated from "), " to ")
			if !ok || from != prev {
				t.Fatalf("history chain broken at %q (previous state %s)", it.HistorySummary, prev)
			}
			prev = to
		}
		if n := len(items); n == 0 {
			t.Fatal("no transitions")
		}
	})
}

// With actions disabled a transition is written to the history but records no action (§1.10).
func TestDisabledActions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("x", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.SetActionsEnabled(ctx, sc, []string{"x", "unknown"}, false); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.SetAlarmState(ctx, sc, "x", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "t"}); err != nil {
			t.Fatal(err)
		}
		if n := len(r.store.Actions()); n != 0 || len(r.history("x", alarm.HistoryStateUpdate)) != 1 {
			t.Errorf("%d actions, history %q", n, r.history("x", alarm.HistoryStateUpdate))
		}
		if err := r.svc.SetActionsEnabled(ctx, sc, []string{"x"}, true); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.SetAlarmState(ctx, sc, "x", alarm.SetStateRequest{StateValue: "OK", StateReason: "t"}); err != nil {
			t.Fatal(err)
		}
		if n := len(r.store.Actions()); n != 1 {
			t.Errorf("%d actions after enabling", n)
		}
	})
}

// FuzzDescribeNextToken feeds arbitrary NextToken values to DescribeAlarms and DescribeAlarmHistory:
// they page or answer InvalidNextToken, never panic or fail otherwise.
func FuzzDescribeNextToken(f *testing.F) {
	f.Add("MF4wYQ")
	f.Add("!!")
	f.Add("")
	store := alarmtest.NewMemory()
	svc, err := alarm.NewService(context.Background(), store, metrics.NewService(metricstest.NewMemory(), nil), nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := svc.PutMetricAlarm(context.Background(), sc, seedAlarm(n, "M", alarm.TreatIgnore), nil); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var ae *alarm.Error
		if _, err := svc.DescribeAlarms(context.Background(), sc, alarm.DescribeInput{NextToken: tok}); err != nil && (!errors.As(err, &ae) || ae.Code != "InvalidNextToken") {
			t.Errorf("DescribeAlarms(%q): %v", tok, err)
		}
		if _, _, err := svc.DescribeAlarmHistory(context.Background(), sc, alarm.HistoryInput{NextToken: tok}); err != nil && (!errors.As(err, &ae) || ae.Code != "InvalidNextToken") {
			t.Errorf("DescribeAlarmHistory(%q): %v", tok, err)
		}
	})
}

// An alarm with a Unit filter that sees no data must not hide the data from an alarm on the same
// metric without one (the idle-metric cache is per unit filter).
func TestIdleCacheRespectsUnit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		r.sample("M", 1) // unit None, before the alarms exist: no hook consumer yet
		withUnit := seedAlarm("bytes", "M", alarm.TreatMissing)
		withUnit.Unit = "Bytes"
		for _, a := range []alarm.MetricAlarm{withUnit, seedAlarm("any", "M", alarm.TreatMissing)} {
			if err := r.svc.PutMetricAlarm(ctx, sc, a, nil); err != nil {
				t.Fatal(err)
			}
		}
		if r.state("any") != alarm.StateAlarm || r.state("bytes") != alarm.StateInsufficientData {
			t.Errorf("any %v, bytes %v", r.state("any"), r.state("bytes"))
		}
	})
}

// TestHistoryRetention: an item is shown for alarm.HistoryRetention (14 days, open question 7) and
// not after, even before the sweep (ExpireHistory) deletes it, which it then does.
func TestHistoryRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		if err := r.svc.PutMetricAlarm(context.Background(), sc, seedAlarm("old", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(alarm.HistoryRetention - time.Minute)
		if err := r.svc.PutMetricAlarm(context.Background(), sc, seedAlarm("new", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		if got := r.history("old", alarm.HistoryConfigurationUpdate); len(got) != 1 {
			t.Fatalf("at 14 days less a minute: %v, want the creation item", got)
		}
		if n, err := r.svc.ExpireHistory(context.Background()); err != nil || n != 0 {
			t.Fatalf("ExpireHistory within retention = %d, %v", n, err)
		}
		time.Sleep(2 * time.Minute)
		if got := r.history("old", alarm.HistoryConfigurationUpdate); len(got) != 0 {
			t.Fatalf("past 14 days: %v, want nothing", got)
		}
		if n, err := r.svc.ExpireHistory(context.Background()); err != nil || n != 1 {
			t.Fatalf("ExpireHistory = %d, %v; want 1", n, err)
		}
		if got := r.history("new", alarm.HistoryConfigurationUpdate); len(got) != 1 {
			t.Fatalf("the newer alarm's item: %v", got)
		}
	})
}
