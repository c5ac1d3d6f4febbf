package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
	"github.com/trailwatch/trailwatch/internal/receiver"
)

const key = "R0123456789abcdef0123456789abcde"

// checkEvent checks an event against the Events API v2 rules (reference §A3).
func checkEvent(t *testing.T, b []byte) Event {
	t.Helper()
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RoutingKey != key || len(ev.DedupKey) == 0 || len(ev.DedupKey) > MaxDedupKey || len(b) > MaxEvent {
		t.Errorf("event %s", b)
	}
	switch ev.EventAction {
	case "trigger":
		p := ev.Payload
		if p == nil || p.Summary == "" || utf8.RuneCountInString(p.Summary) > MaxSummary || p.Source == "" || !map[string]bool{"critical": true, "error": true, "warning": true, "info": true}[p.Severity] {
			t.Errorf("payload %+v", p)
		}
	case "resolve":
	default:
		t.Errorf("action %q", ev.EventAction)
	}
	return ev
}

func TestTriggerAndResolve(t *testing.T) {
	srv := providertest.NewServer(t, providertest.Answer{Status: 202, Body: `{"status":"success","message":"Event processed","dedup_key":"x"}`})
	in := &Integration{Client: srv.Client()}
	r := &receiver.Receiver{Name: "pd", Type: "pagerduty", RoutingKey: key, URL: srv.URL + "/v2/enqueue", Severity: "error"}
	ctx := context.Background()
	for _, a := range []alert.Alert{providertest.Alarm("ALARM", "OK", 3), providertest.Alarm("OK", "ALARM", 0)} {
		res, err := in.Notify(ctx, notify.Notification{Receiver: r, Alert: a, Now: time.Now()})
		if err != nil || res.Status != 202 {
			t.Fatalf("%v %+v", err, res)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	trig, res := checkEvent(t, reqs[0].Body), checkEvent(t, reqs[1].Body)
	if trig.EventAction != "trigger" || res.EventAction != "resolve" || trig.DedupKey != providertest.AlarmARN || res.DedupKey != trig.DedupKey {
		t.Errorf("trigger %+v resolve %+v", trig, res)
	}
	if trig.Payload.Severity != "error" || !strings.Contains(string(reqs[0].Body), "203.0.113.0") || !strings.Contains(string(reqs[0].Body), "arn:aws:iam::111122223333:root") {
		t.Errorf("trigger body %s", reqs[0].Body)
	}
	if len(trig.Links) != 1 || !strings.HasPrefix(trig.Links[0].Href, "https://tw.example/console/alarms/111122223333/us-east-1/") {
		t.Errorf("links %+v", trig.Links)
	}
}

func TestLongARNAndSummary(t *testing.T) {
	a := providertest.Alarm("ALARM", "OK", 1)
	a.AlarmName = strings.Repeat("é", 1100)
	a.AlarmARN = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:" + a.AlarmName
	ev, ok := Render(a, key, "")
	if !ok || len(ev.DedupKey) != 64 || ev.DedupKey == a.AlarmARN || ev.Payload.Severity != "critical" {
		t.Fatalf("%+v", ev)
	}
	if utf8.RuneCountInString(ev.Payload.Summary) != MaxSummary {
		t.Errorf("summary of %d characters", utf8.RuneCountInString(ev.Payload.Summary))
	}
	if _, ok := Render(providertest.Alarm("INSUFFICIENT_DATA", "OK", 0), key, ""); ok {
		t.Error("INSUFFICIENT_DATA is sent")
	}
}

func TestAnswers(t *testing.T) {
	for _, c := range []struct {
		status    int
		retry     string
		ok, perm  bool
		retryWait time.Duration
	}{
		{202, "", true, false, 0}, {200, "", false, true, 0}, {400, "", false, true, 0}, {403, "", false, true, 0},
		{429, "120", false, false, 2 * time.Minute}, {500, "", false, false, 0}, {503, "", false, false, 0},
	} {
		srv := providertest.NewServer(t, providertest.Answer{Status: c.status, Header: map[string]string{"Retry-After": c.retry}, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}`})
		in := &Integration{Client: srv.Client()}
		r := &receiver.Receiver{Name: "pd", Type: "pagerduty", RoutingKey: key, URL: srv.URL}
		_, err := in.Notify(context.Background(), notify.Notification{Receiver: r, Alert: providertest.Alarm("ALARM", "OK", 1), Now: time.Now()})
		if (err == nil) != c.ok {
			t.Errorf("%d: %v", c.status, err)
			continue
		}
		var de *notify.DeliveryError
		if err != nil && (!errors.As(err, &de) || de.Permanent != c.perm || de.RetryAfter != c.retryWait || de.Status != c.status || !strings.Contains(de.Detail, "routing_key")) {
			t.Errorf("%d classified %+v", c.status, de)
		}
	}
}
