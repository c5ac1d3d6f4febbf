package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// ReceiverSource is what the console reads of receivers (*receiver.Service): the server
// account's receivers with their secrets masked by the receiver package (Receiver.Masked), and
// where their endpoints are.
type ReceiverSource interface {
	// AccountID is the account receivers belong to.
	AccountID() string
	// PublicURL is the base of receiver endpoints, <public-url>/receivers/<name>.
	PublicURL() string
	// Endpoint is the SNS subscription endpoint of a receiver.
	Endpoint(name string) string
	// List returns the account's receivers, masked.
	List(ctx context.Context, accountID string) ([]*receiver.Receiver, error)
}

// receiverDirectory is the server's receivers by endpoint, to tell which subscriptions reach a
// receiver and which point at a receiver endpoint that has no receiver (deleted, or misspelled).
type receiverDirectory struct {
	prefix     string
	byEndpoint map[string]*receiver.Receiver
	list       []*receiver.Receiver
}

// receivers reads the receivers, masked.
func (c *Console) receivers(ctx context.Context) (receiverDirectory, error) {
	src := c.opts.Receivers
	d := receiverDirectory{prefix: strings.TrimRight(src.PublicURL(), "/") + receiver.EndpointPath, byEndpoint: map[string]*receiver.Receiver{}}
	rs, err := src.List(ctx, src.AccountID())
	if err != nil {
		return d, fmt.Errorf("list receivers: %w", err)
	}
	for _, r := range rs {
		d.byEndpoint[src.Endpoint(r.Name)] = r
	}
	d.list = rs
	return d, nil
}

// lookup says whether a subscription endpoint is one of this server's receiver endpoints (name
// is then the receiver's name) and whether that receiver exists. The prefix test is the one the
// SNS worker uses to take such deliveries in process (notify.LocalRouter).
func (d receiverDirectory) lookup(endpoint string) (name string, isReceiver, exists bool) {
	if r, ok := d.byEndpoint[endpoint]; ok {
		return r.Name, true, true
	}
	rest, ok := strings.CutPrefix(endpoint, d.prefix)
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#") {
		return "", false, false
	}
	if n, err := url.PathUnescape(rest); err == nil {
		rest = n
	}
	return rest, true, false
}

// setting is one labelled receiver setting as shown: never a secret.
type setting struct{ Name, Value string }

// receiverRow is one receiver on the notifications page.
type receiverRow struct {
	Name, Type, Endpoint string
	Settings             []setting
	Subs                 []receiverSub
	// Last is the newest receiver message in the outbox, nil when there is none.
	Last *receiverDelivery
}

// receiverSub is a subscription whose endpoint is the receiver's.
type receiverSub struct {
	Scope    Scope
	TopicARN string
	Pending  bool
}

// receiverDelivery is a receiver's newest message and its newest attempt (nil before any).
type receiverDelivery struct {
	D    sns.Delivery
	Last *sns.Attempt
}

// shownSecret is a secret as the console may show it: the receiver package's mask
// ("****" and at most the last four characters), or "****" for anything that is not masked,
// so that a source that forgot to mask still shows no secret.
func shownSecret(v string) string {
	if v == "" || (strings.HasPrefix(v, "****") && len(v) <= 8) {
		return v
	}
	return "****"
}

// shownURL is a secret URL as the console may show it: scheme and host (receiver.MaskURL).
func shownURL(v string) string {
	if v == "" {
		return ""
	}
	return receiver.MaskURL(v)
}

// receiverSettings are the settings of a receiver's type, masked (r comes masked from the
// source; shownSecret and shownURL hold the line whatever the source did). The Events API URL
// of pagerduty and the Web API base of a slack bot are not secrets (Receiver.Masked keeps them).
func receiverSettings(r *receiver.Receiver) []setting {
	var s []setting
	add := func(name, v string) { s = append(s, setting{name, v}) }
	switch {
	case r.SlackBot():
		add("channel", r.Channel)
		add("bot token", shownSecret(r.BotToken))
		add("Web API", r.TargetURL())
	case r.Type == receiver.TypePagerDuty:
		add("routing key", shownSecret(r.RoutingKey))
		add("severity", r.Severity)
		add("Events API", r.TargetURL())
	case r.Type == receiver.TypeWebhook:
		add("URL", shownURL(r.URL))
		if r.SigningSecret != "" {
			add("signing secret", shownSecret(r.SigningSecret))
		} else {
			add("signing secret", "none: requests are not signed")
		}
	default: // slack incoming webhook, teams workflow
		add("webhook URL", shownURL(r.URL))
	}
	if r.SendResolved {
		add("OK notifications", "sent")
	} else {
		add("OK notifications", "not sent (sendResolved is false)")
	}
	return s
}

// receiverRows builds the receivers section: each receiver's masked settings, endpoint, the
// subscriptions pointing at it (from the topics already read) and its newest message.
func (c *Console) receiverRows(ctx context.Context, dir receiverDirectory, topics []topicRow, subs [][]sns.SubscriptionSummary) ([]receiverRow, error) {
	rows := make([]receiverRow, 0, len(dir.list))
	for _, r := range dir.list {
		ep := c.opts.Receivers.Endpoint(r.Name)
		row := receiverRow{Name: r.Name, Type: r.Type, Endpoint: ep, Settings: receiverSettings(r)}
		for i, tr := range topics {
			for _, s := range subs[i] {
				if s.Endpoint == ep {
					row.Subs = append(row.Subs, receiverSub{Scope: tr.Scope, TopicARN: tr.ARN, Pending: s.SubscriptionARN == "PendingConfirmation"})
				}
			}
		}
		d, ok, err := c.opts.Deliveries.LastReceiverDelivery(ctx, ep)
		if err != nil {
			return nil, fmt.Errorf("read receiver %s's last delivery: %w", r.Name, err)
		}
		if ok {
			d.Body, d.Headers = "", nil // never rendered
			last := &receiverDelivery{D: d}
			as, err := c.opts.Deliveries.Attempts(ctx, d.ID)
			if err != nil {
				return nil, fmt.Errorf("read receiver %s's attempts: %w", r.Name, err)
			}
			if len(as) > 0 {
				last.Last = &as[len(as)-1]
			}
			row.Last = last
		}
		rows = append(rows, row)
	}
	return rows, nil
}
