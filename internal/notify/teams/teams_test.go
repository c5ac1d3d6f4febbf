package teams

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
	"github.com/trailwatch/trailwatch/internal/receiver"
)

// checkEnvelope checks a body against the Workflows template's expectations (reference §A4).
func checkEnvelope(t *testing.T, b []byte) Card {
	t.Helper()
	if len(b) > 28*1024 {
		t.Errorf("body of %d bytes", len(b))
	}
	var env struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     Card   `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "message" || len(env.Attachments) != 1 || env.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("envelope %s", b[:min(len(b), 300)])
	}
	c := env.Attachments[0].Content
	if c.Type != "AdaptiveCard" || c.Version == "" || len(c.Body) == 0 {
		t.Errorf("card %+v", c)
	}
	return c
}

func TestCardAndSize(t *testing.T) {
	for _, n := range []int{0, 1, 10, 200} {
		b, err := Render(providertest.Alarm("ALARM", "OK", n))
		if err != nil {
			t.Fatal(err)
		}
		checkEnvelope(t, b)
		if n > 0 && !strings.Contains(string(b), "arn:aws:iam::111122223333:root") {
			t.Errorf("%d events: identity missing", n)
		}
		if n == 200 && !strings.Contains(string(b), "more matching events") {
			t.Error("no note of the events left out")
		}
	}
	b, _ := Render(alert.Parse("m", "t", "", strings.Repeat("x", 100000), ""))
	checkEnvelope(t, b)
}

func TestAnswers(t *testing.T) {
	for _, c := range []struct {
		status   int
		ok, perm bool
	}{{202, true, false}, {200, true, false}, {400, false, true}, {413, false, true}, {429, false, false}, {502, false, false}} {
		srv := providertest.NewServer(t, providertest.Answer{Status: c.status})
		in := &Integration{Client: srv.Client()}
		r := &receiver.Receiver{Name: "t", Type: "teams", URL: srv.URL + "/workflows/x/triggers/manual/paths/invoke?sig=s"}
		res, err := in.Notify(context.Background(), notify.Notification{Receiver: r, Alert: providertest.Alarm("OK", "ALARM", 0), Now: time.Now()})
		if (err == nil) != c.ok {
			t.Errorf("%d: %v", c.status, err)
			continue
		}
		var de *notify.DeliveryError
		if err != nil && (!errors.As(err, &de) || de.Permanent != c.perm) {
			t.Errorf("%d classified %+v", c.status, de)
		}
		if c.status == 202 && !strings.Contains(res.Detail, "not confirmed") {
			t.Errorf("202 detail %q", res.Detail)
		}
		card := checkEnvelope(t, srv.Requests()[0].Body)
		if got := card.Body[0].(map[string]any)["color"]; got != "Good" {
			t.Errorf("OK colour %v", got)
		}
	}
}
