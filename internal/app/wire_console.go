package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/trail"
	"github.com/trailwatch/trailwatch/internal/web"
)

// consoleParts is what wire hands to wireConsole: the domain services the console reads.
type consoleParts struct {
	alarms  *alarm.Service
	metrics *metrics.Service
	logs    *logs.Service
	trails  *trail.Service
}

// wireConsole builds the web console over the domain services and the store, starts its event
// feed on wg, and hooks the feed to the logs service. The console is mounted by Run at
// web.Prefix on the API listener.
func (s *Server) wireConsole(ctx context.Context, db backend, p consoleParts, cred Credential, wg *sync.WaitGroup) (*web.Console, error) {
	c, err := web.New(web.Options{
		Alarms: p.alarms, Metrics: p.metrics, Logs: p.logs, Topics: s.sns.svc, Deliveries: db, Trails: p.trails,
		// The receiver service lists receivers masked; the console masks again anything that is not.
		Receivers:    s.sns.receivers.svc,
		Health:       consoleHealth{db: db, endpoints: s.endpoints},
		Scopes:       db.ResourceScopes,
		Home:         web.Scope{AccountID: s.opts.AccountID, Region: s.opts.Region},
		Authenticate: credentialCheck(cred),
		// Behind a TLS-terminating proxy trailwatch sees plain HTTP, but the browser uses HTTPS: an
		// https --public-url says so.
		Secure: s.opts.TLSCert != "" || strings.HasPrefix(s.opts.PublicURL, "https://"),
		Now:    s.now,
		Logger: s.logger,
	})
	if err != nil {
		return nil, err
	}
	p.logs.OnStored = c.OnStored
	wg.Go(func() { c.Run(ctx) })
	return c, nil
}

// credentialCheck compares a console login with the API key pair in constant time: both fields
// are always compared, so the time taken tells nothing about which one was wrong or how much of
// it matched. The fields are compared as SHA-256 digests: subtle.ConstantTimeCompare returns at
// once when the lengths differ, which would tell a guesser the secret's length.
func credentialCheck(cred Credential) func(id, secret string) bool {
	wantID, wantSecret := sha256.Sum256([]byte(cred.AccessKeyID)), sha256.Sum256([]byte(cred.SecretAccessKey))
	return func(id, secret string) bool {
		gotID, gotSecret := sha256.Sum256([]byte(id)), sha256.Sum256([]byte(secret))
		okID := subtle.ConstantTimeCompare(gotID[:], wantID[:])
		okSecret := subtle.ConstantTimeCompare(gotSecret[:], wantSecret[:])
		return okID&okSecret == 1
	}
}

// consoleHealth answers the console's sources page from the store and the endpoint recorder.
type consoleHealth struct {
	db        backend
	endpoints *endpointHealth
}

func (h consoleHealth) Endpoints() []web.Endpoint { return h.endpoints.list() }

// Outbox reads the outboxes' pending counts as the telemetry gauges do (backend.OutboxStats):
// the SNS deliveries by protocol, and the alarm actions.
func (h consoleHealth) Outbox(ctx context.Context) (web.Outbox, error) {
	var out web.Outbox
	stats, err := h.db.OutboxStats(ctx)
	for _, st := range stats {
		q := web.OutboxQueue{Name: st.Protocol, Count: st.Depth, Oldest: st.Oldest}
		switch st.Outbox {
		case telemetry.OutboxSNSDelivery:
			out.Deliveries = append(out.Deliveries, q)
		case telemetry.OutboxAlarmAction:
			q.Name = "alarm actions"
			out.Actions = q
		}
	}
	if err != nil {
		return out, fmt.Errorf("read the outboxes: %w", err)
	}
	return out, nil
}

// endpointHealth records the last delivery and the last error of each ingest endpoint (EventBridge,
// Firehose), as the sink saw them, for the console.
type endpointHealth struct {
	mu  sync.Mutex
	now func() time.Time
	eps []*web.Endpoint
}

// wrap returns a Deliverer that records into a new endpoint entry.
func (h *endpointHealth) wrap(name, path, group string, next ingest.Deliverer) ingest.Deliverer {
	h.mu.Lock()
	defer h.mu.Unlock()
	ep := &web.Endpoint{Name: name, Path: path, LogGroup: group}
	h.eps = append(h.eps, ep)
	return recordingSink{next: next, ep: ep, h: h}
}

func (h *endpointHealth) list() []web.Endpoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]web.Endpoint, len(h.eps))
	for i, ep := range h.eps {
		out[i] = *ep
	}
	return out
}

type recordingSink struct {
	next ingest.Deliverer
	ep   *web.Endpoint
	h    *endpointHealth
}

func (r recordingSink) Deliver(ctx context.Context, dest ingest.Destination, res cloudtrail.Result) (ingest.Stats, error) {
	st, err := r.next.Deliver(ctx, dest, res)
	now := r.h.now()
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	if err != nil {
		r.ep.LastError, r.ep.LastErrorAt = err.Error(), now
	} else {
		r.ep.LastDelivery = now
	}
	return st, err
}
