// Package receivertest is the conformance suite of receiver.Store implementations, and an
// in-memory Store for tests of the packages that use receivers. Every backend runs the suite:
// Run(t, open). It checks what the API and the delivery path rely on: replace by name, secrets
// kept by the store but masked by every service read, ordered listing, scoping by account,
// delete with its threads, and thread state round trips.
package receivertest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/receiver"
)

// Store is what the suite needs.
type Store = receiver.Store

// Account is the account the suite's receivers belong to.
const Account = "111122223333"

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	slack := receiver.Receiver{Name: "sec-slack", Type: receiver.TypeSlack, URL: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX", SendResolved: true}
	pd := receiver.Receiver{Name: "pager", Type: receiver.TypePagerDuty, RoutingKey: "R0123456789abcdef0123456789abcde", SendResolved: true}

	t.Run("PutGetReplace", func(t *testing.T) {
		st := open(t)
		svc := receiver.NewService(st, nil, Account, "https://tw.example", clock)
		ep, err := svc.Put(ctx, Account, slack)
		if err != nil {
			t.Fatal(err)
		}
		if ep != "https://tw.example/receivers/sec-slack" {
			t.Errorf("endpoint %q", ep)
		}
		got, err := st.GetReceiver(ctx, Account, "sec-slack")
		if err != nil {
			t.Fatal(err)
		}
		if got.URL != slack.URL || got.Type != "slack" || !got.SendResolved || !got.Created.Equal(now) {
			t.Errorf("stored %+v", got)
		}
		// Putting the same name again replaces it, keeping the creation time.
		now = now.Add(time.Hour)
		repl := pd
		repl.Name = "sec-slack"
		if _, err := svc.Put(ctx, Account, repl); err != nil {
			t.Fatal(err)
		}
		got, err = st.GetReceiver(ctx, Account, "sec-slack")
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != "pagerduty" || got.RoutingKey != pd.RoutingKey || got.URL != "" || !got.Created.Equal(now.Add(-time.Hour)) || !got.Updated.Equal(now) {
			t.Errorf("replaced %+v", got)
		}
	})

	t.Run("MaskedReads", func(t *testing.T) {
		st := open(t)
		svc := receiver.NewService(st, nil, Account, "https://tw.example", clock)
		wh := receiver.Receiver{Name: "hook", Type: receiver.TypeWebhook, URL: "https://user:pw@hooks.example.com/path?token=abc", SigningSecret: "0123456789abcdefSECRET", SendResolved: true}
		for _, r := range []receiver.Receiver{slack, pd, wh} {
			if _, err := svc.Put(ctx, Account, r); err != nil {
				t.Fatal(err)
			}
		}
		list, err := svc.List(ctx, Account)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].Name != "hook" || list[1].Name != "pager" || list[2].Name != "sec-slack" {
			t.Fatalf("list %+v", list)
		}
		one, err := svc.Get(ctx, Account, "hook")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(list, one) {
			for _, secret := range []string{"XXXXXXXXXXXXXXXX", "R0123456789abcdef0123456789a", "user:pw", "token=abc", "0123456789abcdefSEC", "/services/"} {
				if s := strings.Join([]string{r.URL, r.RoutingKey, r.BotToken, r.SigningSecret}, " "); strings.Contains(s, secret) {
					t.Errorf("%s shows a secret: %s", r.Name, s)
				}
			}
		}
		if one.URL != "https://hooks.example.com/****" || one.SigningSecret != "****CRET" {
			t.Errorf("masked webhook %+v", one)
		}
		// The store keeps the secrets.
		raw, err := st.GetReceiver(ctx, Account, "hook")
		if err != nil || raw.SigningSecret != wh.SigningSecret || raw.URL != wh.URL {
			t.Errorf("stored %+v, %v", raw, err)
		}
	})

	t.Run("AccountScope", func(t *testing.T) {
		st := open(t)
		r := slack
		r.AccountID = Account
		if err := st.PutReceiver(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetReceiver(ctx, "999999999999", r.Name); !errors.Is(err, receiver.ErrNotFound) {
			t.Errorf("other account: %v", err)
		}
		if l, err := st.ListReceivers(ctx, "999999999999"); err != nil || len(l) != 0 {
			t.Errorf("other account list %v, %v", l, err)
		}
	})

	t.Run("DeleteWithThreads", func(t *testing.T) {
		st := open(t)
		svc := receiver.NewService(st, nil, Account, "https://tw.example", clock)
		if _, err := svc.Put(ctx, Account, slack); err != nil {
			t.Fatal(err)
		}
		th := receiver.Thread{Channel: "C1", TS: "1700000000.000100", FiringSince: now, Last: now}
		if err := st.PutThread(ctx, Account, slack.Name, "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a", th); err != nil {
			t.Fatal(err)
		}
		got, ok, err := st.GetThread(ctx, Account, slack.Name, "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a")
		if err != nil || !ok || !reflect.DeepEqual(normalize(got), normalize(th)) {
			t.Errorf("thread %+v %v %v", got, ok, err)
		}
		if err := svc.Delete(ctx, Account, slack.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetReceiver(ctx, Account, slack.Name); !errors.Is(err, receiver.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if _, ok, err := st.GetThread(ctx, Account, slack.Name, "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a"); ok || err != nil {
			t.Errorf("thread kept after delete: %v %v", ok, err)
		}
		var e *receiver.Error
		if err := svc.Delete(ctx, Account, slack.Name); !errors.As(err, &e) || e.Code != "ResourceNotFoundException" {
			t.Errorf("second delete: %v", err)
		}
		if _, ok, err := st.GetThread(ctx, Account, "none", "k"); ok || err != nil {
			t.Errorf("missing thread: %v %v", ok, err)
		}
	})
}

func normalize(t receiver.Thread) receiver.Thread {
	t.FiringSince, t.Last = t.FiringSince.UTC(), t.Last.UTC()
	return t
}
