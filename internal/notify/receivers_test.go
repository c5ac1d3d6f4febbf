package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// answerSender answers each attempt with the next error of its script (nil: delivered).
type answerSender struct {
	mu     sync.Mutex
	script []error
	calls  int
}

func (s *answerSender) Send(context.Context, sns.Delivery) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.script) == 0 {
		return "HTTP 200", nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return "", err
}

func runWorker(t *testing.T, ob *memOutbox, snd Sender, d time.Duration) {
	w := &Worker{Outbox: ob, Senders: map[string]Sender{receiver.Protocol: snd}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	time.Sleep(d)
	cancel()
	<-done
}

// TestWorkerPermanentFailure: a provider's permanent error (a 400) fails the message at its first
// attempt, although the policy would allow retries.
func TestWorkerPermanentFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox(sns.Delivery{MessageID: "r1", Protocol: receiver.Protocol, NextAttempt: time.Now(), Policy: receiver.RetryPolicy})
		snd := &answerSender{script: []error{&DeliveryError{Status: 400, Detail: "HTTP 400: invalid_payload", Permanent: true}}}
		runWorker(t, ob, snd, time.Hour)
		as := ob.attemptsOf(1)
		if len(as) != 1 || as[0].Outcome != OutcomeFailed || as[0].Detail != "HTTP 400: invalid_payload" || ob.get(1).Status != sns.DeliveryFailed || snd.calls != 1 {
			t.Fatalf("attempts %+v, status %s, calls %d", as, ob.get(1).Status, snd.calls)
		}
	})
}

// TestWorkerRetryAfter: a 429's Retry-After postpones the retry beyond the policy's delay; a 5xx
// without one is retried after the policy's 1 s.
func TestWorkerRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ob := newOutbox(sns.Delivery{MessageID: "r1", Protocol: receiver.Protocol, NextAttempt: start, Policy: receiver.RetryPolicy})
		snd := &answerSender{script: []error{
			&DeliveryError{Status: 429, Detail: "HTTP 429", RetryAfter: 30 * time.Second},
			&DeliveryError{Status: 503, Detail: "HTTP 503"},
			&DeliveryError{Status: 429, Detail: "HTTP 429", RetryAfter: 48 * time.Hour},
		}}
		runWorker(t, ob, snd, 3*time.Hour)
		as := ob.attemptsOf(1)
		var at []time.Duration
		for _, a := range as {
			at = append(at, a.At.Sub(start))
		}
		// 0; +30 s (Retry-After over the 1 s policy delay); +~2.2 s (policy); +1 h (Retry-After capped).
		if len(at) != 4 || at[1] != 30*time.Second || at[2]-at[1] < 2*time.Second || at[2]-at[1] > 3*time.Second || at[3]-at[2] != MaxRetryAfter {
			t.Fatalf("attempts at %v", at)
		}
		if ob.get(1).Status != sns.DeliveryDelivered {
			t.Fatalf("status %s", ob.get(1).Status)
		}
	})
}

// fakeIntegration records notifications and answers with a fixed thread.
type fakeIntegration struct {
	got    []Notification
	thread receiver.Thread
	err    error
}

func (f *fakeIntegration) Notify(_ context.Context, n Notification) (Result, error) {
	f.got = append(f.got, n)
	if f.err != nil {
		return Result{}, f.err
	}
	th := n.Thread
	if f.thread.TS != "" && th.TS == "" {
		th.TS = f.thread.TS
	}
	return Result{Status: 200, Detail: "HTTP 200", Thread: th}, nil
}

func alarmDoc(state, prev string, at time.Time) string {
	m := map[string]any{"AlarmName": "root", "AWSAccountId": "111122223333", "NewStateValue": state, "OldStateValue": prev,
		"NewStateReason": "r", "StateChangeTime": at.UTC().Format("2006-01-02T15:04:05.000-0700"), "Region": "US East (N. Virginia)",
		"AlarmArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:root"}
	b, _ := json.Marshal(m)
	return string(b)
}

func receiverDelivery(t *testing.T, name, msg string) sns.Delivery {
	b, err := json.Marshal(receiver.Message{Receiver: name, Origin: receiver.OriginTrailwatch, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:111122223333:t", Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	return sns.Delivery{MessageID: "d-" + name, Protocol: receiver.Protocol, Body: string(b)}
}

// TestReceiverSenderThreadsAndOrder: the thread an integration returns is kept for the next
// message of the alarm (with when it started firing); an older message arriving after a newer one
// was delivered is dropped as superseded; OK is not sent when sendResolved is false; a deleted
// receiver fails permanently.
func TestReceiverSenderThreadsAndOrder(t *testing.T) {
	ctx := context.Background()
	st := receivertest.NewMemory()
	st.PutReceiver(ctx, &receiver.Receiver{AccountID: "111122223333", Name: "s", Type: "slack", URL: "https://hooks.slack.com/x", SendResolved: true})
	st.PutReceiver(ctx, &receiver.Receiver{AccountID: "111122223333", Name: "quiet", Type: "slack", URL: "https://hooks.slack.com/y"})
	fi := &fakeIntegration{thread: receiver.Thread{Channel: "C", TS: "1.1"}}
	s := &ReceiverSender{Store: st, AccountID: "111122223333", PublicURL: "https://tw.example", Integrations: map[string]Integration{"slack": fi}}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if _, err := s.Send(ctx, receiverDelivery(t, "s", alarmDoc("ALARM", "OK", t0))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, receiverDelivery(t, "s", alarmDoc("OK", "ALARM", t0.Add(time.Minute)))); err != nil {
		t.Fatal(err)
	}
	if len(fi.got) != 2 || fi.got[1].Thread.TS != "1.1" || !fi.got[1].Thread.FiringSince.Equal(t0) || fi.got[0].Alert.Link != "https://tw.example/console/alarms/111122223333/us-east-1/root" {
		t.Fatalf("notifications %+v", fi.got)
	}
	// A retried ALARM older than the OK already delivered is not sent.
	detail, err := s.Send(ctx, receiverDelivery(t, "s", alarmDoc("ALARM", "OK", t0.Add(30*time.Second))))
	if err != nil || len(fi.got) != 2 || detail == "" {
		t.Fatalf("superseded message: %q %v, %d sent", detail, err, len(fi.got))
	}
	if d, err := s.Send(ctx, receiverDelivery(t, "quiet", alarmDoc("OK", "ALARM", t0))); err != nil || len(fi.got) != 2 || d != "not sent: sendResolved is false" {
		t.Fatalf("sendResolved false: %q %v", d, err)
	}
	_, err = s.Send(ctx, receiverDelivery(t, "gone", "hello"))
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent {
		t.Fatalf("deleted receiver: %v", err)
	}
	// Plain messages have no thread and are always sent.
	if _, err := s.Send(ctx, receiverDelivery(t, "s", "plain text")); err != nil || len(fi.got) != 3 || fi.got[2].Alert.IsAlarm {
		t.Fatalf("plain: %v", err)
	}
}

func TestReceiverSenderTest(t *testing.T) {
	fi := &fakeIntegration{err: &DeliveryError{Status: 403, Detail: "HTTP 403: action_prohibited", Permanent: true}}
	s := &ReceiverSender{Integrations: map[string]Integration{"slack": fi}}
	res, err := s.Test(context.Background(), &receiver.Receiver{Name: "s", Type: "slack"}, alert.Sample(time.Now(), "111122223333", "us-east-1", ""))
	if err != nil || res.Delivered || res.StatusCode != 403 || res.Detail != "HTTP 403: action_prohibited" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestLocalRouter(t *testing.T) {
	var local []string
	remote := &answerSender{}
	r := &LocalRouter{Prefix: "https://tw.example/receivers/", Remote: remote,
		Local: func(_ context.Context, name string, _ sns.Delivery) (string, error) {
			local = append(local, name)
			return "HTTP 200", nil
		}}
	for _, ep := range []string{"https://tw.example/receivers/a", "https://tw.example/receivers/", "https://tw.example/receivers/a/b",
		"https://other.example/receivers/a", "https://tw.example/receiversx", "https://tw.example/receivers/a?x=1"} {
		r.Send(context.Background(), sns.Delivery{Endpoint: ep})
	}
	if len(local) != 1 || local[0] != "a" || remote.calls != 5 {
		t.Fatalf("local %v, remote %d", local, remote.calls)
	}
}

// slowIntegration takes a while per message and records the states it sent, in order.
type slowIntegration struct {
	mu     sync.Mutex
	states []string
}

func (s *slowIntegration) Notify(_ context.Context, n Notification) (Result, error) {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.states = append(s.states, n.Alert.NewState)
	s.mu.Unlock()
	return Result{Thread: n.Thread}, nil
}

// TestReceiverSenderConcurrentTransitions: an ALARM and the OK that followed it, sent at the same
// time (the worker sends in parallel), never end with the ALARM delivered after the OK.
func TestReceiverSenderConcurrentTransitions(t *testing.T) {
	ctx := context.Background()
	for range 20 {
		st := receivertest.NewMemory()
		st.PutReceiver(ctx, &receiver.Receiver{AccountID: "111122223333", Name: "pd", Type: "pagerduty", RoutingKey: "k", SendResolved: true})
		si := &slowIntegration{}
		s := &ReceiverSender{Store: st, AccountID: "111122223333", Integrations: map[string]Integration{"pagerduty": si}}
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		wg.Go(func() { s.Send(ctx, receiverDelivery(t, "pd", alarmDoc("OK", "ALARM", t0.Add(time.Minute)))) })
		wg.Go(func() { s.Send(ctx, receiverDelivery(t, "pd", alarmDoc("ALARM", "OK", t0))) })
		wg.Wait()
		if n := len(si.states); n == 0 || si.states[n-1] != "OK" {
			t.Fatalf("sent %v: the last message is not the OK", si.states)
		}
	}
}

// TestReceiverSenderLocksDoNotGrow: the per-alarm locks live only while a message is being sent;
// before, one stayed for every (receiver, alarm ARN) ever seen, and anyone who may publish to a
// subscribed topic chooses the ARN.
func TestReceiverSenderLocksDoNotGrow(t *testing.T) {
	ctx := context.Background()
	st := receivertest.NewMemory()
	st.PutReceiver(ctx, &receiver.Receiver{AccountID: "111122223333", Name: "pd", Type: "pagerduty", RoutingKey: "k", SendResolved: true})
	s := &ReceiverSender{Store: st, AccountID: "111122223333", Integrations: map[string]Integration{"pagerduty": threadKeeper{}}}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		doc := strings.Replace(alarmDoc("ALARM", "OK", t0), "alarm:root", fmt.Sprintf("alarm:root-%d", i), 1)
		if _, err := s.Send(ctx, receiverDelivery(t, "pd", doc)); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	s.locksMu.Lock()
	n = len(s.locks)
	s.locksMu.Unlock()
	if n != 0 {
		t.Errorf("%d locks kept after every message was sent, want 0", n)
	}
}

// threadKeeper is an integration that accepts every notification at once.
type threadKeeper struct{}

func (threadKeeper) Notify(_ context.Context, n Notification) (Result, error) {
	return Result{Thread: n.Thread}, nil
}
