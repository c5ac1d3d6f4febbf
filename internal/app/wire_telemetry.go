package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// MetricsPath is where the metrics listener serves the Prometheus exposition.
const MetricsPath = "/metrics"

// readyTimeout bounds the store query of /readyz: a store that does not answer a one-row read
// in this time is not ready to serve requests either.
const readyTimeout = 2 * time.Second

// apiOperations lists every operation of services by signing name: the bounded label set of
// the API request metrics.
func apiOperations(services []*awsapi.Service) map[string][]string {
	out := map[string][]string{}
	for _, svc := range services {
		for name := range svc.Operations {
			out[svc.SigningName] = append(out[svc.SigningName], name)
		}
	}
	return out
}

// observeRequest is the API handler's OnRequest: it counts the request by service, operation
// and outcome.
func (s *Server) observeRequest(ri awsapi.RequestInfo) {
	op := ri.Operation
	if !ri.Known {
		op = "" // not a label value: telemetry reports it as unknown
	}
	s.tel.APIRequest(ri.Service, op, ri.Status)
}

// observePutLogEvents is the logs service's OnPutLogEvents: events stored through the API
// (the `trailwatch ingest` command, the CLI, SDKs and agents).
func (s *Server) observePutLogEvents(_ logs.Scope, _ string, accepted []logs.InputLogEvent) {
	if s.tel == nil {
		return
	}
	var bytes int64
	ts := make([]int64, len(accepted))
	for i, e := range accepted {
		bytes += int64(len(e.Message))
		ts[i] = e.Timestamp
	}
	s.tel.Ingested(telemetry.SourcePutLogEvents, len(accepted), bytes)
	s.tel.Lag(telemetry.SourcePutLogEvents, ts)
}

// countMatches wraps an OnSamples hook so that the metric filter matches are counted first: the
// samples that are not a filter's default value, each standing for max(Count, 1) matches (a
// backfill's samples are weighted, see backfillService).
func (s *Server) countMatches(next func([]metrics.Sample)) func([]metrics.Sample) {
	if s.tel == nil {
		return next
	}
	return func(samples []metrics.Sample) {
		n := 0
		for _, smp := range samples {
			// AWS/Logs' own IncomingLogEvents/IncomingBytes ride with every batch; they are not matches.
			if !smp.Default && smp.Namespace != logs.ServiceNamespace {
				n += int(max(smp.Count, 1))
			}
		}
		s.tel.MetricFilterMatches(n)
		if next != nil {
			next(samples)
		}
	}
}

// observedSink is a source's Deliverer that counts what the sink stored for that source.
type observedSink struct {
	next ingest.Deliverer
	src  telemetry.Source
	tel  *telemetry.Telemetry
}

// Deliver implements ingest.Deliverer. Events and bytes are what was stored (duplicates
// included: they were delivered), also on an error after some batches; the lag is observed for
// every record of a delivery that succeeded.
func (o observedSink) Deliver(ctx context.Context, dest ingest.Destination, res cloudtrail.Result) (ingest.Stats, error) {
	st, err := o.next.Deliver(ctx, dest, res)
	o.tel.Ingested(o.src, st.Stored+st.Duplicates, st.Bytes)
	if err == nil {
		ts := make([]int64, len(res.Records))
		for i, r := range res.Records {
			ts[i] = r.TimestampMillis()
		}
		o.tel.Lag(o.src, ts)
	}
	return st, err
}

// observeSink returns the Deliverer a source of type src uses: sink itself without telemetry.
func (s *Server) observeSink(sink ingest.Deliverer, src telemetry.Source) ingest.Deliverer {
	if s.tel == nil {
		return sink
	}
	return observedSink{next: sink, src: src, tel: s.tel}
}

// trailSource is the ingest source type of a trail's S3 source: SQS notifications when the
// trail names a queue, S3 polling otherwise.
func trailSource(queueURL string) telemetry.Source {
	if queueURL != "" {
		return telemetry.SourceSQS
	}
	return telemetry.SourceS3
}

// storeState answers the scrape-time gauges from the database and the alarms in memory.
type storeState struct {
	db     backend
	alarms *alarm.Service
}

// AlarmStates implements telemetry.StateSource.
func (st storeState) AlarmStates(context.Context) (map[string]int, error) {
	out := map[string]int{}
	for state, n := range st.alarms.StateCounts() {
		out[state.String()] += n
	}
	return out, nil
}

// Outboxes implements telemetry.StateSource.
func (st storeState) Outboxes(ctx context.Context) ([]telemetry.OutboxStat, error) {
	return st.db.OutboxStats(ctx)
}

// WALSize implements telemetry.StateSource.
func (st storeState) WALSize() (int64, error) { return st.db.WALSize() }

// CompactBacklog implements telemetry.StateSource.
func (st storeState) CompactBacklog(ctx context.Context) (int, error) {
	return st.db.CompactBacklog(ctx)
}

// readyz answers 200 once the server is live and its store answers a read (which also says its
// migrations ran), 503 otherwise: a load balancer's or orchestrator's readiness probe. A replica
// on PostgreSQL is ready only once the database has answered its first request for the alarm
// evaluation lease too (granted or not), so that it knows whether it leads, and its LISTEN
// connections are in place, so that it hears what other replicas change; its body then says
// which leases it holds, for operators.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.live.Load() || s.storeReady == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("starting or stopping\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.storeReady(ctx); err != nil {
		s.logger.Warn("readiness probe: store not answering", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("store not answering\n"))
		return
	}
	if !s.leases.known() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("lease state not yet known\n"))
		return
	}
	if s.leases == nil {
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	if !s.listening.all() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not yet listening to the other replicas\n"))
		return
	}
	_, alarms := s.leases.alarms.Held()
	_, sources := s.leases.ingest.Held()
	fmt.Fprintf(w, "ok\nreplica %s\nalarm evaluation lease: %s\ningest lease: %s\n", s.replicaID(), heldWord(alarms), heldWord(sources))
}

// heldWord says whether a lease is held, in /readyz's body.
func heldWord(held bool) string {
	if held {
		return "held"
	}
	return "not held"
}
