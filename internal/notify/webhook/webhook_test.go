package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
	"github.com/trailwatch/trailwatch/internal/receiver"
)

func TestPayloadAndSignature(t *testing.T) {
	srv := providertest.NewServer(t, providertest.Answer{Status: 204})
	in := &Integration{Client: srv.Client(), PublicURL: "https://tw.example"}
	r := &receiver.Receiver{Name: "hook", Type: "webhook", URL: srv.URL + "/alerts", SigningSecret: "s3cret"}
	now := time.Unix(1795000000, 0)
	firing := providertest.Alarm("ALARM", "OK", 2)
	if _, err := in.Notify(context.Background(), notify.Notification{Receiver: r, Alert: firing, ID: "id-1", Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Notify(context.Background(), notify.Notification{Receiver: r, Alert: providertest.Alarm("OK", "ALARM", 0), ID: "id-2", Now: now,
		Thread: receiver.Thread{FiringSince: firing.StateChangeTime}}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	for i, req := range reqs {
		ts := req.Header.Get(TimestampHeader)
		if ts != strconv.FormatInt(now.Unix(), 10) {
			t.Errorf("timestamp %q", ts)
		}
		m := hmac.New(sha256.New, []byte("s3cret"))
		m.Write([]byte(ts + ":"))
		m.Write(req.Body)
		if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); req.Header.Get(SignatureHeader) != want {
			t.Errorf("signature %q, want %q", req.Header.Get(SignatureHeader), want)
		}
		if req.Header.Get(IdempotencyHeader) != "id-"+strconv.Itoa(i+1) {
			t.Errorf("idempotency key %q", req.Header.Get(IdempotencyHeader))
		}
	}
	var p [2]Payload
	for i := range p {
		if err := json.Unmarshal(reqs[i].Body, &p[i]); err != nil {
			t.Fatal(err)
		}
	}
	f, res := p[0], p[1]
	if f.Version != "4" || f.Status != "firing" || f.Receiver != "hook" || len(f.Alerts) != 1 || f.Alerts[0].EndsAt != "0001-01-01T00:00:00Z" ||
		f.Alerts[0].Labels["alertname"] != "RootAccountUsage" || f.Alerts[0].Labels["severity"] != "critical" || len(f.Alerts[0].Fingerprint) != 16 {
		t.Errorf("firing %+v", f)
	}
	if len(f.Trailwatch.Evidence) != 2 || f.Trailwatch.Evidence[0].CloudTrail.SourceIPAddress != "203.0.113.0" || f.Trailwatch.AlarmARN != providertest.AlarmARN {
		t.Errorf("trailwatch member %+v", f.Trailwatch)
	}
	if res.Status != "resolved" || res.Alerts[0].StartsAt != f.Alerts[0].StartsAt || res.Alerts[0].EndsAt != "2026-11-25T20:10:00Z" || res.Alerts[0].Fingerprint != f.Alerts[0].Fingerprint {
		t.Errorf("resolved %+v", res.Alerts[0])
	}
}

func TestUnsignedAndAnswers(t *testing.T) {
	for _, c := range []struct {
		status   int
		ok, perm bool
	}{{200, true, false}, {202, true, false}, {400, false, true}, {401, false, true}, {429, false, false}, {500, false, false}} {
		srv := providertest.NewServer(t, providertest.Answer{Status: c.status})
		in := &Integration{Client: srv.Client()}
		r := &receiver.Receiver{Name: "hook", Type: "webhook", URL: srv.URL}
		_, err := in.Notify(context.Background(), notify.Notification{Receiver: r, Alert: providertest.Alarm("ALARM", "OK", 0), ID: "x", Now: time.Now()})
		if (err == nil) != c.ok {
			t.Errorf("%d: %v", c.status, err)
			continue
		}
		var de *notify.DeliveryError
		if err != nil && (!errors.As(err, &de) || de.Permanent != c.perm) {
			t.Errorf("%d classified %+v", c.status, de)
		}
		if h := srv.Requests()[0].Header; h.Get(SignatureHeader) != "" || h.Get(TimestampHeader) != "" {
			t.Errorf("unsigned receiver sent %v", h)
		}
	}
}
