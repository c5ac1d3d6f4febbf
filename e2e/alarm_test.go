package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

const topicARN = "arn:aws:sns:" + testRegion + ":" + testAccount + ":security-alerts"

// createTopic creates the SNS topic of topicARN with a signed awsQuery CreateTopic (the SDK's SNS module is
// not a dependency of the tests), so that alarm actions publish successfully.
func createTopic(t *testing.T, s *server) {
	t.Helper()
	body := "Action=CreateTopic&Version=2010-03-31&Name=" + topicARN[strings.LastIndexByte(topicARN, ':')+1:]
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		req, hex.EncodeToString(sum[:]), "sns", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(out), topicARN) {
		t.Fatalf("CreateTopic: %d %s", resp.StatusCode, out)
	}
}

// rootLogin returns a root ConsoleLogin record from the shared samples that the CIS root filter
// matches, re-stamped with eventTime t.
func rootLogin(t *testing.T, ts time.Time) string {
	t.Helper()
	for _, s := range loadSamples(t) {
		if !s.IsRoot || !strings.Contains(s.Message, `"eventName":"ConsoleLogin"`) {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(s.Message), &ev); err != nil {
			t.Fatal(err)
		}
		ev["eventTime"] = ts.UTC().Format(time.RFC3339)
		b, _ := json.Marshal(ev)
		return string(b)
	}
	t.Fatal("no root ConsoleLogin in the samples")
	return ""
}

// putSeedAlarm creates the seed's alarm on a metric: RootAccountUsage-style Sum >= 1, period 300,
// 1 of 1, with an SNS action.
func putSeedAlarm(t *testing.T, ctx context.Context, cc *cloudwatch.Client, name, metric string) {
	t.Helper()
	_, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), MetricName: aws.String(metric), Namespace: aws.String("CloudTrailMetrics"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), DatapointsToAlarm: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{topicARN},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitState polls DescribeAlarms (SDK, RPCv2 CBOR) until the alarm is in want; it returns the alarm
// and when the state was first seen.
func waitState(t *testing.T, ctx context.Context, cc *cloudwatch.Client, name string, want cwtypes.StateValue, timeout time.Duration) (cwtypes.MetricAlarm, time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := cc.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		seen := time.Now()
		if len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue == want {
			return out.MetricAlarms[0], seen
		}
		if seen.After(deadline) {
			state := "absent"
			if len(out.MetricAlarms) == 1 {
				state = string(out.MetricAlarms[0].StateValue) + ": " + aws.ToString(out.MetricAlarms[0].StateReason)
			}
			t.Fatalf("alarm %s not %s after %v (%s)", name, want, timeout, state)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func putEvent(t *testing.T, ctx context.Context, lc *cloudwatchlogs.Client, group, stream, msg string, ts time.Time) {
	t.Helper()
	_, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []logtypes.InputLogEvent{{Timestamp: aws.Int64(ts.UnixMilli()), Message: aws.String(msg)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func history(t *testing.T, ctx context.Context, cc *cloudwatch.Client, name string) []cwtypes.AlarmHistoryItem {
	t.Helper()
	out, err := cc.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name), ScanBy: cwtypes.ScanByTimestampAscending})
	if err != nil {
		t.Fatal(err)
	}
	return out.AlarmHistoryItems
}

var reasonRe = regexp.MustCompile(`^Threshold Crossed: 1 out of the last 1 datapoints \[1\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] was greater than or equal to the threshold \(1\.0\) \(minimum 1 datapoint for OK -> ALARM transition\)\.$`)

// TestRootLoginAlarmSDK is the acceptance path with aws-sdk-go-v2: the CIS root filter, the seed
// alarm, a root ConsoleLogin reaching the log group, ALARM within a second; then history, SetAlarmState and
// AWS's errors.
func TestRootLoginAlarmSDK(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	createTopic(t, s)
	setupRootFilter(t, ctx, lc, "CloudTrail/DefaultLogGroup", "stream")
	putSeedAlarm(t, ctx, cc, "RootAccountUsage", "RootAccountUsage")

	out, err := cc.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != cwtypes.StateValueInsufficientData ||
		aws.ToString(out.MetricAlarms[0].StateReason) != "Unchecked: Initial alarm creation" || out.CompositeAlarms == nil {
		t.Fatalf("new alarm: %+v", out)
	}

	now := time.Now()
	putEvent(t, ctx, lc, "CloudTrail/DefaultLogGroup", "stream", rootLogin(t, now), now)
	returned := time.Now()
	a, seen := waitState(t, ctx, cc, "RootAccountUsage", cwtypes.StateValueAlarm, time.Second)
	t.Logf("PutLogEvents return -> ALARM seen: %v", seen.Sub(returned))
	if !reasonRe.MatchString(aws.ToString(a.StateReason)) {
		t.Errorf("StateReason %q", aws.ToString(a.StateReason))
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(a.StateReasonData)), &data); err != nil || data["statistic"] != "Sum" || data["period"] != 300.0 {
		t.Errorf("StateReasonData %q", aws.ToString(a.StateReasonData))
	}

	// History: created, the transition, and the recorded action (in that order).
	deadline := time.Now().Add(5 * time.Second)
	var items []cwtypes.AlarmHistoryItem
	for {
		items = history(t, ctx, cc, "RootAccountUsage")
		if len(items) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var kinds []string
	for _, it := range items {
		kinds = append(kinds, string(it.HistoryItemType)+": "+aws.ToString(it.HistorySummary))
	}
	want := []string{`ConfigurationUpdate: Alarm "RootAccountUsage" created`, "StateUpdate: Alarm updated from INSUFFICIENT_DATA to ALARM",
		"Action: Successfully executed action " + topicARN}
	if !slices.Equal(kinds, want) {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
	}
	var action map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(items[2].HistoryData)), &action); err != nil {
		t.Fatal(err)
	}
	var published map[string]string
	if err := json.Unmarshal([]byte(action["publishedMessage"].(string)), &published); err != nil ||
		!strings.Contains(published["default"], `"NewStateValue":"ALARM"`) || !strings.Contains(published["email"], "RootAccountUsage") {
		t.Errorf("Action HistoryData %s", aws.ToString(items[2].HistoryData))
	}

	// SetAlarmState: a temporary OK with the caller's reason, a StateUpdate item; the same state again is no-op.
	if _, err := cc.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("RootAccountUsage"),
		StateValue: cwtypes.StateValueOk, StateReason: aws.String("testing")}); err != nil {
		t.Fatal(err)
	}
	out, err = cc.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"RootAccountUsage"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.MetricAlarms[0]; got.StateValue != cwtypes.StateValueOk || aws.ToString(got.StateReason) != "testing" || got.StateReasonData != nil {
		t.Errorf("after SetAlarmState: %s %q %v", got.StateValue, aws.ToString(got.StateReason), got.StateReasonData)
	}

	// Errors, as AWS spells them.
	var apiErr smithy.APIError
	_, err = cc.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("x")})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFound" {
		t.Errorf("SetAlarmState on a missing alarm: %v", err)
	}
	_, err = cc.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("RootAccountUsage"), StateValue: "INVALID", StateReason: aws.String("x")})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationError" || apiErr.ErrorMessage() !=
		"1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]" {
		t.Errorf("bad state value: %v", err)
	}
	_, err = cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("bad"), MetricName: aws.String("m"), Namespace: aws.String("n"), Statistic: cwtypes.StatisticSum,
		Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationError" || apiErr.ErrorMessage() != "DatapointsToAlarm must be less than or equal to EvaluationPeriods" {
		t.Errorf("M > N: %v", err)
	}
}

// TestAlarmsWithCLIs drives the alarm operations with both CLIs: v2 speaks awsQuery, v1 awsJson 1.0 (the SDK
// tests cover RPCv2 CBOR).
func TestAlarmsWithCLIs(t *testing.T) {
	for _, major := range []string{"v2", "v1"} {
		t.Run(major, func(t *testing.T) {
			c := findCLI(t, major)
			s := startServer(t, "")
			c.run(t, s, "cloudwatch", "put-metric-alarm", "--alarm-name", "RootAccountUsage", "--metric-name", "RootAccountUsage",
				"--namespace", "CloudTrailMetrics", "--statistic", "Sum", "--period", "300", "--evaluation-periods", "1",
				"--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold", "--alarm-actions", topicARN,
				"--tags", "Key=team,Value=sec")
			c.run(t, s, "cloudwatch", "put-metric-data", "--namespace", "CloudTrailMetrics", "--metric-name", "RootAccountUsage", "--value", "1")
			var out struct {
				MetricAlarms []struct {
					AlarmName, StateValue, StateReason string
					Dimensions, OKActions              []any
					Threshold                          float64
				}
				CompositeAlarms []any
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				decode(t, c.run(t, s, "cloudwatch", "describe-alarms", "--alarm-names", "RootAccountUsage"), &out)
				if len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue == "ALARM" || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != "ALARM" || out.CompositeAlarms == nil ||
				out.MetricAlarms[0].Dimensions == nil || out.MetricAlarms[0].OKActions == nil || out.MetricAlarms[0].Threshold != 1 {
				t.Fatalf("describe-alarms: %+v", out)
			}
			if got := out.MetricAlarms[0].StateReason; !strings.HasPrefix(got, "Threshold Crossed: 1 datapoint [1.0 (") ||
				!strings.HasSuffix(got, ")] was greater than or equal to the threshold (1.0).") {
				t.Errorf("StateReason %q", got)
			}

			c.run(t, s, "cloudwatch", "set-alarm-state", "--alarm-name", "RootAccountUsage", "--state-value", "OK", "--state-reason", "testing")
			c.run(t, s, "cloudwatch", "put-composite-alarm", "--alarm-name", "Any", "--alarm-rule", `ALARM("RootAccountUsage") OR FALSE`)
			var comp struct {
				CompositeAlarms []struct{ StateValue, StateReason string }
				MetricAlarms    []any
			}
			decode(t, c.run(t, s, "cloudwatch", "describe-alarms", "--alarm-types", "CompositeAlarm"), &comp)
			// The metric alarm's datapoint still breaches: an evaluation round falling between the
			// set-alarm-state OK and here (a minute boundary, as AWS would evaluate it) takes it back to
			// ALARM, and the composite with it, saying so.
			// If that round came before put-composite-alarm, the composite was created in ALARM, says so,
			// and keeps saying so: the set-alarm-state ALARM below is then no transition of its child.
			createdInAlarm := "arn:aws:cloudwatch:us-east-1:" + testAccount + ":alarm:Any was created and its alarm rule evaluates to ALARM"
			reevaluated := len(comp.CompositeAlarms) == 1 && comp.CompositeAlarms[0].StateValue == "ALARM" &&
				(strings.HasPrefix(comp.CompositeAlarms[0].StateReason, "arn:aws:cloudwatch:us-east-1:"+testAccount+":alarm:RootAccountUsage transitioned to ALARM at ") ||
					comp.CompositeAlarms[0].StateReason == createdInAlarm)
			if len(comp.CompositeAlarms) != 1 || comp.MetricAlarms == nil || (comp.CompositeAlarms[0].StateValue != "OK" && !reevaluated) {
				t.Errorf("composite: %+v", comp)
			}
			wasCreatedInAlarm := len(comp.CompositeAlarms) == 1 && comp.CompositeAlarms[0].StateReason == createdInAlarm
			c.run(t, s, "cloudwatch", "set-alarm-state", "--alarm-name", "RootAccountUsage", "--state-value", "ALARM", "--state-reason", "again")
			decode(t, c.run(t, s, "cloudwatch", "describe-alarms", "--alarm-types", "CompositeAlarm"), &comp)
			if comp.CompositeAlarms[0].StateValue != "ALARM" ||
				!strings.HasPrefix(comp.CompositeAlarms[0].StateReason, "arn:aws:cloudwatch:us-east-1:"+testAccount+":alarm:RootAccountUsage transitioned to ALARM at ") &&
					!(wasCreatedInAlarm && comp.CompositeAlarms[0].StateReason == createdInAlarm) {
				t.Errorf("composite after child change: %+v", comp)
			}

			var hist struct {
				AlarmHistoryItems []struct{ HistoryItemType, HistorySummary, HistoryData string }
			}
			decode(t, c.run(t, s, "cloudwatch", "describe-alarm-history", "--alarm-name", "RootAccountUsage", "--history-item-type", "StateUpdate"), &hist)
			var summaries []string
			for _, it := range hist.AlarmHistoryItems {
				summaries = append(summaries, it.HistorySummary)
			}
			want := []string{"Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"}
			if !slices.Equal(summaries, want) {
				t.Errorf("history (newest first): %q", summaries)
			}

			c.run(t, s, "cloudwatch", "disable-alarm-actions", "--alarm-names", "RootAccountUsage")
			var dis struct {
				MetricAlarms []struct{ ActionsEnabled bool }
			}
			decode(t, c.run(t, s, "cloudwatch", "describe-alarms"), &dis)
			if len(dis.MetricAlarms) != 1 || dis.MetricAlarms[0].ActionsEnabled {
				t.Errorf("after disable-alarm-actions: %+v", dis)
			}

			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "OK", "--state-reason", "x"}, "ResourceNotFound"},
				{[]string{"cloudwatch", "put-metric-alarm", "--alarm-name", "x", "--metric-name", "m", "--namespace", "n", "--statistic", "Sum",
					"--period", "60", "--evaluation-periods", "1", "--datapoints-to-alarm", "2", "--threshold", "1",
					"--comparison-operator", "GreaterThanThreshold"}, "DatapointsToAlarm must be less than or equal to EvaluationPeriods"},
				{[]string{"cloudwatch", "put-metric-alarm", "--alarm-name", "x", "--metric-name", "m", "--namespace", "n", "--statistic", "Sum",
					"--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--treat-missing-data", "sometimes",
					"--comparison-operator", "GreaterThanThreshold"}, "The value sometimes is not supported for TreatMissingData parameter."},
				{[]string{"cloudwatch", "put-composite-alarm", "--alarm-name", "c", "--alarm-rule", "ALARM(a) XOR ALARM(b)"}, "Error in AlarmRule"},
			} {
				_, errOut, code := c.try(t, s, tc.args...)
				if code == 0 || !strings.Contains(errOut, tc.want) {
					t.Errorf("%s: exit %d, stderr %q; want %q", tc.args[1], code, errOut, tc.want)
				}
			}
			c.run(t, s, "cloudwatch", "delete-alarms", "--alarm-names", "Any", "RootAccountUsage", "never-existed")
			var after struct{ MetricAlarms, CompositeAlarms []any }
			decode(t, c.run(t, s, "cloudwatch", "describe-alarms", "--alarm-types", "MetricAlarm", "CompositeAlarm"), &after)
			if len(after.MetricAlarms)+len(after.CompositeAlarms) != 0 {
				t.Errorf("after delete-alarms: %+v", after)
			}
		})
	}
}

// TestAlarmTransitionsSurviveKill kills the server (SIGKILL) right after PutLogEvents returned, restarts it on
// the same data and checks that every alarm made exactly one transition to ALARM with exactly one action:
// nothing lost (the restart's catch-up evaluation finds what the crash interrupted), nothing repeated.
func TestAlarmTransitionsSurviveKill(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const rounds = 4
	s := startServer(t, dir)
	createTopic(t, s)
	for r := range rounds {
		lc, cc := logsClient(s), cwClient(s)
		group := fmt.Sprintf("g%d", r)
		setupRootFilterMetric(t, ctx, lc, group, "s", "Root"+strconv.Itoa(r))
		putSeedAlarm(t, ctx, cc, "a"+strconv.Itoa(r), "Root"+strconv.Itoa(r))
		now := time.Now()
		putEvent(t, ctx, lc, group, "s", rootLogin(t, now), now)
		if r%2 == 1 {
			time.Sleep(300 * time.Millisecond) // let this one commit before the crash
		}
		s.kill()
		s = startServer(t, dir)
	}
	cc := cwClient(s)
	for r := range rounds {
		name := "a" + strconv.Itoa(r)
		waitState(t, ctx, cc, name, cwtypes.StateValueAlarm, 5*time.Second)
	}
	// Give the dispatcher a moment, then restart once more: nothing may fire again.
	time.Sleep(1500 * time.Millisecond)
	s.kill()
	s = startServer(t, dir)
	time.Sleep(1500 * time.Millisecond)
	cc = cwClient(s)
	for r := range rounds {
		name := "a" + strconv.Itoa(r)
		var updates, actions int
		for _, it := range history(t, ctx, cc, name) {
			switch it.HistoryItemType {
			case cwtypes.HistoryItemTypeStateUpdate:
				updates++
			case cwtypes.HistoryItemTypeAction:
				actions++
			}
		}
		if updates != 1 || actions != 1 {
			t.Errorf("%s: %d StateUpdate and %d Action items, want 1 and 1", name, updates, actions)
		}
	}
}

// setupRootFilterMetric is setupRootFilter with the filter's metric name chosen by the caller.
func setupRootFilterMetric(t *testing.T, ctx context.Context, lc *cloudwatchlogs.Client, group, stream, metric string) {
	t.Helper()
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	_, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(group), FilterName: aws.String("RootAccountUsage"), FilterPattern: aws.String(cisRoot),
		MetricTransformations: []logtypes.MetricTransformation{{
			MetricName: aws.String(metric), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1"),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRootLoginLatency measures PutLogEvents return -> ALARM seen by DescribeAlarms (SDK polling every 2 ms)
// over TRAILWATCH_E2E_LATENCY_TRIALS trials (default 20), each on its own log group, filter and alarm. Every
// trial must be under a second; p50 and p99 are logged.
func TestRootLoginLatency(t *testing.T) {
	trials := 20
	if v := os.Getenv("TRAILWATCH_E2E_LATENCY_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TRAILWATCH_E2E_LATENCY_TRIALS=%q", v)
		}
		trials = n
	}
	s := startServer(t, "")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	lat := make([]time.Duration, 0, trials)
	var commit []time.Duration // StateTransitionedTimestamp - PutLogEvents return (ms precision; may be negative)
	msg := rootLogin(t, time.Now())
	for i := range trials {
		group, metric, name := "lat"+strconv.Itoa(i), "Root"+strconv.Itoa(i), "root-"+strconv.Itoa(i)
		setupRootFilterMetric(t, ctx, lc, group, "s", metric)
		putSeedAlarm(t, ctx, cc, name, metric)
		putEvent(t, ctx, lc, group, "s", msg, time.Now())
		returned := time.Now()
		a, seen := waitState(t, ctx, cc, name, cwtypes.StateValueAlarm, time.Second)
		lat = append(lat, seen.Sub(returned))
		commit = append(commit, aws.ToTime(a.StateTransitionedTimestamp).Sub(returned))
	}
	slices.Sort(lat)
	slices.Sort(commit)
	pct := func(l []time.Duration, p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	t.Logf("PutLogEvents return -> ALARM seen by DescribeAlarms over %d trials: p50 %v, p99 %v, max %v", trials, pct(lat, 0.50), pct(lat, 0.99), lat[len(lat)-1])
	t.Logf("PutLogEvents return -> StateTransitionedTimestamp: p50 %v, p99 %v, max %v", pct(commit, 0.50), pct(commit, 0.99), commit[len(commit)-1])
}
