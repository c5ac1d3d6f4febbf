package web

import (
	"net/http"

	"github.com/trailwatch/trailwatch/internal/trail"
)

type trailRow struct {
	Scope  Scope
	T      trail.Trail
	Status trail.TrailStatus
	Mode   string
}

type sourcesData struct {
	Trails    []trailRow
	Endpoints []Endpoint
	Outbox    Outbox
	OutboxErr string
}

// sources shows where CloudTrail comes from and whether it still does: each trail (S3 with SQS
// notifications, or polling) with its last delivery and error, the EventBridge and Firehose
// endpoints with theirs, and the depth of the outboxes alerts wait in.
func (c *Console) sources(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	scopes, err := c.opts.Scopes(ctx)
	if err != nil {
		c.failed(w, r, "list scopes", err)
		return
	}
	var d sourcesData
	for _, sc := range scopes {
		ts, err := c.opts.Trails.Describe(ctx, trail.Scope(sc), nil)
		if err != nil {
			c.failed(w, r, "list trails", err)
			return
		}
		for _, t := range ts {
			st, err := c.opts.Trails.GetStatus(ctx, trail.Scope(sc), t.Name)
			if err != nil {
				c.failed(w, r, "read trail status", err)
				return
			}
			mode := "S3 polling"
			if t.SqsQueueURL != "" {
				mode = "S3 with SQS notifications"
			}
			d.Trails = append(d.Trails, trailRow{Scope: sc, T: t, Status: st, Mode: mode})
		}
	}
	d.Endpoints = c.opts.Health.Endpoints()
	if d.Outbox, err = c.opts.Health.Outbox(ctx); err != nil {
		d.OutboxErr = err.Error()
	}
	c.render(w, r, http.StatusOK, "sources", "Sources and health", d)
}
