package alarm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// sreBotAlarm is the alarm of the real 2022 notification quoted in §2.1 [SREBOT].
func sreBotAlarm() *MetricAlarm {
	return &MetricAlarm{
		AlarmName: "Test alarm", ActionsEnabled: true,
		AlarmActions: []string{"arn:aws:sns:ca-central-1:017790921725:test-sre-bot"},
		MetricName:   "ConcurrentExecutions", Namespace: "AWS/Lambda", Statistic: StatSum,
		Period: ptr(int32(60)), EvaluationPeriods: ptr(int32(1)), DatapointsToAlarm: ptr(int32(1)),
		Threshold: ptr(5.0), ComparisonOperator: GreaterThanThreshold,
	}
}

// TestMessageSREBot rebuilds the real notification of §2.1 byte for byte, from evaluation to
// message, with the one member AWS has added since that 2022 capture: "ActionExecutedAfterMuteWindow"
// after OldStateValue, as AWS's 2026 recordings carry it (§2.1).
func TestMessageSREBot(t *testing.T) {
	a := sreBotAlarm()
	now := at("2022-09-25T18:50:37.811")
	r := Evaluate(a, series(at("2022-09-25T18:49:00.000"), time.Minute, 6), StateInsufficientData, now)
	got := Message(Transition{
		Alarm: a, AccountID: "017790921725", Region: "ca-central-1",
		OldState: StateInsufficientData, NewState: r.State, NewStateReason: r.Reason,
		StateChangeTime: now, ConfigUpdated: at("2022-09-25T18:48:56.505"),
	})
	want := `{"AlarmName":"Test alarm","AlarmDescription":null,"AWSAccountId":"017790921725",` +
		`"AlarmConfigurationUpdatedTimestamp":"2022-09-25T18:48:56.505+0000","NewStateValue":"ALARM",` +
		`"NewStateReason":"Threshold Crossed: 1 out of the last 1 datapoints [6.0 (25/09/22 18:49:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).",` +
		`"StateChangeTime":"2022-09-25T18:50:37.811+0000","Region":"Canada (Central)",` +
		`"AlarmArn":"arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test alarm","OldStateValue":"INSUFFICIENT_DATA",` +
		`"ActionExecutedAfterMuteWindow":false,` +
		`"OKActions":[],"AlarmActions":["arn:aws:sns:ca-central-1:017790921725:test-sre-bot"],"InsufficientDataActions":[],` +
		`"Trigger":{"MetricName":"ConcurrentExecutions","Namespace":"AWS/Lambda","StatisticType":"Statistic",` +
		`"Statistic":"SUM","Unit":null,"Dimensions":[],"Period":60,"EvaluationPeriods":1,"DatapointsToAlarm":1,` +
		`"ComparisonOperator":"GreaterThanThreshold","Threshold":5.0,"TreatMissingData":"missing",` +
		`"EvaluateLowSampleCountPercentile":""}}`
	if got != want {
		t.Fatalf("message\n got %s\nwant %s", got, want)
	}
	if s := Subject(StateAlarm, a.AlarmName, "ca-central-1"); s != `ALARM: "Test alarm" in Canada (Central)` {
		t.Fatalf("subject %q", s)
	}
}

func TestMessageQuirks(t *testing.T) {
	a := sreBotAlarm()
	a.DatapointsToAlarm = nil // §2.1: absent when unset [LS-CW-SNAP test_put_metric_alarm]
	a.Unit, a.AlarmDescription = "Seconds", "d"
	a.Dimensions = []metrics.Dimension{{Name: "FunctionName", Value: "f"}}
	msg := Message(Transition{Alarm: a, AccountID: "1", Region: "eu-west-1", OldState: StateOK, NewState: StateAlarm})
	for _, want := range []string{`"DatapointsToAlarm"`} {
		if strings.Contains(msg, want) {
			t.Errorf("message contains %s: %s", want, msg)
		}
	}
	for _, want := range []string{`"Region":"EU (Ireland)"`, `"Unit":"Seconds"`, `"AlarmDescription":"d"`, `"Dimensions":[{"value":"f","name":"FunctionName"}]`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %s: %s", want, msg)
		}
	}
	a.Namespace, a.TreatMissingData = "AWS/DynamoDB", TreatBreaching
	if msg := Message(Transition{Alarm: a, AccountID: "1", Region: "eu-west-1", OldState: StateOK, NewState: StateAlarm}); !strings.Contains(msg, `"TreatMissingData":"breaching"`) {
		t.Errorf("a DynamoDB alarm echoes its configured TreatMissingData: %s", msg)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(msg), &v); err != nil {
		t.Fatalf("message is not JSON: %v", err)
	}
}

func TestRegionNames(t *testing.T) {
	for code, want := range map[string]string{
		"eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-north-1": "EU (Stockholm)",
		"eu-central-1": "EU (Frankfurt)", "us-east-1": "US East (N. Virginia)", "ap-northeast-1": "Asia Pacific (Tokyo)",
		"ap-southeast-2": "Asia Pacific (Sydney)", "xx-nowhere-9": "xx-nowhere-9",
	} {
		if got := RegionName(code); got != want {
			t.Errorf("RegionName(%s) = %q, want %q", code, got, want)
		}
	}
}

// TestSubjectLimit pins the §6.5 decision: subjects are cut to 99 characters.
func TestSubjectLimit(t *testing.T) {
	s := Subject(StateInsufficientData, strings.Repeat("n", 255), "ap-southeast-2")
	if got := len([]rune(s)); got != 99 || !strings.HasPrefix(s, `INSUFFICIENT_DATA: "nnn`) {
		t.Fatalf("subject %q (%d runes)", s, got)
	}
	if s := Subject(StateInsufficientData, "test-lambda-parity", "ap-southeast-2"); s != `INSUFFICIENT_DATA: "test-lambda-parity" in Asia Pacific (Sydney)` {
		t.Fatalf("subject %q [FINDSTR 2596091539]", s)
	}
}

// emailTransition is the 2024 ap-northeast-1 email of §2.2 [FINDSTR 18284939227].
func emailTransition() Transition {
	a := &MetricAlarm{
		AlarmName: "raisetech_alart", AlarmDescription: "<AlarmDescription>", ActionsEnabled: true,
		AlarmActions: []string{"arn:aws:sns:ap-northeast-1:761184649109:Default_CloudWatch_Alarms_Topic"},
		MetricName:   "UnHealthyHostCount", Namespace: "AWS/ApplicationELB", Statistic: StatAverage,
		Dimensions: []metrics.Dimension{
			{Name: "TargetGroup", Value: "targetgroup/tg/1"}, {Name: "LoadBalancer", Value: "app/lb/2"},
		},
		Period: ptr(int32(60)), EvaluationPeriods: ptr(int32(1)), DatapointsToAlarm: ptr(int32(1)),
		Threshold: ptr(0.0), ComparisonOperator: GreaterThanThreshold, TreatMissingData: TreatMissing,
	}
	return Transition{
		Alarm: a, AccountID: "761184649109", Region: "ap-northeast-1", OldState: StateOK, NewState: StateAlarm,
		NewStateReason:  "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (10/07/24 16:22:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
		StateChangeTime: at("2024-07-10T16:24:03.120"), ConfigUpdated: at("2024-07-01T00:00:00.000"),
	}
}

// TestEmailBody checks the lines of the real 2024 email (§2.2) that survive its re-flowing, then
// the whole text against a golden file.
func TestEmailBody(t *testing.T) {
	body := EmailBody(emailTransition())
	for _, want := range []string{
		`You are receiving this email because your Amazon CloudWatch Alarm "raisetech_alart" in the Asia Pacific (Tokyo) region has entered the ALARM state, because "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (10/07/24 16:22:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)." at "Wednesday 10 July, 2024 16:24:03 UTC".` + "\n\n",
		"View this alarm in the AWS Management Console:\nhttps://ap-northeast-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=ap-northeast-1#alarmsV2:alarm/raisetech_alart\n",
		"\nAlarm Details:\n- Name:                       raisetech_alart\n",
		"- State Change:               OK -> ALARM\n",
		"- Timestamp:                  Wednesday 10 July, 2024 16:24:03 UTC\n",
		"- AWS Account:                761184649109\n",
		"- Alarm Arn:                  arn:aws:cloudwatch:ap-northeast-1:761184649109:alarm:raisetech_alart\n",
		"Threshold:\n- The alarm is in the ALARM state when the metric is GreaterThanThreshold 0.0 for at least 1 of the last 1 period(s) of 60 seconds.\n",
		"- MetricNamespace:                     AWS/ApplicationELB\n",
		"- Dimensions:                          [TargetGroup = targetgroup/tg/1] [LoadBalancer = app/lb/2]\n",
		"- Period:                              60 seconds\n",
		"- Statistic:                           Average\n",
		"- Unit:                                not specified\n",
		"- TreatMissingData:                    missing\n\n\nState Change Actions:\n- OK:\n- ALARM: [arn:aws:sns:ap-northeast-1:761184649109:Default_CloudWatch_Alarms_Topic]\n- INSUFFICIENT_DATA:\n\n\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("email lacks %q", want)
		}
	}
	if !strings.HasSuffix(body, "- INSUFFICIENT_DATA:\n\n\n") {
		t.Errorf("email must end with two blank lines for the SNS footer")
	}
	golden(t, "email_raisetech.golden", body)
}

// TestEmailBodyUnsetFields checks the layout of empty fields against 2020-2026 emails: an empty
// description and dimension list keep their padding minus one space, and an unset
// TreatMissingData leaves an empty line instead of "- TreatMissingData:" (decision on §6.4 from
// the 2025 eu-central-1 "lambda-alerts-Errors" email).
func TestEmailBodyUnsetFields(t *testing.T) {
	tr := emailTransition()
	tr.Alarm.AlarmDescription, tr.Alarm.Dimensions, tr.Alarm.TreatMissingData = "", nil, ""
	body := EmailBody(tr)
	for _, want := range []string{
		"\n- Description:               \n- State Change:",
		"\n- Dimensions:                         \n- Period:",
		"- Unit:                                not specified\n\n\n\nState Change Actions:\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("email lacks %q", want)
		}
	}
	if strings.Contains(body, "TreatMissingData") {
		t.Errorf("unset TreatMissingData printed")
	}
}

// TestMessageGolden covers shapes no capture shows byte for byte: percentile Trigger, metric-math
// Trigger, and the published {"default","email"} document.
func TestMessageGolden(t *testing.T) {
	tr := emailTransition()
	golden(t, "message_raisetech.golden.json", Message(tr)+"\n")
	golden(t, "published_raisetech.golden.json", PublishedMessage(tr)+"\n")

	p := *tr.Alarm
	p.Statistic, p.ExtendedStatistic, p.EvaluateLowSampleCountPercentile = "", "p99", LowSampleIgnore
	tr.Alarm = &p
	golden(t, "message_percentile.golden.json", Message(tr)+"\n")

	m := MetricAlarm{
		AlarmName: "math", ActionsEnabled: true, EvaluationPeriods: ptr(int32(3)), Threshold: ptr(10.0),
		ComparisonOperator: GreaterThanThreshold, TreatMissingData: TreatNotBreaching,
		Metrics: []MetricDataQuery{
			{Id: "e1", Expression: "m1*2", Label: "doubled"},
			{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "CloudTrailMetrics", MetricName: "RootLogins", Period: 300, Stat: StatSum}},
		},
	}
	tr.Alarm = &m
	golden(t, "message_math.golden.json", Message(tr)+"\n")
	golden(t, "email_math.golden", EmailBody(tr))
}
