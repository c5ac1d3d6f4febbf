package alarm

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStateUpdateHistory(t *testing.T) {
	a := sreBotAlarm()
	now := at("2022-09-25T18:50:37.811")
	r := Evaluate(a, series(at("2022-09-25T18:49:00.000"), 60e9, 6), StateInsufficientData, now)
	h := StateUpdateHistory(a.AlarmName, "MetricAlarm", now,
		StateSnapshot{Value: StateInsufficientData, Reason: "Unchecked: Initial alarm creation"},
		StateSnapshot{Value: r.State, Reason: r.Reason, ReasonData: r.ReasonData})
	if h.HistorySummary != "Alarm updated from INSUFFICIENT_DATA to ALARM" || h.HistoryItemType != HistoryStateUpdate {
		t.Fatalf("summary %q", h.HistorySummary)
	}
	// §1.11 [LS-CW-SNAP]: oldState without stateReasonData, newState with it embedded as an object.
	prefix := `{"version":"1.0","oldState":{"stateValue":"INSUFFICIENT_DATA","stateReason":"Unchecked: Initial alarm creation"},"newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed: 1 out of the last 1 datapoints [6.0 (25/09/22 18:49:00)]`
	if !strings.HasPrefix(h.HistoryData, prefix) || !strings.Contains(h.HistoryData, `"stateReasonData":{"version":"1.0","queryDate":"2022-09-25T18:50:37.811+0000"`) {
		t.Fatalf("history data %s", h.HistoryData)
	}
	golden(t, "history_stateupdate.golden.json", h.HistoryData+"\n")
}

func TestConfigurationHistory(t *testing.T) {
	a := cisRootAlarm()
	snap := AlarmSnapshot{Alarm: a, ARN: AlarmARN("us-east-1", "123456789012", a.AlarmName),
		ConfigUpdated: at("2022-11-02T15:55:30.959"), StateValue: StateInsufficientData, StateUpdatedAt: at("2022-11-02T15:55:30.959")}
	h := ConfigurationHistory(ConfigCreate, at("2022-11-02T15:55:30.959"), snap)
	if h.HistorySummary != `Alarm "root-usage" created` || h.HistoryItemType != HistoryConfigurationUpdate {
		t.Fatalf("summary %q", h.HistorySummary)
	}
	// Key order of [FINDSTR 43763957741], including the lower-case "okactions".
	for _, want := range []string{`{"version":"1.0","type":"Create","createdAlarm":{"alarmName":"root-usage","alarmArn":`,
		`"alarmConfigurationUpdatedTimestamp":"2022-11-02T15:55:30.959+0000","namespace":"CISBenchmark","metricName":"RootAccountUsage","statistic":"Sum","period":300,"dimensions":[],"threshold":1.0,"comparisonOperator":"GreaterThanOrEqualToThreshold","evaluationPeriods":1,`,
		`"stateValue":"INSUFFICIENT_DATA","stateUpdatedTimestamp":"2022-11-02T15:55:30.959+0000","actionsEnabled":true,"alarmActions":["arn:aws:sns:us-east-1:123456789012:alerts"],"insufficientDataActions":[],"okactions":[]}}`} {
		if !strings.Contains(h.HistoryData, want) {
			t.Errorf("history data lacks %s\n%s", want, h.HistoryData)
		}
	}
	if u := ConfigurationHistory(ConfigUpdate, snap.ConfigUpdated, snap); u.HistorySummary != `Alarm "root-usage" updated` || !strings.Contains(u.HistoryData, `"type":"Update","updatedAlarm":{`) {
		t.Errorf("update item %q %s", u.HistorySummary, u.HistoryData)
	}
	if d := ConfigurationHistory(ConfigDelete, snap.ConfigUpdated, snap); d.HistorySummary != `Alarm "root-usage" deleted` {
		t.Errorf("delete item %q", d.HistorySummary)
	}
	golden(t, "history_create.golden.json", h.HistoryData+"\n")
}

func TestActionHistory(t *testing.T) {
	tr := emailTransition()
	pub := PublishedMessage(tr)
	h := ActionHistory(tr.Alarm.AlarmName, "MetricAlarm", tr.StateChangeTime, tr.Alarm.AlarmActions[0], tr.StateChangeTime, pub, "")
	if h.HistorySummary != "Successfully executed action arn:aws:sns:ap-northeast-1:761184649109:Default_CloudWatch_Alarms_Topic" {
		t.Fatalf("summary %q", h.HistorySummary)
	}
	var d struct {
		Error                *string `json:"error"`
		ActionState          string  `json:"actionState"`
		NotificationResource string  `json:"notificationResource"`
		StateUpdateTimestamp int64   `json:"stateUpdateTimestamp"`
		PublishedMessage     string  `json:"publishedMessage"`
	}
	if err := json.Unmarshal([]byte(h.HistoryData), &d); err != nil {
		t.Fatal(err)
	}
	if d.Error != nil || d.ActionState != "Succeeded" || d.StateUpdateTimestamp != tr.StateChangeTime.UnixMilli() || d.PublishedMessage != pub {
		t.Fatalf("history data %+v", d)
	}
	if !strings.HasPrefix(h.HistoryData, `{"error":null,"actionState":"Succeeded","notificationResource":`) {
		t.Fatalf("key order %s", h.HistoryData)
	}
	var pm map[string]string
	if err := json.Unmarshal([]byte(pub), &pm); err != nil || pm["default"] != Message(tr) || pm["email"] != EmailBody(tr) {
		t.Fatalf("published message keys: %v", err)
	}
	f := ActionHistory("a", "MetricAlarm", tr.StateChangeTime, "arn:aws:sns:x:1:t", tr.StateChangeTime, pub, "Connection refused")
	if f.HistorySummary != `Failed to execute action arn:aws:sns:x:1:t. Received error: "Connection refused"` || !strings.Contains(f.HistoryData, `"actionState":"Failed"`) {
		t.Fatalf("failure item %q %s", f.HistorySummary, f.HistoryData)
	}
}
