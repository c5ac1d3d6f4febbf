package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
	"github.com/trailwatch/trailwatch/internal/receiver"
)

// checkLimits checks a message against Slack's Block Kit limits (reference §A2) and escaping.
func checkLimits(t *testing.T, m Message) {
	t.Helper()
	if len(m.Blocks) > MaxBlocks || len(m.Blocks) == 0 {
		t.Errorf("%d blocks", len(m.Blocks))
	}
	if m.Text == "" || utf8.RuneCountInString(m.Text) > MaxText {
		t.Errorf("fallback text of %d characters", utf8.RuneCountInString(m.Text))
	}
	escaped := func(where, s string) {
		// Only &amp; &lt; &gt; may appear as entities; no raw < or >.
		rest := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s)
		if strings.ContainsAny(rest, "<>&") {
			t.Errorf("%s not escaped: %q", where, s)
		}
	}
	escaped("text", m.Text)
	for i, b := range m.Blocks {
		switch b["type"] {
		case "header":
			tx := b["text"].(map[string]any)
			if tx["type"] != "plain_text" || utf8.RuneCountInString(tx["text"].(string)) > MaxHeaderText {
				t.Errorf("block %d header %v", i, tx)
			}
		case "section":
			if tx, ok := b["text"].(map[string]any); ok {
				s := tx["text"].(string)
				if utf8.RuneCountInString(s) > MaxSectionText {
					t.Errorf("block %d section text of %d characters", i, utf8.RuneCountInString(s))
				}
				escaped("section", s)
			}
			if fs, ok := b["fields"].([]any); ok {
				if len(fs) > MaxFields {
					t.Errorf("block %d has %d fields", i, len(fs))
				}
				for _, f := range fs {
					if s := f.(map[string]any)["text"].(string); utf8.RuneCountInString(s) > MaxFieldText {
						t.Errorf("field of %d characters", utf8.RuneCountInString(s))
					}
				}
			}
		case "context", "actions":
		default:
			t.Errorf("block %d of type %v", i, b["type"])
		}
	}
}

func decode(t *testing.T, b []byte) Message {
	t.Helper()
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func TestRenderWithinLimits(t *testing.T) {
	for _, n := range []int{0, 1, 10, 60, 500} {
		a := providertest.Alarm(alert.StateAlarm, alert.StateOK, n)
		b, _ := json.Marshal(Render(a))
		m := decode(t, b)
		checkLimits(t, m)
		if n > 0 && !strings.Contains(string(b), "203.0.113.0") {
			t.Errorf("%d events: source IP missing", n)
		}
	}
	long := providertest.Alarm(alert.StateAlarm, alert.StateOK, 3)
	long.AlarmName = strings.Repeat("<&>", 200)
	long.Reason = strings.Repeat("&", 5000)
	b, _ := json.Marshal(Render(long))
	checkLimits(t, decode(t, b))
	plain := alert.Parse("m", "t", "", strings.Repeat("line <with> & specials\n", 20000), "")
	b, _ = json.Marshal(Render(plain))
	checkLimits(t, decode(t, b))
}

func TestFitNeverSplitsEntity(t *testing.T) {
	for n := 2; n < 12; n++ {
		got := fit("ab&&&&&&&&", n)
		if utf8.RuneCountInString(got) > n || strings.Contains(strings.TrimSuffix(got, "…"), "&am…") {
			t.Errorf("fit(%d) = %q", n, got)
		}
		rest := strings.ReplaceAll(strings.TrimSuffix(got, "…"), "&amp;", "")
		if strings.Contains(rest, "&") {
			t.Errorf("fit(%d) = %q leaves half an entity", n, got)
		}
	}
}

func TestWebhookAnswers(t *testing.T) {
	cases := []struct {
		name      string
		answer    providertest.Answer
		ok        bool
		permanent bool
		after     time.Duration
	}{
		{"ok", providertest.Answer{Status: 200, Body: "ok"}, true, false, 0},
		{"200 not ok", providertest.Answer{Status: 200, Body: "invalid_token"}, false, true, 0},
		{"400", providertest.Answer{Status: 400, Body: "invalid_payload"}, false, true, 0},
		{"404", providertest.Answer{Status: 404, Body: "channel_not_found"}, false, true, 0},
		{"410", providertest.Answer{Status: 410, Body: "channel_is_archived"}, false, true, 0},
		{"429", providertest.Answer{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: "rate_limited"}, false, false, 7 * time.Second},
		{"500", providertest.Answer{Status: 500, Body: "rollup_error"}, false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := providertest.NewServer(t, c.answer)
			in := &Integration{Client: srv.Client()}
			r := &receiver.Receiver{Name: "s", Type: "slack", URL: srv.URL + "/services/T/B/X"}
			_, err := in.Notify(context.Background(), notify.Notification{Receiver: r, Alert: providertest.Alarm("ALARM", "OK", 2), Now: time.Now()})
			if (err == nil) != c.ok {
				t.Fatalf("err %v", err)
			}
			var de *notify.DeliveryError
			if err != nil && (!errors.As(err, &de) || de.Permanent != c.permanent || de.RetryAfter != c.after || !strings.Contains(de.Detail, c.answer.Body)) {
				t.Errorf("classified %+v", de)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Path != "/services/T/B/X" || !strings.HasPrefix(reqs[0].Header.Get("Content-Type"), "application/json") {
				t.Fatalf("requests %+v", reqs)
			}
			checkLimits(t, decode(t, reqs[0].Body))
		})
	}
}

func TestBotUpdatesOnOK(t *testing.T) {
	srv := providertest.NewServer(t, providertest.Answer{Status: 200})
	srv.Answer = func(r providertest.Request) providertest.Answer {
		if r.Header.Get("Authorization") != "Bearer xoxb-test-token" {
			return providertest.Answer{Status: 200, Body: `{"ok":false,"error":"not_authed"}`}
		}
		return providertest.Answer{Status: 200, Body: `{"ok":true,"channel":"C123","ts":"1700000000.000100"}`}
	}
	in := &Integration{Client: srv.Client()}
	r := &receiver.Receiver{Name: "s", Type: "slack", BotToken: "xoxb-test-token", Channel: "#security", URL: srv.URL + "/api"}
	ctx := context.Background()
	res, err := in.Notify(ctx, notify.Notification{Receiver: r, Alert: providertest.Alarm("ALARM", "OK", 1), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Thread.TS != "1700000000.000100" || res.Thread.Channel != "C123" {
		t.Fatalf("thread %+v", res.Thread)
	}
	if _, err := in.Notify(ctx, notify.Notification{Receiver: r, Alert: providertest.Alarm("OK", "ALARM", 0), Thread: res.Thread, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	post, upd, reply := decode(t, reqs[0].Body), decode(t, reqs[1].Body), decode(t, reqs[2].Body)
	if reqs[0].Path != "/api/chat.postMessage" || post.Channel != "#security" || post.TS != "" {
		t.Errorf("post %s %+v", reqs[0].Path, post)
	}
	if reqs[1].Path != "/api/chat.update" || upd.Channel != "C123" || upd.TS != "1700000000.000100" || !strings.Contains(upd.Text, "OK") {
		t.Errorf("update %s %+v", reqs[1].Path, upd)
	}
	if reqs[2].Path != "/api/chat.postMessage" || reply.ThreadTS != "1700000000.000100" {
		t.Errorf("reply %s %+v", reqs[2].Path, reply)
	}
	// An API error inside a 200 is a permanent failure.
	bad := *r
	bad.BotToken = "xoxb-wrong"
	_, err = in.Notify(ctx, notify.Notification{Receiver: &bad, Alert: providertest.Alarm("ALARM", "OK", 1), Now: time.Now()})
	var de *notify.DeliveryError
	if !errors.As(err, &de) || !de.Permanent || !strings.Contains(de.Detail, "not_authed") {
		t.Errorf("ok:false gave %v", err)
	}
	// 429 from the Web API is retried after Retry-After.
	srv.Answer = func(providertest.Request) providertest.Answer {
		return providertest.Answer{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "30"}}
	}
	_, err = in.Notify(ctx, notify.Notification{Receiver: r, Alert: providertest.Alarm("ALARM", "OK", 1), Now: time.Now()})
	if !errors.As(err, &de) || de.Permanent || de.RetryAfter != 30*time.Second {
		t.Errorf("429 gave %v", err)
	}
}

// FuzzRender: whatever an SNS message holds, the Slack message stays within Slack's limits and
// escaped.
func FuzzRender(f *testing.F) {
	f.Add(`{"AlarmName":"a<&>","NewStateValue":"ALARM","NewStateReason":"<<<&&&>>>","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a","TrailwatchLogEvidence":{"LogEvents":[{"message":"<x>"}]}}`)
	f.Add("plain & <text>")
	f.Fuzz(func(t *testing.T, msg string) {
		b, err := notify.MarshalJSON(Render(alert.Parse("m", "t", "", msg, "https://tw.example")))
		if err != nil {
			t.Fatal(err)
		}
		if msg == "" {
			return // an empty message renders no text section; SNS refuses empty messages anyway
		}
		checkLimits(t, decode(t, b))
	})
}
