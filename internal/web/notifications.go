package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// deliveryPageSize is how many deliveries one page of the delivery log shows.
const deliveryPageSize = 50

type topicRow struct {
	Scope Scope
	ARN   string
	Subs  []subRow
}

type subRow struct {
	Protocol, Endpoint, ARN string
	Pending                 bool
	// Receiver is the name of the receiver whose endpoint this is ("" for other endpoints);
	// NoReceiver is set when no receiver of that name exists, so deliveries reach nobody.
	Receiver   string
	NoReceiver bool
}

type deliveryRow struct {
	D        sns.Delivery
	Endpoint string
	Attempts []sns.Attempt
}

type notificationsData struct {
	Topics     []topicRow
	Receivers  []receiverRow
	Deliveries []deliveryRow
	NextURL    string
}

// maskEndpoint hides what an endpoint may carry as a secret: the query string and user
// information of an HTTP(S) URL (tokens are often put there). Email addresses are shown.
func maskEndpoint(protocol, ep string) string {
	if protocol != "http" && protocol != "https" {
		return ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("…")
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

// notifications lists every scope's topics with their subscriptions (pending or confirmed), the
// receivers (masked settings, endpoint, the subscriptions pointing at it, the newest message and
// its outcome), and the delivery log: each delivery, newest first, with every attempt's outcome
// and error.
func (c *Console) notifications(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	scopes, err := c.opts.Scopes(ctx)
	if err != nil {
		c.failed(w, r, "list scopes", err)
		return
	}
	dir, err := c.receivers(ctx)
	if err != nil {
		c.failed(w, r, "list receivers", err)
		return
	}
	var d notificationsData
	var topicSubs [][]sns.SubscriptionSummary
	for _, sc := range scopes {
		for token, pages := "", 0; pages < 20; pages++ {
			arns, next, err := c.opts.Topics.ListTopics(ctx, sns.Scope(sc), token)
			if err != nil {
				c.failed(w, r, "list topics", err)
				return
			}
			for _, arn := range arns {
				tr := topicRow{Scope: sc, ARN: arn}
				subs, _, err := c.opts.Topics.ListSubscriptions(ctx, sns.Scope(sc), arn, "")
				if err != nil {
					c.failed(w, r, "list subscriptions", err)
					return
				}
				for _, s := range subs {
					row := subRow{Protocol: s.Protocol, Endpoint: maskEndpoint(s.Protocol, s.Endpoint), ARN: s.SubscriptionARN, Pending: s.SubscriptionARN == "PendingConfirmation"}
					if name, isReceiver, exists := dir.lookup(s.Endpoint); isReceiver {
						row.Receiver, row.NoReceiver = name, !exists
					}
					tr.Subs = append(tr.Subs, row)
				}
				d.Topics = append(d.Topics, tr)
				topicSubs = append(topicSubs, subs)
			}
			if next == "" {
				break
			}
			token = next
		}
	}
	if d.Receivers, err = c.receiverRows(ctx, dir, d.Topics, topicSubs); err != nil {
		c.failed(w, r, "read receivers", err)
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	ds, err := c.opts.Deliveries.RecentDeliveries(ctx, before, deliveryPageSize)
	if err != nil {
		c.failed(w, r, "read the delivery log", err)
		return
	}
	for _, dl := range ds {
		as, err := c.opts.Deliveries.Attempts(ctx, dl.ID)
		if err != nil {
			c.failed(w, r, "read delivery attempts", err)
			return
		}
		dl.Body, dl.Headers = "", nil // never rendered
		d.Deliveries = append(d.Deliveries, deliveryRow{D: dl, Endpoint: maskEndpoint(dl.Protocol, dl.Endpoint), Attempts: as})
	}
	if len(ds) == deliveryPageSize {
		d.NextURL = "/console/notifications?before=" + strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	c.render(w, r, http.StatusOK, "notifications", "Notifications", d)
}
